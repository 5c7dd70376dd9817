"""Station tools on a scenario's plan: a ``stations`` table in the scenario file sites
stations and schedules EV charging on each scenario's own network and plan; their figures join the KPIs."""

from __future__ import annotations

import importlib
import json

import pytest

from api.services.scenarios import STATION_KPIS, run_file

if not hasattr(importlib.import_module("api.services.stations"), "site_stations"):
    pytest.skip("api.services.stations.site_stations is not there yet", allow_module_level=True)
pytest.importorskip("api.services.station_ops")

FILE = """
[base]
iterations = 60
[base.demand]
groups = 30
seed = 3
[base.stations]
siting = { kind = "oxygen", p = 2 }
charging = { chargers = 2, time_limit_s = 5 }

[[scenario]]
name = "plain"

[[scenario]]
name = "potala closed"
closed_sites = ["potala"]
stations = { siting = { kind = "charger", p = 2, min_path_km = 20 } }
"""


def test_station_tools_run_on_each_scenarios_plan(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(FILE, encoding="utf-8")
    out = run_file(f, tmp_path / "out", jobs=1)
    assert out.violations == () and out.run.unserved == ()
    rows = {r["scenario"]: r for r in out.kpis.iter_rows(named=True)}
    plain, closed = rows["plain"], rows["potala closed"]
    assert set(STATION_KPIS) <= set(out.kpis.columns)
    assert plain["stations_siting_kind"] == "oxygen" and len(plain["stations_siting_chosen"].split()) == 2
    assert plain["stations_siting_status"] in ("optimal", "feasible") and 0 < plain["stations_siting_covered_pct"] <= 100
    assert plain["stations_charging_status"] in ("optimal", "feasible")
    assert closed["stations_siting_kind"] == "charger" and closed["stations_charging_status"] is None  # replaced table
    doc = json.loads((tmp_path / "out" / "plain" / "stations.json").read_text(encoding="utf-8"))
    assert set(doc) == {"siting", "charging"} and doc["siting"]["verifier"] == "ok"
    assert doc["siting"]["chosen"] == plain["stations_siting_chosen"].split()
    kpis = json.loads((tmp_path / "out" / "plain" / "kpis.json").read_text(encoding="utf-8"))
    assert "stations" not in kpis and kpis["stations_siting_p"] == 2
