"""Seeded city-scale demand: one peak-season day of every visiting party in Lhasa (issue 15).

``generate_city_day(network, n_parties=50_000, seed=15)`` returns ``n_parties`` ``TourGroup``s:
mostly **independent travellers** (parties of 1-6 persons, ids ``I000001``...) and some organised
**tour groups** (ids ``T000001``...), about 4 persons per party, so 50,000 parties are about
200,000 visitors. Every number comes from ``numpy.random.default_rng(seed)`` in a fixed order
(vectorised draws), so the same network, arguments and numpy version give the same day.

Figures (``/work/shared/lhasa/FACTS.md``; S = sourced, D = derived, A = assumption)
-----------------------------------------------------------------------------------
* Volume (D). Lhasa had 37.6 M visits in 2023 (S, FACTS §3) and May-October carries roughly
  80-85 % of them (K/D, FACTS §3): 37.6 M x 0.82 / 184 days ~ 168,000 visitors a day on average
  in the season; Tibet had 5.74 M in September 2025 (S), ~190,000 a day. A peak day of
  **~200,000 visitors** is at the top of that range.
* Party mix (A). The Potala's 2003-07 allotment was 1,600 group + 700 individual tickets a day
  (S, FACTS §4), 70 % organised; independent travel has grown since. Assumption: tour groups are
  ``TOUR_GROUP_SHARE`` = 6 % of parties, which with the sizes below makes ~38 % of visitors.
* Sizes (A, tour groups as ``demand_generator.PROFILES['peak']``). Independent parties:
  1-6 persons with probabilities ``PARTY_SIZE_P`` (couples most common; mean 2.67). Tour
  groups: the peak profile's mixture (private 4-12, coach Normal(30, 5) in 20-40, large 40-50;
  mean 25.2). Mean per party 0.06 x 25.2 + 0.94 x 2.67 = 4.02.
* Where parties start (S/A). Weighted by the beds of ``hotels.csv`` at each hotel's site
  (``rooms x persons_per_room``; the old town around ``barkhor`` and the west around
  ``lhasa_railway`` hold most of them). Independent parties stay at a guesthouse near their
  hotel district with p = ``LATLON_P`` (0.20): a lat/lon point uniform in a disc of
  ``LATLON_RADIUS_KM`` (1.5 km) around that site (rounded to 1e-5 deg), which exercises the
  lat/lon access path. A party ends where it started (back to its bed).
* Day windows, minutes from midnight (A). Independent parties leave between 07:30 and 10:30
  (uniform, 15-min steps) and are back between 18:00 and 21:00 (same). Tour groups follow the
  peak profile (``demand_generator.draw_group``: city 08:00-19:00 +- 30 min, excursions
  06:30-21:30).
* Interests. Group types culture / mixed / nature (50 / 35 / 15 %, the peak profile's city
  shares) with ``demand_generator.TYPE_INTERESTS`` x LogNormal(0, 0.15) per kind, rounded to
  0.01, as the existing generator does.
* Must-visits. Tour groups: exactly as ``demand_generator`` (excursions, Potala 50 % and Jokhang
  24 % of city groups, an extra type-specific city site with p = 0.10, zone C1 with p = 0.10).
  Independent parties (A): ``potala`` with p = ``INDEPENDENT_POTALA_P`` (0.05: most never got
  a timed ticket, which sells out a day ahead, FACTS §4), ``jokhang`` with p = 0.24 and an
  extra type-specific city site (``EXTRA_CITY_SITES``) with p = 0.10, at most 2. The Potala's
  5,000 persons a day are far below what a 200,000-visitor day asks of it: the day is
  capacity-bound at the Potala, as real peak days are.
* Feasibility. Every party's must-visits fit its day on their own (all visiting orders against
  the travel matrix, site windows and the day window, vectorised over parties). Tour groups are
  redrawn as in ``demand_generator``; an independent party that fails is redrawn (window and
  must-visits) up to ``MAX_ROUNDS`` rounds, then keeps its feasible must-visits only.

Command line: ``python -m instances.city_demand --parties 50000 --out city.csv [--seed 15]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from instances.demand import write_demand
from instances.demand_generator import (
    EXTRA_CITY_SITES,
    KM_PER_DEG_LAT,
    MAX_RESAMPLES,
    PROFILES,
    TYPE_INTERESTS,
    allocate_plans,
    draw_group,
    must_visits_feasible,
)
from instances.lhasa_itineraries import read_hotels
from optimizer.core.errors import InvalidInput
from optimizer.core.network import Network
from optimizer.core.physics import haversine_km
from optimizer.tours import Location, TourGroup, TourProblem

TOUR_GROUP_SHARE = 0.06
"""Share of parties that are organised tour groups (A; see the module docstring)."""
PARTY_SIZE_P = (0.18, 0.40, 0.16, 0.14, 0.07, 0.05)
"""Probability of an independent party of 1, 2, ..., 6 persons (A); mean 2.67 persons."""
LATLON_P = 0.20
"""Share of independent parties that start at a lat/lon point near their hotel district (A)."""
LATLON_RADIUS_KM = 1.5
DEPART_RANGE = (450.0, 630.0)
"""Independent parties leave between 07:30 and 10:30 (A), minutes from midnight, 15-min steps."""
RETURN_RANGE = (1080.0, 1260.0)
"""... and are back between 18:00 and 21:00 (A)."""
STEP_MIN = 15.0
CITY_TYPES = (("culture", 0.50), ("mixed", 0.35), ("nature", 0.15))
INTEREST_SIGMA = 0.15
INDEPENDENT_POTALA_P = 0.05
INDEPENDENT_JOKHANG_P = 0.24
INDEPENDENT_EXTRA_P = 0.10
MAX_ROUNDS = 20
CITY_SIZES = (5_000, 10_000, 20_000, 50_000)
"""The party counts of the city-scale benchmark (``bench/city_scale.py``)."""


def hotel_start_sites(network: Network) -> tuple[tuple[str, ...], np.ndarray]:
    """Site ids with hotels and the share of the hotel beds at each (``hotels.csv``: rooms x
    persons_per_room, summed per site; float64[k] summing to 1). Sites absent from ``network`` are
    skipped; ``InvalidInput`` if none is left."""
    beds: dict[str, float] = {}
    for h in read_hotels():
        if network.has_site(h.site_id):
            beds[h.site_id] = beds.get(h.site_id, 0.0) + float(h.rooms * h.persons_per_room)
    if not beds or sum(beds.values()) <= 0:
        raise InvalidInput("network", "hotels.csv", "no hotel of hotels.csv stands on a site of the network")
    ids = tuple(beds)
    w = np.array([beds[s] for s in ids], dtype=np.float64)
    return ids, w / w.sum()


def _attach_points(network: Network, lat: np.ndarray, lon: np.ndarray, access_speed_kmh: float = 30.0,
                   access_detour: float = 1.3) -> tuple[np.ndarray, np.ndarray]:
    """Nearest site (int64[m]) and access minutes (float64[m]) of lat/lon points, as
    ``demand_generator._attach`` does one at a time."""
    slat = np.array([s.lat for s in network.sites])
    slon = np.array([s.lon for s in network.sites])
    d = haversine_km(lat[:, None], lon[:, None], slat[None, :], slon[None, :])
    j = np.argmin(d, axis=1)
    return j.astype(np.int64), d[np.arange(lat.size), j] * access_detour / access_speed_kmh * 60.0


def _feasible(network: Network, node: np.ndarray, access: np.ndarray, opens: np.ndarray, closes: np.ndarray,
              musts: np.ndarray) -> np.ndarray:
    """bool[m]: some order of each party's must-visits (int64[m, 2], -1 = none) fits its day,
    leaving at ``opens`` from ``node`` (+ ``access`` min) and back there by ``closes``."""
    travel = network.travel_min
    w_open = np.array([s.window[0] for s in network.sites])
    latest = np.array([s.latest_start for s in network.sites])
    visit = np.array([s.visit_min for s in network.sites])
    ok = np.zeros(node.size, dtype=bool)
    for order in itertools.permutations(range(musts.shape[1])):
        t = opens + access
        at = node.copy()
        good = np.ones(node.size, dtype=bool)
        for c in order:
            j = musts[:, c]
            has = j >= 0
            jj = np.where(has, j, 0)
            s = np.maximum(t + travel[at, jj], w_open[jj])
            good &= ~has | (s <= latest[jj] + 1e-9)
            t = np.where(has, s + visit[jj], t)
            at = np.where(has, jj, at)
        end = t + travel[at, node] + access
        ok |= good & (end <= closes + 1e-9)
    return ok


def _steps(rng: np.random.Generator, lo: float, hi: float, m: int) -> np.ndarray:
    k = round((hi - lo) / STEP_MIN)
    return lo + STEP_MIN * rng.integers(0, k + 1, size=m).astype(np.float64)


def _independent_musts(rng: np.random.Generator, network: Network, types: np.ndarray, m: int) -> np.ndarray:
    """int64[m, 2] must-visit site indices (-1 = none) of independent parties of ``types``."""
    musts = np.full((m, 2), -1, dtype=np.int64)
    potala = rng.random(m) < INDEPENDENT_POTALA_P
    jokhang = rng.random(m) < INDEPENDENT_JOKHANG_P
    extra_draw = rng.random(m)
    extra_pick = rng.random(m)
    ip, ij = network.index("potala"), network.index("jokhang")
    musts[potala, 0] = ip
    musts[jokhang & ~potala, 0] = ij
    musts[jokhang & potala, 1] = ij
    n_must = potala.astype(int) + jokhang.astype(int)
    type_names = [t for t, _ in CITY_TYPES]
    for t_idx, name in enumerate(type_names):
        extras = np.array([network.index(s) for s in EXTRA_CITY_SITES[name] if network.has_site(s)], dtype=np.int64)
        if extras.size == 0:
            continue
        sel = (types == t_idx) & (n_must < 2) & (extra_draw < INDEPENDENT_EXTRA_P)
        pick = extras[np.minimum((extra_pick[sel] * extras.size).astype(np.int64), extras.size - 1)]
        rows = np.flatnonzero(sel)
        col = n_must[rows]
        musts[rows, col] = pick
    return musts


MAX_PARTIES = 200_000
"""Parties of a generated day at most (the cap of ``lhasa-ops plan --city``,
``api.services.tours.MAX_CITY_PARTIES``: memory grows about linearly, ~750 MiB at 50,000)."""


def generate_city_day(network: Network, n_parties: int = 50_000, seed: int = 15) -> tuple[TourGroup, ...]:
    """Draw one city day of ``n_parties`` parties (independent travellers and tour groups).

    See the module docstring for every share and its source. Deterministic for (network,
    n_parties, seed). Tour groups come first (ids ``T...``), then independent parties (``I...``).
    Every party's must-visits are feasible on their own and the result passes ``TourProblem``
    validation. Raises ``InvalidInput`` for ``n_parties`` not an integer in 0..``MAX_PARTIES`` or a
    network without the Lhasa site ids used (``potala``, ``jokhang``, the hotels' sites).
    """
    if isinstance(n_parties, bool) or not isinstance(n_parties, (int, np.integer)) or n_parties < 0:
        raise InvalidInput("n_parties", n_parties, "must be an integer >= 0")
    if n_parties > MAX_PARTIES:  # --parties 999999999 ran until killed
        raise InvalidInput("n_parties", n_parties, f"must be at most {MAX_PARTIES:,} parties")
    n_parties = int(n_parties)
    for sid in ("potala", "jokhang"):
        network.index(sid)  # InvalidInput for a network without the Lhasa ids
    rng = np.random.default_rng(seed)
    start_ids, start_p = hotel_start_sites(network)
    n_tour = math.floor(TOUR_GROUP_SHARE * n_parties + 0.5)
    n_ind = n_parties - n_tour
    width = max(6, len(str(n_parties)))

    # --- tour groups: the peak profile's draws, starting at hotels instead of its start list
    prof = PROFILES["peak"]
    starts = tuple((s, float(p)) for s, p in zip(start_ids, start_p))
    prof = dataclasses.replace(prof, starts=starts, same_end_p=1.0)
    tours: list[TourGroup] = []
    for i, plan in enumerate(allocate_plans(rng, prof, n_tour)):
        gid = f"T{i + 1:0{width}d}"
        for _ in range(MAX_RESAMPLES):
            g = draw_group(rng, network, prof, gid, plan)
            if must_visits_feasible(network, g):
                break
        else:
            raise InvalidInput("must_visit", gid, f"no feasible group drawn in {MAX_RESAMPLES} tries")
        tours.append(g)

    # --- independent parties, vectorised
    m = n_ind
    sizes = 1 + rng.choice(len(PARTY_SIZE_P), size=m, p=np.array(PARTY_SIZE_P) / sum(PARTY_SIZE_P))
    hotel = rng.choice(len(start_ids), size=m, p=start_p)
    latlon = rng.random(m) < LATLON_P
    r_km = LATLON_RADIUS_KM * np.sqrt(rng.random(m))
    theta = 2.0 * np.pi * rng.random(m)
    hub = np.array([network.index(s) for s in start_ids], dtype=np.int64)[hotel]
    hub_lat = np.array([network.sites[j].lat for j in range(network.n)])[hub]
    hub_lon = np.array([network.sites[j].lon for j in range(network.n)])[hub]
    lat = np.round(hub_lat + r_km * np.cos(theta) / KM_PER_DEG_LAT, 5)
    lon = np.round(hub_lon + r_km * np.sin(theta) / (KM_PER_DEG_LAT * np.cos(np.radians(hub_lat))), 5)
    node = hub.copy()
    access = np.zeros(m)
    if latlon.any():
        node[latlon], access[latlon] = _attach_points(network, lat[latlon], lon[latlon])
    type_names = [t for t, _ in CITY_TYPES]
    type_p = np.array([p for _, p in CITY_TYPES])
    types = rng.choice(len(type_names), size=m, p=type_p / type_p.sum())
    kinds = sorted({s.kind for s in network.sites})
    jitter = rng.lognormal(0.0, INTEREST_SIGMA, size=(m, len(kinds)))
    opens = _steps(rng, *DEPART_RANGE, m)
    closes = _steps(rng, *RETURN_RANGE, m)
    musts = _independent_musts(rng, network, types, m)
    bad = ~_feasible(network, node, access, opens, closes, musts)
    for _ in range(MAX_ROUNDS):
        k = int(bad.sum())
        if k == 0:
            break
        rows = np.flatnonzero(bad)
        opens[rows] = _steps(rng, *DEPART_RANGE, k)
        closes[rows] = _steps(rng, *RETURN_RANGE, k)
        musts[rows] = _independent_musts(rng, network, types[rows], k)
        bad[rows] = ~_feasible(network, node[rows], access[rows], opens[rows], closes[rows], musts[rows])
    for c in (1, 0):  # still infeasible after MAX_ROUNDS: drop must-visits, the last first
        rows = np.flatnonzero(bad)
        if rows.size == 0:
            break
        musts[rows, c] = -1
        bad[rows] = ~_feasible(network, node[rows], access[rows], opens[rows], closes[rows], musts[rows])

    site_ids = [s.id for s in network.sites]
    base = np.array([[TYPE_INTERESTS[t].get(k, np.nan) for k in kinds] for t in type_names])
    weights = np.round(base[types] * jitter, 2).tolist()
    kinds_of_type = [[c for c, k in enumerate(kinds) if k in TYPE_INTERESTS[t]] for t in type_names]
    out = list(tours)
    lat_l, lon_l, opens_l, closes_l = lat.tolist(), lon.tolist(), opens.tolist(), closes.tolist()
    sizes_l, hotel_l, latlon_l, types_l = sizes.tolist(), hotel.tolist(), latlon.tolist(), types.tolist()
    musts_l = musts.tolist()
    for i in range(m):
        loc = Location(lat=lat_l[i], lon=lon_l[i]) if latlon_l[i] else Location(site_id=start_ids[hotel_l[i]])
        w = weights[i]
        interests = {kinds[c]: w[c] for c in kinds_of_type[types_l[i]]}
        must = tuple(site_ids[j] for j in musts_l[i] if j >= 0)
        out.append(TourGroup(id=f"I{i + 1:0{width}d}", size=sizes_l[i], start=loc, end=loc,
                             day_window=(opens_l[i], closes_l[i]), must_visit=must, interests=interests))
    result = tuple(out)
    TourProblem(network=network, groups=result)
    return result


def city_summary(parties: Sequence[TourGroup]) -> dict[str, int]:
    """Headline figures of a city day: parties, visitors, tour groups, independent parties and
    their visitors, Potala must-visit persons, lat/lon starts."""
    tours = [g for g in parties if g.id.startswith("T")]
    ind = [g for g in parties if g.id.startswith("I")]
    return {
        "parties": len(parties),
        "visitors": sum(g.size for g in parties),
        "tour_groups": len(tours),
        "tour_visitors": sum(g.size for g in tours),
        "independent_parties": len(ind),
        "independent_visitors": sum(g.size for g in ind),
        "potala_must_persons": sum(g.size for g in parties if "potala" in g.must_visit),
        "latlon_starts": sum(g.start.site_id is None for g in parties),
    }


def main(argv: Sequence[str] | None = None) -> int:
    from instances.loader import load_lhasa

    ap = argparse.ArgumentParser(description="Write a seeded city-scale day of parties for Lhasa.")
    ap.add_argument("--out", required=True, type=Path, help="output file (.csv, .parquet or .json)")
    ap.add_argument("--parties", type=int, default=50_000, help="number of parties (default 50,000)")
    ap.add_argument("--seed", type=int, default=15, help="random seed (default 15)")
    args = ap.parse_args(argv)
    if args.out.suffix.lower() not in (".csv", ".parquet", ".json"):
        ap.error(f"--out {args.out}: use a .csv, .parquet or .json file")
    try:
        parties = generate_city_day(load_lhasa(), n_parties=args.parties, seed=args.seed)
        write_demand(parties, args.out)
    except InvalidInput as e:
        ap.exit(2, f"error: {e}\n")
    except OSError as e:
        ap.exit(2, f"error: --out {args.out}: {e.strerror or e}\n")
    print(f"wrote {args.out}: " + ", ".join(f"{k}={v}" for k, v in city_summary(parties).items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
