"""What-if scenarios for the tour planner: a TOML file, its schema, and how a scenario changes a day.

A scenario file has a ``[base]`` table (solver settings and the base demand on the embedded
Lhasa network) and any number of ``[[scenario]]`` tables, each a list of changes to the base.
``load_scenarios(path)`` parses and validates the file into a ``ScenarioSet``; a
``demand_scale`` given as a list is a *sweep* and expands into one scenario per value, named
``"<name> x<scale>"`` (``peak x1.5``). ``apply(scenario, network, base_groups)`` builds the
modified ``TourProblem`` (plus what the change itself leaves unserved, e.g. a closed must-visit).

Schema (every key is optional unless marked; unknown keys are rejected)::

    [base]
    network = "lhasa"            # only the embedded Lhasa instance is supported
    seed = 1                     # solver seed (int >= 0)
    iterations = 2000            # ILS iterations (int >= 0); with no time limit runs are reproducible
    time_limit_s = 60.0          # wall-clock limit per scenario (float > 0), optional
    slot_min = 60.0              # entry-slot length, minutes

    [base.demand]                # either a generated day ...
    profile = "peak"             # "peak" | "shoulder" (instances.demand_generator.PROFILES)
    # date = "2026-08-15"        # instead of profile: May-Oct -> peak, otherwise shoulder
    groups = 320                 # int >= 0
    seed = 2026                  # generator seed
    # file = "my_day.csv"        # ... or a demand file (CSV/Parquet/JSON), relative to the TOML file

    [[scenario]]
    name = "peak"                # required, unique after sweep expansion
    demand_scale = [1, 1.5, 2, 3]  # float >= 0, or a list of them (a sweep)
    seed / iterations / time_limit_s   # override the base
    demand = { profile = "shoulder", groups = 200, seed = 7 }   # replaces the base demand
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

Errors are ``InvalidInput("scenario[<name>].<key>", value, message)`` (``base.<key>`` for the
base, ``scenario[#k]`` before a name is known), so a bad file names the key at fault.

Semantics of ``apply``, in order: closed roads are removed and speed factors applied to the
remaining roads (``travel_min / factor``, ``speed_kmh * factor``); added sites and their roads
join the network; closed sites get score 0 (not visitable, still a road node, still a start or
end); quota changes are applied; zone edits replace member lists; travel matrices are recomputed
with ``shortest_path_matrices``. Note that, as in the loader, a site left with no road at all is
attached to its nearest road node by an access leg, so closing *every* road of a site does not
isolate it - close the site instead. A group's must-visit at a closed site is dropped from its
must-visits and reported with reason ``closed``; one outside the group's (edited) zone is
dropped and reported with reason ``zone``. Demand is scaled by replication: scale ``s`` keeps
``floor(s)`` copies of every group (copy k >= 2 gets id ``<id>#k``) plus a seeded random
``round(frac(s) * n)`` of the groups once more.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.domain import (
    InvalidInput,
    Network,
    Road,
    Site,
    TourGroup,
    TourProblem,
    Unserved,
    parse_clock,
)

DEFAULT_ITERATIONS = 2000
DEFAULT_SEED = 1
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
    family: str = ""
    slug: str = ""


@dataclass(frozen=True)
class ScenarioSet:
    """The base (a scenario with no changes, named ``base``) and the expanded scenarios."""

    base: Scenario
    scenarios: tuple[Scenario, ...]
    source: Path | None = None
    network: str = "lhasa"


@dataclass(frozen=True)
class AppliedScenario:
    """What ``apply`` builds: the problem to solve and the must-visits the change itself removed.

    ``dropped`` holds ``Unserved`` entries (reason ``closed`` or ``zone``) for must-visits taken
    out of groups; ``original_must`` maps group id -> its must-visits before the change.
    """

    problem: TourProblem
    dropped: tuple[Unserved, ...]
    original_must: Mapping[str, tuple[str, ...]]


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


BASE_KEYS = ("network", "seed", "iterations", "time_limit_s", "slot_min", "demand")
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
                 "closed_roads", "road_speed", "quota", "add_site", "zones")
QUOTA_KEYS = ("daily", "slot")
ROAD_SPEED_KEYS = ("a", "b", "factor")
ADD_SITE_KEYS = ("id", "name_en", "name_zh", "lat", "lon", "elevation_m", "kind", "rating", "score",
                 "visit_min", "open", "close", "daily_quota", "slot_quota", "county", "provenance", "roads")
ADD_SITE_REQUIRED = ("id", "name_en", "lat", "lon", "kind", "rating", "score", "visit_min", "open", "close")
ADD_ROAD_KEYS = ("to", "length_km", "speed_kmh", "travel_min", "name")
TOP_KEYS = ("base", "scenario")


def _parse_demand(where: str, value: Any, root: Path | None, default: DemandSpec) -> DemandSpec:
    from instances.demand_generator import PROFILES

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
    if profile not in PROFILES:
        raise InvalidInput(f"{where}.profile", profile, f"unknown demand profile; known: {sorted(PROFILES)}")
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
                    zones: Mapping[str, tuple[str, ...]]) -> list[Scenario]:
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
    demand = _parse_demand(f"{where}.demand", d["demand"], root, base.demand) if "demand" in d else base.demand

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
                  "closed_roads": tuple(closed_roads), "road_speed_factor": speed, "zone_edits": zone_edits, "family": name}
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


def parse_scenarios(doc: Mapping[str, Any], network: Network | None = None, root: Path | None = None,
                    source: Path | None = None) -> ScenarioSet:
    """Validate a parsed TOML document (a dict) into a ``ScenarioSet``; see the module docstring."""
    from instances.loader import load_lhasa

    _check_keys("file", doc, TOP_KEYS)
    b = _table("base", doc.get("base", {}))
    _check_keys("base", b, BASE_KEYS)
    net_name = _str("base.network", b.get("network", "lhasa"))
    if net_name not in KNOWN_NETWORKS:
        raise InvalidInput("base.network", net_name, f"unknown network; known: {list(KNOWN_NETWORKS)}")
    if network is None:
        network = load_lhasa()
    tl = b.get("time_limit_s")
    base = Scenario(
        name="base",
        seed=_int("base.seed", b["seed"]) if "seed" in b else DEFAULT_SEED,
        iterations=_int("base.iterations", b["iterations"]) if "iterations" in b else DEFAULT_ITERATIONS,
        time_limit_s=None if tl is None else _float("base.time_limit_s", tl, lo=0.0, strict=True),
        slot_min=_float("base.slot_min", b["slot_min"], lo=0.0, strict=True) if "slot_min" in b else 60.0,
        demand=_parse_demand("base.demand", b["demand"], root, DemandSpec()) if "demand" in b else DemandSpec(),
        family="base", slug="base",
    )
    raw = doc.get("scenario", [])
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise InvalidInput("scenario", raw, "expected an array of tables [[scenario]]")
    out: list[Scenario] = []
    for k, r in enumerate(raw):
        out.extend(_parse_scenario(k, r, base, network, root, network.zones))
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


def load_scenarios(path: Path | str, network: Network | None = None) -> ScenarioSet:
    """Read and validate a scenario TOML file; raises ``InvalidInput`` naming the bad key."""
    p = Path(path)
    if not p.exists():
        raise InvalidInput("path", str(p), "file not found")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput("file", str(p), f"not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise InvalidInput("file", str(p), f"not UTF-8 text: {e}") from None
    return parse_scenarios(doc, network=network, root=p.resolve().parent, source=p)


# ---------------------------------------------------------------------------------------------
# applying a scenario


def base_groups(spec: DemandSpec, network: Network) -> tuple[TourGroup, ...]:
    """The groups of a demand spec on ``network`` (generated, or read from the file)."""
    if spec.file is not None:
        from instances.demand import read_demand
        return tuple(read_demand(spec.file, network))
    from instances.demand_generator import generate_demand
    return generate_demand(network, n_groups=spec.groups, seed=spec.seed, profile=spec.profile)


def scale_groups(groups: Sequence[TourGroup], scale: float, seed: int) -> tuple[TourGroup, ...]:
    """``floor(scale)`` copies of every group plus a seeded ``round(frac * n)`` subset once more.

    Copy 1 keeps the group's id; copy k >= 2 is ``<id>#k``. Deterministic in ``seed``.
    """
    if scale < 0 or not math.isfinite(scale):
        raise InvalidInput("demand_scale", scale, "must be a finite number >= 0")
    n = len(groups)
    whole = math.floor(scale + 1e-12)
    extra = round((scale - whole) * n)
    out: list[TourGroup] = []
    for k in range(1, whole + 1):
        out.extend(g if k == 1 else replace(g, id=f"{g.id}#{k}") for g in groups)
    if extra:
        rng = np.random.default_rng(seed)
        pick = sorted(int(i) for i in rng.choice(n, size=min(extra, n), replace=False))
        k = whole + 1
        out.extend(groups[i] if k == 1 else replace(groups[i], id=f"{groups[i].id}#{k}") for i in pick)
    return tuple(out)


def _modified_network(s: Scenario, network: Network) -> Network:
    from instances.loader import shortest_path_matrices

    closed = {frozenset(p) for p in s.closed_roads}
    factors = {frozenset(p): f for p, f in s.road_speed_factor.items()}
    roads: list[Road] = []
    for r in list(network.roads) + [r for a in s.added_sites for r in a.roads]:
        key = frozenset((r.a, r.b))
        if key in closed:
            continue
        if key in factors:
            f = factors[key]
            r = replace(r, speed_kmh=r.speed_kmh * f, travel_min=r.travel_min / f)
        roads.append(r)
    sites: list[Site] = list(network.sites) + [a.site for a in s.added_sites]
    closed_sites = set(s.closed_sites)
    new_sites = []
    for site in sites:
        if site.id in closed_sites:
            site = replace(site, score=0.0)
        q = s.quota_changes.get(site.id)
        if q is not None:
            if q.daily != UNCHANGED:
                site = replace(site, daily_quota=q.daily)
            if q.slot != UNCHANGED:
                site = replace(site, slot_quota=q.slot)
        new_sites.append(site)
    zones = dict(network.zones)
    names = dict(network.zone_names)
    for zid, members in s.zone_edits.items():
        zones[zid] = tuple(members)
        names.setdefault(zid, zid)
    travel, dist = shortest_path_matrices(tuple(new_sites), tuple(roads))
    return Network(sites=tuple(new_sites), roads=tuple(roads), travel_min=travel, distance_km=dist,
                   zones=zones, zone_names=names)


def apply(scenario: Scenario, network: Network, base_groups: Sequence[TourGroup]) -> AppliedScenario:
    """Build the scenario's ``TourProblem`` from the base network and groups; see the module docstring.

    Returns an ``AppliedScenario``: the problem, plus ``Unserved`` entries (reason ``closed`` or
    ``zone``) for must-visits the change removed, which the runner adds to the plan's unserved.
    """
    net = _modified_network(scenario, network)
    groups = scale_groups(base_groups, scenario.demand_scale, scenario.seed)
    closed = set(scenario.closed_sites)
    dropped: list[Unserved] = []
    original: dict[str, tuple[str, ...]] = {}
    out: list[TourGroup] = []
    for g in groups:
        original[g.id] = g.must_visit
        keep = []
        for sid in g.must_visit:
            if sid in closed:
                dropped.append(Unserved(g.id, sid, "closed", "the site is closed in this scenario"))
            elif g.zone is not None and sid not in net.zones.get(g.zone, ()):
                dropped.append(Unserved(g.id, sid, "zone", f"outside the group's zone {g.zone} as edited"))
            else:
                keep.append(sid)
        if g.zone is not None and g.zone not in net.zones:
            g = replace(g, zone=None)
        if len(keep) != len(g.must_visit):
            g = replace(g, must_visit=tuple(keep))
        out.append(g)
    problem = TourProblem(network=net, groups=tuple(out), slot_min=scenario.slot_min)
    return AppliedScenario(problem=problem, dropped=tuple(dropped), original_must=original)


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
    return "; ".join(parts)


__all__ = ["AddedSite", "AppliedScenario", "DemandSpec", "QuotaChange", "Scenario", "ScenarioSet", "apply",
           "base_groups", "describe", "load_scenarios", "parse_scenarios", "scale_groups", "slugify"]
