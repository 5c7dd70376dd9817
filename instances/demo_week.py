"""Seeded demo week: about 1,500 groups arriving in Lhasa over 7 days, staying 2-7 days (issue 16).

``generate_demo_week(n_groups=1500, seed=2026, start=date(2026, 7, 6), arrival_days=7)`` draws
every number from ``numpy.random.default_rng(seed)`` in a fixed order, so the same arguments and
numpy version give the same groups (plain ``GroupRequest`` records of
``instances.lhasa_itineraries``). Command line: ``python -m instances.demo_week --out FILE.csv|json
[--groups N] [--seed S]``.

Every distribution below is an **assumption (A)** sized for a demo of the planner, except where a
source is named; the figures of the data files have their own sources (``SOURCES_itineraries.md``).

* Season: the week starts on Monday 2026-07-06, in the peak-price season (May 1 - Oct 31, S:
  Potala and Namtso prices, FACTS 3-4).
* Arrival day (0..6 of the week): weights 1.0, 1.0, 1.0, 1.05, 1.15, 1.2, 1.1 (a weekend bump, A);
  counts allocated exactly by largest remainder, then shuffled.
* Stay, days including arrival and departure days: 2..7 with probabilities .08 .17 .25 .22 .16 .12
  (mean 4.5 days, A).
* Size, persons: independent travellers 45 % uniform 2-8, small groups 35 % uniform 10-20, coach
  groups 20 % uniform 25-40 (mean about 14, A). Rooms are ``ceil(size / 2)`` (2 persons a room).
* Arrival place: Gonggar airport 70 %, Lhasa railway station 30 % (A); arrival time on the half
  hour, airport 09:00-17:00, station 08:00-20:00 (A). Departure from the same kind of place with
  p = 0.8, else the other; time on the half hour 09:00-18:00 (A). A stay of 2 days that arrives
  after 15:00 leaves after 12:00 (A).
* Profile (sets interests over site types, ``PROFILE_INTERESTS``): culture 45 %, mixed 35 %, nature
  20 % (A). Each weight gets a LogNormal(0, 0.15) jitter, rounded to 0.01.
* Must-visits (exact allocation by largest remainder): the Potala for 60 % of groups, the Jokhang
  for 35 %, Namtso for 25 % of stays of 5+ days and Yamdrok for 15 % of them (not both), Ganden for
  15 % of stays of 4+ days. Namtso is reached over Largen La (5,190 m) and Yamdrok over Kamba La
  (4,990 m), allowed from day 4 by ``acclimatization.toml``, and a 4-day stay leaves on day 4: so
  only 5+ day stays get them. Every must-visit is thus reachable under the default rules.
* Day window 08:00-20:00; 07:00-21:00 for groups with Namtso or Yamdrok (day tours to Namtso leave
  in the morning and come back the same day, S xxk318.com; the hours are A); these groups carry a
  packed lunch (no lunch stop planned: a 5-hour drive each way leaves no lunch window, A).
* Hotel band (``price_band``) budget 35 %, mid 50 %, upscale 15 % (A), and a budget per person:
  ``nights x band price / 2 x U(1.05, 1.35) + U(300, 800)`` CNY (rooms shared by 2, tickets
  allowance; band prices 200 / 420 / 900 CNY a room, A after ``hotels.csv``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from instances.lhasa_itineraries import GroupRequest, write_group_requests
from optimizer.core.errors import InvalidInput

DEMO_START = dt.date(2026, 7, 6)
MAX_GROUPS = 200_000
"""Groups a generated week may have at most (an input bound, the ``lhasa-ops plan --city`` cap:
``--groups 100000000`` ran until killed instead of stopping with an error)."""
ARRIVAL_WEIGHTS = (1.0, 1.0, 1.0, 1.05, 1.15, 1.2, 1.1)
STAY_DAYS = (2, 3, 4, 5, 6, 7)
STAY_P = (0.08, 0.17, 0.25, 0.22, 0.16, 0.12)
PROFILES = ("culture", "mixed", "nature")
PROFILE_P = (0.45, 0.35, 0.20)
PROFILE_INTERESTS: dict[str, dict[str, float]] = {
    "culture": {"temple": 1.5, "palace_garden": 1.3, "old_town": 1.4, "museum": 1.3, "viewpoint": 0.8,
                "high_pass": 0.5, "holy_lake": 0.7, "lake": 0.5, "park": 0.6, "hot_spring": 0.4, "village": 1.0,
                "show": 1.2},
    "mixed": {"temple": 1.1, "palace_garden": 1.0, "old_town": 1.1, "museum": 0.9, "viewpoint": 1.0,
              "high_pass": 0.9, "holy_lake": 1.1, "lake": 0.9, "park": 0.9, "hot_spring": 0.9, "village": 1.0,
              "show": 1.0},
    "nature": {"temple": 0.7, "palace_garden": 0.8, "old_town": 0.8, "museum": 0.5, "viewpoint": 1.4,
               "high_pass": 1.3, "holy_lake": 1.6, "lake": 1.4, "park": 1.3, "hot_spring": 1.3, "village": 0.9,
               "show": 0.6},
}
BANDS = ("budget", "mid", "upscale")
BAND_P = (0.35, 0.50, 0.15)
BAND_ROOM_CNY = {"budget": 200.0, "mid": 420.0, "upscale": 900.0}
TERMINALS = ("gonggar_airport", "lhasa_railway")

__all__ = ["DEMO_START", "PROFILE_INTERESTS", "allocate", "generate_demo_week", "main"]


def allocate(n: int, shares: Sequence[float]) -> list[int]:
    """Split ``n`` into integer counts proportional to ``shares`` (largest remainder; ties to the first)."""
    total = float(sum(shares))
    raw = [n * s / total for s in shares]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _exact_subset(rng: np.random.Generator, eligible: Sequence[int], share: float) -> set[int]:
    k = round(share * len(eligible))
    if k == 0:
        return set()
    return {int(i) for i in rng.choice(np.asarray(eligible, dtype=np.int64), size=k, replace=False)}


def _half_hour(rng: np.random.Generator, lo_min: float, hi_min: float) -> float:
    steps = int((hi_min - lo_min) // 30)
    return lo_min + 30.0 * int(rng.integers(0, steps + 1))


def generate_demo_week(n_groups: int = 1500, seed: int = 2026, start: dt.date = DEMO_START,
                       arrival_days: int = 7) -> tuple[GroupRequest, ...]:
    """The demo week's groups (module docstring for every distribution), ids ``W0001``...

    Raises ``InvalidInput`` for ``n_groups`` outside 1..``MAX_GROUPS`` or ``arrival_days`` outside 1..7."""
    if isinstance(n_groups, bool) or not isinstance(n_groups, int) or n_groups < 1:
        raise InvalidInput("n_groups", n_groups, "must be an integer >= 1")
    if n_groups > MAX_GROUPS:
        raise InvalidInput("n_groups", n_groups, f"must be at most {MAX_GROUPS:,} groups")
    if isinstance(arrival_days, bool) or not isinstance(arrival_days, int) or not 1 <= arrival_days <= 7:
        raise InvalidInput("arrival_days", arrival_days, "must be an integer in 1..7")
    rng = np.random.default_rng(seed)
    counts = allocate(n_groups, ARRIVAL_WEIGHTS[:arrival_days])
    arrival = np.repeat(np.arange(arrival_days), counts)
    rng.shuffle(arrival)
    stay = rng.choice(np.asarray(STAY_DAYS), size=n_groups, p=np.asarray(STAY_P))
    kind = rng.choice(3, size=n_groups, p=np.asarray([0.45, 0.35, 0.20]))
    size = np.where(kind == 0, rng.integers(2, 9, n_groups),
                    np.where(kind == 1, rng.integers(10, 21, n_groups), rng.integers(25, 41, n_groups)))
    profile = rng.choice(3, size=n_groups, p=np.asarray(PROFILE_P))
    by_air = rng.random(n_groups) < 0.70
    same_place = rng.random(n_groups) < 0.80
    band = rng.choice(3, size=n_groups, p=np.asarray(BAND_P))
    everyone = list(range(n_groups))
    potala = _exact_subset(rng, everyone, 0.60)
    jokhang = _exact_subset(rng, everyone, 0.35)
    long_stays = [i for i in everyone if stay[i] >= 5]
    lake = sorted(_exact_subset(rng, long_stays, 0.40))
    lake_order = rng.permutation(len(lake))
    n_namtso = round(0.25 * len(long_stays))
    namtso = {lake[j] for j in lake_order[:n_namtso]}
    yamdrok = {lake[j] for j in lake_order[n_namtso:]}
    ganden = _exact_subset(rng, [i for i in everyone if stay[i] >= 4], 0.15)

    groups: list[GroupRequest] = []
    for i in range(n_groups):
        arr_day = start + dt.timedelta(days=int(arrival[i]))
        dep_day = arr_day + dt.timedelta(days=int(stay[i]) - 1)
        arrive_at = TERMINALS[0] if by_air[i] else TERMINALS[1]
        arr_min = _half_hour(rng, 540, 1020) if by_air[i] else _half_hour(rng, 480, 1200)
        depart_from = arrive_at if same_place[i] else TERMINALS[1 - TERMINALS.index(arrive_at)]
        dep_lo = 720.0 if (stay[i] == 2 and arr_min > 900) else 540.0
        dep_min = _half_hour(rng, dep_lo, 1080)
        base = PROFILE_INTERESTS[PROFILES[int(profile[i])]]
        jitter = rng.lognormal(0.0, 0.15, size=len(base))
        interests = {t: round(w * float(j), 2) for (t, w), j in zip(base.items(), jitter)}
        must = [s for s, chosen in (("potala", i in potala), ("jokhang", i in jokhang), ("ganden", i in ganden),
                                    ("namtso_tashi", i in namtso), ("yamdrok", i in yamdrok)) if chosen]
        long_trip = i in namtso or i in yamdrok
        b = BANDS[int(band[i])]
        nights = int(stay[i]) - 1
        budget = nights * BAND_ROOM_CNY[b] / 2.0 * float(rng.uniform(1.05, 1.35)) + float(rng.uniform(300, 800))
        groups.append(GroupRequest(
            group_id=f"W{i + 1:04d}", size=int(size[i]), arrival=arr_day, departure=dep_day,
            arrival_min=arr_min, departure_min=dep_min, arrive_at=arrive_at, depart_from=depart_from,
            must_visit=tuple(must), interests=interests, day_start_min=420.0 if long_trip else 480.0,
            day_end_min=1260.0 if long_trip else 1200.0, price_band=b, budget_cny=round(budget, 0),
            packed_lunch=long_trip))
    return tuple(groups)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write the seeded demo week (multi-day groups) as CSV or JSON.")
    ap.add_argument("--out", type=Path, required=True, help="output file (.csv or .json)")
    ap.add_argument("--groups", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    groups = generate_demo_week(args.groups, args.seed)
    write_group_requests(groups, args.out)
    print(f"{args.out}: {len(groups)} groups, {sum(g.size for g in groups):,} persons")


if __name__ == "__main__":
    main()
