"""Tour-group demand files: read and write ``tuple[TourGroup, ...]`` as CSV, Parquet or JSON.

Every reader validates against a ``Network``. A bad value raises ``DemandError``, a subclass of
``InvalidInput``. Its message names the file, the record (``row k (line n)`` for tables, where
data row k normally sits on line k+1 under the header, or ``index k`` for JSON), the field and
the bad value. Nothing is dropped or rounded silently. Sizes must be whole numbers of persons
(``12.5`` is rejected, not truncated), and coordinates and weights must be finite numbers.
Unknown columns and keys are rejected too, so a misspelled optional column cannot be lost.

Tabular layout (CSV and Parquet), one group per row (``TABLE_COLUMNS``):

=============  ==========================================================================
column         meaning
=============  ==========================================================================
group_id       text, unique in the file
size           persons, integer >= 1
start          site id, or empty when ``start_lat``/``start_lon`` are given
start_lat/lon  WGS84 degrees of a start point (attached to the nearest network node)
end, end_lat,  like ``start``, for where the group ends its day
end_lon
day_start      ``HH:MM``, earliest departure from the start
day_end        ``HH:MM``, latest arrival at the end (``24:00`` allowed)
must_visit     site ids separated by ``;`` (may be empty)
interests      ``kind:weight`` pairs separated by ``;``, e.g. ``monastery:1.5;lake:0.5``
zone           ring/circle id the group stays within, or empty
=============  ==========================================================================

Required columns are ``group_id``, ``size``, ``day_start`` and ``day_end``. Each of start and end
also needs its site column or both of its lat/lon columns. The other columns are optional.

JSON layout: ``{"groups": [{"group_id": "G001", "size": 25, "start": "potala" | {"lat": ..,
"lon": ..}, "end": ..., "day_window": ["08:00", "19:00"], "must_visit": [...], "interests":
{"monastery": 1.5}, "zone": null}, ...]}``. A bare list of group objects is accepted as well.
Other top-level keys (a description, say) are allowed and ignored.

Times are minutes from midnight inside ``TourGroup``. The files hold whole minutes as ``HH:MM``,
so ``write_demand`` refuses a day window that is not on a whole minute rather than round it.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from instances._csv import MISSING, RecordError, decode_utf8, read_csv_records
from optimizer.core.clock import fmt_clock, parse_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.core.physics import haversine_km
from optimizer.tours import Location, TourGroup, TourProblem

TABLE_COLUMNS: tuple[str, ...] = (
    "group_id", "size",
    "start", "start_lat", "start_lon",
    "end", "end_lat", "end_lon",
    "day_start", "day_end",
    "must_visit", "interests", "zone",
)
"""Columns of the tabular layout, in the order the writers use."""

REQUIRED_COLUMNS: tuple[str, ...] = ("group_id", "size", "day_start", "day_end")
"""Columns every table must have (start and end need their site or lat/lon columns too)."""

JSON_KEYS: tuple[str, ...] = (
    "group_id", "size", "start", "end", "day_window", "must_visit", "interests", "zone",
)
"""Keys of a group object in the JSON layout."""

MAX_ATTACH_KM = 100.0
"""A lat/lon start or end must lie within this great-circle distance (km) of some network site.

Catches swapped or mistyped coordinates (e.g. ``lat=0``), which would otherwise be attached to
a node hundreds of km away without any warning.
"""

LIST_SEP = ";"
PAIR_SEP = ":"

_PARQUET_SCHEMA: dict[str, Any] = {
    "group_id": pl.String, "size": pl.Int64,
    "start": pl.String, "start_lat": pl.Float64, "start_lon": pl.Float64,
    "end": pl.String, "end_lat": pl.Float64, "end_lon": pl.Float64,
    "day_start": pl.String, "day_end": pl.String,
    "must_visit": pl.String, "interests": pl.String, "zone": pl.String,
}

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_CLOCK = re.compile(r"\d{1,2}:\d{2}")
_MISSING = MISSING


class DemandError(RecordError):
    """Bad demand data (a ``RecordError``). The message reads ``<file>: <where>: <field>=<value>: <message>``.

    Attributes
    ----------
    source : str
        The file (or the ``source`` label given to ``groups_from_records``).
    where : str
        ``row k (line n)`` for a table, ``index k`` for JSON/records, ``header (line 1)`` or
        ``file`` for problems that concern no single group.
    field, value, message :
        As in ``InvalidInput``. ``value`` is None for a missing column or key.
    """


# ---------------------------------------------------------------------------------------------
# Field parsers: pure functions of one raw value. They raise InvalidInput(field, value, message);
# the record loop adds the file and the row.


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _text(value: object, field: str) -> str | None:
    """Stripped text, or None when blank. Non-text values are an error (no silent ``str()``)."""
    if _is_blank(value):
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, value, "expected text")
    return value.strip()


def _number(value: object, field: str) -> float:
    """A finite float from a number or a plain decimal string (no NaN, inf, ``1_000`` or bools)."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidInput(field, value, "expected a number, got a boolean")
    if isinstance(value, (int, np.integer)):
        return float(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
    elif isinstance(value, str):
        s = value.strip()
        try:
            x = float(s)
        except ValueError:
            raise InvalidInput(field, value, "not a number") from None
        if math.isfinite(x) and not _DECIMAL.fullmatch(s):
            raise InvalidInput(field, value, "not a plain decimal number")
    else:
        raise InvalidInput(field, value, "not a number")
    if not math.isfinite(x):
        raise InvalidInput(field, value, "must be a finite number")
    return x


def parse_size(value: object, field: str = "size") -> int:
    """Group size in persons: a whole number >= 1. ``12.5`` is rejected, never truncated.

    Integral floats (``12.0``, as spreadsheets and NaN-padded integer columns write them) are
    accepted, since nothing is lost.
    """
    if _is_blank(value):
        raise InvalidInput(field, value, "missing group size (persons)")
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        n = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        n = int(value.strip())
    else:
        x = _number(value, field)
        if not x.is_integer():
            raise InvalidInput(field, value, "must be a whole number of persons (not truncated)")
        n = int(x)
    if n < 1:
        raise InvalidInput(field, value, "must be an integer >= 1 persons")
    return n


def parse_coord(value: object, field: str, limit: float) -> float | None:
    """Latitude (``limit=90``) or longitude (``limit=180``) in degrees, None when blank."""
    if _is_blank(value):
        return None
    x = _number(value, field)
    if not -limit <= x <= limit:
        raise InvalidInput(field, value, f"must be in [-{limit:g}, {limit:g}] degrees")
    return x


def parse_hhmm(value: object, field: str) -> float:
    """``HH:MM`` (``H:MM`` and ``24:00`` allowed) -> minutes from midnight."""
    if _is_blank(value):
        raise InvalidInput(field, value, "missing time, expected HH:MM")
    if not isinstance(value, str) or not _CLOCK.fullmatch(value.strip()):
        raise InvalidInput(field, value, "expected HH:MM")
    try:
        return parse_clock(value.strip(), field)
    except InvalidInput as e:
        raise InvalidInput(field, value, e.message) from None


def parse_window(start: object, end: object, start_field: str, end_field: str) -> tuple[float, float]:
    """Day window ``(open, close)``, minutes from midnight; closing before opening is an error."""
    lo = parse_hhmm(start, start_field)
    hi = parse_hhmm(end, end_field)
    if hi < lo:
        raise InvalidInput(end_field, end, f"day window closes at {fmt_clock(hi)} before it opens at {fmt_clock(lo)}")
    return (lo, hi)


def parse_site_id(value: object, field: str, network: Network) -> str:
    """A known site id of ``network``."""
    sid = _text(value, field)
    if sid is None:
        raise InvalidInput(field, value, "missing site id")
    if not network.has_site(sid):
        raise InvalidInput(field, sid, "unknown site id")
    return sid


def parse_site_list(value: object, field: str, network: Network) -> tuple[str, ...]:
    """Site ids from ``"a;b"`` text or a list of ids; blank gives ``()``."""
    if _is_blank(value):
        return ()
    if isinstance(value, str):
        items: Sequence[object] = [p for p in value.split(LIST_SEP) if p.strip()]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise InvalidInput(field, value, f"expected site ids separated by '{LIST_SEP}' or a list")
    return tuple(parse_site_id(v, field, network) for v in items)


def parse_interests(value: object, field: str, kinds: frozenset[str]) -> dict[str, float]:
    """Kind -> weight >= 0, from ``"monastery:1.5;lake:0.5"`` text or a mapping; blank gives ``{}``.

    Kinds must be site kinds of the network; a kind listed twice is an error.
    """
    if _is_blank(value):
        return {}
    pairs: list[tuple[object, object, object]] = []  # (kind, weight, what to show)
    if isinstance(value, str):
        for piece in value.split(LIST_SEP):
            if not piece.strip():
                continue
            if piece.count(PAIR_SEP) != 1:
                raise InvalidInput(field, piece.strip(), f"expected kind{PAIR_SEP}weight")
            kind, weight = piece.split(PAIR_SEP)
            pairs.append((kind.strip(), weight, piece.strip()))
    elif isinstance(value, Mapping):
        pairs = [(k, w, k) for k, w in value.items()]
    else:
        raise InvalidInput(field, value, f"expected kind{PAIR_SEP}weight pairs separated by '{LIST_SEP}' or a mapping")
    out: dict[str, float] = {}
    for kind, weight, shown in pairs:
        if not isinstance(kind, str) or kind not in kinds:
            raise InvalidInput(field, shown, f"unknown site kind {kind!r}; known: {sorted(kinds)}")
        if kind in out:
            raise InvalidInput(field, shown, f"kind {kind!r} listed twice")
        w = _number(weight, f"{field}.{kind}")
        if w < 0:
            raise InvalidInput(f"{field}.{kind}", weight, "weight must be >= 0")
        out[kind] = w
    return out


def parse_zone(value: object, field: str, network: Network) -> str | None:
    """A ring/circle id of ``network``, or None when blank."""
    zone = _text(value, field)
    if zone is not None and zone not in network.zones:
        raise InvalidInput(field, zone, f"unknown ring/circle; known: {sorted(network.zones)}")
    return zone


def _point(lat: object, lon: object, lat_field: str, lon_field: str, network: Network) -> Location:
    """A lat/lon location that lies within ``MAX_ATTACH_KM`` of some site of ``network``."""
    y = parse_coord(lat, lat_field, 90.0)
    x = parse_coord(lon, lon_field, 180.0)
    if y is None or x is None:
        missing, raw = (lat_field, lat) if y is None else (lon_field, lon)
        raise InvalidInput(missing, raw, f"missing; a point needs both {lat_field} and {lon_field}")
    if network.n:
        lats = np.array([s.lat for s in network.sites])
        lons = np.array([s.lon for s in network.sites])
        d = float(np.min(haversine_km(y, x, lats, lons)))
        if d > MAX_ATTACH_KM:
            raise InvalidInput(f"{lat_field},{lon_field}", (y, x),
                               f"is {d:.0f} km from the nearest site; at most {MAX_ATTACH_KM:g} km (swapped lat/lon?)")
    return Location(lat=y, lon=x)


def parse_location(rec: Mapping[str, Any], name: str, network: Network) -> Location:
    """Start or end (``name``) of a record: a site id, a ``{"lat", "lon"}`` object, or the
    ``<name>_lat``/``<name>_lon`` columns (exactly one of these forms)."""
    value = rec.get(name)
    lat_key, lon_key = f"{name}_lat", f"{name}_lon"
    has_point = not (_is_blank(rec.get(lat_key)) and _is_blank(rec.get(lon_key)))
    if isinstance(value, Mapping):
        extra = sorted(set(value) - {"lat", "lon"})
        if extra:
            raise InvalidInput(f"{name}.{extra[0]}", value[extra[0]], "unknown key; a point has only lat and lon")
        if has_point:
            raise InvalidInput(lat_key, rec.get(lat_key), f"{name} is already given as a point")
        return _point(value.get("lat"), value.get("lon"), f"{name}.lat", f"{name}.lon", network)
    if not _is_blank(value):
        if has_point:
            raise InvalidInput(name, value, f"give either a site id or {lat_key}/{lon_key}, not both")
        return Location(site_id=parse_site_id(value, name, network))
    if has_point:
        return _point(rec.get(lat_key), rec.get(lon_key), lat_key, lon_key, network)
    raise InvalidInput(name, value, f"missing; give a site id or {lat_key} and {lon_key}")


def parse_day_window(rec: Mapping[str, Any]) -> tuple[float, float]:
    """``day_window: [open, close]`` or ``day_start``/``day_end``, minutes from midnight."""
    if "day_window" in rec:
        if "day_start" in rec or "day_end" in rec:
            raise InvalidInput("day_window", rec["day_window"], "give day_window or day_start/day_end, not both")
        w = rec["day_window"]
        if not isinstance(w, (list, tuple)) or len(w) != 2:
            raise InvalidInput("day_window", w, 'expected ["HH:MM", "HH:MM"]')
        return parse_window(w[0], w[1], "day_window[0]", "day_window[1]")
    return parse_window(rec.get("day_start"), rec.get("day_end"), "day_start", "day_end")


RECORD_KEYS: frozenset[str] = frozenset(TABLE_COLUMNS) | frozenset(JSON_KEYS)


def group_from_record(rec: Mapping[str, Any], network: Network, kinds: frozenset[str] | None = None) -> TourGroup:
    """One validated ``TourGroup`` from a record (JSON or tabular keys, see the module docs).

    Also runs ``TourProblem``'s per-group checks (must-visit hubs, must-visits outside the zone).
    Raises ``InvalidInput`` naming the field; the callers add the file and the row.
    """
    if not isinstance(rec, Mapping):
        raise InvalidInput("group", rec, "expected an object/mapping of fields")
    unknown = sorted(str(k) for k in rec if k not in RECORD_KEYS)
    if unknown:
        raise InvalidInput(unknown[0], rec[unknown[0]], f"unknown field; known: {sorted(RECORD_KEYS)}")
    if kinds is None:
        kinds = frozenset(s.kind for s in network.sites)
    gid = _text(rec.get("group_id"), "group_id")
    if gid is None:
        raise InvalidInput("group_id", rec.get("group_id"), "missing group id")
    group = TourGroup(
        id=gid,
        size=parse_size(rec.get("size")),
        start=parse_location(rec, "start", network),
        end=parse_location(rec, "end", network),
        day_window=parse_day_window(rec),
        must_visit=parse_site_list(rec.get("must_visit"), "must_visit", network),
        interests=parse_interests(rec.get("interests"), "interests", kinds),
        zone=parse_zone(rec.get("zone"), "zone", network),
    )
    TourProblem(network=network, groups=(group,))
    return group


def _groups(records: Iterable[Mapping[str, Any]], network: Network, source: str,
            label: Callable[[int], str]) -> tuple[TourGroup, ...]:
    """Parse records in order; ``label(k)`` names record k (0-based) in error messages."""
    kinds = frozenset(s.kind for s in network.sites)
    groups: list[TourGroup] = []
    first_seen: dict[str, int] = {}
    for k, rec in enumerate(records):
        where = label(k)
        try:
            g = group_from_record(rec, network, kinds)
        except DemandError:
            raise
        except InvalidInput as e:
            raise DemandError(source, where, e.field, e.value, e.message) from None
        if g.id in first_seen:
            raise DemandError(source, where, "group_id", g.id,
                              f"duplicate group id, first used at {label(first_seen[g.id])}")
        first_seen[g.id] = k
        groups.append(g)
    return tuple(groups)


def groups_from_records(records: Sequence[Mapping[str, Any]], network: Network,
                        source: str = "<records>") -> tuple[TourGroup, ...]:
    """Validated groups from dicts in the JSON layout (``groups_to_records``'s output) or with
    the tabular keys. Errors name ``source`` and ``index k`` (0-based)."""
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Sequence):
        raise DemandError(source, "file", "groups", type(records).__name__, "expected a list of group objects")
    return _groups(records, network, source, lambda k: f"index {k}")


# ---------------------------------------------------------------------------------------------
# Tables


def _check_columns(columns: Sequence[str], source: str) -> None:
    """Header checks: duplicates, unknown columns, required columns (named in the error)."""
    where = "header (line 1)"
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise DemandError(source, where, c, _MISSING, "column appears twice")
        seen.add(c)
        if c not in TABLE_COLUMNS:
            raise DemandError(source, where, c, _MISSING, f"unknown column; known: {list(TABLE_COLUMNS)}")
    for c in REQUIRED_COLUMNS:
        if c not in seen:
            raise DemandError(source, where, c, _MISSING, "missing required column")
    for name in ("start", "end"):
        if name not in seen and not {f"{name}_lat", f"{name}_lon"} <= seen:
            raise DemandError(source, where, name, _MISSING,
                              f"missing required column (or both {name}_lat and {name}_lon)")


def _row_label(lines: Sequence[int]) -> Callable[[int], str]:
    return lambda k: f"row {k + 1} (line {lines[k]})"


def _read_csv(path: Path, network: Network) -> tuple[TourGroup, ...]:
    source = str(path)
    try:
        columns, records = read_csv_records(path, comment="")
    except DemandError:
        raise
    except RecordError as e:
        field = "group_id" if e.where.startswith("header") and e.field == "header" else e.field
        raise DemandError(e.source, e.where, field, e.value if e.value is not None else _MISSING, e.message) from None
    _check_columns(list(columns), source)
    return _groups([r.values for r in records], network, source, _row_label([r.line for r in records]))


def _read_parquet(path: Path, network: Network) -> tuple[TourGroup, ...]:
    source = str(path)
    try:
        df = pl.read_parquet(path)
    except Exception as e:  # polars raises several error types for corrupt files
        raise DemandError(source, "file", "path", source, f"cannot read Parquet: {e}") from None
    _check_columns(df.columns, source)
    return _groups(df.iter_rows(named=True), network, source, lambda k: f"row {k + 1} (line {k + 2})")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} appears twice in one object")
        out[k] = v
    return out


def _read_json(path: Path, network: Network) -> tuple[TourGroup, ...]:
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DemandError(source, "file", "path", source, f"cannot read JSON: {e.strerror or e}") from None
    text = decode_utf8(raw, source, DemandError)
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as e:
        raise DemandError(source, "file", "path", source, f"cannot read JSON: {e}") from None
    if isinstance(doc, Mapping):
        if "groups" not in doc:
            raise DemandError(source, "file", "groups", _MISSING, 'missing key; expected {"groups": [...]}')
        doc = doc["groups"]
    if not isinstance(doc, list):
        raise DemandError(source, "file", "groups", type(doc).__name__, "expected a list of group objects")
    return _groups(doc, network, source, lambda k: f"index {k}")


_READERS: dict[str, Callable[[Path, Network], tuple[TourGroup, ...]]] = {
    ".csv": _read_csv, ".parquet": _read_parquet, ".json": _read_json,
}


def _format_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise DemandError(str(path), "file", "suffix", path.suffix,
                          f"unknown demand format; use one of {sorted(_READERS)}")
    return suffix


def read_demand(path: Path | str, network: Network) -> tuple[TourGroup, ...]:
    """Read and validate a demand file (``.csv``, ``.parquet`` or ``.json``, by suffix).

    Raises ``DemandError`` (an ``InvalidInput``) naming the file, row, field and value.
    """
    p = Path(path)
    reader = _READERS[_format_for(p)]
    if not p.is_file():
        raise DemandError(str(p), "file", "path", str(p), "file not found")
    return reader(p, network)


# ---------------------------------------------------------------------------------------------
# Writers


def _fmt_number(x: float) -> str:
    """Shortest text that reads back to exactly ``x`` (``1.5``, ``2``, ``29.65123``)."""
    s = repr(float(x))
    return s.removesuffix(".0")


def _fmt_minute(minutes: float, what: str) -> str:
    """``HH:MM``; refuses a time that is not on a whole minute instead of truncating it."""
    if not float(minutes).is_integer():
        raise InvalidInput(what, minutes, "HH:MM files hold whole minutes; refusing to truncate")
    return fmt_clock(minutes)


def _check_token(value: str, what: str, forbidden: str) -> str:
    if any(c in value for c in forbidden) or value != value.strip() or not value:
        raise InvalidInput(what, value, f"cannot be written: empty, padded or contains one of {forbidden!r}")
    return value


def _location_record(loc: Location) -> str | dict[str, float]:
    return loc.site_id if loc.site_id is not None else {"lat": float(loc.lat), "lon": float(loc.lon)}  # type: ignore[arg-type]


def groups_to_records(groups: Iterable[TourGroup]) -> list[dict[str, Any]]:
    """JSON-layout dicts (``start`` a site id or ``{"lat", "lon"}``, ``day_window`` HH:MM pair).

    ``groups_from_records(groups_to_records(gs), network) == gs``.
    """
    out = []
    for g in groups:
        where = f"group[{g.id}]"
        out.append({
            "group_id": _check_token(g.id, f"{where}.id", ""),
            "size": int(g.size),
            "start": _location_record(g.start),
            "end": _location_record(g.end),
            "day_window": [_fmt_minute(g.day_window[0], f"{where}.day_window.open"),
                           _fmt_minute(g.day_window[1], f"{where}.day_window.close")],
            "must_visit": list(g.must_visit),
            "interests": {k: float(w) for k, w in g.interests.items()},
            "zone": g.zone,
        })
    return out


def groups_to_rows(groups: Iterable[TourGroup]) -> list[dict[str, Any]]:
    """Tabular dicts keyed by ``TABLE_COLUMNS`` (None for an empty cell; lat/lon as floats)."""
    rows = []
    for g in groups:
        where = f"group[{g.id}]"
        row: dict[str, Any] = {"group_id": _check_token(g.id, f"{where}.id", ""), "size": int(g.size)}
        for name, loc in (("start", g.start), ("end", g.end)):
            row[name] = loc.site_id
            row[f"{name}_lat"] = None if loc.site_id is not None else float(loc.lat)  # type: ignore[arg-type]
            row[f"{name}_lon"] = None if loc.site_id is not None else float(loc.lon)  # type: ignore[arg-type]
        row["day_start"] = _fmt_minute(g.day_window[0], f"{where}.day_window.open")
        row["day_end"] = _fmt_minute(g.day_window[1], f"{where}.day_window.close")
        row["must_visit"] = LIST_SEP.join(_check_token(s, f"{where}.must_visit", LIST_SEP) for s in g.must_visit) or None
        row["interests"] = LIST_SEP.join(
            f"{_check_token(k, f'{where}.interests', LIST_SEP + PAIR_SEP)}{PAIR_SEP}{_fmt_number(w)}"
            for k, w in g.interests.items()) or None
        row["zone"] = g.zone
        rows.append(row)
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _fmt_number(value)
    return str(value)


def write_demand(groups: Sequence[TourGroup], path: Path | str) -> Path:
    """Write groups to ``path`` as CSV, Parquet or JSON (by suffix); returns the path.

    The result reads back equal with ``read_demand``. Raises ``InvalidInput`` for a group that
    the format cannot hold exactly (a day window off the whole minute, ``;`` inside an id).
    """
    p = Path(path)
    fmt = _format_for(p)
    if fmt == ".json":
        doc = {"groups": groups_to_records(groups)}
        p.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return p
    rows = groups_to_rows(groups)
    if fmt == ".csv":
        with p.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(TABLE_COLUMNS)
            for row in rows:
                w.writerow([_cell(row[c]) for c in TABLE_COLUMNS])
    else:
        df = pl.DataFrame({c: [r[c] for r in rows] for c in TABLE_COLUMNS}, schema=_PARQUET_SCHEMA)
        df.write_parquet(p)
    return p
