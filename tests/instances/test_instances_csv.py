"""instances._csv: the one CSV row/field helper; every error names file, row (line), field and value."""

from __future__ import annotations

import pytest

from instances._csv import RecordError, float_field, int_field, read_csv_records, record_context, text_field


def _write(tmp_path, text: str, name: str = "t.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_rows_lines_comments_blanks_and_bom(tmp_path):
    p = _write(tmp_path, "\ufeff# a comment\nid,x\n\na,1.5\n# mid comment\nb, 2\n")
    cols, recs = read_csv_records(p, required=["id"])
    assert cols == ("id", "x")
    assert [(r.row, r.line, r.values) for r in recs] == [(1, 4, {"id": "a", "x": "1.5"}),
                                                        (2, 6, {"id": "b", "x": "2"})]


def test_field_errors_name_file_row_line_field_and_value(tmp_path):
    p = _write(tmp_path, "id,n\na,3\nb,3.5\n")
    _, recs = read_csv_records(p)
    assert int_field(recs[0], "n") == 3
    with pytest.raises(RecordError) as e, record_context(str(p), recs[1].where):
        int_field(recs[1], "n")
    assert str(e.value) == f"{p}: row 2 (line 3): n='3.5': expected an integer"
    assert e.value.field == "n" and e.value.value == "3.5"


def test_floats_are_not_rounded_and_blanks_are_optional(tmp_path):
    p = _write(tmp_path, "x,y\n0.30000000000000004,\n")
    _, (r,) = read_csv_records(p)
    assert float_field(r, "x") == 0.30000000000000004
    assert float_field(r, "y", required=False) is None
    with pytest.raises(Exception, match="required, got a blank cell"):
        text_field(r, "y")


@pytest.mark.parametrize("text,match", [
    ("", "empty file: no header"),
    ("id,id\n1,2\n", "column appears twice"),
    ("id,zz\n1,2\n", "unknown column"),
    ("x\n1\n", "missing required column"),
    ("id,x\n1,2,3\n", "row 1 \\(line 2\\): fields=3: the header has 2 columns"),
])
def test_bad_files(tmp_path, text, match):
    p = _write(tmp_path, text)
    with pytest.raises(RecordError, match=match):
        read_csv_records(p, required=["id"], known=["id", "x"])


def test_missing_file(tmp_path):
    with pytest.raises(RecordError, match="file not found"):
        read_csv_records(tmp_path / "nope.csv")


def test_text_that_is_not_utf8_names_its_line_not_a_byte_offset(tmp_path):
    """Trial finding: a CSV saved as GBK said "can't decode byte 0xb9 in position 104", an offset
    into the file; the error now names the line and the column of the first bad byte."""
    p = tmp_path / "gbk.csv"
    p.write_bytes(b"id,name\na,x\nb," + "广州".encode("gbk") + b"\n")
    with pytest.raises(RecordError) as e:
        read_csv_records(p)
    assert e.value.where == "line 3" and e.value.field == "encoding"
    assert str(e.value).startswith(f"{p}: line 3: encoding=") and "byte 3 of the line" in str(e.value)
    p.write_bytes(b"\xef\xbb\xbfid,name\nb,\xe5\xb9\xbf\n")  # UTF-8 with a BOM still reads
    assert read_csv_records(p)[1][0].values == {"id": "b", "name": "广"}
