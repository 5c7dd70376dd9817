"""Scenario files: the TOML schema and the frozen nouns it parses into.

A scenario file has a ``[base]`` table (solver settings and the base demand on the embedded
Lhasa network) and any number of ``[[scenario]]`` tables, each a list of changes to the base.
``load_scenarios(path, network, profiles)`` parses and validates the file into a ``ScenarioSet``
(``parse_scenarios(doc, network, profiles)`` does the same for a parsed document, e.g. a JSON
body); a ``demand_scale`` given as a list is a *sweep* and expands into one scenario per value,
named ``"<name> x<scale>"`` (``peak x1.5``). The caller hands in the base ``Network`` and the
known demand profiles (``instances.demand_generator.PROFILES``): this module reads no data.
How a scenario changes a day: ``optimizer.scenarios.apply``.

Schema (every key is optional unless marked; unknown keys are rejected)::

    [base]
    network = "lhasa"            # only the embedded Lhasa instance is supported
    seed = 1                     # solver seed (int >= 0)
    iterations = 2000            # ILS iterations (int >= 0); with no time limit runs are reproducible
    time_limit_s = 60.0          # wall-clock limit per scenario (float > 0), optional
    slot_min = 60.0              # entry-slot length, minutes

    [base.demand]                # either a generated day ...
    profile = "peak"             # one of the known profiles ("peak" | "shoulder")
    # date = "2026-08-15"        # instead of profile: May-Oct -> peak, otherwise shoulder
    groups = 320                 # int >= 0
    seed = 2026                  # generator seed
    # file = "my_day.csv"        # ... or a demand file (CSV/Parquet/JSON), relative to the TOML file

    [base.stations]              # station tools on every scenario's plan (see "Stations" below)
    siting = { kind = "oxygen", p = 3 }
    charging = { chargers = 4, time_limit_s = 30 }

    [[scenario]]
    name = "peak"                # required, unique after sweep expansion
    demand_scale = [1, 1.5, 2, 3]  # float >= 0, or a list of them (a sweep)
    seed / iterations / time_limit_s   # override the base
    demand = { profile = "shoulder", groups = 200, seed = 7 }   # replaces the base demand
    stations = { siting = { kind = "charger", p = 4 } }         # replaces the base stations table
    closed_sites = ["ganden"]    # no visits (score 0); still a road node
    closed_roads = [["damxung_town", "nagenla"]]   # every road between the two sites
    [[scenario.road_speed]]      # speed factor: 0.5 = half speed = double travel time
    a = "potala"; b = "lhasa_railway"; factor = 0.5
    [scenario.quota.potala]      # per site: daily and/or slot; an int >= 0 or "none" (no quota)
    daily = 6500
    slot = 1084
    [[scenario.add_site]]        # a new site (Site fields) and the roads that connect it
    id = "x"; name_en = "X"; name_zh = "X"; lat = 29.7; lon = 91.2; kind = "park"; rating = "4A"
    score = 40; visit_min = 90; open = "09:00"; close = "18:00"   # required
    elevation_m, daily_quota, slot_quota, county, provenance, name_zh   # optional
    roads = [{ to = "potala", length_km = 10, speed_kmh = 40 }]  # travel_min optional (from speed), name optional
    [scenario.zones]             # zone (ring/circle) id -> its full new member list (new ids add a zone)
    R1 = ["potala", "jokhang", "barkhor", "norbulingka"]

Stations (``stations`` table, optional): after a scenario's plan is made, the station tools run
on that plan and their KPIs join the scenario's (``stations_*`` keys). ``siting`` takes the
options of ``lhasa-ops stations site``: ``kind`` (required: ``"oxygen"`` or ``"charger"``), ``p``
(int >= 1, default 3), ``threshold_min`` (oxygen cover threshold, road minutes > 0),
``range_km`` (charger range, km > 0), ``temperature_c`` (degC, -60..50), ``ev_share`` (0..1),
``min_path_km`` (km >= 0), ``backend`` (``"cpsat"`` | ``"mathopt"`` | ``"pulp"``), ``time_limit_s``
(> 0). ``charging`` takes those of ``lhasa-ops stations charge``: ``chargers`` (int >= 1),
``charger_kw`` and ``grid_kw`` (kW > 0), ``max_vehicles`` (int >= 1), ``coach_min_size``
(int >= 1), ``temperature_c``, ``time_limit_s``. Keys left out take the tools' defaults.

Errors are ``InvalidInput("scenario[<name>].<key>", value, message)`` (``base.<key>`` for the
base, ``scenario[#k]`` before a name is known), so a bad file names the key at fault.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from optimizer.core.clock import parse_clock
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network, Road, Site

DEFAULT_ITERATIONS = 2000
DEFAULT_SEED = 1
DEFAULT_SITING_P = 3
KNOWN_NETWORKS = ("lhasa",)


# ---------------------------------------------------------------------------------------------
# dataclasses


@dataclass(frozen=True, slots=True)
class DemandSpec:
    """Where a scenario's groups come from: a generated day (profile, groups, seed) or a file."""

    profile: str = "peak"
    groups: int = 320
    seed: int = 2026
    file: Path | None = None

    def label(self) -> str:
        return f"file {self.file}" if self.file is not None else f"{self.profile} {self.groups} groups seed {self.seed}"


@dataclass(frozen=True, slots=True)
class QuotaChange:
    """New quotas of one site. ``UNCHANGED`` keeps the current value, None removes the quota."""

    daily: int | None | str = "unchanged"
    slot: int | None | str = "unchanged"


UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class AddedSite:
    """A site that the scenario opens, and the roads that connect it (``Road.a`` is the new site)."""

    site: Site
    roads: tuple[Road, ...]


@dataclass(frozen=True)
class StationsSpec:
    """Station tools to run on a scenario's plan (the ``stations`` table; see the module docstring).

    ``siting`` / ``charging``: the validated options of ``stations site`` / ``stations charge``
    (option name -> value; ``kind`` always present in ``siting``), or None when not asked for.
    """

    siting: Mapping[str, Any] | None = None
    charging: Mapping[str, Any] | None = None

    def label(self) -> str:
        parts = []
        if self.siting is not None:
            parts.append(f"siting {self.siting['kind']} p={self.siting.get('p', DEFAULT_SITING_P)}")
        if self.charging is not None:
            parts.append("charging")
        return ", ".join(parts)


@dataclass(frozen=True)
class Scenario:
    """One what-if: solver settings, demand and the changes to the base network.

    ``family`` is the name before sweep expansion (``peak`` for ``peak x1.5``); ``slug`` is a
    file-system-safe unique name for output folders.
    """

    name: str
    seed: int = DEFAULT_SEED
    iterations: int | None = DEFAULT_ITERATIONS
    time_limit_s: float | None = None
    slot_min: float = 60.0
    demand: DemandSpec = DemandSpec()
    demand_scale: float = 1.0
    closed_sites: tuple[str, ...] = ()
    quota_changes: Mapping[str, QuotaChange] = field(default_factory=dict)
    added_sites: tuple[AddedSite, ...] = ()
    closed_roads: tuple[tuple[str, str], ...] = ()
    road_speed_factor: Mapping[tuple[str, str], float] = field(default_factory=dict)
    zone_edits: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stations: StationsSpec | None = None
    family: str = ""
    slug: str = ""


@dataclass(frozen=True)
class ScenarioSet:
    """The base (a scenario with no changes, named ``base``) and the expanded scenarios."""

    base: Scenario
    scenarios: tuple[Scenario, ...]
    source: Path | None = None
    network: str = "lhasa"


# ---------------------------------------------------------------------------------------------
# parsing helpers


def slugify(name: str) -> str:
    """File-system-safe lower-case slug: ``"Peak x1.5"`` -> ``"peak-x1-5"``."""
    s = re.sub(r"[^0-9A-Za-z]+", "-", name).strip("-").lower()
    return s or "scenario"


def fmt_scale(x: float) -> str:
    """``1.0`` -> ``"1"``, ``1.5`` -> ``"1.5"``."""
    return f"{x:g}"


def _check_keys(where: str, table: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for k in table:
        if k not in allowed:
            raise InvalidInput(f"{where}.{k}", table[k], f"unknown key; allowed: {', '.join(allowed)}")


def _table(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(where, value, "expected a table")
    return value


def _int(where: str, value: Any, lo: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(where, value, "expected an integer")
    if value < lo:
        raise InvalidInput(where, value, f"must be >= {lo}")
    return value


def _float(where: str, value: Any, lo: float | None = None, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(where, value, "expected a number")
    x = float(value)
    if not math.isfinite(x):
        raise InvalidInput(where, value, "must be a finite number")
    if lo is not None and (x <= lo if strict else x < lo):
        raise InvalidInput(where, value, f"must be {'>' if strict else '>='} {lo:g}")
    return x


def _str(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(where, value, "expected a non-empty string")
    return value.strip()


def _site_id(where: str, value: Any, known: set[str]) -> str:
    sid = _str(where, value)
    if sid not in known:
        raise InvalidInput(where, sid, "unknown site id")
    return sid


def _str_list(where: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput(where, value, "expected a list of strings")
    return [_str(f"{where}[{k}]", v) for k, v in enumerate(value)]


# ---------------------------------------------------------------------------------------------
# the file


BASE_KEYS = ("network", "seed", "iterations", "time_limit_s", "slot_min", "demand", "stations")
DEMAND_KEYS = ("profile", "date", "groups", "seed", "file")
PEAK_MONTHS = range(5, 11)  # May 1 - Oct 31: the Potala's peak-price season (FACTS.md sec. 3-4, S)


def season_profile(date_text: str, where: str) -> str:
    """Demand profile of a calendar date: ``peak`` in May-October, ``shoulder`` otherwise."""
    import datetime as _dt

    try:
        day = _dt.date.fromisoformat(str(date_text))
    except ValueError:
        raise InvalidInput(where, date_text, "expected a date YYYY-MM-DD") from None
    return "peak" if day.month in PEAK_MONTHS else "shoulder"
SCENARIO_KEYS = ("name", "seed", "iterations", "time_limit_s", "demand", "demand_scale", "closed_sites",
                 "closed_roads", "road_speed", "quota", "add_site", "zones", "stations")
QUOTA_KEYS = ("daily", "slot")
ROAD_SPEED_KEYS = ("a", "b", "factor")
ADD_SITE_KEYS = ("id", "name_en", "name_zh", "lat", "lon", "elevation_m", "kind", "rating", "score",
                 "visit_min", "open", "close", "daily_quota", "slot_quota", "county", "provenance", "roads")
ADD_SITE_REQUIRED = ("id", "name_en", "lat", "lon", "kind", "rating", "score", "visit_min", "open", "close")
ADD_ROAD_KEYS = ("to", "length_km", "speed_kmh", "travel_min", "name")
TOP_KEYS = ("base", "scenario")
STATIONS_KEYS = ("siting", "charging")
SITING_KINDS = ("oxygen", "charger")
SITING_BACKENDS = ("cpsat", "mathopt", "pulp")
# option -> (type, low, high, low is strict): the bounds of the station tools' own options
SITING_OPTIONS: dict[str, tuple[type, float | None, float | None, bool]] = {
    "p": (int, 1, None, False), "threshold_min": (float, 0.0, None, True), "range_km": (float, 0.0, None, True),
    "temperature_c": (float, -60.0, 50.0, False), "ev_share": (float, 0.0, 1.0, True),
    "min_path_km": (float, 0.0, None, False), "time_limit_s": (float, 0.0, None, True),
}
CHARGING_OPTIONS: dict[str, tuple[type, float | None, float | None, bool]] = {
    "chargers": (int, 1, None, False), "charger_kw": (float, 0.0, None, True), "grid_kw": (float, 0.0, None, True),
    "max_vehicles": (int, 1, None, False), "coach_min_size": (int, 1, None, False),
    "temperature_c": (float, -60.0, 50.0, False), "time_limit_s": (float, 0.0, None, True),
}


def _options(where: str, value: Any, spec: Mapping[str, tuple[type, float | None, float | None, bool]],
             extra: Sequence[str] = ()) -> dict[str, Any]:
    t = _table(where, value)
    _check_keys(where, t, (*extra, *spec))
    out: dict[str, Any] = {}
    for key, (kind, lo, hi, strict) in spec.items():
        if key not in t:
            continue
        w = f"{where}.{key}"
        x: int | float = _int(w, t[key], int(lo or 0)) if kind is int else _float(w, t[key], lo=lo, strict=strict)
        if hi is not None and x > hi:
            raise InvalidInput(w, t[key], f"must be <= {hi:g}")
        out[key] = x
    return out


def _parse_stations(where: str, value: Any) -> StationsSpec | None:
    """The ``stations`` table: ``siting`` and/or ``charging`` options (see the module docstring)."""
    t = _table(where, value)
    _check_keys(where, t, STATIONS_KEYS)
    siting = charging = None
    if "siting" in t:
        sw = f"{where}.siting"
        siting = _options(sw, t["siting"], SITING_OPTIONS, extra=("kind", "backend"))
        raw = _table(sw, t["siting"])
        if "kind" not in raw:
            raise InvalidInput(f"{sw}.kind", None, f"missing required key; one of {list(SITING_KINDS)}")
        kind = _str(f"{sw}.kind", raw["kind"])
        if kind not in SITING_KINDS:
            raise InvalidInput(f"{sw}.kind", kind, f"unknown siting kind; known: {list(SITING_KINDS)}")
        siting = {"kind": kind, **siting}
        if "backend" in raw:
            backend = _str(f"{sw}.backend", raw["backend"])
            if backend not in SITING_BACKENDS:
                raise InvalidInput(f"{sw}.backend", backend, f"unknown back end; known: {list(SITING_BACKENDS)}")
            siting["backend"] = backend
    if "charging" in t:
        charging = _options(f"{where}.charging", t["charging"], CHARGING_OPTIONS)
    if siting is None and charging is None:
        return None
    return StationsSpec(siting=siting, charging=charging)


def _parse_demand(where: str, value: Any, root: Path | None, default: DemandSpec,
                  profiles: Collection[str]) -> DemandSpec:
    d = _table(where, value)
    _check_keys(where, d, DEMAND_KEYS)
    if "file" in d:
        others = [k for k in ("profile", "date", "groups", "seed") if k in d]
        if others:
            raise InvalidInput(f"{where}.{others[0]}", d[others[0]], "give either file or profile/groups/seed")
        p = Path(_str(f"{where}.file", d["file"]))
        if not p.is_absolute() and root is not None:
            p = root / p
        if not p.exists():
            raise InvalidInput(f"{where}.file", str(p), "file not found")
        return DemandSpec(profile=default.profile, groups=default.groups, seed=default.seed, file=p)
    if "date" in d and "profile" in d:
        raise InvalidInput(f"{where}.date", d["date"], "give either date (season from the month) or profile")
    if "date" in d:
        profile = season_profile(_str(f"{where}.date", d["date"]), f"{where}.date")
    else:
        profile = _str(f"{where}.profile", d["profile"]) if "profile" in d else default.profile
    if profile not in profiles:
        raise InvalidInput(f"{where}.profile", profile, f"unknown demand profile; known: {sorted(profiles)}")
    groups = _int(f"{where}.groups", d["groups"]) if "groups" in d else default.groups
    seed = _int(f"{where}.seed", d["seed"]) if "seed" in d else default.seed
    return DemandSpec(profile=profile, groups=groups, seed=seed, file=None)


def _quota_value(where: str, value: Any) -> int | None:
    if isinstance(value, str) and value.strip().lower() == "none":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(where, value, 'expected an integer >= 0 persons or "none" (no quota)')
    return value


def _parse_added_site(where: str, value: Any, known: set[str]) -> AddedSite:
    d = _table(where, value)
    _check_keys(where, d, ADD_SITE_KEYS)
    for k in ADD_SITE_REQUIRED:
        if k not in d:
            raise InvalidInput(f"{where}.{k}", None, "missing required key")
    sid = _str(f"{where}.id", d["id"])
    if sid in known:
        raise InvalidInput(f"{where}.id", sid, "site id already exists")
    open_ = parse_clock(_str(f"{where}.open", d["open"]), f"{where}.open")
    close = parse_clock(_str(f"{where}.close", d["close"]), f"{where}.close")
    try:
        site = Site(
            id=sid, name_en=_str(f"{where}.name_en", d["name_en"]),
            name_zh=str(d.get("name_zh", "")), lat=_float(f"{where}.lat", d["lat"]),
            lon=_float(f"{where}.lon", d["lon"]),
            elevation_m=_float(f"{where}.elevation_m", d.get("elevation_m", 3650.0)),
            kind=_str(f"{where}.kind", d["kind"]), rating=_str(f"{where}.rating", d["rating"]),
            score=_float(f"{where}.score", d["score"], lo=0.0, strict=True),
            visit_min=_float(f"{where}.visit_min", d["visit_min"], lo=0.0),
            window=(open_, close),
            daily_quota=_quota_value(f"{where}.daily_quota", d["daily_quota"]) if "daily_quota" in d else None,
            slot_quota=_quota_value(f"{where}.slot_quota", d["slot_quota"]) if "slot_quota" in d else None,
            county=str(d.get("county", "")), coord_conf="scenario",
            provenance=str(d.get("provenance", "scenario file (hypothetical)")),
        )
    except InvalidInput as e:
        raise InvalidInput(f"{where}.{e.field.split('.')[-1]}", e.value, e.message) from None
    roads_raw = d.get("roads", [])
    if not isinstance(roads_raw, list) or not roads_raw:
        raise InvalidInput(f"{where}.roads", roads_raw, "give at least one road connecting the site")
    roads = []
    for k, r in enumerate(roads_raw):
        rw = f"{where}.roads[{k}]"
        r = _table(rw, r)
        _check_keys(rw, r, ADD_ROAD_KEYS)
        for key in ("to", "length_km", "speed_kmh"):
            if key not in r:
                raise InvalidInput(f"{rw}.{key}", None, "missing required key")
        to = _site_id(f"{rw}.to", r["to"], known)
        km = _float(f"{rw}.length_km", r["length_km"], lo=0.0, strict=True)
        kmh = _float(f"{rw}.speed_kmh", r["speed_kmh"], lo=0.0, strict=True)
        tmin = (_float(f"{rw}.travel_min", r["travel_min"], lo=0.0, strict=True) if "travel_min" in r
                else km / kmh * 60.0)
        roads.append(Road(a=sid, b=to, name=str(r.get("name", "scenario road")), length_km=km, speed_kmh=kmh,
                          travel_min=tmin, provenance="scenario file (hypothetical)"))
    return AddedSite(site=site, roads=tuple(roads))


def _road_pairs(network: Network) -> set[frozenset[str]]:
    return {frozenset((r.a, r.b)) for r in network.roads}


def _parse_scenario(k: int, raw: Any, base: Scenario, network: Network, root: Path | None,
                    profiles: Collection[str]) -> list[Scenario]:
    where = f"scenario[#{k + 1}]"
    d = _table(where, raw)
    if "name" not in d:
        raise InvalidInput(f"{where}.name", None, "missing required key")
    name = _str(f"{where}.name", d["name"])
    where = f"scenario[{name}]"
    _check_keys(where, d, SCENARIO_KEYS)
    known = {s.id for s in network.sites}

    seed = _int(f"{where}.seed", d["seed"]) if "seed" in d else base.seed
    iterations = _int(f"{where}.iterations", d["iterations"]) if "iterations" in d else base.iterations
    tl = (_float(f"{where}.time_limit_s", d["time_limit_s"], lo=0.0, strict=True) if "time_limit_s" in d
          else base.time_limit_s)
    demand = (_parse_demand(f"{where}.demand", d["demand"], root, base.demand, profiles) if "demand" in d
              else base.demand)
    stations = _parse_stations(f"{where}.stations", d["stations"]) if "stations" in d else base.stations

    added: list[AddedSite] = []
    if "add_site" in d:
        raw_sites = d["add_site"]
        if isinstance(raw_sites, Mapping):
            raw_sites = [raw_sites]
        if not isinstance(raw_sites, list):
            raise InvalidInput(f"{where}.add_site", raw_sites, "expected an array of tables [[scenario.add_site]]")
        for j, a in enumerate(raw_sites):
            ad = _parse_added_site(f"{where}.add_site[{j}]", a, known)
            known.add(ad.site.id)
            added.append(ad)

    closed_sites = tuple(_site_id(f"{where}.closed_sites[{j}]", v, known)
                         for j, v in enumerate(_check_list(f"{where}.closed_sites", d.get("closed_sites", []))))
    for s in closed_sites:
        if not _site_by_id(network, added, s).is_poi:
            raise InvalidInput(f"{where}.closed_sites", s, "is a hub, not a visitable site")

    pairs = _road_pairs(network) | {frozenset((r.a, r.b)) for a in added for r in a.roads}
    closed_roads = []
    for j, v in enumerate(_check_list(f"{where}.closed_roads", d.get("closed_roads", []))):
        rw = f"{where}.closed_roads[{j}]"
        if not isinstance(v, list) or len(v) != 2:
            raise InvalidInput(rw, v, 'expected a pair of site ids ["a", "b"]')
        a, b = _site_id(f"{rw}[0]", v[0], known), _site_id(f"{rw}[1]", v[1], known)
        if frozenset((a, b)) not in pairs:
            raise InvalidInput(rw, [a, b], "no road between these sites")
        closed_roads.append((a, b))

    speed: dict[tuple[str, str], float] = {}
    raw_speed = d.get("road_speed", [])
    if isinstance(raw_speed, Mapping):
        raw_speed = [raw_speed]
    for j, v in enumerate(_check_list(f"{where}.road_speed", raw_speed)):
        rw = f"{where}.road_speed[{j}]"
        v = _table(rw, v)
        _check_keys(rw, v, ROAD_SPEED_KEYS)
        for key in ROAD_SPEED_KEYS:
            if key not in v:
                raise InvalidInput(f"{rw}.{key}", None, "missing required key")
        a, b = _site_id(f"{rw}.a", v["a"], known), _site_id(f"{rw}.b", v["b"], known)
        if frozenset((a, b)) not in pairs:
            raise InvalidInput(rw, [a, b], "no road between these sites")
        speed[(a, b)] = _float(f"{rw}.factor", v["factor"], lo=0.0, strict=True)

    quotas: dict[str, QuotaChange] = {}
    if "quota" in d:
        qt = _table(f"{where}.quota", d["quota"])
        for sid, q in qt.items():
            qw = f"{where}.quota.{sid}"
            _site_id(qw, sid, known)
            q = _table(qw, q)
            _check_keys(qw, q, QUOTA_KEYS)
            if not q:
                raise InvalidInput(qw, q, "give daily and/or slot")
            quotas[sid] = QuotaChange(
                daily=_quota_value(f"{qw}.daily", q["daily"]) if "daily" in q else UNCHANGED,
                slot=_quota_value(f"{qw}.slot", q["slot"]) if "slot" in q else UNCHANGED)

    zone_edits: dict[str, tuple[str, ...]] = {}
    if "zones" in d:
        zt = _table(f"{where}.zones", d["zones"])
        for zid, members in zt.items():
            zw = f"{where}.zones.{zid}"
            ids = [_site_id(f"{zw}[{j}]", v, known) for j, v in enumerate(_str_list(zw, members))]
            if len(set(ids)) != len(ids):
                raise InvalidInput(zw, ids, "lists a site twice")
            zone_edits[zid] = tuple(ids)

    scales_raw = d.get("demand_scale", base.demand_scale)
    sweep = isinstance(scales_raw, list)
    if sweep and not scales_raw:
        raise InvalidInput(f"{where}.demand_scale", scales_raw, "a sweep needs at least one value")
    scales = [_float(f"{where}.demand_scale" + (f"[{j}]" if sweep else ""), v, lo=0.0)
              for j, v in enumerate(scales_raw if sweep else [scales_raw])]
    if len(set(scales)) != len(scales):
        raise InvalidInput(f"{where}.demand_scale", scales_raw, "lists a value twice")
    common = {"seed": seed, "iterations": iterations, "time_limit_s": tl, "slot_min": base.slot_min, "demand": demand,
                  "closed_sites": closed_sites, "quota_changes": quotas, "added_sites": tuple(added),
                  "closed_roads": tuple(closed_roads), "road_speed_factor": speed, "zone_edits": zone_edits,
              "stations": stations, "family": name}
    if not sweep:
        return [Scenario(name=name, demand_scale=scales[0], **common)]
    return [Scenario(name=f"{name} x{fmt_scale(s)}", demand_scale=s, **common) for s in scales]


def _check_list(where: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(where, value, "expected a list")
    return value


def _site_by_id(network: Network, added: Sequence[AddedSite], sid: str) -> Site:
    for a in added:
        if a.site.id == sid:
            return a.site
    return network.site(sid)


def parse_scenarios(doc: Mapping[str, Any], network: Network, profiles: Collection[str],
                    root: Path | None = None, source: Path | None = None) -> ScenarioSet:
    """Validate a parsed TOML document (a dict) into a ``ScenarioSet``; see the module docstring.

    ``network``: the base network the site ids are checked against; ``profiles``: the known demand
    profile names; ``root``: the folder a relative demand ``file`` is read from. Raises
    ``InvalidInput`` naming the key at fault.
    """
    if not isinstance(doc, Mapping):
        raise InvalidInput("file", type(doc).__name__, "expected a table (a JSON object) with base and scenario")
    _check_keys("file", doc, TOP_KEYS)
    b = _table("base", doc.get("base", {}))
    _check_keys("base", b, BASE_KEYS)
    net_name = _str("base.network", b.get("network", "lhasa"))
    if net_name not in KNOWN_NETWORKS:
        raise InvalidInput("base.network", net_name, f"unknown network; known: {list(KNOWN_NETWORKS)}")
    tl = b.get("time_limit_s")
    base = Scenario(
        name="base",
        seed=_int("base.seed", b["seed"]) if "seed" in b else DEFAULT_SEED,
        iterations=_int("base.iterations", b["iterations"]) if "iterations" in b else DEFAULT_ITERATIONS,
        time_limit_s=None if tl is None else _float("base.time_limit_s", tl, lo=0.0, strict=True),
        slot_min=_float("base.slot_min", b["slot_min"], lo=0.0, strict=True) if "slot_min" in b else 60.0,
        demand=(_parse_demand("base.demand", b["demand"], root, DemandSpec(), profiles) if "demand" in b
                else DemandSpec()),
        stations=_parse_stations("base.stations", b["stations"]) if "stations" in b else None,
        family="base", slug="base",
    )
    raw = doc.get("scenario", [])
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise InvalidInput("scenario", raw, "expected an array of tables [[scenario]]")
    out: list[Scenario] = []
    for k, r in enumerate(raw):
        out.extend(_parse_scenario(k, r, base, network, root, profiles))
    if not out:
        out = [base]
    names: set[str] = set()
    slugs: set[str] = set()
    final = []
    for s in out:
        if s.name in names:
            raise InvalidInput(f"scenario[{s.name}].name", s.name, "duplicate scenario name")
        names.add(s.name)
        slug = slugify(s.name)
        k = 2
        while slug in slugs:
            slug = f"{slugify(s.name)}-{k}"
            k += 1
        slugs.add(slug)
        final.append(replace(s, slug=slug))
    return ScenarioSet(base=base, scenarios=tuple(final), source=source, network=net_name)


def load_scenarios(path: Path | str, network: Network, profiles: Collection[str]) -> ScenarioSet:
    """Read and validate a scenario TOML file (see ``parse_scenarios``); raises ``InvalidInput``
    naming the bad key (``path`` for a missing file, ``file`` for a file that is not TOML)."""
    p = Path(path)
    if not p.exists():
        raise InvalidInput("path", str(p), "file not found")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput("file", str(p), f"not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise InvalidInput("file", str(p), f"not UTF-8 text: {e}") from None
    return parse_scenarios(doc, network, profiles, root=p.resolve().parent, source=p)


# ---------------------------------------------------------------------------------------------
# a scenario in one line


def describe(s: Scenario) -> str:
    """One line listing a scenario's changes (for tables and the report)."""
    parts = [f"demand {s.demand.label()} x{fmt_scale(s.demand_scale)}"]
    if s.closed_sites:
        parts.append("closed " + ", ".join(s.closed_sites))
    for sid, q in s.quota_changes.items():
        bits = [f"{k}={v if v is not None else 'none'}" for k, v in (("daily", q.daily), ("slot", q.slot))
                if v != UNCHANGED]
        parts.append(f"quota {sid} " + " ".join(bits))
    for a in s.added_sites:
        parts.append(f"new site {a.site.id}")
    for a, b in s.closed_roads:
        parts.append(f"road closed {a}-{b}")
    for (a, b), f in s.road_speed_factor.items():
        parts.append(f"speed x{f:g} {a}-{b}")
    for z, m in s.zone_edits.items():
        parts.append(f"zone {z} = {len(m)} sites")
    if s.stations is not None:
        parts.append(f"stations {s.stations.label()}")
    return "; ".join(parts)


__all__ = ["UNCHANGED", "AddedSite", "DemandSpec", "QuotaChange", "Scenario", "ScenarioSet", "StationsSpec",
           "describe", "fmt_scale", "load_scenarios", "parse_scenarios", "season_profile", "slugify"]
