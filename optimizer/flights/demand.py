"""Synthetic sightseeing-flight bookings (seeded).

:func:`random_bookings` draws a day of bookings for a product menu: product mix by weight (default:
uniform), party sizes 1-5 (P = .25, .35, .20, .12, .08: couples and small families dominate,
assumption), desired take-offs clustered around a morning peak (10:30, sd 60 min, 55 %) and an
afternoon peak (15:30, sd 75 min, 45 %) clipped to the flying day and rounded to 5 minutes, and
windows of 30-120 minutes either side of the desired time (clipped to the day). Same seed, same
bookings (``numpy.random.default_rng``). Used by ``bench/flights.py`` and the Lhasa example
``instances/lhasa/flight_bookings_example.csv`` (the CSV format: ``instances.flights``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimizer.core.errors import InvalidInput
from optimizer.flights.problem import Booking, FlightProduct

__all__ = ["PARTY_P", "PEAKS", "random_bookings"]

PARTY_P = (0.25, 0.35, 0.20, 0.12, 0.08)  # party sizes 1..5
PEAKS = ((630, 60, 0.55), (930, 75, 0.45))  # (mean minute, sd minutes, share)


def random_bookings(products: Sequence[FlightProduct], n: int, seed: int = 0, day: tuple[int, int] = (480, 1140),
                    weights: Sequence[float] | None = None, prefix: str = "bk") -> tuple[Booking, ...]:
    """``n`` bookings over ``products`` (ids ``{prefix}001`` ...), desired take-offs inside ``day`` (minutes).

    ``weights``: relative demand per product (default uniform). Raises ``InvalidInput`` for an empty
    menu, a negative ``n`` or weights that do not match the menu.
    """
    if not products:
        raise InvalidInput("products", [], "need at least one product")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidInput("n", n, "must be an integer >= 0")
    w = np.ones(len(products)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(products),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InvalidInput("weights", weights, "need one non-negative weight per product, not all zero")
    rng = np.random.default_rng(seed)
    lo, hi = day
    out = []
    width = len(str(max(n, 1)))
    for i in range(n):
        p = products[int(rng.choice(len(products), p=w / w.sum()))]
        size = int(rng.choice(5, p=PARTY_P)) + 1
        k = 0 if rng.random() < PEAKS[0][2] else 1
        mu, sd = PEAKS[k][0], PEAKS[k][1]
        latest = hi - p.block_min
        want = round(float(min(max(rng.normal(mu, sd), lo), max(lo, latest))) / 5.0) * 5
        want = min(max(want, lo), max(lo, latest))
        before, after = (round(float(rng.uniform(30, 120)) / 5.0) * 5 for _ in range(2))
        out.append(Booking(f"{prefix}{i + 1:0{max(3, width)}d}", p.id, size,
                           (max(lo, want - before), min(max(want, latest), want + after)), want))
    return tuple(out)
