"""Issue 14 build 5 / issue 15 item 3 at the API: the accepted maxima (a request over them is a 422
naming the field and the bound), the time kept back from the search for the work after it, the
server answering while its kernels compile (``/readyz`` says so), and the CLI's first-run note."""

from __future__ import annotations

import threading
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

import api.http.app as app_module
import api.http.routes.health as health
import api.http.routes.tours as tours_route
from api.cli import first_run, launch
from api.http.routes.drones import MAX_DELIVERIES
from api.http.routes.flight_schedule import MIN_START_STEP_MIN
from api.http.schemas import MAX_GROUPS, MAX_STATION_GROUPS
from api.services.tours import MIN_SEARCH_S, less_time
from optimizer.core.errors import InvalidInput
from optimizer.core.stop import StoppingCriterion
from optimizer.core.warmup import KernelWarmUp


@pytest.fixture()
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("LHASA_OPS_DB", str(tmp_path / "jobs.sqlite"))
    monkeypatch.setenv("LHASA_OPS_MAX_BODY_BYTES", str(16 * 2**20))
    monkeypatch.delenv("LHASA_OPS_API_KEYS", raising=False)
    monkeypatch.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)


def group(i: int) -> dict:
    return {"group_id": f"G{i}", "size": 5, "start": "potala", "end": "potala", "day_window": ["08:00", "18:00"]}


def delivery(i: int) -> dict:
    return {"id": f"d{i}", "lon": 91.1, "lat": 29.66, "weight_kg": 1.0}


def test_less_time():
    stop = StoppingCriterion(max_runtime_s=1.0, max_iterations=10)
    assert less_time(stop, 0.25).max_runtime_s == pytest.approx(0.75)
    assert less_time(stop, 0.25).max_iterations == 10
    assert less_time(stop, 5.0).max_runtime_s == MIN_SEARCH_S  # never 0 or negative
    assert less_time(stop, 0.0) is stop
    no_limit = StoppingCriterion(max_iterations=10)
    assert less_time(no_limit, 1.0) is no_limit


@pytest.mark.parametrize("path, body, field", [
    ("/v1/tours/plan", lambda: {"groups": [group(i) for i in range(MAX_GROUPS + 1)]}, "groups"),
    ("/v1/stations/siting", lambda: {"kind": "oxygen", "p": 2,
                                     "groups": [group(i) for i in range(MAX_STATION_GROUPS + 1)]}, "groups"),
    ("/v1/stations/charging-schedule", lambda: {"groups": [group(i) for i in range(MAX_STATION_GROUPS + 1)]},
     "groups"),
    ("/v1/drones/delivery-plan", lambda: {"deliveries": [delivery(i) for i in range(MAX_DELIVERIES + 1)]},
     "deliveries"),
    ("/v1/flights/schedule", lambda: {"bookings": [{"id": "b", "product_id": "x", "party_size": 1, "open": "10:00",
                                                    "close": "11:00", "desired": "10:30"}],
                                      "start_step_min": MIN_START_STEP_MIN - 1}, "start_step_min"),
])
def test_over_the_accepted_maximum_is_a_422_naming_the_field(env, path, body, field):
    c = TestClient(app_module.create_app())  # no lifespan: validation only
    r = c.post(path, json=body())
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["code"] == "invalid_input" and field in (err["field"] or ""), err


def test_tours_plan_keeps_time_for_the_report(env, monkeypatch):
    seen = {}

    def capture(records, network, stop, **kw):
        seen["stop"] = stop
        raise InvalidInput("groups", len(records), "captured")

    monkeypatch.setattr(tours_route.tours, "plan_records", capture)
    c = TestClient(app_module.create_app())
    n = 400
    r = c.post("/v1/tours/plan", json={"groups": [group(i) for i in range(n)], "time_limit_s": 1.0})
    assert r.status_code == 422 and r.json()["message"].endswith("captured")
    assert seen["stop"].max_runtime_s == pytest.approx(1.0 - tours_route.REPLY_S_PER_GROUP * n)


def test_server_answers_while_the_kernels_compile(env, monkeypatch):
    """/healthz answers and /readyz says what it is compiling until the tour kernels are done; the
    drone kernels compile after them and do not hold readiness back."""
    release = threading.Event()
    drones_release = threading.Event()
    tours = KernelWarmUp("tours", lambda: release.wait(60))
    drones = KernelWarmUp("drones", lambda: drones_release.wait(60))
    monkeypatch.setattr(health, "KERNEL_FAMILIES", (tours, drones))
    monkeypatch.setattr(health, "_WARM_THREAD", [])
    with TestClient(app_module.create_app()) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["code"] == "warming_up", r.text
        kernels = r.json()["checks"]["kernels"]
        assert kernels["tours"].startswith("compiling (") and kernels["drones"] == "waiting", kernels
        assert "tours compiling" in r.json()["message"] and "drones waiting" in r.json()["message"]
        release.set()
        t0 = time.monotonic()
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() - t0 < 30
            time.sleep(0.05)
        kernels = c.get("/readyz").json()["checks"]["kernels"]
        assert kernels["tours"] == "compiled" and kernels["drones"].startswith("compiling ("), kernels
        drones_release.set()
        while not drones.is_compiled():
            assert time.monotonic() - t0 < 30
            time.sleep(0.05)
        assert c.get("/readyz").json()["checks"]["kernels"] == {"tours": "compiled", "drones": "compiled"}


def test_a_failed_warm_up_does_not_hold_readiness_back(env, monkeypatch):
    """A family whose warm-up raises is logged and marked 'failed'; /readyz does not wait for it (its
    first request compiles it)."""
    def boom() -> None:
        raise RuntimeError("no compiler")

    tours = KernelWarmUp("tours", boom)
    monkeypatch.setattr(health, "KERNEL_FAMILIES", (tours,))
    monkeypatch.setattr(health, "_WARM_THREAD", [])
    monkeypatch.setattr(health, "_FAILED", set())
    with TestClient(app_module.create_app()) as c:
        t0 = time.monotonic()
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() - t0 < 30
            time.sleep(0.05)
        assert c.get("/readyz").json()["checks"]["kernels"] == {"tours": "failed"}
        assert not tours.is_compiled()


def _fake_tour_cache(cache):
    """Numba cache index files (empty) for a kernel of each engine source, as ``kernels_cached`` looks for."""
    (cache / "engine_x").mkdir()
    for name in ("ils.ils_iterations", "kernels.greedy_fill", "moves.replace_route"):
        (cache / "engine_x" / f"{name}-99.py311.nbi").write_text("")


def test_first_run_note(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LHASA_OPS_COMPILE_WORKERS", "0")  # no compile workers here (their own test below)
    monkeypatch.setattr(first_run, "NOTE_SHOWN", [False])
    assert not launch.kernels_cached()
    import api.cli.main as cli_main
    ran = []
    monkeypatch.setattr(cli_main, "app", lambda: ran.append(True))
    monkeypatch.setattr("sys.argv", ["lhasa-ops", "plan"])
    launch.main()
    assert ran and launch.FIRST_RUN_NOTE in capsys.readouterr().err
    _fake_tour_cache(tmp_path)
    assert launch.kernels_cached()
    launch.main()
    assert launch.FIRST_RUN_NOTE not in capsys.readouterr().err  # cached: nothing to say
    monkeypatch.setattr("sys.argv", ["lhasa-ops", "sites"])
    (tmp_path / "engine_x" / "ils.ils_iterations-99.py311.nbi").unlink()
    launch.main()
    assert launch.FIRST_RUN_NOTE not in capsys.readouterr().err  # a command that compiles nothing


def test_the_entry_point_starts_the_compile_workers_of_a_cold_family(monkeypatch, tmp_path):
    """``lhasa-ops plan``/``serve`` start the tour kernels' compile workers before the heavy imports when
    the tour cache is cold, ``itineraries plan`` the itinerary kernels' workers; a warm cache, another
    command or ``--help`` start none."""
    from optimizer.core import warmup

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    started = []
    monkeypatch.setattr(warmup, "spawn_workers", lambda module, n: started.append((module, n)) or object())
    assert launch.start_compile_workers(["plan", "--out", "x"]) == "tours"
    assert launch.start_compile_workers(["serve"]) == "tours"
    assert launch.start_compile_workers(["itineraries", "plan"]) == "itineraries"
    assert started == [("optimizer.tours.compile_plan", 2), ("optimizer.tours.compile_plan", 2),
                       ("api.services.itineraries_compile_plan", 2)]
    assert launch.start_compile_workers(["sites"]) is None
    assert launch.start_compile_workers(["plan", "--help"]) is None
    _fake_tour_cache(tmp_path)
    assert launch.start_compile_workers(["plan"]) is None  # cached: nothing to compile
    assert len(started) == 3
