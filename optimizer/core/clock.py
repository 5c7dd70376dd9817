"""Clock times of the planning day and wall-clock deadlines.

Times inside the core are minutes from midnight of the planning day (float64).
"""

from __future__ import annotations

import math
import time

from optimizer.core.errors import InvalidInput

MINUTES_PER_DAY = 1440.0


def fmt_clock(minutes: float) -> str:
    """Format minutes from midnight as ``HH:MM`` (rounded down to the minute)."""
    m = int(math.floor(minutes + 1e-9))
    return f"{m // 60:02d}:{m % 60:02d}"


def parse_clock(text: str, field_name: str = "time") -> float:
    """Parse ``HH:MM`` (``24:00`` allowed) into minutes from midnight; ``InvalidInput`` otherwise."""
    try:
        hh, mm = str(text).strip().split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise InvalidInput(field_name, text, "expected HH:MM") from None
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise InvalidInput(field_name, text, "hour must be 0..24 and minute 0..59")
    return float(h * 60 + m)


class Deadline:
    """A wall-clock budget that started when the object was made (``time.perf_counter``).

    ``limit_s`` None means no limit: ``remaining_s()`` is then ``inf`` and ``expired()`` never true.
    """

    __slots__ = ("limit_s", "started")

    def __init__(self, limit_s: float | None, started: float | None = None) -> None:
        self.limit_s = limit_s
        self.started = time.perf_counter() if started is None else started

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def remaining_s(self) -> float:
        if self.limit_s is None:
            return math.inf
        return self.limit_s - self.elapsed_s()

    def expired(self) -> bool:
        return self.remaining_s() <= 0.0
