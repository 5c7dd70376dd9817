"""Readers and writers of the sightseeing-flight data, and the embedded Lhasa defaults.

Every reader is built on ``instances._csv``: lines starting with ``#`` are comments, a UTF-8 BOM is
accepted, and bad data raises ``RecordError`` (an ``InvalidInput``) whose message reads
``<file>: row k (line n): <column>=<value>: <why>`` (``field`` is the column name).

* design data: :func:`read_viewpoints`, :func:`read_vertiports`, :func:`read_aircraft_types`,
  :func:`load_flight_data` (the three CSVs of a folder and its ``airspace.geojson``);
* schedule inputs: :func:`read_bookings_csv` / :func:`write_bookings_csv`
  (``id,product_id,party_size,open,close,desired``, times HH:MM), :func:`read_products_csv`
  (``PRODUCT_CSV_COLUMNS``, viewpoints ``;``-separated), :func:`read_aircraft_csv`
  (``AIRCRAFT_CSV_COLUMNS``);
* Lhasa defaults: :func:`lhasa_fleet` (an assumed fleet), :func:`lhasa_vertiport_capacities`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from instances._csv import (
    CsvRecord,
    RecordError,
    float_field,
    int_field,
    read_csv_records,
    record_context,
    text_field,
)
from instances.paths import AIRCRAFT_TYPES_CSV, AIRSPACE_GEOJSON, LHASA_DIR, VERTIPORTS_CSV, VIEWPOINTS_CSV
from optimizer.core.airspace import Airspace, airspace_from_geojson
from optimizer.core.clock import fmt_clock, parse_clock
from optimizer.core.errors import InvalidInput
from optimizer.flights.problem import (
    Aircraft,
    AircraftType,
    Booking,
    FlightData,
    FlightProduct,
    Vertiport,
    VertiportCapacity,
    Viewpoint,
)

__all__ = ["AIRCRAFT_CSV_COLUMNS", "BOOKING_COLUMNS", "LHASA_PORTS", "PRODUCT_CSV_COLUMNS", "lhasa_fleet",
           "lhasa_vertiport_capacities", "load_flight_data", "read_aircraft_csv", "read_aircraft_types",
           "read_bookings_csv", "read_products_csv", "read_vertiports", "read_viewpoints", "write_bookings_csv"]

BOOKING_COLUMNS = ("id", "product_id", "party_size", "open", "close", "desired")
PRODUCT_CSV_COLUMNS = ("id", "vertiport_id", "aircraft_type_id", "block_min", "score", "viewpoints", "distance_km")
AIRCRAFT_CSV_COLUMNS = ("id", "type_id", "vertiport_id", "seats", "open", "close", "turnaround_min",
                        "recharge_per_block_min")
LHASA_PORTS = ("dagze_ga", "damxung")
"""The vertiports of the Lhasa schedule day (the city pad has no fleet in the assumed day)."""

_COLUMN_OF = {"open_min": "open", "close_min": "close", "available.open": "open", "available.close": "close",
              "window.open": "open", "window.close": "close", "desired_min": "desired", "type_id": "type_id"}


def _column(field_name: str, columns: Sequence[str]) -> str:
    """The CSV column a noun's field name (``viewpoints[x].lat``, ``bookings[b].window.open``) stands for."""
    tail = field_name.split("].", 1)[-1] if "]." in field_name else field_name.rsplit(".", 1)[-1]
    tail = _COLUMN_OF.get(tail, tail)
    return tail if tail in columns else field_name


def _records(path: Path | str, required: Sequence[str], build: Callable[[CsvRecord], Any],
             allow_empty: bool = True) -> list[tuple[str, Any]]:
    """Read ``path`` and build one item per record: ``[(where, item), ...]``; errors name the file,
    row, column and value."""
    columns, records = read_csv_records(path, required=required)
    source = str(path)
    if not records and not allow_empty:
        raise RecordError(source, "file", "rows", 0, "no data rows")
    out = []
    for rec in records:
        try:
            with record_context(source, rec.where):
                out.append((rec.where, build(rec)))
        except RecordError as e:
            col = _column(e.field, columns)
            if col == e.field:
                raise
            raise RecordError(source, rec.where, col, rec.values.get(col, e.value), e.message) from None
    return out


def _keyed(path: Path | str, required: Sequence[str], build: Callable[[CsvRecord], Any]) -> dict:
    """Items by id (at least one row; a duplicate id is an error naming its row)."""
    out: dict = {}
    for where, it in _records(path, required, build, allow_empty=False):
        if it.id in out:
            raise RecordError(str(path), where, "id", it.id, "duplicate id")
        out[it.id] = it
    return out


def _minute(rec: CsvRecord, col: str) -> int:
    text = text_field(rec, col)
    v = parse_clock(text, col)
    if v != int(v):
        raise InvalidInput(col, text, "must be a whole minute")
    return int(v)


def _whole(rec: CsvRecord, col: str) -> int:
    x = float_field(rec, col)
    if x != int(x):
        raise InvalidInput(col, rec.values.get(col), "must be a whole number")
    return int(x)


# ----------------------------------------------------------------------------------------------- design data
VIEWPOINT_COLUMNS = ("id", "lon", "lat", "elevation_m", "flight_alt_m", "score", "view_min")
VERTIPORT_COLUMNS = ("id", "lon", "lat", "elevation_m", "takeoffs_per_slot", "slot_min", "open", "close")
AIRCRAFT_TYPE_COLUMNS = ("id", "kind", "seats", "crew", "mtow_kg", "cruise_kmh", "endurance_sea_min", "reserve_min",
                         "takeoff_landing_min", "ceiling_m")


def read_viewpoints(path: Path | str = VIEWPOINTS_CSV) -> dict[str, Viewpoint]:
    """Viewpoints by id (columns as :class:`Viewpoint`; ``name_en``/``name_zh`` optional)."""
    def build(r: CsvRecord) -> Viewpoint:
        return Viewpoint(text_field(r, "id"), r.values.get("name_en", ""), r.values.get("name_zh", ""),
                         float_field(r, "lon"), float_field(r, "lat"), float_field(r, "elevation_m"),
                         float_field(r, "flight_alt_m"), float_field(r, "score"), float_field(r, "view_min"))
    return _keyed(path, VIEWPOINT_COLUMNS, build)


def read_vertiports(path: Path | str = VERTIPORTS_CSV) -> dict[str, Vertiport]:
    """Vertiports by id (``open``/``close`` as HH:MM; columns as :class:`Vertiport`)."""
    def build(r: CsvRecord) -> Vertiport:
        lo, hi = _minute(r, "open"), _minute(r, "close")
        if hi <= lo:
            raise InvalidInput("close", r.values["close"], "closes before it opens")
        return Vertiport(text_field(r, "id"), r.values.get("name_en", ""), r.values.get("name_zh", ""),
                         float_field(r, "lon"), float_field(r, "lat"), float_field(r, "elevation_m"),
                         _whole(r, "takeoffs_per_slot"), _whole(r, "slot_min"), lo, hi)
    return _keyed(path, VERTIPORT_COLUMNS, build)


def read_aircraft_types(path: Path | str = AIRCRAFT_TYPES_CSV) -> dict[str, AircraftType]:
    """Aircraft types by id (columns as :class:`AircraftType`; ``name`` optional)."""
    def build(r: CsvRecord) -> AircraftType:
        return AircraftType(text_field(r, "id"), r.values.get("name", ""), text_field(r, "kind"), _whole(r, "seats"),
                            _whole(r, "crew"), float_field(r, "mtow_kg"), float_field(r, "cruise_kmh"),
                            float_field(r, "endurance_sea_min"), float_field(r, "reserve_min"),
                            float_field(r, "takeoff_landing_min"), float_field(r, "ceiling_m"))
    return _keyed(path, AIRCRAFT_TYPE_COLUMNS, build)


def load_flight_data(directory: Path | str = LHASA_DIR, airspace: Airspace | None = None) -> FlightData:
    """``viewpoints.csv``, ``vertiports.csv``, ``aircraft_types.csv`` of ``directory`` and its
    ``airspace.geojson`` (``instances.paths.AIRSPACE_GEOJSON`` for the embedded folder), unless
    ``airspace`` is given. Raises ``InvalidInput`` (``RecordError`` for a CSV row), ``OSError``."""
    d = Path(directory)
    asp = airspace if airspace is not None else airspace_from_geojson(d / AIRSPACE_GEOJSON.name)
    return FlightData(read_viewpoints(d / "viewpoints.csv"), read_vertiports(d / "vertiports.csv"),
                      read_aircraft_types(d / "aircraft_types.csv"), asp)


# ----------------------------------------------------------------------------------------------- schedule inputs
def read_bookings_csv(path: Path | str) -> tuple[Booking, ...]:
    """Bookings (``BOOKING_COLUMNS``, times HH:MM)."""
    def build(r: CsvRecord) -> Booking:
        return Booking(text_field(r, "id"), text_field(r, "product_id"), int_field(r, "party_size"),
                       (_minute(r, "open"), _minute(r, "close")), _minute(r, "desired"))
    return tuple(it for _, it in _records(path, BOOKING_COLUMNS, build))


def write_bookings_csv(bookings: Sequence[Booking], path: Path | str, comment: str = "") -> None:
    """Write bookings as CSV (``comment`` lines first, each prefixed with ``# ``)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.writelines(f"# {line}\n" for line in comment.splitlines())
        wr = csv.writer(fh)
        wr.writerow(BOOKING_COLUMNS)
        for b in bookings:
            wr.writerow([b.id, b.product_id, b.party_size, fmt_clock(b.window[0]), fmt_clock(b.window[1]),
                         fmt_clock(b.desired_min)])


def read_products_csv(path: Path | str) -> tuple[FlightProduct, ...]:
    """Products (``PRODUCT_CSV_COLUMNS``; viewpoints ``;``-separated; extra columns, e.g. those of
    ``flights design``'s products.csv, are ignored)."""
    def build(r: CsvRecord) -> FlightProduct:
        vps = tuple(v.strip() for v in (r.values.get("viewpoints") or "").split(";") if v.strip())
        return FlightProduct(text_field(r, "id"), text_field(r, "vertiport_id"), text_field(r, "aircraft_type_id"),
                             _whole(r, "block_min"), float_field(r, "score"), vps, float_field(r, "distance_km"))
    return tuple(it for _, it in _records(path, PRODUCT_CSV_COLUMNS, build))


def read_aircraft_csv(path: Path | str) -> tuple[Aircraft, ...]:
    """Aircraft (``AIRCRAFT_CSV_COLUMNS``; ``open``/``close`` HH:MM)."""
    def build(r: CsvRecord) -> Aircraft:
        return Aircraft(text_field(r, "id"), text_field(r, "type_id"), text_field(r, "vertiport_id"),
                        _whole(r, "seats"), (_minute(r, "open"), _minute(r, "close")), _whole(r, "turnaround_min"),
                        float_field(r, "recharge_per_block_min"))
    return tuple(it for _, it in _records(path, AIRCRAFT_CSV_COLUMNS, build))


# ----------------------------------------------------------------------------------------------- Lhasa defaults
def lhasa_vertiport_capacities(path: Path | str = VERTIPORTS_CSV) -> tuple[tuple[VertiportCapacity, ...], int]:
    """Vertiport capacities and hours of ``vertiports.csv`` and the common slot length (minutes).

    The schedule model has one slot length; when the vertiports differ, the shortest is used and each
    capacity is scaled down proportionally (rounded down, at least 1), which never allows more take-offs
    than the file.
    """
    vs = read_vertiports(path)
    slot = min(v.slot_min for v in vs.values())
    return tuple(VertiportCapacity(v.id, max(1, v.takeoffs_per_slot * slot // v.slot_min), (v.open_min, v.close_min))
                 for v in vs.values()), slot


def lhasa_fleet() -> tuple[Aircraft, ...]:
    """Default fleet for the Lhasa day (ASSUMPTION, no operator data): 4 eVTOL + 2 H125 helicopters.

    ``dagze_ga`` (拉萨通用机场, 达孜): evtol_1..3 and h125_1; ``damxung`` (当雄机场): evtol_4 and h125_2.
    Seats from ``instances/lhasa/aircraft_types.csv`` (evtol 4, h125 6 passengers). Each aircraft is
    available during its vertiport's hours. Ground time: eVTOL 10 min turnaround + 1.0 min recharge per
    minute flown (fast charge about as long as the flight, assumption); H125 15 min turnaround + 0.2 min
    refuel per minute flown (assumption).
    """
    seats = {k: t.seats for k, t in read_aircraft_types().items()}
    ports = read_vertiports()
    plan = (("evtol_1", "evtol", "dagze_ga"), ("evtol_2", "evtol", "dagze_ga"), ("evtol_3", "evtol", "dagze_ga"),
            ("h125_1", "h125", "dagze_ga"), ("evtol_4", "evtol", "damxung"), ("h125_2", "h125", "damxung"))
    ground = {"evtol": (10, 1.0), "h125": (15, 0.2)}
    return tuple(Aircraft(i, t, v, seats[t], (ports[v].open_min, ports[v].close_min), *ground[t]) for i, t, v in plan)
