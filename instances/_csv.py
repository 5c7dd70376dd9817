"""The one CSV row/field helper of every reader: errors name the file, the row, the field and the value.

``read_csv_records(path)`` reads a CSV with a header into ``CsvRecord`` objects (a UTF-8 BOM is
accepted, lines starting with ``#`` and blank lines are skipped, a row with the wrong number of
fields is an error; text that is not UTF-8 names its line, see ``decode_utf8``). ``RecordError`` is an
``InvalidInput`` whose message reads ``<file>: <where>: <field>=<value>: <message>`` with ``where`` =
``row k (line n)`` (data row k, 1-based, on line n of the file), ``line n``, ``index k`` for JSON
records, ``header (line 1)`` or ``file``.
``record_context`` turns an ``InvalidInput`` raised while a record is parsed into a ``RecordError``
for that record.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from optimizer.core.errors import InvalidInput

MISSING = object()
"""``value`` of a ``RecordError`` about something absent (a column, a key): no ``=value`` is shown."""


class RecordError(InvalidInput):
    """Bad data in a file. The message reads ``<source>: <where>: <field>=<value>: <message>``.

    Attributes
    ----------
    source : str
        The file (or another label of where the records came from).
    where : str
        ``row k (line n)``, ``index k``, ``header (line 1)`` or ``file``.
    field, value, message :
        As in ``InvalidInput``. ``value`` is None for a missing column or key.
    """

    def __init__(self, source: str, where: str, field_name: str, value: object, message: str) -> None:
        shown = None if value is MISSING else value
        super().__init__(field_name, shown, message)
        self.source = source
        self.where = where
        head = f"{source}: {where}: {field_name}"
        self.args = (f"{head}: {message}" if value is MISSING else f"{head}={value!r}: {message}",)


def decode_utf8(raw: bytes, source: str, error: type[RecordError] = RecordError) -> str:
    """``raw`` as text (UTF-8, a leading BOM dropped). Bytes that are not UTF-8 (a file saved as GBK or
    Latin-1) raise ``error(source, "line n", "encoding", <the bad bytes>, ...)`` naming the line and
    the byte's column (1-based) instead of a byte offset into the file."""
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise error(source, f"line {line}", "encoding", raw[e.start:e.end],
                    f"not UTF-8 text (byte {column} of the line); save the file as UTF-8") from None


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One data row: ``row`` (1-based among data rows), ``line`` (1-based line of the file) and the
    ``values`` by column name (stripped of surrounding blanks)."""

    row: int
    line: int
    values: dict[str, str]

    @property
    def where(self) -> str:
        return f"row {self.row} (line {self.line})"


def read_csv_records(path: Path | str, required: Sequence[str] = (), known: Sequence[str] | None = None,
                     comment: str = "#") -> tuple[tuple[str, ...], tuple[CsvRecord, ...]]:
    """Read a CSV file with a header: ``(columns, records)``.

    ``required`` columns must be present, ``known`` (if given) lists every allowed column; a column
    may not appear twice. Raises ``RecordError`` naming the file and the row or header.
    """
    p = Path(path)
    source = str(p)
    if not p.is_file():
        raise RecordError(source, "file", "path", source, "file not found")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise RecordError(source, "file", "path", source, f"cannot read CSV: {e.strerror or e}") from None
    text = decode_utf8(raw, source)
    lines = text.splitlines(keepends=True)
    kept = [(n, ln) for n, ln in enumerate(lines, start=1) if not (comment and ln.lstrip().startswith(comment))]
    try:
        reader = csv.reader(ln for _, ln in kept)
        header = next(reader, None)
        if header is None:
            raise RecordError(source, "header (line 1)", "header", MISSING, "empty file: no header")
        columns = tuple(h.strip() for h in header)
        header_line = kept[0][0]
        _check_columns(columns, source, f"header (line {header_line})", required, known)
        records: list[CsvRecord] = []
        for fields in reader:
            line = kept[reader.line_num - 1][0]
            if not any(v.strip() for v in fields):
                continue
            where = f"row {len(records) + 1} (line {line})"
            if len(fields) != len(columns):
                raise RecordError(source, where, "fields", len(fields), f"the header has {len(columns)} columns")
            records.append(CsvRecord(len(records) + 1, line, {c: v.strip() for c, v in zip(columns, fields)}))
    except csv.Error as e:
        raise RecordError(source, "file", "path", source, f"cannot read CSV: {e}") from None
    return columns, tuple(records)


def _check_columns(columns: Sequence[str], source: str, where: str, required: Sequence[str],
                   known: Sequence[str] | None) -> None:
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise RecordError(source, where, c, MISSING, "column appears twice")
        seen.add(c)
        if known is not None and c not in known:
            raise RecordError(source, where, c, MISSING, f"unknown column; known: {list(known)}")
    for c in required:
        if c not in seen:
            raise RecordError(source, where, c, MISSING, "missing required column")


@contextmanager
def record_context(source: str, where: str) -> Iterator[None]:
    """Re-raise an ``InvalidInput`` from the block as a ``RecordError`` for ``source`` at ``where``."""
    try:
        yield
    except RecordError:
        raise
    except InvalidInput as e:
        raise RecordError(source, where, e.field, e.value, e.message) from None


def text_field(rec: CsvRecord, name: str, required: bool = True) -> str | None:
    """The stripped text of column ``name`` ('' -> None); ``InvalidInput`` if required and blank."""
    v = rec.values.get(name, "")
    if v == "":
        if required:
            raise InvalidInput(name, v, "required, got a blank cell")
        return None
    return v


def float_field(rec: CsvRecord, name: str, required: bool = True) -> float | None:
    """Column ``name`` as a float (never rounded); ``InvalidInput`` naming the field otherwise."""
    v = text_field(rec, name, required)
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        raise InvalidInput(name, v, "expected a number") from None


def int_field(rec: CsvRecord, name: str, required: bool = True) -> int | None:
    """Column ``name`` as an int (``12`` and ``12.0`` accepted, ``12.5`` rejected)."""
    v = text_field(rec, name, required)
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        try:
            x = float(v)
        except ValueError:
            raise InvalidInput(name, v, "expected an integer") from None
        if not x.is_integer():
            raise InvalidInput(name, v, "expected an integer") from None
        return int(x)
