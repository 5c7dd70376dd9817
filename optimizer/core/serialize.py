"""JSON-safe conversion of results: the one helper every report, the API and the CLI use.

JSON has no NaN or infinity; ``json_safe`` writes them as their text (``"nan"``, ``"inf"``,
``"-inf"``: the API's convention, a reader can tell "unbounded" from "missing") or, with
``nonfinite="null"``, as None (JSON ``null``). NumPy scalars and arrays become Python numbers and
lists, tuples lists, dataclasses dicts and ``Path`` str. Finite floats are kept exactly (never rounded).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def json_safe(obj: Any, nonfinite: str = "text") -> Any:
    """Recursively convert ``obj`` into values ``json.dumps(..., allow_nan=False)`` accepts.

    ``nonfinite``: ``"text"`` (NaN/inf -> ``"nan"``/``"inf"``) or ``"null"`` (-> None).
    """
    if nonfinite not in ("text", "null"):
        raise ValueError(f"nonfinite={nonfinite!r}: must be 'text' or 'null'")
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else (repr(x) if nonfinite == "text" else None)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist(), nonfinite)
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [json_safe(v, nonfinite) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: json_safe(getattr(obj, f.name), nonfinite) for f in dataclasses.fields(obj)}
    if isinstance(obj, Path):
        return str(obj)
    return obj
