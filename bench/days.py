"""Benchmark of live day plans (issue 17) -> the ``days`` section of ``bench/RESULTS.md``.

``python -m bench.days [--groups 5000] [--bookings 200] [--quick]`` measures, with the HTTP server
in the loop (uvicorn in this process, clients over TCP with httpx; fixed seeds):

1. **Booking latency** with ``--groups`` groups already in the day (``instances.demand_generator``,
   seed 2026, planned at once by ``POST /v1/days``): ``--bookings`` more groups posted one by one
   to ``/v1/days/{date}/bookings``; p50/p95/max wall time per request (target p95 <= 50 ms).
2. **Re-plan after an event** on that day: a road closure at 11:00 and a Potala quota cut at 12:00
   posted to ``/v1/days/{date}/events`` (time limit 5 s): wall time of the request, the re-plan's
   own time, groups changed, and the verifier's violations on the stored version (target: within
   the limit, 0 violations).
3. **Concurrency**: 8 clients at once booking 30-person groups into the Potala's 10:00 slot cut to
   100 places: admitted persons must be exactly what fits (3 x 30), the rest told ``full`` with
   alternatives.
4. **Replay of the demo day** (``lhasa-ops day replay``): 320 bookings in a seeded random order and
   three disruptions; violations over every version and the online/offline score ratio.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from bench.results_md import table, write_section


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: str):
    import os

    import uvicorn

    os.environ["LHASA_OPS_DB"] = db
    os.environ.pop("LHASA_OPS_API_KEYS", None)
    os.environ.pop("LHASA_OPS_API_KEYS_FILE", None)
    os.environ.setdefault("LHASA_OPS_MAX_TIME_LIMIT_S", "120")
    os.environ.setdefault("LHASA_OPS_MAX_BODY_BYTES", str(64 << 20))  # 5,000 groups in one POST
    from api.http.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.05)
    return server, th, f"http://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=5000)
    ap.add_argument("--bookings", type=int, default=200)
    ap.add_argument("--create-time-limit", type=float, default=60.0)
    ap.add_argument("--event-time-limit", type=float, default=5.0)
    ap.add_argument("--quick", action="store_true", help="500 groups, 50 bookings, no section written")
    args = ap.parse_args(argv)
    if args.quick:
        args.groups, args.bookings, args.create_time_limit = 500, 50, 10.0
    from api.http.schemas import MAX_GROUPS
    from api.services.day_store import DayStore
    from api.services.days import DayService, _demo_road, demo_log, replay
    from api.services.tours import lhasa_network
    from instances.demand import groups_to_records
    from instances.demand_generator import generate_demand
    from optimizer.core.stop import StoppingCriterion
    from optimizer.days import verify_state

    net = lhasa_network()
    tmp = Path(tempfile.mkdtemp(prefix="bench_days_"))
    db = str(tmp / "days.sqlite")
    server, th, url = _serve(db)
    rows: list[list[object]] = []
    notes: list[str] = []
    try:
        client = httpx.Client(base_url=url, timeout=600)
        groups = generate_demand(net, args.groups + args.bookings, seed=2026)
        recs = groups_to_records(groups)
        t = time.perf_counter()
        if args.groups <= MAX_GROUPS:
            r = client.post(
                "/v1/days",
                json={
                    "date": "2026-08-01",
                    "groups": recs[: args.groups],
                    "time_limit_s": args.create_time_limit,
                },
            )
            assert r.status_code == 201, r.text
            created, how = r.json(), "POST /v1/days"
        else:  # over the endpoint's maximum: the same service writes version 1 into the server's store
            created = DayService(DayStore(db), net).create(
                "2026-08-01", recs[: args.groups], StoppingCriterion(max_runtime_s=args.create_time_limit)
            )
            how = f"the day service (over the {MAX_GROUPS:,}-group maximum of POST /v1/days)"
            r = client.get("/v1/days/2026-08-01")  # the server loads the stored day before the timed bookings
            assert r.status_code == 200, r.text
        notes.append(
            f"First plan of {args.groups:,} groups by {how}: {time.perf_counter() - t:.1f} s wall "
            f"(search {created['solve']['runtime_s']:.1f} s, {created['solve']['iterations']} iterations), "
            f"{int(created['kpis']['groups_served']):,} served, 0 violations."
        )
        lat, status = [], {}
        for rec in recs[args.groups :]:
            t = time.perf_counter()
            r = client.post("/v1/days/2026-08-01/bookings", json={"group": rec})
            lat.append((time.perf_counter() - t) * 1000)
            key = "booked" if r.status_code == 201 else r.json().get("code", str(r.status_code))
            status[key] = status.get(key, 0) + 1
        lat_a = np.array(lat)
        rows.append(
            [
                f"booking insertion ({args.groups:,} groups in the day, {args.bookings} bookings over HTTP)",
                f"p50 {np.percentile(lat_a, 50):.1f} ms, p95 {np.percentile(lat_a, 95):.1f} ms, "
                f"max {lat_a.max():.1f} ms",
                "p95 <= 50 ms",
                ", ".join(f"{k} {v}" for k, v in sorted(status.items())),
            ]
        )
        road = _demo_road(net).split(";")
        for body in (
            {"kind": "road_closed", "at": "11:00", "road": road},
            {"kind": "quota_cut", "at": "12:00", "site_id": "potala", "quota": 500},
        ):
            t = time.perf_counter()
            r = client.post("/v1/days/2026-08-01/events", json=body | {"time_limit_s": args.event_time_limit})
            wall = time.perf_counter() - t
            assert r.status_code == 200, r.text
            ans = r.json()
            svc = DayService(DayStore(db), net)
            tv = time.perf_counter()
            viol = len(verify_state(svc.state("2026-08-01")))
            tv = time.perf_counter() - tv
            rows.append(
                [
                    f"re-plan after {body['kind']} at {body['at']} "
                    f"({args.groups + status.get('booked', 0):,} groups)",
                    f"re-plan {ans['solve']['runtime_s']:.2f} s "
                    f"(request {wall:.1f} s incl. verifier + store); "
                    f"{ans['groups_changed']} groups changed, {len(ans['replanned'])} re-planned, "
                    f"{len(ans['lost_visits'])} visits lost",
                    f"<= {args.event_time_limit:g} s, 0 violations",
                    f"{viol} violations (independent check {tv:.1f} s)",
                ]
            )
        # concurrency
        client.post("/v1/days", json={"date": "2026-08-02", "groups": [], "iterations": 1})
        client.post(
            "/v1/days/2026-08-02/events",
            json={"kind": "quota_cut", "at": "00:00", "site_id": "potala", "quota": 100, "iterations": 1},
        )
        answers: list[tuple[int, dict]] = []
        barrier = threading.Barrier(8)

        def one(k: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                barrier.wait()
                g = {
                    "group_id": f"C{k}",
                    "size": 30,
                    "start": "lhasa_railway",
                    "end": "lhasa_railway",
                    "day_window": ["08:00", "19:00"],
                    "must_visit": ["potala"],
                }
                r = c.post(
                    "/v1/days/2026-08-02/bookings", json={"group": g, "wanted_slots": {"potala": "10:00"}}
                )
                answers.append((r.status_code, r.json()))

        ts = [threading.Thread(target=one, args=(k,)) for k in range(8)]
        for x in ts:
            x.start()
        for x in ts:
            x.join()
        ok = sum(1 for s, _ in answers if s == 201)
        full = [a for s, a in answers if s == 409 and a.get("code") == "full"]
        day2 = DayService(DayStore(db), net).state("2026-08-02")
        persons = sum(
            day2.groups[g].size
            for g in day2.groups
            for s in day2.segments[g]
            if s.route
            for v in s.route.visits
            if v.site_id == "potala" and 600 <= v.start < 660
        )
        rows.append(
            [
                "8 concurrent clients, last 100 places of potala 10:00 (30 persons each)",
                f"{ok} admitted ({persons} persons), {len(full)} told full "
                f"({sum(1 for a in full if a['alternatives'])} with alternatives)",
                "exactly 3 admitted (90 <= 100), rest full with alternatives",
                f"{len(verify_state(day2))} violations",
            ]
        )
    finally:
        server.should_exit = True
        th.join(timeout=10)
    # replay of the demo day (service in process; the CLI runs the same function)
    log = demo_log(tmp / "demo_day.csv", seed=0)
    rep = replay(
        log,
        store=DayStore(str(tmp / "replay.sqlite")),
        time_limit_s=args.event_time_limit,
        offline_iterations=5000,
    )
    rows.append(
        [
            "replay of the demo day (320 bookings, seeded order; quota cut, road closure, late coach)",
            f"{rep.booked} booked, {rep.refused} refused; online {rep.online_score_before_events:,.0f} "
            f"({rep.online_groups_served_before_events} served) vs whole day at once "
            f"{rep.offline_score:,.0f} ({rep.offline_groups_served} served): ratio {rep.ratio:.3f}; "
            f"after the 3 events {rep.online_score:,.0f}",
            "verifier-clean after every event",
            f"{rep.violations} violations over {rep.versions} versions",
        ]
    )
    events = table(
        ["event", "groups changed", "re-planned", "visits lost", "re-plan s", "score after"],
        [
            [
                f"{e['kind']} {e['at']}",
                e["groups_changed"],
                e["replanned"],
                e["lost_visits"],
                f"{e['runtime_s']:.2f}",
                f"{e['total_score']:,.0f}",
            ]
            for e in rep.events
        ],
    )
    body = (
        table(["measure", "result", "target", "check"], rows)
        + "\n\n"
        + "\n".join(f"- {n}" for n in notes)
        + "\n- Timings on the shared 2-core machine (other benchmarks and test runs may load it).\n\n"
        "Replay events:\n\n" + events + "\n"
    )
    print(body)
    if not args.quick:
        write_section(
            "days",
            "Live day plans (issue 17): bookings, re-planning, concurrency, replay",
            "python -m bench.days",
            body,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
