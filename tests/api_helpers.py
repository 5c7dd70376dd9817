"""Helpers shared by the API tests (a plain module: pytest puts ``tests/`` on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def poll_job(c: Any, url: str, pred: Callable[[dict], bool], timeout: float = 60.0) -> dict:
    """GET ``url`` (a job's status) until ``pred(job)`` holds; fail on a failed job or after ``timeout`` s."""
    t0 = time.monotonic()
    while True:
        r = c.get(url)
        assert r.status_code == 200, r.text
        job = r.json()
        if pred(job):
            return job
        assert job["status"] != "failed", job["error"]
        assert time.monotonic() - t0 < timeout, job
        time.sleep(0.05)
