"""Input errors and the input checks every family shares.

A bad value raises ``InvalidInput(field, value, message)``: ``field`` is a dotted path naming the
offending field (``group[g1].size``), ``value`` the value given, ``message`` what is wrong. The API
turns it into a 422 answer and the CLI into exit code 2; nothing else is needed to report it.
"""

from __future__ import annotations

import math

import numpy as np


class InvalidInput(ValueError):
    """Bad input data. ``field`` names the offending field (dotted path), ``value`` its value."""

    def __init__(self, field_name: str, value: object, message: str) -> None:
        self.field = field_name
        self.value = value
        self.message = message
        super().__init__(f"{field_name}={value!r}: {message}")


def check_finite(field_name: str, value: object) -> float:
    """Return ``value`` as float; ``InvalidInput`` if it is not a finite number."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(field_name, value, "not a number") from None
    if not math.isfinite(x):
        raise InvalidInput(field_name, value, "must be a finite number")
    return x


def check_time_limit_s(value: object, field_name: str = "time_limit_s") -> float:
    """Return a time limit in seconds as float; ``InvalidInput`` unless finite and > 0 (NaN, inf,
    bools and non-numbers included)."""
    if isinstance(value, bool):
        raise InvalidInput(field_name, value, "must be a finite number of seconds > 0")
    t = check_finite(field_name, value)
    if t <= 0:
        raise InvalidInput(field_name, value, "must be a finite number of seconds > 0")
    return t


def check_count(field_name: str, value: object, lo: int = 1, hi: int = 10_000) -> int:
    """Return ``value`` as an ``int`` in ``[lo, hi]``; reject bools, floats and out-of-range values."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidInput(field_name, value, "must be an integer")
    if not lo <= int(value) <= hi:
        raise InvalidInput(field_name, value, f"must be within {lo}..{hi}")
    return int(value)


def check_window(field_name: str, window: tuple[float, float]) -> tuple[float, float]:
    """Validate a ``(open, close)`` time window in minutes from midnight; return it as floats."""
    if len(window) != 2:
        raise InvalidInput(field_name, window, "a window is a pair (open, close)")
    lo = check_finite(f"{field_name}.open", window[0])
    hi = check_finite(f"{field_name}.close", window[1])
    if lo < 0:
        raise InvalidInput(f"{field_name}.open", lo, "must be >= 0 minutes from midnight")
    if hi < lo:
        raise InvalidInput(field_name, (lo, hi), f"closes at {hi} before it opens at {lo}")
    return (lo, hi)
