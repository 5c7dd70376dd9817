"""Issue 18: the web app's server side (``api.http.routes.web``, ``api.services.web``) without a browser.

Protects: ``/``, ``/docs`` and ``/redoc`` reference only assets this server serves (no CDN); the map
layers match the embedded data; the day plan the page draws is accepted by the independent
verifier and its GeoJSON and slot usage agree with its routes; uploads are validated with the
field named; scenario headlines name the first limit.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.http.app import create_app
from api.http.routes.web import STATIC_DIR
from api.services import scenarios as scenario_service
from api.services import tours
from api.services.web import scenario_headlines
from instances.demand import groups_from_records
from instances.paths import AIRSPACE_GEOJSON, DEMAND_PEAK_DAY_CSV
from optimizer.tours import TourProblem, verify
from optimizer.tours.report import plan_from_dict

SCENARIO_TOML = STATIC_DIR.parents[2] / "scenarios" / "peak_season.toml"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LHASA_OPS_DB", str(tmp_path_factory.mktemp("web") / "jobs.sqlite"))
    mp.delenv("LHASA_OPS_API_KEYS", raising=False)
    mp.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    with TestClient(create_app()) as c:
        yield c
    mp.undo()


def _asset_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html) + re.findall(r"""url:\s*'([^']+)'""", html)


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
def test_pages_load_only_local_assets(client, path):
    """Every script, stylesheet and icon of the page is a path on this server, and it is served."""
    r = client.get(path)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    urls = [u for u in _asset_urls(r.text) if not u.startswith("#")]
    assert urls, r.text[:500]
    for u in urls:
        assert u.startswith("/"), f"{path} loads {u} from elsewhere"
        if u.startswith("/static/"):
            assert client.get(u).status_code == 200, u
    assert "cdn" not in r.text.lower()


def test_vendored_bundles_fetch_nothing_from_a_cdn():
    """The Redoc bundle's logo URL was replaced (vendor/README.md); Swagger's validator badge is off."""
    vendor = STATIC_DIR / "vendor"
    assert "cdn.redoc.ly" not in (vendor / "redoc-2.1.5" / "redoc.standalone.js").read_text(encoding="utf-8")
    for lic in ("leaflet-1.9.4/LICENSE", "swagger-ui-5.17.14/LICENSE", "redoc-2.1.5/LICENSE"):
        assert (vendor / lic).is_file()


def test_docs_turn_off_the_online_validator(client):
    assert '"validatorUrl": null' in client.get("/docs").text


def test_layers_match_the_embedded_data(client):
    net = tours.lhasa_network()
    ly = client.get("/v1/web/layers").json()
    assert {f["properties"]["id"] for f in ly["sites"]["features"]} == {s.id for s in net.sites}
    assert len(ly["roads"]["features"]) == len(net.roads)
    assert {f["properties"]["zone_id"] for f in ly["zones"]["features"]} == set(net.zones)
    no_fly = [f for f in json.loads(AIRSPACE_GEOJSON.read_text(encoding="utf-8"))["features"]
              if f["properties"].get("kind") == "no_fly"]
    assert len(ly["no_fly"]["features"]) == len(no_fly) > 0
    lon0, lat0, lon1, lat1 = ly["bbox"]
    assert all(lon0 <= s.lon <= lon1 and lat0 <= s.lat <= lat1 for s in net.sites)
    assert all(len(f["geometry"]["coordinates"]) == 2 for f in ly["roads"]["features"])


def _check_day_plan(d, groups_records):
    """The answer re-verified from scratch, and its map/usage parts consistent with its routes."""
    net = tours.lhasa_network()
    problem = TourProblem(network=net, groups=groups_from_records(groups_records, net))
    plan = plan_from_dict(d)
    assert verify(problem, plan) == []
    routes = [f for f in d["geojson"]["features"] if f["properties"]["kind"] == "route"]
    assert sorted(f["properties"]["group_id"] for f in routes) == sorted(r["group_id"] for r in d["routes"])
    size = {g.id: g.size for g in problem.groups}
    expected = Counter()
    for r in d["routes"]:
        for v in r["visits"]:
            expected[(v["site_id"], v["slot"])] += size[r["group_id"]]
    assert {(u["site_id"], u["slot"]): u["persons"] for u in d["usage"]} == dict(expected)
    for u in d["usage"]:
        if u["slot_quota"]:
            assert u["persons"] <= u["slot_quota"]


def test_demo_day_plan_is_verified_and_consistent(client):
    r = client.post("/v1/web/day-plan", json={"iterations": 300, "time_limit_s": 30})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["demo"] is True and d["kpis"]["groups"] == 320
    demo = client.get("/v1/web/demo-demand").json()["groups"]
    assert len(demo) == 320
    _check_day_plan(d, demo)


def test_day_plan_for_given_groups_and_a_bad_group(client):
    groups = [{"group_id": "A", "size": 12, "start": "potala", "end": "potala", "day_window": ["09:00", "17:00"],
               "must_visit": ["jokhang"]},
              {"group_id": "B", "size": 30, "start": {"lat": 29.65, "lon": 91.13}, "end": "jokhang",
               "day_window": ["08:00", "18:00"]}]
    r = client.post("/v1/web/day-plan", json={"groups": groups, "iterations": 200, "time_limit_s": 10})
    assert r.status_code == 200, r.text
    assert r.json()["demo"] is False
    _check_day_plan(r.json(), groups)
    bad = [dict(groups[0], must_visit=["atlantis"])]
    r = client.post("/v1/web/day-plan", json={"groups": bad, "time_limit_s": 5})
    assert r.status_code == 422 and "must_visit" in r.json()["field"] and "atlantis" in r.json()["message"]
    r = client.post("/v1/web/day-plan", json={"time_limit_s": 10_000})
    assert r.status_code == 422 and r.json()["field"] == "time_limit_s"


def test_demand_upload_is_validated(client):
    data = DEMAND_PEAK_DAY_CSV.read_bytes()
    r = client.post("/v1/web/demand-file?filename=day.csv", content=data)
    assert r.status_code == 200 and len(r.json()["groups"]) == 320
    header, first, *rest = data.decode("utf-8").splitlines()
    cols = header.split(",")
    cells = first.split(",")
    cells[cols.index("size")] = "many"
    r = client.post("/v1/web/demand-file?filename=day.csv", content="\n".join([header, ",".join(cells), *rest]).encode())
    assert r.status_code == 422 and "size" in (r.json()["field"] or "") and "many" in r.json()["message"]
    r = client.post("/v1/web/demand-file?filename=day.xlsx", content=b"x")
    assert r.status_code == 422 and r.json()["field"] == "file"


def test_scenario_upload_gives_a_document_the_scenario_endpoint_accepts(client):
    r = client.post("/v1/web/scenario-file?filename=peak_season.toml", content=SCENARIO_TOML.read_bytes())
    assert r.status_code == 200
    doc = r.json()["document"]
    assert scenario_service.check_request(doc, 600).scenarios
    r = client.post("/v1/web/scenario-file?filename=x.toml", content=b"[base\nseed = 1")
    assert r.status_code == 422 and r.json()["field"] == "file" and "line" in r.json()["message"]


def test_headlines_of_an_unknown_run_are_404(client):
    r = client.get("/v1/web/scenarios/nope/headlines")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_demo_records_for_drones_and_flights_are_accepted(client):
    dl = client.get("/v1/web/demo-deliveries").json()["deliveries"]
    r = client.post("/v1/drones/delivery-plan", json={"deliveries": dl, "iterations": 20, "time_limit_s": 20})
    assert r.status_code == 200 and r.json()["violations"] == []
    assert r.json()["deliveries"] == len(dl)
    bk = client.get("/v1/web/demo-bookings").json()["bookings"]
    assert len(bk) == 100 and {"id", "product_id", "party_size", "open", "close", "desired"} <= set(bk[0])


def _row(name, family, scale, served, potala, quota=0, unreachable=0):
    return {"scenario": name, "family": family, "demand_scale": scale, "served_pct": served, "peak_util_potala": potala,
            "unserved_quota": quota, "unserved_unreachable": unreachable}


def test_headline_names_the_first_limit_of_a_sweep():
    rows = [_row("peak x2", "peak", 2.0, 82.8, 1.0, quota=110), _row("peak x1", "peak", 1.0, 100.0, 0.9),
            _row("peak x1.5", "peak", 1.5, 95.4, 1.0, quota=22), _row("calm", "calm", 1.0, 100.0, 0.5)]
    h = {x["family"]: x for x in scenario_headlines(rows)}
    assert h["peak"]["en"] == ("peak: the Potala Palace quota is the first limit: 100% of groups served at x1 demand, "
                               "95% at x1.5, 83% at x2")
    assert "布达拉宫" in h["peak"]["zh"] and "83%" in h["peak"]["zh"]
    assert h["peak"]["scenarios"] == ["peak x1", "peak x1.5", "peak x2"]
    assert h["calm"]["en"] == "calm: no limit reached: 100% of groups served"


def test_headline_without_a_full_quota_does_not_blame_one():
    h = scenario_headlines([_row("far", "far", 1.0, 70.0, 0.4, quota=3)])[0]
    assert "quota is the first limit" not in h["en"] and "70%" in h["en"]


def test_headline_blames_a_closed_road_not_the_full_potala():
    """The sample's 'namtso road closed' (Potala full as on every peak day, but the groups lost their
    must-visits to the closed road) once read 'the Potala Palace quota is the first limit'."""
    h = scenario_headlines([_row("namtso road closed", "namtso road closed", 1.0, 93.1, 1.0, unreachable=22)])[0]
    assert h["en"] == ("namtso road closed: the road closure (no open road) is the first limit (22 must-see visits "
                       "missed): 93% of groups served")
    assert "道路关闭" in h["zh"]


def _i18n_keys() -> dict[str, set[str]]:
    text = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    en = text[text.index("  en: {"):text.index("  zh: {")]
    zh = text[text.index("  zh: {"):]
    key = re.compile(r"(?:^|[\s,{])([a-z][a-z0-9_]*):\s*\"", re.MULTILINE)
    return {"en": set(key.findall(en)), "zh": set(key.findall(zh))}


def test_every_label_exists_in_english_and_chinese():
    """The language switch never falls back to a raw key or to English for a label of the page."""
    keys = _i18n_keys()
    assert keys["en"] == keys["zh"], (keys["en"] ^ keys["zh"])
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n="([a-z0-9_]+)"', page))
    used |= set(re.findall(r'\bt\("([a-z0-9_]+)"[,)]', (STATIC_DIR / "app.js").read_text(encoding="utf-8")))
    assert used and used <= keys["en"], used - keys["en"]


def test_with_keys_the_page_and_docs_stay_open_and_planning_needs_a_key(monkeypatch, tmp_path):
    monkeypatch.setenv("LHASA_OPS_DB", str(tmp_path / "jobs.sqlite"))
    monkeypatch.setenv("LHASA_OPS_API_KEYS", "alpha")
    monkeypatch.delenv("LHASA_OPS_API_KEYS_FILE", raising=False)
    with TestClient(create_app()) as c:
        for path in ("/", "/static/app.js", "/docs", "/redoc", "/v1/web/layers", "/v1/web/demo-demand"):
            assert c.get(path).status_code == 200, path
        body = {"groups": [{"group_id": "A", "size": 5, "start": "potala", "end": "potala",
                            "day_window": ["09:00", "17:00"]}], "iterations": 20, "time_limit_s": 5}
        assert c.post("/v1/web/day-plan", json=body).status_code == 401
        assert c.post("/v1/web/day-plan", json=body, headers={"X-API-Key": "alpha"}).status_code == 200


def test_demand_upload_errors_name_the_uploaded_file_not_a_server_path(client):
    """Trial finding: errors of /v1/web/demand-file named the server's temporary copy
    (/tmp/lhasa-upload-XXXX/day.csv) instead of the file the planner uploaded."""
    for body, field in ((b"", "group_id"), (b"group_id,size\n\xff,1\n", "encoding"),
                        (b"group_id,size,bogus\n", "bogus")):
        r = client.post("/v1/web/demand-file?filename=day.csv", content=body)
        j = r.json()
        assert r.status_code == 422 and j["field"] == field, j
        assert j["message"].startswith("day.csv: ") and "lhasa-upload" not in j["message"], j
    r = client.post("/v1/web/demand-file?filename=day.json", content=b"not json")
    assert r.status_code == 422 and r.json()["message"].startswith("day.json: file: path='day.json'")
