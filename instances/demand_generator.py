"""Seeded demo demand: one peak-season day of organised tour groups in Lhasa.

``generate_demand(network, n_groups=320, seed=2026, profile="peak")`` draws every number from
``numpy.random.default_rng(seed)`` in a fixed order, so the same network, arguments and numpy
version give the same groups. ``instances/lhasa/demand_peak_day.csv`` is its default output.

Figures behind the peak profile (``/work/shared/lhasa/FACTS.md``)
-----------------------------------------------------------------
* Season. Lhasa had 37.6 M visits in 2023 (FACTS §3), and May-October carries roughly 80-85 %
  of them. The Potala's peak-price season runs May 1 - Oct 31. The peak profile is a day in
  that season.
* Potala. The palace admits about 5,000 persons/day in peak season (2018), and a second route
  opens at 5,000 (2023). About 6,450/day were observed over National Day 2025 (FACTS §3, §4).
  In ``sites.csv`` this is ``daily_quota=5000`` and ``slot_quota=834`` per hourly slot, with
  entry 09:00 to 14:30 (close 16:00 minus a 90 min visit). The organised groups here want
  about 3,500 Potala entries: the daily quota holds them, but six hourly slots of 834
  persons cannot all be the morning ones, so slot peaks are contested.
* Namtso. About 2,960 persons/day came over a 2025 holiday (FACTS §3). Tour groups are only
  part of them; here 7 % of groups (~500 persons, 482 for seed 2026) go there.
* Volume. 320 groups with ~25 persons each, about 8,000 persons: the organised coach-and-guide
  share of a peak day, sized so that Potala must-visits (~43 % of groups) come to ~3,500.
  Seed 2026: 320 groups, 8,069 persons, 139 Potala groups with 3,468 persons.

Distributions (peak profile; ``PROFILES`` holds the numbers)
-------------------------------------------------------------
* Size, persons (a mixture, clipped to integers >= 1; mean ~25):
  private groups 30 %, uniform integers 4-12 (mean 8). Standard coach groups 58 %,
  Normal(30, 5) rounded and clipped to 20-40. Large coaches 12 %, uniform integers 40-50.
  0.30*8 + 0.58*30 + 0.12*45 = 25.2 persons.
* Destination. 18 % are long excursions with one fixed must-visit: ``namtso_tashi`` 7 %,
  ``yamdrok`` 5 %, ``ganden`` 4 %, ``reting`` 2 %. The other 82 % stay in and around the city.
  These counts are allocated exactly (largest remainder of share x n: 22, 16, 13, 6 and 263
  of 320) and shuffled, so a small demo shows the stated mix rather than sampling noise
  (``allocate_plans``). The Potala and Jokhang flags below are allocated exactly the same way.
* Group type, which sets the interest weights by site kind. City groups: culture 50 %,
  mixed 35 %, nature 15 %. Namtso and Yamdrok excursions are nature groups, Ganden and Reting
  culture groups. Culture raises monastery/palace/museum/town/theatre, nature raises
  lake/wetland/hot_spring/viewpoint/park, mixed raises both slightly (``TYPE_INTERESTS``).
  Every weight gets a multiplicative LogNormal(0, 0.15) jitter and is rounded to 0.01.
* Start. 70 % at old-town hotels (by a site id: ``barkhor`` 30 %, ``potala`` 18 %, ``ramoche``
  10 %, ``zongjiao_lukang`` 7 %, ``lhasa_river`` 5 %). 15 % at a lat/lon point uniform in a
  disc of 3 km around the centre (29.65 N, 91.12 E), rounded to 1e-5 deg, so that the lat/lon
  path is exercised. 7 % at ``lhasa_railway``, 4 % each at ``dagze_town`` and ``doilung_town``.
* End. The start again with probability 0.8 (back to the hotel), otherwise an independent
  draw from the start distribution.
* Day window, minutes from midnight. City groups 08:00 to 19:00, each end shifted
  independently by a uniform pick of -30, -15, 0, +15 or +30 min. Excursion groups
  06:30 to 21:30.
* Must-visits (at most 2 per group). City groups: ``potala`` for 50 % and ``jokhang`` for 24 %
  (independent exact subsets: 132 and 63 of 263). A quarter of the Yamdrok and Ganden excursions
  add ``potala`` (4 and 3). Namtso (~4.5 h each way) and Reting (~3.5 h) groups leave at dawn
  and never add it. That makes 139 groups (43 %) for the Potala, about 3,500 persons, and
  63 (20 %) for the Jokhang. A city group with a free place adds one type-specific city site
  with p = 0.10 (``EXTRA_CITY_SITES``).
* Zone. A city group whose must-visits all lie in ``C1`` is restricted to ``C1`` with p = 0.10.
* Feasibility. A group's must-visits must be feasible on their own: ``must_visits_feasible``
  tries every visiting order against the travel matrix, the site windows (latest start =
  close - visit_min) and the group's day window. A group that fails is drawn again from
  scratch (keeping its ``GroupPlan``), at most ``MAX_RESAMPLES`` times.

Command line: ``python -m instances.demand_generator --out instances/lhasa/demand_peak_day.csv
[--groups N] [--seed S] [--profile peak|shoulder]``.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instances.demand import write_demand
from instances.loader import haversine_km
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.tours import Location, TourGroup, TourProblem

CITY_CENTRE = (29.65, 91.12)
"""(lat, lon) of the Lhasa city centre, WGS84 degrees."""
KM_PER_DEG_LAT = 111.2
CITY_DAY = (480.0, 1140.0)
"""City groups' day window before jitter: 08:00-19:00, minutes from midnight."""
EXCURSION_DAY = (390.0, 1290.0)
"""Long-excursion groups' day window: 06:30-21:30, minutes from midnight."""
WINDOW_JITTER_STEPS = (-30.0, -15.0, 0.0, 15.0, 30.0)
MAX_RESAMPLES = 200
MAX_MUST_VISITS = 2

TYPE_INTERESTS: dict[str, dict[str, float]] = {
    "culture": {"monastery": 1.5, "palace": 1.5, "museum": 1.3, "town": 1.1, "theatre": 1.2,
                "village": 1.0, "viewpoint": 0.8, "park": 0.8, "lake": 0.6, "wetland": 0.5, "hot_spring": 0.5},
    "nature": {"lake": 1.6, "wetland": 1.4, "hot_spring": 1.4, "viewpoint": 1.4, "park": 1.2,
               "village": 1.0, "palace": 0.8, "monastery": 0.7, "town": 0.7, "museum": 0.5, "theatre": 0.6},
    "mixed": {"monastery": 1.2, "palace": 1.2, "lake": 1.2, "viewpoint": 1.1, "museum": 1.0,
              "wetland": 1.0, "hot_spring": 1.0, "park": 1.0, "town": 1.0, "village": 1.0, "theatre": 1.0},
}
"""Interest weight by site kind for each group type, before the per-group jitter."""

EXTRA_CITY_SITES: dict[str, tuple[str, ...]] = {
    "culture": ("sera", "drepung", "norbulingka", "tibet_museum", "ramoche"),
    "nature": ("lhalu_wetland", "chakpori", "nanshan_park", "lhasa_river"),
    "mixed": ("norbulingka", "sera", "lhalu_wetland", "chakpori"),
}
"""Type-specific city sites (all in circle C1) a city group may add as a second must-visit."""


@dataclass(frozen=True, slots=True)
class SizeClass:
    """One component of the group-size mixture, persons."""

    name: str
    share: float
    lo: int
    hi: int
    mean: float | None = None  # Normal(mean, sd) clipped to [lo, hi]; None: uniform integers
    sd: float = 0.0


@dataclass(frozen=True, slots=True)
class Excursion:
    """A long-excursion destination: its share of all groups, group type, and the share of its
    groups that also must see the Potala."""

    site_id: str
    share: float
    group_type: str
    potala_p: float


@dataclass(frozen=True, slots=True)
class DemandProfile:
    """All knobs of one demand profile (shares are probabilities per group)."""

    name: str
    size_classes: tuple[SizeClass, ...]
    excursions: tuple[Excursion, ...]
    city_types: tuple[tuple[str, float], ...]
    starts: tuple[tuple[str, float], ...]  # site id or "latlon" -> share
    same_end_p: float
    latlon_radius_km: float
    potala_city_p: float
    jokhang_city_p: float
    extra_city_p: float
    zone_c1_city_p: float
    interest_sigma: float


_STARTS = (("barkhor", 0.30), ("potala", 0.18), ("ramoche", 0.10), ("zongjiao_lukang", 0.07),
           ("lhasa_river", 0.05), ("latlon", 0.15), ("lhasa_railway", 0.07), ("dagze_town", 0.04),
           ("doilung_town", 0.04))

PROFILES: dict[str, DemandProfile] = {
    "peak": DemandProfile(
        name="peak",
        size_classes=(SizeClass("private", 0.30, 4, 12), SizeClass("standard", 0.58, 20, 40, 30.0, 5.0),
                      SizeClass("large", 0.12, 40, 50)),
        excursions=(Excursion("namtso_tashi", 0.07, "nature", 0.0), Excursion("yamdrok", 0.05, "nature", 0.25),
                    Excursion("ganden", 0.04, "culture", 0.25), Excursion("reting", 0.02, "culture", 0.0)),
        city_types=(("culture", 0.50), ("mixed", 0.35), ("nature", 0.15)),
        starts=_STARTS, same_end_p=0.8, latlon_radius_km=3.0,
        potala_city_p=0.50, jokhang_city_p=0.24, extra_city_p=0.10, zone_c1_city_p=0.10,
        interest_sigma=0.15,
    ),
    # Shoulder season (April, October): more small private groups, fewer high-lake trips.
    "shoulder": DemandProfile(
        name="shoulder",
        size_classes=(SizeClass("private", 0.45, 4, 12), SizeClass("standard", 0.48, 20, 40, 28.0, 5.0),
                      SizeClass("large", 0.07, 40, 50)),
        excursions=(Excursion("namtso_tashi", 0.04, "nature", 0.0), Excursion("yamdrok", 0.04, "nature", 0.25),
                    Excursion("ganden", 0.04, "culture", 0.25), Excursion("reting", 0.01, "culture", 0.0)),
        city_types=(("culture", 0.55), ("mixed", 0.35), ("nature", 0.10)),
        starts=_STARTS, same_end_p=0.8, latlon_radius_km=3.0,
        potala_city_p=0.45, jokhang_city_p=0.25, extra_city_p=0.10, zone_c1_city_p=0.10,
        interest_sigma=0.15,
    ),
}


# ---------------------------------------------------------------------------------------------
# Feasibility of a group's must-visits in isolation


def _attach(network: Network, loc: Location, access_speed_kmh: float, access_detour: float) -> tuple[int, float]:
    """(node index, access minutes) of a location: a site, or a point's nearest site."""
    if loc.site_id is not None:
        return network.index(loc.site_id), 0.0
    lats = np.array([s.lat for s in network.sites])
    lons = np.array([s.lon for s in network.sites])
    d = haversine_km(loc.lat, loc.lon, lats, lons)
    j = int(np.argmin(d))
    return j, float(d[j]) * access_detour / access_speed_kmh * 60.0


def must_visit_schedule(network: Network, group: TourGroup, order: Sequence[str],
                        access_speed_kmh: float = 30.0, access_detour: float = 1.3) -> float:
    """Arrival at the group's end (minutes from midnight) visiting ``order`` as early as possible.

    Departs at the day window's opening and waits for each site to open. Returns ``inf`` if a
    visit would start after the site's latest start (close - visit_min). The access legs of
    lat/lon points use ``TourProblem``'s defaults (30 km/h, detour 1.3).
    """
    node, t = _attach(network, group.start, access_speed_kmh, access_detour)
    t += group.day_window[0]
    for sid in order:
        j = network.index(sid)
        site = network.sites[j]
        t = max(t + float(network.travel_min[node, j]), site.window[0])
        if t > site.latest_start:
            return math.inf
        t += site.visit_min
        node = j
    end, access = _attach(network, group.end, access_speed_kmh, access_detour)
    return t + float(network.travel_min[node, end]) + access


def must_visits_feasible(network: Network, group: TourGroup, access_speed_kmh: float = 30.0,
                         access_detour: float = 1.3) -> bool:
    """True if some order of the must-visits fits the site windows and the group's day window.

    Brute force over permutations (fine for the <= 2 must-visits the generator draws). Zones,
    quotas and other groups are ignored: this is feasibility of the group alone.
    """
    return any(
        must_visit_schedule(network, group, order, access_speed_kmh, access_detour) <= group.day_window[1]
        for order in itertools.permutations(group.must_visit)
    )


# ---------------------------------------------------------------------------------------------
# Drawing one group


def _pick(rng: np.random.Generator, options: Sequence[tuple[str, float]]) -> str:
    names = [o[0] for o in options]
    p = np.array([o[1] for o in options], dtype=float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def draw_size(rng: np.random.Generator, classes: Sequence[SizeClass]) -> int:
    """Group size, persons: pick a size class by share, then uniform or clipped-normal integer."""
    shares = np.array([c.share for c in classes], dtype=float)
    c = classes[int(rng.choice(len(classes), p=shares / shares.sum()))]
    if c.mean is None:
        x = int(rng.integers(c.lo, c.hi + 1))
    else:
        x = int(round(float(rng.normal(c.mean, c.sd))))
    return max(1, min(c.hi, max(c.lo, x)))


def draw_point(rng: np.random.Generator, centre: tuple[float, float], radius_km: float) -> Location:
    """A point uniform in a disc of ``radius_km`` around ``centre``, rounded to 1e-5 deg (~1 m)."""
    r = radius_km * math.sqrt(float(rng.random()))
    theta = 2.0 * math.pi * float(rng.random())
    lat = centre[0] + r * math.cos(theta) / KM_PER_DEG_LAT
    lon = centre[1] + r * math.sin(theta) / (KM_PER_DEG_LAT * math.cos(math.radians(centre[0])))
    return Location(lat=round(lat, 5), lon=round(lon, 5))


def draw_location(rng: np.random.Generator, profile: DemandProfile) -> Location:
    """A start or end: a hub/hotel site id, or a jittered point near the city centre."""
    choice = _pick(rng, profile.starts)
    if choice == "latlon":
        return draw_point(rng, CITY_CENTRE, profile.latlon_radius_km)
    return Location(site_id=choice)


def draw_interests(rng: np.random.Generator, group_type: str, kinds: frozenset[str], sigma: float) -> dict[str, float]:
    """Kind -> weight: the type's base weight x LogNormal(0, sigma), rounded to 0.01."""
    base = TYPE_INTERESTS[group_type]
    out = {}
    for kind in sorted(base):
        jitter = float(rng.lognormal(0.0, sigma))
        if kind in kinds:
            out[kind] = round(base[kind] * jitter, 2)
    return out


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """What a group is for, fixed before its other draws (and kept when they are redrawn)."""

    excursion: Excursion | None  # None: a city group
    potala: bool
    jokhang: bool


def _largest_remainder(shares: Sequence[float], n: int) -> list[int]:
    """Integer counts summing to ``n`` closest to ``share x n`` (Hamilton's method)."""
    exact = [sh * n for sh in shares]
    counts = [int(math.floor(x)) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _exact_flags(rng: np.random.Generator, n: int, p: float) -> list[bool]:
    """``n`` flags, exactly ``round(p x n)`` of them True, at random positions."""
    k = int(math.floor(p * n + 0.5))
    flags = np.zeros(n, dtype=bool)
    flags[rng.permutation(n)[:k]] = True
    return [bool(f) for f in flags]


def allocate_plans(rng: np.random.Generator, profile: DemandProfile, n_groups: int) -> list[GroupPlan]:
    """Plan each group: destination and Potala/Jokhang must-visit flags, allocated exactly.

    Excursion counts are the largest-remainder rounding of ``share x n``. Among city groups,
    exactly round(p x count) get the Potala (``potala_city_p``) and the Jokhang
    (``jokhang_city_p``), independently; among each excursion's groups, round(potala_p x count)
    add the Potala. The plans come in a random order.
    """
    options: list[Excursion | None] = [*profile.excursions, None]
    shares = [e.share for e in profile.excursions]
    counts = _largest_remainder(shares + [1.0 - sum(shares)], n_groups)
    plans: list[GroupPlan] = []
    for exc, c in zip(options, counts):
        if exc is None:
            potala = _exact_flags(rng, c, profile.potala_city_p)
            jokhang = _exact_flags(rng, c, profile.jokhang_city_p)
        else:
            potala, jokhang = _exact_flags(rng, c, exc.potala_p), [False] * c
        plans.extend(GroupPlan(exc, pt, jk) for pt, jk in zip(potala, jokhang))
    return [plans[int(i)] for i in rng.permutation(len(plans))]


def draw_group(rng: np.random.Generator, network: Network, profile: DemandProfile, group_id: str,
               plan: GroupPlan) -> TourGroup:
    """One group following ``plan``; its other must-visit, places, times and interests are drawn.

    Not yet checked for feasibility.
    """
    excursion = plan.excursion
    size = draw_size(rng, profile.size_classes)
    group_type = excursion.group_type if excursion else _pick(rng, profile.city_types)
    start = draw_location(rng, profile)
    end = start if float(rng.random()) < profile.same_end_p else draw_location(rng, profile)
    must: list[str] = []
    zone = None
    if excursion is not None:
        window = EXCURSION_DAY
        must.append(excursion.site_id)
        if plan.potala:
            must.append("potala")
    else:
        shifts = rng.choice(WINDOW_JITTER_STEPS, size=2)
        window = (CITY_DAY[0] + float(shifts[0]), CITY_DAY[1] + float(shifts[1]))
        if plan.potala:
            must.append("potala")
        if plan.jokhang:
            must.append("jokhang")
        extra_draw = float(rng.random())
        extras = [s for s in EXTRA_CITY_SITES[group_type] if s not in must and network.has_site(s)]
        extra = extras[int(rng.integers(len(extras)))] if extras else None
        if len(must) < MAX_MUST_VISITS and extra is not None and extra_draw < profile.extra_city_p:
            must.append(extra)
        zone_draw = float(rng.random())
        c1 = network.zones.get("C1", ())
        if zone_draw < profile.zone_c1_city_p and c1 and all(s in c1 for s in must):
            zone = "C1"
    kinds = frozenset(s.kind for s in network.sites)
    interests = draw_interests(rng, group_type, kinds, profile.interest_sigma)
    return TourGroup(id=group_id, size=size, start=start, end=end, day_window=window,
                     must_visit=tuple(must), interests=interests, zone=zone)


def generate_demand(network: Network, n_groups: int = 320, seed: int = 2026,
                    profile: str = "peak") -> tuple[TourGroup, ...]:
    """Draw ``n_groups`` tour groups (ids ``G001``...) for one day; see the module docstring.

    Deterministic for (network, n_groups, seed, profile). Every group's must-visits are feasible
    in isolation (``must_visits_feasible``), and the result passes ``TourProblem`` validation.
    Raises ``InvalidInput`` for an unknown profile, a negative ``n_groups``, or a network that
    lacks the Lhasa site ids the profile uses.
    """
    if profile not in PROFILES:
        raise InvalidInput("profile", profile, f"unknown demand profile; known: {sorted(PROFILES)}")
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)) or n_groups < 0:
        raise InvalidInput("n_groups", n_groups, "must be an integer >= 0")
    prof = PROFILES[profile]
    for sid in [s for s, _ in prof.starts if s != "latlon"] + [e.site_id for e in prof.excursions] + ["potala", "jokhang"]:
        network.index(sid)  # raises InvalidInput for a network without the Lhasa ids
    rng = np.random.default_rng(seed)
    width = max(3, len(str(n_groups)))
    groups = []
    for i, plan in enumerate(allocate_plans(rng, prof, int(n_groups))):
        gid = f"G{i + 1:0{width}d}"
        for _ in range(MAX_RESAMPLES):
            g = draw_group(rng, network, prof, gid, plan)
            if must_visits_feasible(network, g):
                break
        else:
            raise InvalidInput("must_visit", gid, f"no feasible group drawn in {MAX_RESAMPLES} tries")
        groups.append(g)
    out = tuple(groups)
    TourProblem(network=network, groups=out)
    return out


def summary(groups: Sequence[TourGroup]) -> dict[str, int]:
    """Headline figures: groups, persons, and must-visit persons at the Potala and Jokhang."""
    return {
        "groups": len(groups),
        "persons": sum(g.size for g in groups),
        "potala_must_groups": sum("potala" in g.must_visit for g in groups),
        "potala_must_persons": sum(g.size for g in groups if "potala" in g.must_visit),
        "jokhang_must_persons": sum(g.size for g in groups if "jokhang" in g.must_visit),
        "latlon_starts": sum(g.start.site_id is None for g in groups),
        "zoned": sum(g.zone is not None for g in groups),
    }


def main(argv: Sequence[str] | None = None) -> int:
    from instances.loader import load_lhasa

    ap = argparse.ArgumentParser(description="Write seeded demo tour-group demand for Lhasa.")
    ap.add_argument("--out", required=True, type=Path, help="output file (.csv, .parquet or .json)")
    ap.add_argument("--groups", type=int, default=320, help="number of groups (default 320)")
    ap.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    ap.add_argument("--profile", default="peak", choices=sorted(PROFILES), help="demand profile")
    args = ap.parse_args(argv)
    if args.out.suffix.lower() not in (".csv", ".parquet", ".json"):
        ap.error(f"--out {args.out}: use a .csv, .parquet or .json file")
    try:
        groups = generate_demand(load_lhasa(), n_groups=args.groups, seed=args.seed, profile=args.profile)
        write_demand(groups, args.out)
    except InvalidInput as e:
        ap.exit(2, f"error: {e}\n")
    print(f"wrote {args.out}: " + ", ".join(f"{k}={v}" for k, v in summary(groups).items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
