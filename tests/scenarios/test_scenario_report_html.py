"""Issue 18 item 4: the static ``report.html`` reads like the web app - a headline per scenario
family, KPI headers in words with units, the closed road drawn, site names that neither collide
nor leave the map (the 'Princess Wen' cut-off)."""

from __future__ import annotations

import re

import pytest

from api.services.scenarios import run_file
from optimizer.scenarios.report import LABEL_CHAR_PX, LABEL_FONT_PX

TOML = """[base]
iterations = 60
seed = 1
[base.demand]
groups = 30
seed = 7

[[scenario]]
name = "tiny"
demand_scale = [1, 2]

[[scenario]]
name = "road shut"
closed_roads = [["potala", "jokhang"]]
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    f = d / "s.toml"
    f.write_text(TOML, encoding="utf-8")
    run_file(f, d / "out", jobs=1)
    return (d / "out" / "report.html").read_text(encoding="utf-8")


def test_report_opens_with_a_headline_per_family(report):
    items = re.findall(r"<ul class='headlines'>(.*?)</ul>", report, re.DOTALL)[0]
    lines = re.findall(r"<li>(.*?)<br>", items)
    assert len(lines) == 2
    assert lines[0].startswith("tiny: ") and "of groups served at x1 demand" in lines[0] and "at x2" in lines[0]
    assert lines[1].startswith("road shut: ")


def test_kpi_headers_are_words_not_column_names(report):
    table = re.findall(r"<h2>Key figures, side by side</h2>(.*?)</table>", report, re.DOTALL)[0]
    heads = re.findall(r"<th scope='(?:row|col)'>(.*?)</th>", table)
    assert "Groups served, %" in heads and "Mean wait, min per visit" in heads
    assert any(h.startswith("Busiest slot at Potala Palace") for h in heads)
    assert not [h for h in heads if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)]
    assert "class='scroll'" in table  # wide tables scroll instead of being cut off


def test_closed_road_is_drawn_only_in_its_scenario(report):
    sections = dict(re.findall(r"<h2>(tiny x1|tiny x2|road shut)</h2>(.*?)(?=<h2>|</body>)", report, re.DOTALL))
    assert sections["road shut"].count('class="closed-road"') == 2  # region map and old-town close-up
    assert "closed-road" not in sections["tiny x1"]
    assert sections["tiny x1"].count('stroke="#b5b5b5"') > 10  # the road network is drawn


def test_site_labels_do_not_overlap_or_leave_the_map(report):
    for svg in re.findall(r"<svg.*?</svg>", report, re.DOTALL):
        width, height = (int(x) for x in re.search(r'width="(\d+)" height="(\d+)"', svg).groups())
        boxes = []
        for x, y, anchor, text in re.findall(r'<text x="([\d.]+)" y="([\d.]+)" font-size="\d+" '
                                             r'text-anchor="(\w+)"[^>]*>([^<]*)</text>', svg):
            w = LABEL_CHAR_PX * len(text.replace("&amp;", "&").replace("&#x27;", "'"))
            x0 = float(x) - {"start": 0, "middle": w / 2, "end": w}[anchor]
            box = (x0, float(y) - (LABEL_FONT_PX - 1), x0 + w, float(y) + 3)  # as placed: baseline 3 px above the bottom
            assert 0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height, (text, box, width)
            assert all(box[2] < o[0] or box[0] > o[2] or box[3] < o[1] or box[1] > o[3] for o in boxes), text
            boxes.append(box)
        assert boxes, "every map names some sites"
