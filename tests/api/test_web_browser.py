"""Issue 18: the planners' web app in a real headless Chromium (Debian's ``chromium``, driven by
Playwright for Python through its executable path; never ``playwright install``).

The server is the real one (``lhasa-ops serve`` on a free localhost port, its own SQLite job
store). Every request the page makes is recorded; any host other than the server fails the test
(and is aborted, so the network is effectively off). Screenshots of each page are saved under
``tests/artifacts/web/`` (gitignored) for a person to look at.

Protects: the app loads with only local assets; the demo day is planned, its KPIs shown in words
and one line drawn per routed group (counted against the server's answer); a 2-scenario job runs
to completion with a progress bar, headlines and a readable table; the Chinese switch changes the
labels; the Stations and Low-altitude pages draw their results; ``/docs`` and ``/redoc`` render
with the network off.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from api.services import tours
from instances.paths import DEMAND_PEAK_DAY_CSV
from optimizer.tours import TourProblem, verify
from optimizer.tours.report import plan_from_dict

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``lhasa-ops serve`` on a free port (auth off: no key configured); yields its base URL."""
    tmp = tmp_path_factory.mktemp("web")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("LHASA_OPS_API_KEYS", "LHASA_OPS_API_KEYS_FILE")}
    env["LHASA_OPS_DB"] = str(tmp / "jobs.sqlite")
    cli = shutil.which("lhasa-ops", path=str(Path(sys.executable).parent))
    cmd = [cli, "serve"] if cli else [sys.executable, "-c", "from api.cli.main import app; app()", "serve"]
    log = open(tmp / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([*cmd, "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {(tmp / 'server.log').read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture()
def browser_page(server, tmp_path):
    """A page of a fresh Chromium profile; ``page.foreign`` lists every request to another host."""
    host = urlparse(server).netloc
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS,
                                                    headless=True, viewport={"width": 1280, "height": 860},
                                                    accept_downloads=True)
        foreign: list[str] = []

        def on_request(req) -> None:
            u = urlparse(req.url)
            if u.scheme in ("data", "blob", "about"):
                return
            if u.netloc != host:
                foreign.append(req.url)

        def guard(route) -> None:  # the network is off: only the server answers
            u = urlparse(route.request.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.netloc != host:
                route.abort()
            else:
                route.continue_()

        ctx.on("request", on_request)
        ctx.route("**/*", guard)
        page = ctx.new_page()
        page.foreign = foreign
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.js_errors = errors
        try:
            yield page
        finally:
            ctx.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_planner_day_scenarios_chinese_stations_low_altitude(server, browser_page, tmp_path):
    """The whole must-show flow in one browser session, with no request to any other host."""
    page = browser_page
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    assert page.locator("#tab-day").inner_text() == "Day plan"
    assert page.locator("#map .leaflet-overlay-pane svg path").count() > 50  # roads and sites drawn, no tiles

    # Day plan: the demo day
    page.fill("#day-iter", "500")
    with page.expect_response(lambda r: r.url.endswith("/v1/web/day-plan"), timeout=120_000) as resp:
        page.click("#day-run")
    plan = resp.value.json()
    assert resp.value.status == 200 and plan["violations"] == [] and plan["kpis"]["groups"] == 320
    net = tours.lhasa_network()
    demo = TourProblem(network=net, groups=tours.read_groups(DEMAND_PEAK_DAY_CSV, net))
    assert verify(demo, plan_from_dict(plan)) == []  # the independent verifier accepts what the page shows
    page.wait_for_selector("#day-kpis dt", timeout=30_000)
    kpis = page.locator("#day-kpis").inner_text()
    served = int(plan["kpis"]["groups_served"])
    assert "Groups served" in kpis and f"{served} of 320 groups" in kpis, kpis
    assert "Mean wait before a visit" in kpis and "min per visit" in kpis
    n_routes = len(plan["routes"])
    assert n_routes > 0
    assert page.locator("#map path.route-line").count() == n_routes  # one line per routed group
    second = plan["routes"][1]["group_id"]
    page.select_option("#day-group", second)
    assert second in page.locator("#day-timeline svg").first.inner_html()
    assert page.locator("#day-usage table tr").count() > 3
    _shot(page, "1_day_plan")

    # old-town close-up: the visible site names neither overlap nor leave the map
    page.click("#zoom-town")
    page.wait_for_timeout(800)
    boxes = page.evaluate("""() => {
        const m = document.querySelector('#map').getBoundingClientRect();
        const out = [...document.querySelectorAll('#map .site-label')].filter((e) => e.style.visibility !== 'hidden')
            .map((e) => { const r = e.getBoundingClientRect(); return [e.textContent, r.left, r.top, r.right, r.bottom]; });
        return {map: [m.left, m.top, m.right, m.bottom], labels: out};
    }""")
    ml, mt, mr, mb = boxes["map"]
    labels = boxes["labels"]
    assert len(labels) >= 8, labels
    for i, (text, left, top, right, bottom) in enumerate(labels):
        assert ml <= left and right <= mr and mt <= top and bottom <= mb, f"label {text!r} leaves the map"
        for other in labels[:i]:
            assert right < other[1] or left > other[3] or bottom < other[2] or top > other[4], (text, other[0])
    _shot(page, "1b_day_plan_old_town")

    # downloads of what is shown
    with page.expect_download() as dl:
        page.click("#dl-day-geojson")
    gj = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert sum(f["properties"]["kind"] == "route" for f in gj["features"]) == n_routes
    with page.expect_download() as dl:
        page.click("#dl-day-visits")
    visits_csv = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
    assert visits_csv[0].startswith("group_id,size,seq,site_id") and len(visits_csv) == 1 + plan["kpis"]["visits"]
    with page.expect_download() as dl:
        page.click("#dl-map-png")
    assert Path(dl.value.path()).read_bytes()[:4] == b"\x89PNG"

    # Day plan: an uploaded demand file (the first 6 groups of the peak day)
    upload = tmp_path / "six_groups.csv"
    upload.write_text("\n".join(DEMAND_PEAK_DAY_CSV.read_text(encoding="utf-8").splitlines()[:7]) + "\n", encoding="utf-8")
    page.set_input_files("#day-file", str(upload))
    with page.expect_response(lambda r: r.url.endswith("/v1/web/day-plan"), timeout=120_000) as resp:
        page.click("#day-run")
    small = resp.value.json()
    assert small["demo"] is False and small["kpis"]["groups"] == 6
    assert verify(TourProblem(network=net, groups=tours.read_groups(upload, net)), plan_from_dict(small)) == []
    page.wait_for_function("document.querySelector('#day-kpis').textContent.includes('of 6 groups')", timeout=30_000)
    assert page.locator("#map path.route-line").count() == len(small["routes"])

    # keyboard: arrow keys move between the page tabs
    page.focus("#tab-day")
    page.keyboard.press("ArrowRight")
    assert page.locator("#tab-scenarios").get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == "tab-scenarios"

    # Scenarios: a 2-scenario sweep as a job, to completion
    page.click("#tab-scenarios")
    page.fill("#sc-groups", "40")
    page.fill("#sc-iter", "200")
    page.click("[data-remove='1']")
    page.fill(".scenario[data-i='0'] input[data-k='scale']", "1, 2")
    page.click("#sc-run")
    page.wait_for_function("document.querySelector('#sc-status').textContent.includes('✓')", timeout=240_000)
    assert page.locator("#sc-progress").get_attribute("value") == "2"
    headers = page.locator("#sc-table thead th").all_inner_texts()
    assert headers[1:] == ["demand x1", "demand x2"], headers
    rows = page.locator("#sc-table tbody th").all_inner_texts()
    assert "Groups served, %" in rows and not any("_" in r for r in rows), rows  # readable headers
    assert page.locator("#sc-headlines li").count() == 1
    assert "groups served at x1 demand" in page.locator("#sc-headlines li").first.inner_text()
    page.locator("#sc-headlines").scroll_into_view_if_needed()
    _shot(page, "2_scenarios")

    # Chinese
    page.click("#lang")
    assert page.locator("#tab-day").inner_text() == "日计划"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert "成行团队比例 %" in page.locator("#sc-table tbody").inner_text()
    assert "团队成行" in page.locator("#sc-headlines li").first.inner_text()
    page.locator("#sc-table").scroll_into_view_if_needed()
    _shot(page, "3_scenarios_zh")
    page.click("#tab-day")
    assert "成行团队" in page.locator("#day-kpis").inner_text()
    _shot(page, "4_day_plan_zh")
    page.click("#lang")  # back to English

    # Stations
    page.click("#tab-stations")
    page.click("#st-run")
    page.wait_for_selector("#st-marginal svg", timeout=120_000)
    assert page.locator("#map path.station-chosen").count() == 3
    page.click("#st-charge")
    page.wait_for_selector("#st-ops svg", timeout=120_000)
    page.click("#st-oxygen")
    page.wait_for_function("document.querySelectorAll('#st-ops svg').length === 2", timeout=120_000)
    with page.expect_download() as dl:
        page.click("#dl-st-png")
    assert Path(dl.value.path()).read_bytes()[:4] == b"\x89PNG"
    _shot(page, "5_stations")

    # Low altitude
    page.click("#tab-air")
    page.click("#air-drones")
    page.wait_for_selector("#air-result dl", timeout=120_000)
    page.click("#air-products")
    page.wait_for_selector("#air-result table >> nth=1", timeout=120_000)
    page.click("#air-schedule")
    page.wait_for_selector("#air-result svg", timeout=120_000)
    _shot(page, "6_low_altitude")

    # a tablet in portrait: map above, panel below, nothing wider than the screen
    page.set_viewport_size({"width": 810, "height": 1080})
    page.click("#tab-day")
    assert page.evaluate("document.documentElement.scrollWidth") <= 810
    _shot(page, "9_tablet_day_plan")

    assert page.js_errors == []
    assert page.foreign == [], f"requests to other hosts: {page.foreign[:5]}"


def test_docs_render_with_the_network_off(server, browser_page):
    """``/docs`` (Swagger UI) and ``/redoc`` render from local assets only."""
    page = browser_page
    page.goto(server + "/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=60_000)
    assert "lhasa-ops" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector(".opblock-tag", timeout=30_000)
    _shot(page, "7_docs")
    page.goto(server + "/redoc")
    page.wait_for_selector("h1", timeout=60_000)
    assert "lhasa-ops" in page.locator("h1").first.inner_text()
    _shot(page, "8_redoc")
    assert page.foreign == [], f"requests to other hosts: {page.foreign[:5]}"


def _cut_off(page, root: str) -> list[str]:
    """Labels, buttons, table cells and tables under ``root`` that are cut off: wider than their own
    box, or reaching past the right edge of the panel (text a person cannot read without scrolling)."""
    return page.evaluate("""(root) => {
        const edge = document.querySelector('#panel').getBoundingClientRect().right;
        return [...document.querySelectorAll(`${root} label, ${root} button, ${root} th, ${root} td, ${root} table, ${root} dd`)]
          .filter((e) => e.offsetParent && !e.closest('.scroll') && (e.scrollWidth > e.clientWidth + 1 && e.tagName !== 'TABLE'
                   || e.getBoundingClientRect().right > edge + 0.5))
          .map((e) => `${e.tagName}: ${e.textContent.trim().slice(0, 60)}`);
    }""", root)


def _get(server: str, path: str):
    with urllib.request.urlopen(server + path, timeout=30) as r:
        return json.loads(r.read())


def test_week_tab_plans_a_sample_and_shows_a_groups_stay(server, browser_page):
    """Week (行程): a 12-group sample of the demo week is planned at once; the KPIs are the API's numbers;
    the map draws one line per group on the road on the chosen day (and changes with the day); the
    chosen group's stay lists every day with its night's hotel, the sleeping altitude and the
    acclimatization rule's allowance, from the data the server holds; Chinese labels."""
    page = browser_page
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.click("#tab-week")
    assert page.locator("#tab-week").get_attribute("aria-selected") == "true"
    page.fill("#wk-groups", "12")
    page.fill("#wk-time", "10")
    with page.expect_response(lambda r: r.url.endswith("/v1/itineraries/plan"), timeout=400_000) as resp:
        page.click("#wk-run")  # the first itinerary plan of a server compiles the kernels first
    assert resp.value.status == 200
    plan = resp.value.json()
    assert plan["violations"] == [] and plan["groups"] == 12  # the server's independent verifier
    page.wait_for_selector("#wk-kpis dt", timeout=60_000)
    kpis = page.locator("#wk-kpis").inner_text()
    assert f"{plan['groups_served']} of 12 groups" in kpis, kpis
    assert f"{plan['persons_served']:,} of {plan['persons']:,} persons" in kpis, kpis
    assert "not_selected" not in kpis and "no_hotel" not in kpis  # reasons in words, not codes

    # the map: one line per group on the road on the chosen day; another day, another count
    dates = [page.locator("#wk-days button").nth(i).get_attribute("data-day")
             for i in range(page.locator("#wk-days button").count())]
    assert len(dates) == plan["days"]

    def on_road(i: int) -> int:
        import datetime as dt
        day = (dt.date.fromisoformat(plan["start"]) + dt.timedelta(days=i)).isoformat()  # plan: the latest answer
        return sum(any(d["date"] == day for d in it["days"]) for it in plan["itineraries"])

    chosen = int(page.locator("#wk-days button[aria-pressed='true']").get_attribute("data-day"))
    assert page.locator("#map path.week-route").count() == on_road(chosen) > 0
    other = next(i for i in range(plan["days"]) if on_road(i) != on_road(chosen))
    page.click(f"#wk-days button[data-day='{other}']")
    assert page.locator("#map path.week-route").count() == on_road(other)
    page.click(f"#wk-days button[data-day='{chosen}']")

    # a group's stay: the longest one with nights
    places = _get(server, "/v1/web/week-places")
    it = max(plan["itineraries"], key=lambda x: (len(x["nights"]), x["group"]))
    assert it["nights"]
    page.select_option("#wk-group", it["group"])
    rows = page.locator("#wk-timeline .stay-day")
    assert rows.count() == len(it["days"])
    first_night = places["places"][it["nights"][0]["hotel"]]
    row1 = rows.nth(0).inner_text()
    assert first_night["name_en"] in row1 and f"{first_night['elevation_m']:,.0f} m" in row1, row1
    cap1 = places["rules"]["max_visit_altitude_m"][0]
    assert f"allowed {cap1:,.0f} m" in row1, row1
    assert page.locator("#wk-alt svg rect.alt-bar").count() == len(it["days"])
    page.locator("#wk-alt").scroll_into_view_if_needed()
    _shot(page, "10_week")

    assert _cut_off(page, "#page-week") == []
    page.click("#lang")
    assert page.locator("#tab-week").inner_text() == "行程"
    assert "成行团队" in page.locator("#wk-kpis").inner_text()
    _shot(page, "10b_week_zh")
    page.click("#lang")

    # more than 100 groups run as a job (202), polled to the end; the KPIs are the job's result
    page.fill("#wk-groups", "120")
    with page.expect_response(lambda r: r.url.endswith("/v1/itineraries/plan"), timeout=60_000) as resp:
        page.click("#wk-run")
    assert resp.value.status == 202, resp.value.text()
    job = resp.value.json()
    page.wait_for_function("document.querySelector('#wk-kpis').textContent.includes('of 120 groups')", timeout=300_000)
    result = _get(server, job["result_url"])
    assert result["violations"] == [] and result["groups"] == 120
    assert f"{result['groups_served']} of 120 groups" in page.locator("#wk-kpis").inner_text()
    chosen = int(page.locator("#wk-days button[aria-pressed='true']").get_attribute("data-day"))
    plan = result
    assert page.locator("#map path.week-route").count() == on_road(chosen)
    _shot(page, "10c_week_job_120_groups")

    # a laptop (1,366 x 768) and a narrow window: the header's tabs stay on the page, nothing is cut off
    for width, height in ((1366, 768), (1100, 800)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert _cut_off(page, "#page-week") == []
        tabs = page.evaluate("[...document.querySelectorAll('nav [role=tab]')].map((b) => b.getBoundingClientRect().bottom)")
        panel_top = page.evaluate("document.querySelector('#panel').getBoundingClientRect().top")
        assert max(tabs) <= panel_top + 1, (width, tabs, panel_top)
        _shot(page, f"10d_week_{width}px")
    assert page.js_errors == []
    assert page.foreign == [], f"requests to other hosts: {page.foreign[:5]}"


def test_live_day_tab_books_offers_alternatives_and_replans(server, browser_page):
    """Live day (当日运营): a day of 8 demo groups is created (KPIs = the API's); a quota cut at the
    Potala re-plans and appears in the version list with its diff; a booking into a full 10:00 slot
    lists the API's alternatives (another slot) and booking one of them succeeds; a group of 0
    persons shows the API's error naming the size."""
    page = browser_page
    date = "2026-08-02"
    page.goto(server + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.click("#tab-live")
    page.fill("#lv-date", date)
    page.fill("#lv-groups", "8")
    with page.expect_response(lambda r: r.url.endswith("/v1/days") and r.request.method == "POST", timeout=120_000) as resp:
        page.click("#lv-create")
    assert resp.value.status == 201, resp.value.text()
    page.wait_for_function("document.querySelector('#lv-kpis') && document.querySelector('#lv-kpis').textContent.includes('of 8 groups')", timeout=60_000)
    day = _get(server, f"/v1/days/{date}")
    k = day["kpis"]
    kpis = page.locator("#lv-kpis").inner_text()
    assert f"{int(k['groups_served'])} of 8 groups" in kpis and f"{int(k['visitors_served']):,} of {int(k['visitors']):,} persons" in kpis, kpis
    drawn = sum(1 for g in day["groups"] if not g["cancelled"] and len(g["visits"]) >= 2)
    assert page.locator("#map path.live-route").count() == drawn

    # a disruption: the Potala's entry quota cut to 40 persons per slot from 07:00
    page.click("#lv-event-box summary")
    page.select_option("#lv-e-kind", "quota_cut")
    page.select_option("#lv-e-site", "potala")
    page.fill("#lv-e-quota", "40")
    page.fill("#lv-e-at", "07:00")
    with page.expect_response(lambda r: r.url.endswith(f"/v1/days/{date}/events"), timeout=120_000) as resp:
        page.click("#lv-e-go")
    ev = resp.value.json()
    assert resp.value.status == 200 and ev["version"] == 2 and ev["violations"] == []
    page.wait_for_function("document.querySelector('#lv-versions li') && document.querySelector('#lv-versions li').textContent.includes('v2')", timeout=30_000)
    top = page.locator("#lv-versions li").first.inner_text()
    assert "Entry quota cut" in top and f"{ev['groups_changed']} groups re-planned" in top, top
    out = page.locator("#lv-event-out").inner_text()
    assert "Version 2" in out and "quota_cut" not in out, out  # the reason in words

    # bookings of 30 persons for the Potala at 10:00: the second cannot fit (40 per slot)
    page.fill("#lv-b-size", "30")
    page.select_option("#lv-b-sites", ["potala"])
    page.select_option("#lv-b-slot", "10:00")
    answers = []
    for _ in range(2):
        with page.expect_response(lambda r: r.url.endswith(f"/v1/days/{date}/bookings"), timeout=60_000) as resp:
            page.click("#lv-b-go")
        answers.append((resp.value.status, resp.value.json()))
        page.wait_for_function("!document.querySelector('#lv-b-go').disabled", timeout=60_000)
        if resp.value.status == 409:
            break
    status, full = answers[-1]
    assert status == 409 and full["code"] == "full" and full["alternatives"], full
    shown = page.locator("#lv-book-out table.alts tr")
    assert shown.count() == 1 + len(full["alternatives"])
    for i, alt in enumerate(full["alternatives"], start=1):
        row = shown.nth(i).inner_text()
        assert alt["slot_hhmm"] in row and ("Potala" in row if alt["site_id"] == "potala" else True), row
    assert any(a["kind"] == "slot" for a in full["alternatives"])
    assert page.locator("#map path.alt-site").count() == len(full["alternatives"])
    _shot(page, "11_live_day_full")
    version = _get(server, f"/v1/days/{date}")["version"]
    with page.expect_response(lambda r: r.url.endswith(f"/v1/days/{date}/bookings"), timeout=60_000) as resp:
        page.click("#lv-book-out button[data-alt='0']")
    assert resp.value.status == 201, resp.value.text()
    booked = resp.value.json()
    alt0 = full["alternatives"][0]
    assert any(v["site_id"] == alt0["site_id"] and v["start_hhmm"][:2] == alt0["slot_hhmm"][:2] for v in booked["route"]["visits"])
    page.wait_for_function(f"document.querySelector('#lv-versions li').textContent.includes('v{version + 1}')", timeout=30_000)
    assert booked["group_id"] in page.locator("#lv-versions li").first.inner_text()

    # bad input: a group of 0 persons
    page.fill("#lv-b-size", "0")
    with page.expect_response(lambda r: r.url.endswith(f"/v1/days/{date}/bookings"), timeout=60_000) as resp:
        page.click("#lv-b-go")
    assert resp.value.status == 422
    err = resp.value.json()
    page.wait_for_selector("#lv-book-out .error", timeout=30_000)
    shown_err = page.locator("#lv-book-out .error").inner_text()
    assert err["message"] in shown_err and err["field"] in shown_err, shown_err
    assert _get(server, f"/v1/days/{date}")["version"] == version + 1  # nothing stored
    page.locator("#lv-book-out").scroll_into_view_if_needed()
    _shot(page, "12_live_day_error")
    page.locator("#lv-versions").scroll_into_view_if_needed()
    _shot(page, "13_live_day_versions")

    # 1,400 px wide: nothing wider than the window, no label cut off in the live form
    page.set_viewport_size({"width": 1400, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    assert _cut_off(page, "#page-live") == []
    page.click("#lang")
    assert page.locator("#tab-live").inner_text() == "当日运营"
    assert "限额下调" in page.locator("#lv-versions").inner_text()
    assert "版本 2" in page.locator("#lv-event-out").inner_text()  # the last answers are redrawn in Chinese
    assert _cut_off(page, "#page-live") == []
    _shot(page, "14_live_day_zh")
    page.click("#lang")
    assert page.js_errors == []
    assert page.foreign == [], f"requests to other hosts: {page.foreign[:5]}"
