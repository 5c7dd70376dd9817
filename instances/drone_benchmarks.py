"""Reader for the public mFSTSP drone instances (Murray & Raj 2019), drone-only part.

Source: ``shared/benchmarks/drones/mfstsp_murray_raj_2019`` (github.com/optimatorlab/mFSTSP @53c0771,
see that folder's SOURCES.md, section 2). Files used:

* ``Problems/<problem>/tbl_locations.csv``: ``% nodeID, nodeType (0 depot, 1 customer), latDeg, lonDeg,
  altMeters, parcelWtLbs`` (one depot, customers numbered 1..N);
* ``Problems/tbl_vehicles_<id>.csv``: vehicle 1 is the truck (type 1), the others UAVs (type 2) with
  ``takeoffSpeed, cruiseSpeed, landingSpeed [m/s], yawRateDeg, cruiseAlt [m], capacity [lbs],
  launchTime, recoveryTime, serviceTime [s], batteryPower [J], range``;
* ``problems_info.csv``: problem name, number of customers, city.

Our drone model (``optimizer.drones``) has no truck, so only the drone-only part fits: one hub at the
depot's lat/lon/altitude with ``num_uavs`` UAVs of the file's type, every customer a delivery of its
parcel weight (lbs x 0.45359237 kg), no time window (the whole day 0-1440 min), priority 1, no no-fly
zones. Customers heavier than the UAV capacity or out of battery range come back unserved with the
model's reasons. Objective values (energy, served deliveries) are NOT comparable to the mFSTSP
makespan in ``bks.csv`` (a different problem: a truck that carries and relaunches the UAVs).

UAV spec -> ``DroneType`` mapping (``mfstsp_drone_type``):

* ``battery_wh = batteryPower / 3600``; ``reserve_frac = 0`` (mFSTSP lets a sortie use the whole battery);
* ``payload_kg = capacity lbs x 0.45359237``; ``speed_mps = cruiseSpeed``; ``cruise_agl_m = cruiseAlt``;
* ``climb_mps`` = harmonic mean of take-off and landing speeds, so that our climb+descent time
  ``2 h / climb_mps`` equals mFSTSP's ``h / takeoffSpeed + h / landingSpeed``;
* ``service_s = serviceTime``; ``swap_min = (launchTime + recoveryTime) / 60`` (ground time between sorties);
* frame and battery mass, rotors, rotor area, efficiency, thrust limit and ceiling are not in the file:
  they are taken from the type in ``instances/lhasa/drone_types.csv`` nearest in rated payload (the
  ``parcel`` type for the 5 lb UAVs of all four files). The energy use therefore follows our Dorling et
  al. power model with those masses, not mFSTSP's endurance model (Etype=1).

The files have no header row (the column names sit in a ``%`` comment); each data line becomes an
``instances._csv.CsvRecord`` with the columns above, so a malformed file raises ``RecordError`` (an
``InvalidInput``, hence a ``ValueError``) reading ``<path>: row k (line n): <field>=<value>: <message>``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path

from instances._csv import CsvRecord, RecordError, float_field, int_field, record_context, text_field
from instances.benchmarks import benchmarks_root
from instances.drones import load_drone_types
from optimizer.core.airspace import Airspace, Hub
from optimizer.core.errors import InvalidInput
from optimizer.drones import Delivery, DroneProblem, DroneType

__all__ = [
    "LBS_TO_KG",
    "MFSTSP_DIR",
    "UavSpec",
    "list_mfstsp_problems",
    "mfstsp_drone_type",
    "mfstsp_num_customers",
    "mfstsp_root",
    "read_mfstsp",
    "read_mfstsp_vehicles",
    "vehicles_csv",
]

LBS_TO_KG = 0.45359237
MFSTSP_DIR = "drones/mfstsp_murray_raj_2019"
WHOLE_DAY = (0.0, 1440.0)

_VEH_COLS = ("vehicleID", "vehicleType", "takeoffSpeed", "cruiseSpeed", "landingSpeed", "yawRateDeg", "cruiseAlt",
             "capacity", "launchTime", "recoveryTime", "serviceTime", "batteryPower")


class UavSpec(dict):
    """One UAV row of a ``tbl_vehicles_*.csv`` (keys: the column names above, floats; ``line``: its line)."""


def mfstsp_root(root: Path | None = None) -> Path:
    """Folder of the mFSTSP set under the benchmark root (``instances.benchmarks.benchmarks_root``)."""
    return (root if root is not None else benchmarks_root()) / MFSTSP_DIR


def vehicles_csv(vehicle_file_id: int = 101, root: Path | None = None) -> Path:
    """Path of ``Problems/tbl_vehicles_<id>.csv`` (101..104)."""
    return mfstsp_root(root) / "Problems" / f"tbl_vehicles_{int(vehicle_file_id)}.csv"


_LOC_COLS = ("nodeID", "nodeType", "latDeg", "lonDeg", "altMeters", "parcelWtLbs")
_INFO_COLS = ("ProblemName", "numCust")


def _records(path: Path, columns: tuple[str, ...], at_least: bool = False) -> list[CsvRecord]:
    """Data lines of a headerless, ``%``-commented CSV as records with ``columns`` (blank lines and
    lines of empty fields skipped). A line with fewer fields (or, unless ``at_least``, a different
    number) raises ``RecordError``; extra fields beyond ``columns`` are ignored with ``at_least``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise RecordError(str(path), "file", "path", str(path), f"cannot read: {e}") from None
    out: list[CsvRecord] = []
    for k, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("%") or not s.strip(","):
            continue
        fields = [f.strip() for f in next(csv.reader([s]))]
        where = f"row {len(out) + 1} (line {k})"
        if len(fields) < len(columns) or (not at_least and len(fields) != len(columns)):
            raise RecordError(str(path), where, "fields", len(fields),
                              f"expected {len(columns)} fields ({', '.join(columns)})")
        out.append(CsvRecord(len(out) + 1, k, dict(zip(columns, fields))))
    return out


def _number(rec: CsvRecord, name: str) -> float:
    v = float_field(rec, name)
    if not math.isfinite(v):
        raise InvalidInput(name, rec.values[name], "must be a finite number")
    return v


def mfstsp_num_customers(root: Path | None = None) -> dict[str, int]:
    """Problem name -> number of customers from ``problems_info.csv`` ({} if the file is absent)."""
    path = mfstsp_root(root) / "problems_info.csv"
    if not path.is_file():
        return {}
    out = {}
    for rec in _records(path, _INFO_COLS, at_least=True):
        with record_context(str(path), rec.where):
            out[text_field(rec, "ProblemName")] = int_field(rec, "numCust")
    return out


def list_mfstsp_problems(root: Path | None = None) -> list[Path]:
    """Problem folders (those holding ``tbl_locations.csv``), sorted by customer count, then name.

    Returns ``[]`` when the mFSTSP folder is not in this copy of the benchmarks.
    """
    base = mfstsp_root(root) / "Problems"
    if not base.is_dir():
        return []
    dirs = [p for p in base.iterdir() if p.is_dir() and (p / "tbl_locations.csv").is_file()]
    ncust = mfstsp_num_customers(root)

    def size(p: Path) -> int:
        if p.name in ncust:
            return ncust[p.name]
        return sum(1 for r in _records(p / "tbl_locations.csv", _LOC_COLS) if r.values["nodeType"] == "1")

    return sorted(dirs, key=lambda p: (size(p), p.name))


def read_mfstsp_vehicles(path: str | Path) -> list[UavSpec]:
    """UAV rows (vehicleType 2) of a ``tbl_vehicles_*.csv``, in file order; the truck row is skipped."""
    path = Path(path)
    uavs: list[UavSpec] = []
    for rec in _records(path, _VEH_COLS, at_least=True):
        with record_context(str(path), rec.where):
            vtype = int_field(rec, "vehicleType")
            if vtype == 1:
                continue
            if vtype != 2:
                raise InvalidInput("vehicleType", vtype, "neither 1 (truck) nor 2 (UAV)")
            spec = UavSpec({c: _number(rec, c) for c in _VEH_COLS})
            spec["line"] = rec.line
            for c in ("takeoffSpeed", "cruiseSpeed", "landingSpeed", "cruiseAlt", "capacity", "batteryPower"):
                if spec[c] <= 0:
                    raise InvalidInput(c, rec.values[c], "UAV value must be > 0")
            for c in ("launchTime", "recoveryTime", "serviceTime"):
                if spec[c] < 0:
                    raise InvalidInput(c, rec.values[c], "UAV value must be >= 0")
        uavs.append(spec)
    if not uavs:
        raise RecordError(str(path), "file", "vehicleType", 2, "no UAV rows")
    return uavs


def mfstsp_drone_type(spec: dict, type_id: str, templates: dict[str, DroneType] | None = None) -> DroneType:
    """Our ``DroneType`` for an mFSTSP UAV spec (mapping in the module docstring).

    Masses, rotor data, efficiency, thrust limit and ceiling come from the template type nearest in
    rated payload (``instances/lhasa/drone_types.csv`` by default, ``instances.drones.load_drone_types``).
    """
    templates = templates if templates is not None else load_drone_types()
    payload = spec["capacity"] * LBS_TO_KG
    base = min(templates.values(), key=lambda t: (abs(t.payload_kg - payload), t.id))
    climb = 2.0 / (1.0 / spec["takeoffSpeed"] + 1.0 / spec["landingSpeed"])
    mtow = max(base.mtow_sea_kg, base.frame_kg + base.battery_kg + payload)   # lift the rated payload at sea level
    return replace(base, id=type_id, name=f"mFSTSP UAV ({base.id} masses/rotors)", battery_wh=spec["batteryPower"] / 3600.0,
                   reserve_frac=0.0, payload_kg=payload, mtow_sea_kg=mtow, speed_mps=spec["cruiseSpeed"], climb_mps=climb,
                   cruise_agl_m=spec["cruiseAlt"], service_s=spec["serviceTime"],
                   swap_min=(spec["launchTime"] + spec["recoveryTime"]) / 60.0)


def _read_locations(path: Path) -> tuple[tuple[float, float, float], list[Delivery]]:
    depot = None
    deliveries: list[Delivery] = []
    seen: set[int] = set()
    for rec in _records(path, _LOC_COLS):
        with record_context(str(path), rec.where):
            nid = int_field(rec, "nodeID")
            ntype = int_field(rec, "nodeType")
            lat, lon = _number(rec, "latDeg"), _number(rec, "lonDeg")
            alt, wt = _number(rec, "altMeters"), _number(rec, "parcelWtLbs")
            if nid in seen:
                raise InvalidInput("nodeID", nid, "appears twice")
            seen.add(nid)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InvalidInput("latDeg/lonDeg", (lat, lon), "out of range")
            if ntype == 0:
                if depot is not None:
                    raise InvalidInput("nodeType", ntype, "a second depot")
                if not -500 <= alt <= 11000:
                    raise InvalidInput("altMeters", alt, "depot altitude outside -500..11000 m")
                depot = (lon, lat, alt)
            elif ntype == 1:
                if wt <= 0:
                    raise InvalidInput("parcelWtLbs", rec.values["parcelWtLbs"], f"customer {nid}: must be > 0")
                deliveries.append(Delivery(f"c{nid}", lon, lat, wt * LBS_TO_KG, WHOLE_DAY, 1))
            else:
                raise InvalidInput("nodeType", ntype, "neither 0 (depot) nor 1 (customer)")
    if depot is None:
        raise RecordError(str(path), "file", "nodeType", 0, "no depot")
    if not deliveries:
        raise RecordError(str(path), "file", "nodeType", 1, "no customers")
    return depot, deliveries


def read_mfstsp(problem_dir: str | Path, vehicles_csv: str | Path, num_uavs: int = 1,
                templates: dict[str, DroneType] | None = None) -> DroneProblem:
    """The drone-only part of an mFSTSP problem as a ``DroneProblem``.

    One hub ``depot`` at the depot's lon/lat/altitude with the first ``num_uavs`` UAVs of
    ``vehicles_csv`` (one drone type per distinct UAV spec), deliveries ``c<nodeID>`` with the parcel
    weight in kg, window and day 0-1440 min, priority 1, no no-fly zones, ISA temperature, energy
    objective. ``problem_dir`` is the problem folder (or its ``tbl_locations.csv``).
    """
    problem_dir = Path(problem_dir)
    loc = problem_dir if problem_dir.suffix == ".csv" else problem_dir / "tbl_locations.csv"
    vehicles_csv = Path(vehicles_csv)
    uavs = read_mfstsp_vehicles(vehicles_csv)
    if isinstance(num_uavs, bool) or int(num_uavs) != num_uavs or not 1 <= num_uavs <= len(uavs):
        raise InvalidInput("num_uavs", num_uavs, f"must be an integer in 1..{len(uavs)} (UAV rows in {vehicles_csv})")
    (lon, lat, alt), deliveries = _read_locations(loc)
    stem = vehicles_csv.stem.replace("tbl_vehicles_", "")
    keys = ("takeoffSpeed", "cruiseSpeed", "landingSpeed", "cruiseAlt", "capacity", "launchTime", "recoveryTime",
            "serviceTime", "batteryPower")
    types: dict[str, DroneType] = {}
    by_spec: dict[tuple, str] = {}
    fleet: dict[str, int] = {}
    for spec in uavs[: int(num_uavs)]:
        sig = tuple(spec[c] for c in keys)
        if sig not in by_spec:
            tid = f"mfstsp{stem}" if not by_spec else f"mfstsp{stem}_v{int(spec['vehicleID'])}"
            by_spec[sig] = tid
            types[tid] = mfstsp_drone_type(spec, tid, templates)
        fleet[by_spec[sig]] = fleet.get(by_spec[sig], 0) + 1
    hub = Hub("depot", f"mFSTSP depot {problem_dir.name}", lon, lat, alt, tuple(fleet.items()))
    airspace = Airspace((), (hub,), buffer_km=0.0, ref_lat=lat, ref_lon=lon)
    return DroneProblem(airspace, types, tuple(deliveries), temperature_c=None, day=WHOLE_DAY, objective="energy")
