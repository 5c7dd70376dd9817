"""The job runner: one background thread per server that claims jobs from a ``JobStore`` and runs
them with the handler registered for their kind (see ``api.http.jobs`` for the whole picture).

* ``register_kind(kind, handler)``: one unit of work, ``handler(job, progress) -> result``.
* ``register_steps_kind(kind, handler)``: named, resumable steps, ``handler(job, steps)`` with a
  ``JobSteps``.
* ``JobRunner(store, ...)``: ``start()``, ``notify()``, ``stop(timeout)``, ``health()``; a claimed
  job's lease is renewed by a heartbeat thread while it runs and released at the end.

Audit trail. When ``$LHASA_OPS_JOB_AUDIT`` names a file, every step a runner computes is appended
to it as one line ``<job id> <step> <owner> <committed|refused|lost>`` (one ``write`` on a file
opened for append, so lines of several processes do not interleave). It counts computations, not
commits: a step computed twice shows twice, whatever the store kept (``bench.faults`` and the
two-server tests count "run exactly once" from it).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from api.http.job_store import ACTIVE, RESULT_ROW, JobStore, LeaseLost, StoreError
from api.http.security import ApiError

LEASE_S = 60.0
"""How long a claimed job stays its runner's without a heartbeat, seconds."""
HEARTBEAT_S = 15.0
"""How often the runner renews the lease of the job in flight, seconds (< the lease)."""
AUDIT_ENV = "LHASA_OPS_JOB_AUDIT"

log = logging.getLogger("api.http.jobs")

JobHandler = Callable[[dict[str, Any], Callable[[int], None]], Mapping[str, Any]]
StepsHandler = Callable[[dict[str, Any], "JobSteps"], None]
_HANDLERS: dict[str, JobHandler] = {}
_STEP_HANDLERS: dict[str, StepsHandler] = {}


def register_kind(kind: str, handler: JobHandler) -> None:
    """Make the runner run jobs of ``kind`` with ``handler(job, progress) -> result`` (one unit)."""
    _STEP_HANDLERS.pop(kind, None)
    _HANDLERS[kind] = handler


def register_steps_kind(kind: str, handler: StepsHandler) -> None:
    """Make the runner run jobs of ``kind`` with ``handler(job, steps)`` (named, resumable steps)."""
    _HANDLERS.pop(kind, None)
    _STEP_HANDLERS[kind] = handler


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def audit(job_id: str, step: str, owner: str, outcome: str) -> None:
    """Append ``<job> <step> <owner> <outcome>`` to ``$LHASA_OPS_JOB_AUDIT`` (nothing when unset;
    an unwritable file is logged, never fails the job)."""
    path = os.environ.get(AUDIT_ENV)
    if not path:
        return
    line = f"{job_id} {step} {owner} {outcome}\n".encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as e:
        log.warning("job audit %s not written: %s", path, e)


class JobSteps:
    """What a steps handler gets (see the module docstring)."""

    def __init__(self, store: JobStore, job_id: str, stopping: Callable[[], bool],
                 commit: Callable[[Callable[[], Any]], Any] | None = None, owner: str | None = None) -> None:
        self.store = store
        self.job_id = job_id
        self.owner = owner
        self.done: frozenset[str] = frozenset(store.done_names(job_id))
        self.stopping = stopping
        self._commit = commit or (lambda write: write())

    def add(self, idx: int, name: str, result: Mapping[str, Any]) -> None:
        """Commit one step's result and the job's progress (retried while the store fails; raises
        ``StoreError`` only when the runner stops before it could commit, ``LeaseLost`` when
        another runner has taken the job over: the result is refused)."""
        try:
            inserted = self._commit(lambda: self.store.add_result(self.job_id, idx, name, result, owner=self.owner))
        except LeaseLost:
            audit(self.job_id, name, self.owner or "-", "lost")
            raise
        audit(self.job_id, name, self.owner or "-", "committed" if inserted else "refused")


class JobRunner:
    """One background thread that runs jobs from the store; see the module docstring."""

    def __init__(self, store: JobStore, poll_s: float = 0.5, backoff_s: float = 0.5,
                 backoff_max_s: float = 30.0, lease_s: float = LEASE_S, heartbeat_s: float = HEARTBEAT_S,
                 owner: str | None = None) -> None:
        if not 0 < heartbeat_s < lease_s:
            raise ValueError(f"heartbeat_s {heartbeat_s} must be > 0 and shorter than lease_s {lease_s}")
        self.store = store
        self.poll_s = poll_s
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.lease_s = lease_s
        self.heartbeat_s = heartbeat_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """This runner's name in the store's ``owner`` column (host, process, instance)."""
        self.lost: list[str] = []
        """Jobs this runner lost to another runner while it held them (its writes were refused)."""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._health_lock = threading.Lock()
        self._failures = 0
        self._last_error: str | None = None
        self._last_error_code: str | None = None
        self._last_error_at: str | None = None
        self._failing_since: str | None = None
        self._ok_since: str | None = None

    def start(self) -> None:
        """Start the thread; it resumes jobs a previous process left queued or running."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        with self._health_lock:
            self._ok_since = self._ok_since or _now()
        self._thread = threading.Thread(target=self._loop, name="lhasa-ops-jobs", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """A job was queued: look now rather than at the next poll (or the next retry)."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the step in flight (it is committed first); waits up to ``timeout`` s."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- health -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"alive", "state": ok | retrying | stopped | dead, "failures" (consecutive),
        "failing_since", "last_error", "last_error_code", "last_error_at", "ok_since"}``."""
        alive = self.alive
        with self._health_lock:
            if not alive:
                state = "stopped" if self._stop.is_set() else "dead"
            else:
                state = "retrying" if self._failures else "ok"
            return {"alive": alive, "state": state, "failures": self._failures,
                    "failing_since": self._failing_since, "last_error": self._last_error,
                    "last_error_code": self._last_error_code, "last_error_at": self._last_error_at,
                    "ok_since": self._ok_since}

    def _ok(self) -> None:
        with self._health_lock:
            if self._failures:
                log.warning("job store usable again after %d failures since %s", self._failures,
                            self._failing_since)
                self._failures = 0
                self._failing_since = None
                self._ok_since = _now()

    def _failed(self, e: BaseException) -> float:
        """Record a failure; the delay before the next try (capped exponential backoff)."""
        now = _now()
        with self._health_lock:
            self._failures += 1
            self._failing_since = self._failing_since or now
            self._ok_since = None
            self._last_error = f"{type(e).__name__}: {getattr(e, 'message', None) or e}"
            self._last_error_code = getattr(e, "code", None) if isinstance(e, ApiError) else "runner_error"
            self._last_error_at = now
            n = self._failures
        delay = min(self.backoff_max_s, self.backoff_s * 2 ** min(n - 1, 30))
        if isinstance(e, StoreError):
            log.warning("job runner: %s (failure %d, retry in %.1f s)", self._last_error, n, delay)
        else:
            log.error("job runner: unexpected error (failure %d, retry in %.1f s)", n, delay, exc_info=e)
        return delay

    def _commit(self, write: Callable[[], Any]) -> Any:
        """Run a store write until it succeeds (backing off between tries); ``StoreError`` when the
        runner is asked to stop first."""
        while True:
            try:
                out = write()
            except StoreError as e:
                delay = self._failed(e)
                if self._stop.wait(delay):
                    raise
                continue
            self._ok()
            return out

    def _progress(self, job_id: str, done: int, owner: str | None = None) -> None:
        """Progress is informative: a store error here is recorded, never fails the job (a lost
        lease raises ``LeaseLost`` into the handler, which ends the work)."""
        try:
            self.store.set_progress(job_id, done, owner=owner)
        except StoreError as e:
            self._failed(e)
        else:
            self._ok()

    # -- the loop -----------------------------------------------------------------------------

    def _loop(self) -> None:
        resume: str | None = None  # a job whose run ended on a store error while this runner held it
        while not self._stop.is_set():
            job_id: str | None = None
            try:
                if resume is not None:  # its lease may still be ours: take it up again at once
                    job_id, resume = resume, None
                    self.run_job(job_id)
                    continue
                # any active job at all (a read), then claim the oldest one no live lease holds
                job_id = self.store.next_active() and self.store.claim_next(self.owner, self.lease_s)
                self._ok()
                if job_id is None:
                    self._wake.wait(self.poll_s)
                    self._wake.clear()
                    continue
                self._run_claimed(job_id)
            except Exception as e:  # noqa: BLE001 - the runner outlives any error: log, back off, retry
                if isinstance(e, StoreError) and job_id is not None:
                    resume = job_id
                delay = self._failed(e)
                self._wake.wait(delay)
                self._wake.clear()

    def run_job(self, job_id: str) -> None:
        """Claim the job and run it (its remaining steps), unless another runner holds it or it is
        finished; a raising handler fails it. A ``StoreError`` (the store failed, not the job)
        propagates: the runner retries the job later."""
        if self.store.claim(job_id, self.owner, self.lease_s):
            self._run_claimed(job_id)

    @contextmanager
    def _heartbeat(self, job_id: str) -> Iterator[threading.Event]:
        """Renew the lease of ``job_id`` every ``heartbeat_s`` while the body runs; the event is set
        when the lease is lost (another runner took the job over). Releases the lease at the end
        unless the job was finished (a stopping runner hands it on at once)."""
        lost = threading.Event()
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.heartbeat_s):
                try:
                    if not self.store.renew(job_id, self.owner, self.lease_s):
                        if not done.is_set():
                            lost.set()
                        return
                except StoreError as e:  # the lease may still be renewed before it expires
                    log.warning("job runner %s: lease of job %s not renewed: %s", self.owner, job_id, e.message)

        t = threading.Thread(target=beat, name=f"lhasa-ops-lease-{job_id[:8]}", daemon=True)
        t.start()
        try:
            yield lost
        finally:
            done.set()
            t.join(self.heartbeat_s + self.store.busy_timeout_s + 5)
            try:
                self.store.release(job_id, self.owner)  # no-op for a finished or lost job
            except StoreError as e:
                log.warning("job runner %s: lease of job %s not released (expires by itself): %s",
                            self.owner, job_id, e.message)

    def _run_claimed(self, job_id: str) -> None:
        """Run a job this runner has just claimed (see ``run_job``)."""
        job = self.store.get(job_id)
        if job is None or job["status"] not in ACTIVE:
            return
        kind = job["kind"]
        owner = self.owner
        with self._heartbeat(job_id) as lost:
            try:
                self._run_handler(job, kind, owner, lost)
            except LeaseLost as e:
                self.lost.append(job_id)
                log.warning("job runner %s: job %s taken over by %s; this runner's work on it is dropped",
                            owner, job_id, e.holder)

    def _run_handler(self, job: dict[str, Any], kind: str, owner: str, lost: threading.Event) -> None:
        job_id = job["id"]
        try:
            if kind in _STEP_HANDLERS:
                steps = JobSteps(self.store, job_id, lambda: self._stop.is_set() or lost.is_set(), self._commit, owner)
                _STEP_HANDLERS[kind](job, steps)
                if (self._stop.is_set() or lost.is_set()) and \
                        len(self.store.done_names(job_id)) < job["progress"]["total"]:
                    if lost.is_set():
                        raise LeaseLost(job_id, owner, self.store.lease(job_id)[0], "steps")
                    return  # stays 'running'; resumed by the next start()
                self._commit(lambda: self.store.set_status(job_id, "done", owner=owner))
                return
            handler = _HANDLERS.get(kind)
            if handler is None:
                raise ValueError(f"no handler for job kind {kind!r}")
            self._progress(job_id, 0, owner)
            result = handler(job, lambda done: self._progress(job_id, done, owner))
            total = job["progress"]["total"]
            try:
                self._commit(lambda: self.store.finish_unit(job_id, result, total, owner))
            except LeaseLost:
                audit(job_id, RESULT_ROW, owner, "lost")
                raise
            audit(job_id, RESULT_ROW, owner, "committed")
        except (StoreError, LeaseLost):
            raise  # the store failed (retried by the loop; finished steps are kept) or the job is another's
        except Exception as e:  # noqa: BLE001 - a failed job is reported, the runner goes on
            traceback.print_exc()
            error = f"{type(e).__name__}: {e}"
            self._commit(lambda: self.store.set_status(job_id, "failed", error=error, owner=owner))


__all__ = ["AUDIT_ENV", "HEARTBEAT_S", "LEASE_S", "JobRunner", "JobSteps", "audit", "register_kind",
           "register_steps_kind"]
