"""Readers for the public (T)OPTW and TOP benchmark files in ``shared/benchmarks``.

Sets (see each folder's SOURCES.md for origin, commit and caveats):

* KU Leuven OPTW/TOPTW files (``toptw/instances``): Solomon-based ``c1/c2/r1/r2/rc1/rc2`` with 100
  customers (Righini & Salani 2009, Montemanni & Gambardella 2009, used for TOPTW by Vansteenwegen,
  Souffriau, Vanden Berghe & Van Oudheusden 2009, C&OR 36(12):3281-3290) and Cordeau-based
  ``pr01-pr10`` (Righini & Salani) / ``pr11-pr20`` (Montemanni & Gambardella).
  Travel time = Euclidean distance truncated ("rounded down") to 1 decimal (Solomon) or 2 decimals
  (Cordeau), per the format text distributed with the files. Node 0 is start and end depot; the
  route limit ``t_max`` is the depot's close time; the number of routes is not in the file.
* Chao, Golden & Wasil (1996, EJOR 88(3):464-474) TOP files (``top_chao/instances/Set_*``): ``n``
  points, first = start, last = end, real Euclidean travel, no windows, no service times.

The benchmark root defaults to ``<repo>/../shared/benchmarks`` and is overridden by the environment
variable ``LHASA_BENCHMARKS``. Malformed files raise ``ValueError("<path>: line <k>: ...")``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from instances.paths import benchmarks_root
from optimizer.toptw.problem import TOPTWInstance

__all__ = [
    "CHAO_SETS",
    "TOPTW_SETS",
    "benchmarks_root",
    "default_decimals",
    "detect_format",
    "instance_path",
    "list_instance_files",
    "list_instances",
    "load_bks_toptw",
    "load_chao_reference_scores",
    "read_chao_top",
    "read_instance_file",
    "read_reference_values",
    "read_toptw",
    "truncated_euclidean",
]

TOPTW_SETS: dict[str, str] = {
    "solomon_100": "toptw/instances/solomon_100",
    "cordeau_pr": "toptw/instances/cordeau_pr",
    "solomon_50_righini_salani": "toptw/instances/solomon_50_righini_salani",
}
"""KU Leuven-format set name -> folder relative to the benchmark root (a folder may be absent)."""

CHAO_SETS: dict[str, str] = {
    f"Set_{k}_234": f"top_chao/instances/Set_{k}_234" for k in (32, 21, 33, 100, 66, 64, 102)
}
"""Chao TOP set name (Chao sets 1..7 in that order) -> folder relative to the benchmark root."""

_EPS = 1e-9


def _set_dir(set_name: str, root: Path | None) -> Path:
    rel = TOPTW_SETS.get(set_name) or CHAO_SETS.get(set_name)
    if rel is None:
        known = sorted(TOPTW_SETS) + sorted(CHAO_SETS)
        raise ValueError(f"unknown benchmark set {set_name!r}; known: {known}")
    return (root if root is not None else benchmarks_root()) / rel


def list_instances(set_name: str, root: Path | None = None) -> list[Path]:
    """Sorted ``*.txt`` instance paths of ``set_name`` (a key of ``TOPTW_SETS`` or ``CHAO_SETS``).

    Returns ``[]`` when the set's folder is not in this copy of the benchmarks. Raises
    ``ValueError`` for an unknown set name.
    """
    folder = _set_dir(set_name, root)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".txt")


def instance_path(set_name: str, instance: str, root: Path | None = None) -> Path:
    """Path of ``<instance>.txt`` in ``set_name`` (e.g. ``("solomon_100", "c101")``); need not exist."""
    return _set_dir(set_name, root) / f"{instance}.txt"


def default_decimals(path: str | Path) -> int:
    """Travel-time decimals of a KU Leuven file: 2 for Cordeau ``pr*`` files, else 1 (Solomon)."""
    return 2 if Path(path).name.lower().startswith("pr") else 1


def truncated_euclidean(x: np.ndarray, y: np.ndarray, decimals: int | None) -> np.ndarray:
    """Euclidean distance matrix float64[n, n], truncated to ``decimals`` (None: not truncated).

    Truncation is ``floor(d * 10**decimals + 1e-9) / 10**decimals`` so that a distance that is a
    decimal number up to float error (e.g. 5.0 computed as 4.9999999999) is not cut one step down.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d = np.sqrt((x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2)
    if decimals is None:
        return d
    f = 10.0**decimals
    return np.floor(d * f + _EPS) / f


# ---------------------------------------------------------------------------------- parsing helpers
def _lines(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank lines of ``path`` as ``(1-based line number, whitespace tokens)``."""
    try:
        text = path.read_text(encoding="ascii", errors="strict")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not an ASCII text file ({exc})") from None
    out = []
    for k, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if tokens:
            out.append((k, tokens))
    return out


def line_number(path: Path, k: int, token: str, what: str) -> float:
    """``token`` (on line ``k`` of ``path``) as a finite float; ``ValueError`` naming file, line and field."""
    try:
        v = float(token)
    except ValueError:
        raise ValueError(f"{path}: line {k}: {what} {token!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{path}: line {k}: {what} {token!r} is not finite")
    return v


def line_int(path: Path, k: int, token: str, what: str, minimum: int | None = 0) -> int:
    """``token`` as an integer >= ``minimum`` (None: any); ``ValueError`` naming file, line and field."""
    v = line_number(path, k, token, what)
    if v != int(v) or (minimum is not None and v < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{path}: line {k}: {what} {token!r} must be an integer{bound}")
    return int(v)


# ---------------------------------------------------------------------------------- KU Leuven TOPTW
def read_toptw(path: str | Path, n_routes: int = 1, decimals: int | None = None) -> TOPTWInstance:
    """Read a KU Leuven OPTW/TOPTW file into a :class:`TOPTWInstance` with ``m = n_routes``.

    Format (``toptw/FORMAT_TOPTW_KULeuven.txt``)::

        k v N t                  header; N = number of customers (others unused)
        [D] Q                    ignored (D missing in some files)
        i x y d S f a l_1..l_a O C     N+1 node lines, i = 0..N, node 0 = depot

    ``d`` = service time, ``S`` = score, ``[O, C]`` = window on the start of service, ``t_max`` =
    ``C`` of node 0. Parsing is on whitespace (CRLF and the KU Leuven c204 header split as
    ``"2"`` / ``"4 100 1 0 700"`` both read correctly); blank lines are skipped.

    Parameters
    ----------
    path : file path.
    n_routes : number of routes ``m`` (not in the file; the literature uses 1..4).
    decimals : travel-time truncation decimals; default :func:`default_decimals` (``pr*`` -> 2,
        else 1). Travel = Euclidean distance truncated (not rounded) to that many decimals.

    Raises
    ------
    ValueError ``"<path>: line <k>: ..."`` on a missing/extra token, a non-numeric or non-finite
    value, a wrong node index, or a node count different from ``N + 1``. ``FileNotFoundError`` if
    the file does not exist.
    """
    path = Path(path)
    lines = _lines(path)
    if decimals is None:
        decimals = default_decimals(path)

    # Header: accumulate lines until "k v N t" is complete; the "[D] Q" line follows unless it was
    # merged into the same line(s) (c204 variant: "2" / "4 100 1 0 700").
    header: list[tuple[int, str]] = []  # (line number, token)
    pos = 0
    last_k = 0
    while pos < len(lines) and len(header) < 4:
        last_k, toks = lines[pos]
        header += [(last_k, t) for t in toks]
        pos += 1
    if len(header) < 4:
        raise ValueError(f"{path}: line {last_k or 1}: header 'k v N t' incomplete ({len(header)} tokens)")
    if len(header) == 4:
        if pos >= len(lines):
            raise ValueError(f"{path}: line {last_k}: file ends after the header")
        last_k, toks = lines[pos]
        if len(toks) > 2:
            raise ValueError(f"{path}: line {last_k}: expected the 'D Q' line (1-2 tokens), got {len(toks)}")
        header += [(last_k, t) for t in toks]
        pos += 1
    if len(header) > 6:
        raise ValueError(
            f"{path}: line {last_k}: header has {len(header)} tokens, expected 'k v N t' + 'D Q'"
        )
    for j, (k, tok) in enumerate(header):
        line_number(path, k, tok, f"header token {j + 1}")
    n_cust = line_int(path, header[2][0], header[2][1], "N (number of customers)", minimum=0)

    body = lines[pos:]
    n = n_cust + 1
    if len(body) != n:
        k = body[n][0] if len(body) > n else (body[-1][0] if body else last_k)
        raise ValueError(
            f"{path}: line {k}: expected {n} node lines (N={n_cust} customers + depot), found {len(body)}"
        )

    cols = np.empty((n, 6), dtype=np.float64)  # x y d S O C
    for i, (k, toks) in enumerate(body):
        if len(toks) < 9:
            raise ValueError(f"{path}: line {k}: node line has {len(toks)} tokens, expected at least 9")
        idx = line_int(path, k, toks[0], "node index")
        if idx != i:
            raise ValueError(f"{path}: line {k}: node index {idx}, expected {i}")
        a = line_int(path, k, toks[6], "list length a")
        if len(toks) != 9 + a:
            raise ValueError(f"{path}: line {k}: node line has {len(toks)} tokens, expected 9 + a = {9 + a}")
        for t in toks[5 : 7 + a]:
            line_number(path, k, t, "token")
        names = ("x", "y", "service d", "score S")
        for c in range(4):
            cols[i, c] = line_number(path, k, toks[1 + c], names[c])
        cols[i, 4] = line_number(path, k, toks[-2], "window open O")
        cols[i, 5] = line_number(path, k, toks[-1], "window close C")
        if cols[i, 5] < cols[i, 4]:
            raise ValueError(f"{path}: line {k}: window closes at {toks[-1]} before it opens at {toks[-2]}")
        if cols[i, 2] < 0 or cols[i, 3] < 0:
            raise ValueError(f"{path}: line {k}: negative service time or score")

    x, y = cols[:, 0], cols[:, 1]
    return TOPTWInstance(
        name=path.stem,
        x=x,
        y=y,
        service_min=cols[:, 2],
        score=cols[:, 3],
        open_min=cols[:, 4],
        close_min=cols[:, 5],
        travel_min=truncated_euclidean(x, y, decimals),
        n_routes=n_routes,
        t_max=float(cols[0, 5]),
        start=0,
        end=0,
    )


# ---------------------------------------------------------------------------------- Chao TOP
def read_chao_top(path: str | Path, n_routes: int | None = None) -> TOPTWInstance:
    """Read a Chao, Golden & Wasil (1996) TOP file into a :class:`TOPTWInstance`.

    Format (tab separated, CRLF)::

        n <points incl. start and end>
        m <number of routes>
        tmax <route length limit>
        x y score                 n lines; first = start, last = end

    Travel = real Euclidean distance (not truncated). Windows are ``[0, tmax]``, service times 0,
    ``t_max = tmax``, ``start = 0``, ``end = n - 1``. ``n_routes`` overrides the file's ``m``.

    Raises ``ValueError("<path>: line <k>: ...")`` for malformed content.
    """
    path = Path(path)
    lines = _lines(path)
    keys = ("n", "m", "tmax")
    vals: dict[str, float] = {}
    for j, key in enumerate(keys):
        if j >= len(lines):
            raise ValueError(f"{path}: line {lines[-1][0] if lines else 1}: missing '{key} <value>' line")
        k, toks = lines[j]
        if len(toks) != 2 or toks[0].lower() != key:
            raise ValueError(f"{path}: line {k}: expected '{key} <value>', got {' '.join(toks)!r}")
        vals[key] = line_number(path, k, toks[1], key)
    k_hdr = lines[2][0]
    n = line_int(path, lines[0][0], lines[0][1][1], "n", minimum=2)
    m = line_int(path, lines[1][0], lines[1][1][1], "m", minimum=1)
    tmax = vals["tmax"]
    if tmax < 0:
        raise ValueError(f"{path}: line {k_hdr}: tmax {tmax} must be >= 0")
    body = lines[3:]
    if len(body) != n:
        k = body[n][0] if len(body) > n else (body[-1][0] if body else k_hdr)
        raise ValueError(f"{path}: line {k}: expected {n} point lines, found {len(body)}")
    pts = np.empty((n, 3), dtype=np.float64)
    for i, (k, toks) in enumerate(body):
        if len(toks) != 3:
            raise ValueError(f"{path}: line {k}: point line has {len(toks)} tokens, expected 3 (x y score)")
        for c, what in enumerate(("x", "y", "score")):
            pts[i, c] = line_number(path, k, toks[c], what)
        if pts[i, 2] < 0:
            raise ValueError(f"{path}: line {k}: negative score {toks[2]}")
    x, y = pts[:, 0], pts[:, 1]
    return TOPTWInstance(
        name=path.stem,
        x=x,
        y=y,
        service_min=np.zeros(n),
        score=pts[:, 2],
        open_min=np.zeros(n),
        close_min=np.full(n, tmax),
        travel_min=truncated_euclidean(x, y, None),
        n_routes=m if n_routes is None else n_routes,
        t_max=tmax,
        start=0,
        end=n - 1,
    )


# ---------------------------------------------------------------------------------- reference values
def _read_value_csv(path: Path, value_col: str) -> dict[tuple[str, str, int], float]:
    out: dict[tuple[str, str, int], float] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = {"set", "instance", "m", value_col}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise ValueError(f"{path}: line 1: header must contain {sorted(need)}, got {reader.fieldnames}")
        for row in reader:
            k = reader.line_num
            key = (row["set"], row["instance"], line_int(path, k, row["m"], "m", minimum=1))
            if key in out:
                raise ValueError(f"{path}: line {k}: duplicate key {key}")
            out[key] = line_number(path, k, row[value_col], value_col)
    return out


def load_bks_toptw(root: Path | None = None) -> dict[tuple[str, str, int], float]:
    """Best-known TOPTW scores from ``toptw/bks.csv``: ``{(set, instance, m): bks}``.

    E.g. ``("solomon_100", "c101", 1) -> 320.0``, ``("cordeau_pr", "pr01", 2) -> 502.0``. See
    ``toptw/SOURCES.md`` for where each value comes from (Solomon m=1 mostly proven optima of
    Righini & Salani; pr m=2..4 from teaching material, unattributed).
    """
    return _read_value_csv((root if root is not None else benchmarks_root()) / "toptw" / "bks.csv", "bks")


def load_chao_reference_scores(root: Path | None = None) -> dict[tuple[str, str, int], float]:
    """Chao et al. (1996) heuristic scores: ``{(set, instance, m): score}``, e.g.
    ``("Set_21_234", "p2.2.a", 2)``. These are 1996 heuristic results, NOT best-known values."""
    root = root if root is not None else benchmarks_root()
    return _read_value_csv(root / "top_chao" / "reference_scores_chao1996.csv", "score")


# ---------------------------------------------------------------------------------- any folder
REFERENCE_VALUE_COLUMNS: dict[str, str] = {"bks": "bks", "score": "ref"}
"""Value column of a reference CSV -> kind of reference: ``bks`` (as ``toptw/bks.csv``, best-known)
or ``score`` (as ``reference_scores_chao1996.csv``, a published heuristic score)."""


def list_instance_files(folder: str | Path) -> list[Path]:
    """Sorted regular, non-hidden files of ``folder`` (not recursive), whatever their extension.

    Raises ``FileNotFoundError`` / ``NotADirectoryError`` naming the folder.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def detect_format(path: str | Path) -> str:
    """``"chao"`` when the first non-blank line is ``n <value>`` (Chao TOP), else ``"toptw"`` (KU
    Leuven). Content only; ``ValueError`` for a non-ASCII or empty file."""
    path = Path(path)
    lines = _lines(path)
    if not lines:
        raise ValueError(f"{path}: line 1: empty file")
    toks = lines[0][1]
    return "chao" if len(toks) == 2 and toks[0].lower() == "n" else "toptw"


def read_instance_file(path: str | Path, n_routes: int | None = None) -> tuple[str, TOPTWInstance]:
    """``(format, instance)`` of a KU Leuven TOPTW or Chao TOP file, the format from
    :func:`detect_format`. ``n_routes``: KU Leuven default 1; Chao default the file's ``m``.
    Travel decimals of KU Leuven files follow :func:`default_decimals` (by file name)."""
    fmt = detect_format(path)
    if fmt == "chao":
        return fmt, read_chao_top(path, n_routes=n_routes)
    return fmt, read_toptw(path, n_routes=1 if n_routes is None else n_routes)


def read_reference_values(path: str | Path) -> tuple[dict[tuple[str, str, int], float], str]:
    """Reference values of a CSV with the columns of ``toptw/bks.csv`` (``set,instance,m,bks``) or of
    ``reference_scores_chao1996.csv`` (``set,instance,m,score``); other columns are ignored.

    Returns ``({(set, instance, m): value}, kind)`` with kind ``"bks"`` or ``"ref"``
    (:data:`REFERENCE_VALUE_COLUMNS`; ``bks`` wins when both columns are present). A row with an
    empty value (or ``-``) is no reference and is left out. Raises ``FileNotFoundError`` for a missing
    file and ``ValueError("<path>: ...")`` naming a missing column, a bad number or a duplicate key.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    out: dict[tuple[str, str, int], float] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        names = [f.strip() for f in (reader.fieldnames or [])]
        reader.fieldnames = names
        missing = [c for c in ("set", "instance", "m") if c not in names]
        value_col = next((c for c in REFERENCE_VALUE_COLUMNS if c in names), None)
        if value_col is None:
            missing.append(" or ".join(REFERENCE_VALUE_COLUMNS))
        if missing:
            raise ValueError(f"{path}: line 1: missing column(s) {', '.join(repr(c) for c in missing)}; "
                             f"header is {names}")
        for row in reader:
            k = reader.line_num
            raw = (row[value_col] or "").strip()
            if raw in ("", "-"):
                continue
            key = ((row["set"] or "").strip(), (row["instance"] or "").strip(),
                   line_int(path, k, (row["m"] or "").strip(), "m", minimum=1))
            if key in out:
                raise ValueError(f"{path}: line {k}: duplicate key {key}")
            out[key] = line_number(path, k, raw, value_col)
    return out, REFERENCE_VALUE_COLUMNS[value_col]
