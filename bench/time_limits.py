"""Time limits at every accepted size (issue 14 build 5): each solve endpoint at its largest request.

For every synchronous solve endpoint the script builds the largest request it accepts (seeded:
tour groups from ``instances.demand_generator``, deliveries from ``instances.drones.random_deliveries``,
bookings from ``optimizer.flights.random_bookings``), posts it through the HTTP app (FastAPI
``TestClient``, the whole ASGI stack: validation, body limit, error handlers, JSON) with
``time_limit_s=1`` after a warm-up (kernels compiled: ``/readyz`` 200, then one small request
per endpoint so that lazy imports and solver libraries are loaded), and tabulates the wall time
of the request as the client sees it, the status word and the verifier's verdict. The target is
``time_limit_s`` + 0.5 s (``TARGET_S``): 1.5 s. Sizes are the schema maxima of
``api/http/routes`` and ``api/http/schemas`` (``MAX_GROUPS``, ``MAX_DELIVERIES``, ``MAX_BOOKINGS``,
...), read from the modules so that the table follows them.

Run: ``python -m bench.time_limits [--quick] [--only TEXT]`` (``--quick``: one run per case instead of
three; ``--only``: the cases whose name contains TEXT, printed, RESULTS.md left alone).
Writes the ``time_limits`` section of ``bench/RESULTS.md``. Wall times depend on the machine's
load; the script reports the load average next to the table, so rerun it on a quiet machine for
the reference numbers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.results_md import table, write_section

LIMIT_S = 1.0
TARGET_S = LIMIT_S + 0.5
"""Wall-clock target of one request with ``time_limit_s = LIMIT_S`` (issue 14 build 5)."""
SEED = 2026


def _groups(n: int) -> list[dict[str, Any]]:
    from api.services.tours import lhasa_network
    from instances.demand import groups_to_records
    from instances.demand_generator import generate_demand
    return groups_to_records(generate_demand(lhasa_network(), n_groups=n, seed=SEED))


def _deliveries(n: int) -> list[dict[str, Any]]:
    from instances.drones import random_deliveries
    from optimizer.core.clock import fmt_clock
    return [{"id": d.id, "lon": d.lon, "lat": d.lat, "weight_kg": d.weight_kg, "open": fmt_clock(d.window[0]),
             "close": fmt_clock(d.window[1]), "priority": d.priority} for d in random_deliveries(n, seed=SEED)]


def _bookings(n: int) -> list[dict[str, Any]]:
    from api.services.flights import lhasa_menu
    from optimizer.core.clock import fmt_clock
    from optimizer.flights import random_bookings
    return [{"id": b.id, "product_id": b.product_id, "party_size": b.party_size, "open": fmt_clock(b.window[0]),
             "close": fmt_clock(b.window[1]), "desired": fmt_clock(b.desired_min)}
            for b in random_bookings(lhasa_menu(), n, seed=SEED, day=(540, 1140))]


@dataclass(frozen=True)
class Case:
    """One row: ``path`` posted with ``body()`` (+ ``time_limit_s``); ``size`` describes the body."""

    name: str
    path: str
    size: str
    body: Callable[[], dict[str, Any]]


def verdict(path: str, doc: dict[str, Any]) -> tuple[str, str]:
    """(status word, verifier verdict 'ok' / 'N violations') of an endpoint's answer."""
    if path == "/v1/tours/plan":
        status = doc.get("stopped_by") or "-"
        bad = doc.get("violations") or []
    elif path == "/v1/stations/siting":
        status, bad = doc.get("status", "-"), ([] if doc.get("verifier") == "ok" else [doc.get("verifier")])
    elif path.startswith("/v1/stations/"):
        status, bad = doc.get("status", "-"), doc.get("verifier") or []
    elif path == "/v1/flights/products":
        per = doc.get("violations") or {}
        bad = [m for msgs in per.values() for m in msgs]
        n_opt = sum(1 for p in doc.get("products", []) if p.get("optimal"))
        status = f"{n_opt}/{len(doc.get('products', []))} optimal"
    else:
        status = doc.get("status") or (doc.get("stats") or {}).get("status", "-")
        bad = doc.get("violations") or []
    return str(status), "ok" if not bad else f"{len(bad)} violations"


def cases() -> list[Case]:
    """The largest accepted request of every synchronous solve endpoint."""
    from api.http.routes.drones import MAX_DELIVERIES
    from api.http.routes.flight_schedule import MAX_BOOKINGS, MIN_START_STEP_MIN
    from api.http.routes.station_ops import MAX_VEHICLES
    from api.http.routes.stations import MAX_P
    from api.http.schemas import MAX_GROUPS, MAX_STATION_GROUPS
    from optimizer.stations import oxygen as oxy

    big: dict[int, list[dict[str, Any]]] = {}

    def groups(n: int = MAX_STATION_GROUPS) -> list[dict[str, Any]]:
        if n not in big:
            big[n] = _groups(n)
        return big[n]

    n_ox, n_ch = _candidates("oxygen"), _candidates("charger")
    out = [Case("tours plan", "/v1/tours/plan", f"{MAX_GROUPS} groups",
                lambda: {"groups": groups(MAX_GROUPS), "iterations": None})]
    for kind, n_c in (("oxygen", n_ox), ("charger", n_ch)):
        p = min(MAX_P, n_c)
        for backend in ("cpsat", "pulp", "mathopt"):
            model = "MCLP" if kind == "oxygen" else "FRLM"
            out.append(Case(f"stations siting {model} {backend}", "/v1/stations/siting",
                            f"{MAX_STATION_GROUPS} groups, p = p_max = {p}",
                            lambda kind=kind, p=p, backend=backend: {
                                "kind": kind, "p": p, "p_max": p, "backend": backend, "groups": groups(),
                                "iterations": 100_000}))
    out.append(Case("stations charging", "/v1/stations/charging-schedule",
                    f"{MAX_STATION_GROUPS} groups, {MAX_VEHICLES} vehicles",
                    lambda: {"groups": groups(), "max_vehicles": MAX_VEHICLES, "coach_min_size": 1,
                             "iterations": 100_000, "include_sessions": True}))
    for method in ("exact", "policy"):
        out.append(Case(f"stations oxygen {method}", "/v1/stations/oxygen-plan",
                        f"{MAX_STATION_GROUPS} groups, {oxy.MAX_TRUCKS} trucks",
                        lambda method=method: {"groups": groups(), "method": method, "trucks": oxy.MAX_TRUCKS,
                                               "iterations": 100_000}))
    out.append(Case("drones delivery", "/v1/drones/delivery-plan", f"{MAX_DELIVERIES} deliveries",
                    lambda: {"deliveries": _deliveries(MAX_DELIVERIES), "iterations": 20_000}))
    out.append(Case("flights products", "/v1/flights/products", "8 durations, all vertiports and types",
                    lambda: {"durations_min": [15, 30, 45, 60, 90, 120, 180, 240]}))
    out.append(Case("flights schedule", "/v1/flights/schedule",
                    f"{MAX_BOOKINGS} bookings, {MIN_START_STEP_MIN}-min grid, Lhasa menu and fleet",
                    lambda: {"bookings": _bookings(MAX_BOOKINGS), "start_step_min": MIN_START_STEP_MIN}))
    return out


def _candidates(kind: str) -> int:
    from api.services.tours import lhasa_network
    from instances.stations import read_candidate_sites
    return len(read_candidate_sites(kind, lhasa_network())[0])


WARM_BODIES: dict[str, dict[str, Any]] = {
    "/v1/tours/plan": {"groups": [{"group_id": "w", "size": 5, "start": "potala", "end": "potala",
                                   "day_window": ["08:00", "18:00"]}]},
    "/v1/stations/siting": {"kind": "oxygen", "p": 2, "iterations": 10},
    "/v1/stations/charging-schedule": {"iterations": 10, "max_vehicles": 2},
    "/v1/stations/oxygen-plan": {"iterations": 10, "method": "policy"},
    "/v1/drones/delivery-plan": {"deliveries": [{"id": "w", "lon": 91.1, "lat": 29.66, "weight_kg": 1.0}],
                                 "iterations": 1},
    "/v1/flights/products": {"durations_min": [15]},
    "/v1/flights/schedule": {"bookings": [{"id": "w", "product_id": "dagze_ga_evtol_30", "party_size": 1,
                                           "open": "10:00", "close": "12:00", "desired": "11:00"}]},
}


def run(quick: bool, only: str | None = None) -> list[list[object]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from api.http.app import create_app

    os.environ.setdefault("LHASA_OPS_DB", os.path.join(tempfile.mkdtemp(prefix="lhasa_tl_"), "jobs.sqlite"))
    os.environ.pop("LHASA_OPS_API_KEYS", None)
    os.environ.pop("LHASA_OPS_API_KEYS_FILE", None)
    os.environ["LHASA_OPS_MAX_BODY_BYTES"] = str(64 * 2**20)  # the request size, not the body cap, is measured
    repeats = 1 if quick else 3
    rows: list[list[object]] = []
    with TestClient(create_app()) as client:
        t0 = time.perf_counter()
        while client.get("/readyz").status_code != 200:
            if time.perf_counter() - t0 > 600:
                raise SystemExit("the server did not become ready in 600 s")
            time.sleep(0.2)
        for path, body in WARM_BODIES.items():
            r = client.post(path, json=body | {"time_limit_s": 10})
            if r.status_code != 200:
                raise SystemExit(f"warm-up {path}: HTTP {r.status_code} {r.text[:300]}")
        for case in cases():
            if only is not None and only not in case.name:
                continue
            body = case.body() | {"time_limit_s": LIMIT_S}
            walls, status, ok, code = [], "-", "-", 0
            for _ in range(repeats):
                t = time.perf_counter()
                r = client.post(case.path, json=body)
                walls.append(time.perf_counter() - t)
                code = r.status_code
                if code == 200:
                    status, ok = verdict(case.path, r.json())
                else:
                    status, ok = f"HTTP {code}", r.text[:80]
            worst = max(walls)
            rows.append([case.name, f"`{case.path}`", case.size, f"{worst:.2f}",
                         " / ".join(f"{w:.2f}" for w in walls), status, ok,
                         "yes" if worst <= TARGET_S and code == 200 else "**no**"])
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
    return rows


HEADER = ["endpoint", "path", "accepted maximum (request)", "worst wall s", "wall s per run", "status",
          "verifier", f"<= {TARGET_S:g} s"]


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one run per case instead of three")
    parser.add_argument("--only", default=None, help="run the cases whose name contains this text; prints the "
                                                     "rows and leaves bench/RESULTS.md alone")
    args = parser.parse_args(argv)
    quick = args.quick
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = run(quick, args.only)
    if args.only is not None:
        return
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    body = (f"Every synchronous solve endpoint at the largest request it accepts, `time_limit_s = {LIMIT_S:g}`, "
            f"through the HTTP app (TestClient) after a warm-up; wall = the client's request time (validation, "
            f"tour plan, model building, solve, verifier, JSON). {'One run' if quick else 'Worst of 3 runs'} per "
            f"case. Load average (1 min) {load:.1f} at the start, {load_end:.1f} at the end "
            f"({os.cpu_count()} cores{', shared with other work' if load > 1 else ''}).\n\n"
            + table(HEADER, rows))
    path = write_section("time_limits", "Time limits at the accepted maxima (issue 14 build 5)",
                         "python -m bench.time_limits" + (" --quick" if quick else ""), body)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
