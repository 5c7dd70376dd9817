"""Synthetic sightseeing-flight bookings (seeded) and the bookings CSV format (issue 8).

:func:`random_bookings` draws a day of bookings for a product menu: product mix by weight (default:
uniform), party sizes 1-5 (P = .25, .35, .20, .12, .08: couples and small families dominate,
assumption), desired take-offs clustered around a morning peak (10:30, sd 60 min, 55 %) and an
afternoon peak (15:30, sd 75 min, 45 %) clipped to the flying day and rounded to 5 minutes, and
windows of 30-120 minutes either side of the desired time (clipped to the day). Same seed, same
bookings (``numpy.random.default_rng``). Used by ``bench/flights.py`` and the Lhasa example
``instances/lhasa/flight_bookings_example.csv``.

Bookings CSV (``#`` lines are comments): ``id,product_id,party_size,open,close,desired`` with times
as ``HH:MM``. :func:`read_bookings_csv` raises ``InvalidInput`` naming the file, row and field.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optimizer.domain import InvalidInput, fmt_clock, parse_clock
from optimizer.flights_domain import Booking, FlightProduct

__all__ = ["PARTY_P", "random_bookings", "read_bookings_csv", "write_bookings_csv"]

PARTY_P = (0.25, 0.35, 0.20, 0.12, 0.08)  # party sizes 1..5
PEAKS = ((630, 60, 0.55), (930, 75, 0.45))  # (mean minute, sd minutes, share)
BOOKING_COLUMNS = ("id", "product_id", "party_size", "open", "close", "desired")


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


def write_bookings_csv(bookings: Sequence[Booking], path: Path | str, comment: str = "") -> None:
    """Write bookings as CSV (``comment`` lines first, each prefixed with ``# ``)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.writelines(f"# {line}\n" for line in comment.splitlines())
        wr = csv.writer(fh)
        wr.writerow(BOOKING_COLUMNS)
        for b in bookings:
            wr.writerow([b.id, b.product_id, b.party_size, fmt_clock(b.window[0]), fmt_clock(b.window[1]),
                         fmt_clock(b.desired_min)])


def _minute(text: str, field_name: str) -> int:
    v = parse_clock(text, field_name)
    if v != int(v):
        raise InvalidInput(field_name, text, "must be a whole minute")
    return int(v)


def read_bookings_csv(path: Path | str) -> tuple[Booking, ...]:
    """Bookings from CSV; ``InvalidInput`` names ``<file> row <k>.<field>`` and the value (rows from 1)."""
    name = Path(path).name
    out = []
    with open(path, encoding="utf-8-sig") as fh:
        reader = csv.DictReader(line for line in fh if not line.lstrip().startswith("#"))
        missing = [c for c in BOOKING_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"{name}.columns", reader.fieldnames, f"missing column(s) {', '.join(missing)}")
        for k, r in enumerate(reader, start=1):
            where = f"{name} row {k}"
            try:
                size = r["party_size"].strip()
                if not size.lstrip("-").isdigit():
                    raise InvalidInput(f"{where}.party_size", size, "must be a whole number of persons")
                out.append(Booking(r["id"].strip(), r["product_id"].strip(), int(size),
                                   (_minute(r["open"], f"{where}.open"), _minute(r["close"], f"{where}.close")),
                                   _minute(r["desired"], f"{where}.desired")))
            except InvalidInput as e:
                if str(e.field).startswith(where):
                    raise
                raise InvalidInput(f"{where}.{e.field}", e.value, e.message) from None
            except (AttributeError, TypeError):
                raise InvalidInput(where, r, "row has missing values") from None
    return tuple(out)
