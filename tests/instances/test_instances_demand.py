"""Tests of the tour-group demand format (instances/demand.py) and the demo generator."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instances.demand import (
    TABLE_COLUMNS,
    DemandError,
    groups_from_records,
    groups_to_records,
    read_demand,
    write_demand,
)
from instances.demand_generator import generate_demand, must_visits_feasible, summary
from instances.loader import LHASA_DIR, load_lhasa
from optimizer.core.errors import InvalidInput
from optimizer.tours import Location, TourGroup, TourProblem

FORMATS = (".csv", ".parquet", ".json")


NET = load_lhasa()


@pytest.fixture(scope="module")
def net():
    return NET


@pytest.fixture(scope="module")
def peak(net):
    return generate_demand(net)


GOOD_ROW = {
    "group_id": "G1", "size": "20", "start": "barkhor", "start_lat": "", "start_lon": "",
    "end": "barkhor", "end_lat": "", "end_lon": "", "day_start": "08:00", "day_end": "19:00",
    "must_visit": "potala;jokhang", "interests": "monastery:1.5;lake:0.5", "zone": "",
}


def write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = TABLE_COLUMNS) -> Path:
    lines = [",".join(columns)] + [",".join(r.get(c, "") for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def three_rows(bad: dict[str, str]) -> list[dict[str, str]]:
    """Good rows 1 and 3 around a bad data row 2 (line 3 of the file)."""
    return [dict(GOOD_ROW, group_id="G1"), {**GOOD_ROW, "group_id": "G2", **bad}, dict(GOOD_ROW, group_id="G3")]


def sample_groups() -> tuple[TourGroup, ...]:
    return (
        TourGroup("a", 12, Location("barkhor"), Location("potala"), (480.0, 1140.0), ("potala", "jokhang"),
                  {"monastery": 1.5, "lake": 0.5}, None),
        TourGroup("b,with comma", 1, Location(lat=29.651234567891234, lon=91.1), Location(lat=29.6, lon=91.15),
                  (0.0, 1440.0), (), {}, "C1"),
        TourGroup("c", 50, Location("lhasa_railway"), Location(lat=29.7, lon=91.05), (390.0, 1290.0),
                  ("namtso_tashi",), {"lake": 0.0, "hot_spring": 1e-7}, None),
    )


# ---------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("suffix", FORMATS)
def test_round_trip_sample(tmp_path, net, suffix):
    """Writing then reading gives equal groups in every format: lat/lon, ids with commas, empty
    must-visits/interests, 00:00-24:00 windows and zones survive exactly."""
    groups = sample_groups()
    TourProblem(net, groups)
    path = write_demand(groups, tmp_path / f"d{suffix}")
    assert read_demand(path, net) == groups


@pytest.mark.parametrize("suffix", FORMATS)
def test_round_trip_generated(tmp_path, net, peak, suffix):
    """The 320 generated groups survive a write/read in every format, bit for bit."""
    path = write_demand(peak, tmp_path / f"peak{suffix}")
    assert read_demand(path, net) == peak


def test_records_round_trip(net, peak):
    """``groups_from_records(groups_to_records(g)) == g`` and the records are plain JSON."""
    recs = groups_to_records(peak)
    assert groups_from_records(json.loads(json.dumps(recs)), net) == peak


_SITES = [s.id for s in NET.sites]
_POIS = [s.id for s in NET.sites if s.is_poi]
_KINDS = sorted({s.kind for s in NET.sites})


@st.composite
def groups_strategy(draw):
    n = draw(st.integers(0, 5))
    out = []
    for i in range(n):
        def loc():
            if draw(st.booleans()):
                return Location(site_id=draw(st.sampled_from(_SITES)))
            return Location(lat=draw(st.floats(29.0, 30.8)), lon=draw(st.floats(90.4, 92.3)))
        lo = draw(st.integers(0, 1440))
        hi = draw(st.integers(lo, 1440))
        must = tuple(draw(st.lists(st.sampled_from(_POIS), max_size=3, unique=True)))
        interests = draw(st.dictionaries(st.sampled_from(_KINDS), st.floats(0, 1e6), max_size=4))
        out.append(TourGroup(f"g{i}", draw(st.integers(1, 10**5)), loc(), loc(), (float(lo), float(hi)),
                             must, interests, None))
    return tuple(out)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=groups_strategy())
def test_round_trip_property(groups):
    """Any valid groups (arbitrary float lat/lon and weights, big sizes, whole-minute windows)
    survive every format exactly: the writers never round a float."""
    with tempfile.TemporaryDirectory() as d:
        for suffix in FORMATS:
            path = write_demand(groups, Path(d) / f"x{suffix}")
            assert read_demand(path, NET) == groups


def test_write_refuses_fractional_minutes(tmp_path):
    """A day window off the whole minute cannot be written as HH:MM without loss: refuse it."""
    g = TourGroup("a", 3, Location("barkhor"), Location("barkhor"), (480.5, 1140.0))
    with pytest.raises(InvalidInput, match="480.5"):
        write_demand((g,), tmp_path / "x.csv")


# ---------------------------------------------------------------------------------------------
# Empty demand and file-level errors


@pytest.mark.parametrize("suffix", FORMATS)
def test_empty_demand_is_valid(tmp_path, net, suffix):
    """No groups is valid demand: header-only CSV/Parquet and ``{"groups": []}`` read as ()."""
    path = write_demand((), tmp_path / f"empty{suffix}")
    assert read_demand(path, net) == ()


def test_empty_json_variants(tmp_path, net):
    """A bare empty list is accepted too, and a header-only CSV written by hand."""
    (tmp_path / "a.json").write_text("[]")
    assert read_demand(tmp_path / "a.json", net) == ()
    assert read_demand(write_csv(tmp_path / "h.csv", []), net) == ()


def test_unknown_suffix_is_an_error(tmp_path, net):
    """Formats are chosen by suffix; an unknown suffix is an error for reading and writing."""
    with pytest.raises(DemandError, match="xlsx"):
        read_demand(tmp_path / "d.xlsx", net)
    with pytest.raises(DemandError, match="xlsx"):
        write_demand((), tmp_path / "d.xlsx")


def test_missing_file_and_zero_byte_file(tmp_path, net):
    """A missing file and a 0-byte CSV (no header at all) raise DemandError naming the file."""
    with pytest.raises(DemandError, match="nope.csv"):
        read_demand(tmp_path / "nope.csv", net)
    (tmp_path / "zero.csv").write_text("")
    with pytest.raises(DemandError, match="zero.csv"):
        read_demand(tmp_path / "zero.csv", net)


@pytest.mark.parametrize("column", ["group_id", "size", "day_start", "day_end", "start", "end"])
def test_missing_required_column(tmp_path, net, column):
    """Dropping a required column names that column (start/end: unless their lat/lon columns are there)."""
    cols = tuple(c for c in TABLE_COLUMNS if c != column and not c.startswith(f"{column}_"))
    path = write_csv(tmp_path / "d.csv", [GOOD_ROW], cols)
    with pytest.raises(DemandError) as e:
        read_demand(path, net)
    assert column in str(e.value) and "d.csv" in str(e.value) and "missing required column" in str(e.value)


def test_optional_columns_may_be_missing(tmp_path, net):
    """A table with only the required columns (start/end by site id) is valid."""
    cols = ("group_id", "size", "start", "end", "day_start", "day_end")
    groups = read_demand(write_csv(tmp_path / "d.csv", [GOOD_ROW], cols), net)
    assert groups == (TourGroup("G1", 20, Location("barkhor"), Location("barkhor"), (480.0, 1140.0)),)


def test_unknown_column_is_rejected(tmp_path, net):
    """A misspelled optional column (``must_vist``) is an error, not silently ignored."""
    path = write_csv(tmp_path / "d.csv", [dict(GOOD_ROW, must_vist="potala")], TABLE_COLUMNS + ("must_vist",))
    with pytest.raises(DemandError, match="must_vist"):
        read_demand(path, net)


def test_ragged_row_is_rejected(tmp_path, net):
    """A row with a missing or extra cell is an error naming its row, not padded or dropped."""
    path = write_csv(tmp_path / "d.csv", [GOOD_ROW])
    path.write_text(path.read_text() + "G9,3,barkhor\n")
    with pytest.raises(DemandError, match=r"row 2 \(line 3\)"):
        read_demand(path, net)


# ---------------------------------------------------------------------------------------------
# Bad values: row, field and value are named

BAD_CSV_CASES = [
    # (overrides of data row 2, field named, value named)
    ({"start": "nowhere"}, "start", "nowhere"),
    ({"end": "atlantis"}, "end", "atlantis"),
    ({"must_visit": "potala;shangrila"}, "must_visit", "shangrila"),
    ({"zone": "C9"}, "zone", "C9"),
    ({"interests": "monastery:1;castle:2"}, "interests", "castle"),
    ({"interests": "monastery:-1"}, "interests.monastery", "-1"),
    ({"interests": "monastery:nan"}, "interests.monastery", "nan"),
    ({"interests": "monastery=1"}, "interests", "monastery=1"),
    ({"day_start": "18:00", "day_end": "08:00"}, "day_end", "08:00"),
    ({"size": "-3"}, "size", "-3"),
    ({"size": "0"}, "size", "0"),
    ({"size": "12.5"}, "size", "12.5"),
    ({"size": "twelve"}, "size", "twelve"),
    ({"size": "nan"}, "size", "nan"),
    ({"size": "inf"}, "size", "inf"),
    ({"size": "1_000"}, "size", "1_000"),
    ({"size": ""}, "size", ""),
    ({"start": "", "start_lat": "nan", "start_lon": "91.1"}, "start_lat", "nan"),
    ({"start": "", "start_lat": "29.65", "start_lon": "inf"}, "start_lon", "inf"),
    ({"start": "", "start_lat": "north", "start_lon": "91.1"}, "start_lat", "north"),
    ({"start": "", "start_lat": "95", "start_lon": "91.1"}, "start_lat", "95"),
    ({"end": "", "end_lat": "29.6", "end_lon": "200"}, "end_lon", "200"),
    ({"start": "", "start_lat": "29.65", "start_lon": ""}, "start_lon", "start_lat"),
    ({"start": "", "start_lat": "0", "start_lon": "0"}, "start_lat,start_lon", "0"),
    ({"start_lat": "29.65", "start_lon": "91.1"}, "start", "barkhor"),
    ({"start": ""}, "start", "start_lat"),
    ({"day_start": "8h00"}, "day_start", "8h00"),
    ({"day_start": "25:00"}, "day_start", "25:00"),
    ({"day_end": "18:60"}, "day_end", "18:60"),
    ({"day_end": "18:00:00"}, "day_end", "18:00:00"),
    ({"day_end": ""}, "day_end", ""),
    ({"group_id": ""}, "group_id", ""),
    # TourGroup / TourProblem checks, re-raised with the row:
    ({"must_visit": "potala;potala"}, "must_visit", "potala"),
    ({"must_visit": "lhasa_railway"}, "must_visit", "lhasa_railway"),
    ({"zone": "C1", "must_visit": "namtso_tashi"}, "must_visit", "namtso_tashi"),
]


@pytest.mark.parametrize("bad,field,value", BAD_CSV_CASES, ids=[f"{c[1]}={c[2]}" for c in BAD_CSV_CASES])
def test_bad_csv_value_names_row_field_value(tmp_path, net, bad, field, value):
    """Each bad cell raises DemandError naming the file, ``row 2 (line 3)``, the field and the value."""
    path = write_csv(tmp_path / "demand.csv", three_rows(bad))
    with pytest.raises(DemandError) as e:
        read_demand(path, net)
    msg = str(e.value)
    assert "demand.csv" in msg and "row 2 (line 3)" in msg, msg
    assert field in msg and value in msg, msg
    assert isinstance(e.value, InvalidInput)


def test_duplicate_group_ids_name_both_rows(tmp_path, net):
    """A repeated group id names the id, the repeating row and the first row that used it."""
    rows = [dict(GOOD_ROW, group_id="A"), dict(GOOD_ROW, group_id="B"), dict(GOOD_ROW, group_id="A")]
    with pytest.raises(DemandError) as e:
        read_demand(write_csv(tmp_path / "d.csv", rows), net)
    msg = str(e.value)
    assert "row 3 (line 4)" in msg and "row 1 (line 2)" in msg and "'A'" in msg and "group_id" in msg


def test_integral_float_size_is_accepted(tmp_path, net):
    """``12.0`` (a spreadsheet's integer) is 12 persons: nothing is truncated, so it is accepted."""
    (g,) = read_demand(write_csv(tmp_path / "d.csv", [dict(GOOD_ROW, size="12.0")]), net)
    assert g.size == 12 and isinstance(g.size, int)


def _json(tmp_path: Path, groups: list) -> Path:
    path = tmp_path / "demand.json"
    path.write_text(json.dumps({"groups": groups}))
    return path


GOOD_JSON = {"group_id": "J", "size": 10, "start": "barkhor", "end": {"lat": 29.65, "lon": 91.12},
             "day_window": ["08:00", "19:00"], "must_visit": ["potala"], "interests": {"lake": 0.5}, "zone": None}

BAD_JSON_CASES = [
    ({"size": 12.5}, "size", "12.5"),
    ({"size": True}, "size", "True"),
    ({"start": {"lat": float("nan"), "lon": 91.1}}, "start.lat", "nan"),
    ({"start": {"lat": 29.6, "lon": 91.1, "alt": 3}}, "start.alt", "3"),
    ({"end": "nowhere"}, "end", "nowhere"),
    ({"day_window": ["19:00", "08:00"]}, "day_window[1]", "08:00"),
    ({"day_window": ["08:00"]}, "day_window", "08:00"),
    ({"must_visit": ["potala", "el_dorado"]}, "must_visit", "el_dorado"),
    ({"interests": {"castle": 1}}, "interests", "castle"),
    ({"interests": {"lake": "lots"}}, "interests.lake", "lots"),
    ({"zone": "R9"}, "zone", "R9"),
    ({"group_id": 17}, "group_id", "17"),
    ({"colour": "red"}, "colour", "red"),
]


@pytest.mark.parametrize("bad,field,value", BAD_JSON_CASES, ids=[f"{c[1]}={c[2]}" for c in BAD_JSON_CASES])
def test_bad_json_value_names_index_field_value(tmp_path, net, bad, field, value):
    """JSON errors name the file, ``index 1`` (0-based position in ``groups``), the field and the value."""
    path = _json(tmp_path, [dict(GOOD_JSON, group_id="J0"), {**GOOD_JSON, "group_id": "J1", **bad}])
    with pytest.raises(DemandError) as e:
        read_demand(path, net)
    msg = str(e.value)
    assert "demand.json" in msg and "index 1" in msg and field in msg and value in msg, msg


def test_json_duplicate_ids_and_bad_documents(tmp_path, net):
    """Duplicate ids name both indexes; malformed JSON, a missing "groups" key and duplicate
    keys inside an object raise DemandError naming the file."""
    with pytest.raises(DemandError, match=r"index 1.*index 0"):
        read_demand(_json(tmp_path, [GOOD_JSON, GOOD_JSON]), net)
    bad = tmp_path / "bad.json"
    for text in ("{not json", '{"group": []}', '{"groups": [{"size": 1, "size": 2}]}', '{"groups": 3}'):
        bad.write_text(text)
        with pytest.raises(DemandError, match="bad.json"):
            read_demand(bad, net)


def test_bad_parquet_values(tmp_path, net):
    """Parquet's typed columns are checked too: a float size 12.5 and a NaN latitude are named by row."""
    base = {c: [None, None] for c in TABLE_COLUMNS}
    base.update(group_id=["P1", "P2"], size=[10.0, 12.5], start=["barkhor", None], start_lat=[None, float("nan")],
                start_lon=[None, 91.1], end=["barkhor", "barkhor"], day_start=["08:00", "08:00"],
                day_end=["19:00", "19:00"])
    path = tmp_path / "d.parquet"
    pl.DataFrame(base).write_parquet(path)
    with pytest.raises(DemandError, match=r"d\.parquet: row 2 \(line 3\): size=12\.5"):
        read_demand(path, net)
    base["size"] = [10.0, 12.0]
    pl.DataFrame(base).write_parquet(path)
    with pytest.raises(DemandError, match=r"row 2 \(line 3\): start_lat=nan"):
        read_demand(path, net)


def test_records_errors_use_source_and_index(net):
    """``groups_from_records`` names the caller's ``source`` and the record's index."""
    with pytest.raises(DemandError, match=r"api-payload: index 0: size=0"):
        groups_from_records([dict(GOOD_JSON, size=0)], net, source="api-payload")


# ---------------------------------------------------------------------------------------------
# Generator


def test_generator_deterministic_per_seed(net, peak):
    """Same seed, same groups; another seed, other groups."""
    assert generate_demand(net, seed=2026) == peak
    assert generate_demand(net, seed=2027) != peak


def test_peak_profile_figures(net, peak):
    """The peak profile gives 320 groups and ~8,000 persons. Potala must-visit demand fits its
    5,000/day quota but is well above one slot's quota (contested peaks)."""
    s = summary(peak)
    potala = net.site("potala")
    assert s["groups"] >= 300 and 7000 <= s["persons"] <= 9000
    assert 0.40 <= s["potala_must_groups"] / s["groups"] <= 0.45
    assert 3000 <= s["potala_must_persons"] <= potala.daily_quota
    assert s["potala_must_persons"] > 3 * potala.slot_quota
    assert 0.10 <= s["latlon_starts"] / s["groups"] <= 0.25
    assert s["zoned"] > 0


def test_generated_groups_are_well_formed(net, peak):
    """Sizes 1..50, at most 2 must-visits, feasible alone, zones only C1 with C1 must-visits,
    excursion shares as documented, and a valid TourProblem."""
    TourProblem(net, peak)
    count = {sid: sum(sid in g.must_visit for g in peak) for sid in ("namtso_tashi", "yamdrok", "ganden")}
    assert count == {"namtso_tashi": 22, "yamdrok": 16, "ganden": 13}
    for g in peak:
        assert 1 <= g.size <= 50 and isinstance(g.size, int)
        assert len(g.must_visit) <= 2
        assert must_visits_feasible(net, g), g
        if g.zone is not None:
            assert g.zone == "C1" and all(s in net.zones["C1"] for s in g.must_visit)
    assert any(g.start.site_id is None for g in peak) and any(g.end.site_id is None for g in peak)


def test_generator_other_sizes_and_errors(net):
    """Small and empty demand works; an unknown profile is an InvalidInput."""
    assert generate_demand(net, n_groups=0) == ()
    assert len(generate_demand(net, n_groups=5, seed=1, profile="shoulder")) == 5
    with pytest.raises(InvalidInput, match="profile"):
        generate_demand(net, profile="carnival")


def test_embedded_demand_matches_generator(net, peak):
    """``instances/lhasa/demand_peak_day.csv`` is exactly ``generate_demand(load_lhasa())``
    (regenerate with ``python -m instances.demand_generator --out ...`` after changing either)."""
    assert read_demand(LHASA_DIR / "demand_peak_day.csv", net) == peak


def test_example_json_reads(net):
    """The README's ``demand_example.json`` is valid, shows a lat/lon start, a zone, every field,
    and its must-visits are feasible."""
    groups = read_demand(LHASA_DIR / "demand_example.json", net)
    assert len(groups) == 3
    assert any(g.start.site_id is None for g in groups) and any(g.zone for g in groups)
    assert all(g.must_visit and g.interests for g in groups)
    assert all(must_visits_feasible(net, g) for g in groups)


def test_demand_json_that_is_not_utf8_names_its_line(tmp_path, net):
    """Trial finding: a demand JSON in Latin-1 answered a decoder's byte offset; it names the line."""
    p = tmp_path / "groups.json"
    p.write_bytes(b'{"groups": [\n{"group_id": "caf\xe9", "size": 3}]}')
    with pytest.raises(DemandError) as e:
        read_demand(p, net)
    assert e.value.where == "line 2" and e.value.field == "encoding" and "save the file as UTF-8" in str(e.value)
