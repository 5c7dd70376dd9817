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
