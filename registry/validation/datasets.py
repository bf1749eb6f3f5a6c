"""Profiles of uploaded tabular data sets: columns, types, null counts and row counts.

Files are streamed, never loaded whole, so a multi-gigabyte upload is profiled in bounded memory.
Only the formats below are read, and only as data; anything else is stored without a profile.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

MAX_COLUMNS = 10_000
# Columns past this many are counted ("column_count"), not listed: a profile stays small however wide
# the file (see registry.validation.services for the byte bound on what a version stores).
MAX_LISTED_COLUMNS = 256
MAX_FIELD_BYTES = 10 * 1024 * 1024
# A physical line is held in memory whole; the cap keeps a file with no line breaks from being read
# in one piece. Several large fields can share a line, hence more than MAX_FIELD_BYTES.
MAX_LINE_BYTES = 64 * 1024 * 1024

_DELIMITED_FORMATS = {".csv": ("csv", ","), ".tsv": ("tsv", "\t")}
_PARQUET_SUFFIXES = {".parquet", ".pq"}

_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_FLOAT_WORDS = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_BOOLEAN_WORDS = {"true", "false"}
_UTF8_BOM = b"\xef\xbb\xbf"


class DatasetInvalid(Exception):
    """The file claims a tabular format but is not valid in it; `reason` says where and why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def profile_dataset(path: Path, *, filename: str) -> dict[str, Any] | None:
    """Profile the file at `path` according to the extension of `filename` (the name it was uploaded as).

    Returns None for formats that are not profiled (they are stored as they are, never opened).
    CSV/TSV: {"format", "delimiter", "row_count", "column_count", "columns": [{"name", "type", "nulls"}]}, where type
    is "integer", "float", "boolean" (true/false in any case), "string" or "empty" (no non-empty cell)
    and nulls counts empty or whitespace-only cells; blank lines are skipped.
    Parquet: {"format", "row_count", "row_groups", "column_count", "columns": [{"name", "type"}]}, from the
    footer only. At most MAX_LISTED_COLUMNS columns are listed; column_count counts them all.
    Raises DatasetInvalid for a file that is not valid in its format.
    """
    suffix = Path(filename).suffix.lower()
    if suffix in _DELIMITED_FORMATS:
        name, delimiter = _DELIMITED_FORMATS[suffix]
        return _profile_delimited(Path(path), format_name=name, delimiter=delimiter)
    if suffix in _PARQUET_SUFFIXES:
        return _profile_parquet(Path(path))
    return None


# --- CSV / TSV ---------------------------------------------------------------------------------------


def _profile_delimited(path: Path, *, format_name: str, delimiter: str) -> dict[str, Any]:
    with open(path, "rb") as stream, _field_size_limit(MAX_FIELD_BYTES):
        reader = csv.reader(_decoded_lines(stream), delimiter=delimiter)
        header = _next_row(reader)
        if header is None:
            raise DatasetInvalid("the file is empty")
        names = _check_header(header)
        types = ["empty"] * len(names)
        nulls = [0] * len(names)
        row_count = 0
        while True:
            first_line = reader.line_num + 1
            row = _next_row(reader)
            if row is None:
                break
            if not row:  # a blank line, skipped as pandas and most readers do
                continue
            if len(row) != len(names):
                raise DatasetInvalid(f"line {first_line} has {len(row)} fields, the header has {len(names)}")
            _observe_row(row, types, nulls)
            row_count += 1
    return {
        "format": format_name,
        "delimiter": delimiter,
        "row_count": row_count,
        "column_count": len(names),
        "columns": [
            {"name": name, "type": type_, "nulls": null_count}
            for name, type_, null_count in zip(names[:MAX_LISTED_COLUMNS], types, nulls)
        ],
    }


def _observe_row(row: list[str], types: list[str], nulls: list[int]) -> None:
    """Count the row's empty cells and widen each column's type to fit its other cells."""
    # This loop runs once per cell of files that may hold billions of them, hence the fast paths:
    # a cell that fits the column's current type, checked without stripping, needs no widening.
    for index, cell in enumerate(row):
        if not cell or cell.isspace():
            nulls[index] += 1
            continue
        current = types[index]
        if current == "string":
            continue
        if current == "integer" and _INTEGER.fullmatch(cell):
            continue
        if current == "float" and _FLOAT.fullmatch(cell):  # integers fit a float column as they are
            continue
        if current == "boolean" and cell.lower() in _BOOLEAN_WORDS:
            continue
        types[index] = _widen(current, _cell_type(cell.strip()))


def _decoded_lines(stream: BinaryIO) -> Iterator[str]:
    """The file's physical lines as text, endings kept for the csv module.

    Decoding line by line (instead of through a text wrapper that decodes ahead in blocks) lets an
    encoding error name its exact line; UTF-8 never uses the newline byte inside a character, so
    splitting the bytes first is safe.
    """
    line_number = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        line_number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise DatasetInvalid(f"line {line_number} is longer than {MAX_LINE_BYTES // (1024 * 1024)} MB")
        if line_number == 1 and raw.startswith(_UTF8_BOM):
            raw = raw[len(_UTF8_BOM) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DatasetInvalid(f"not UTF-8 text near line {line_number}") from None


def _next_row(reader: Any) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        line = reader.line_num
        if "field larger than field limit" in str(exc):
            raise DatasetInvalid(f"line {line} has a field larger than {MAX_FIELD_BYTES // (1024 * 1024)} MB") from None
        raise DatasetInvalid(f"line {line} could not be parsed: {exc}") from None


def _check_header(header: list[str]) -> list[str]:
    if not header:
        raise DatasetInvalid("the header (line 1) is blank")
    if len(header) > MAX_COLUMNS:
        raise DatasetInvalid(f"the header has {len(header)} columns; at most {MAX_COLUMNS} are supported")
    for position, name in enumerate(header, start=1):
        if not name.strip():
            raise DatasetInvalid(f"column {position} of the header has no name")
    return header


@contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    # The limit is process-wide state of the csv module; restore it so other readers keep theirs.
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _cell_type(value: str) -> str:
    if _INTEGER.fullmatch(value):
        return "integer"
    if _FLOAT.fullmatch(value) or value.lower() in _FLOAT_WORDS:
        return "float"
    if value.lower() in _BOOLEAN_WORDS:
        return "boolean"
    return "string"


def _widen(current: str, seen: str) -> str:
    if current == "empty" or current == seen:
        return seen
    if {current, seen} == {"integer", "float"}:
        return "float"
    # Booleans mixed with numbers (or anything else) have no narrower common type than text.
    return "string"


# --- Parquet -----------------------------------------------------------------------------------------


def _profile_parquet(path: Path) -> dict[str, Any]:
    # Only the footer is read: the row count and schema live in the file metadata.
    try:
        with pq.ParquetFile(path) as parquet:
            metadata = parquet.metadata
            schema = parquet.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DatasetInvalid(f"not a valid Parquet file: {exc}") from None
    return {
        "format": "parquet",
        "row_count": metadata.num_rows,
        "row_groups": metadata.num_row_groups,
        "column_count": len(schema),
        "columns": [{"name": column.name, "type": str(column.type)} for column in list(schema)[:MAX_LISTED_COLUMNS]],
    }
