"""Profiles of uploaded tabular data sets: columns, types, null counts, row counts and column profiles.

Files are streamed, never loaded whole, so a multi-gigabyte upload is profiled in bounded memory.
Only the formats below are read, and only as data; anything else is stored without a profile.

Each listed column also gets a mergeable profile (registry.profiles.columns): the reference that monitoring
compares an endpoint's traffic with. CSV/TSV rows are gathered in blocks of BLOCK_ROWS and each block's columns
go to the profiles at once (numpy parses the numbers); Parquet is read in record batches.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from registry.profiles.columns import CategoricalProfile, NumericProfile

MAX_COLUMNS = 10_000
# Columns past this many are counted ("column_count"), not listed: a profile stays small however wide
# the file (see registry.validation.services for the byte bound on what a version stores).
MAX_LISTED_COLUMNS = 256
MAX_FIELD_BYTES = 10 * 1024 * 1024
# A physical line is held in memory whole; the cap keeps a file with no line breaks from being read
# in one piece. Several large fields can share a line, hence more than MAX_FIELD_BYTES.
MAX_LINE_BYTES = 64 * 1024 * 1024

# Rows of a CSV/TSV block handed to the column profiles together, and Parquet's batch size.
BLOCK_ROWS = 2048
PARQUET_BATCH_ROWS = 65_536
# A column read as numbers keeps the counts of its cells while they are this few distinct values, so that if
# it turns out to be text (or booleans) after all, its categorical profile still covers its earlier rows.
RAW_COUNTS_MAX_VALUES = 256

_NUMERIC_TYPES = {"empty", "integer", "float"}
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
    footer. At most MAX_LISTED_COLUMNS columns are listed; column_count counts them all.
    Both also carry "profiles" {name: profile dict} of the listed columns: numeric for integer, float and empty
    columns (and Parquet's integers, floats and decimals; a NaN counts as a null there), categorical for the
    others (booleans as "true"/"false"). A listed column left without one (a repeated name, a nested Parquet
    type, numbers that turn into text after too many distinct values) is named in "profiles_left_out"
    {name: reason}, present only then.
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
        profiler = _DelimitedProfiler(names[:MAX_LISTED_COLUMNS])
        block: list[list[str]] = []
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
            block.append(row)
            if len(block) == BLOCK_ROWS:
                profiler.add(block, types)
                block = []
        if block:
            profiler.add(block, types)
    return {
        "format": format_name,
        "delimiter": delimiter,
        "row_count": row_count,
        "column_count": len(names),
        "columns": [
            {"name": name, "type": type_, "nulls": null_count}
            for name, type_, null_count in zip(names[:MAX_LISTED_COLUMNS], types, nulls)
        ],
        **profiler.result(),
    }


class _DelimitedProfiler:
    """The column profiles of a CSV/TSV file, fed block by block with the column types seen so far.

    A column is profiled as numbers while its type is numeric; when it widens to boolean or text, the counts of
    its cells so far (kept while few) seed its categorical profile, or, past RAW_COUNTS_MAX_VALUES distinct
    values, it is left out: a column of many numbers and some text is better fixed than profiled."""

    def __init__(self, names: list[str]):
        self.names = names
        self.left_out: dict[str, str] = {}
        self.profiled: list[int] = []
        for index, name in enumerate(names):
            if name in names[:index]:
                self.left_out[name] = "an earlier column has the same name"
            else:
                self.profiled.append(index)
        self.numeric = {i: NumericProfile() for i in self.profiled}
        self.raw: dict[int, Counter | None] = {i: Counter() for i in self.profiled}
        self.empty = dict.fromkeys(self.profiled, 0)  # empty cells while numeric (a NumericProfile adds NaNs)
        self.categorical: dict[int, CategoricalProfile] = {}

    def add(self, block: list[list[str]], types: list[str]) -> None:
        width = len(self.names)
        columns = list(zip(*(row[:width] for row in block)))
        for index in list(self.profiled):
            cells = [cell for cell in columns[index] if cell and not cell.isspace()]
            empty = len(block) - len(cells)
            type_ = types[index]
            if type_ in _NUMERIC_TYPES:
                profile = self.numeric[index]
                profile.add_nulls(empty)
                self.empty[index] += empty
                if cells:
                    profile.update(np.asarray(cells).astype(np.float64))
                raw = self.raw[index]
                if raw is not None:
                    raw.update(cells)
                    if len(raw) > RAW_COUNTS_MAX_VALUES:
                        self.raw[index] = None
                continue
            categorical = self.categorical.get(index)
            if categorical is None:
                categorical = self._to_categorical(index)
                if categorical is None:
                    continue
            categorical.add_nulls(empty)
            if type_ == "boolean":
                cells = [cell.strip().lower() for cell in cells]
            categorical.update(cells)

    def _to_categorical(self, index: int) -> CategoricalProfile | None:
        if self.raw[index] is None:
            self.left_out[self.names[index]] = (
                f"it holds more than {RAW_COUNTS_MAX_VALUES} distinct numbers before its first text value"
            )
            self.profiled.remove(index)
            return None
        profile = self.categorical[index] = CategoricalProfile()
        del self.numeric[index]
        profile.update_counts(self.raw.pop(index) or {})
        profile.add_nulls(self.empty.pop(index))
        return profile

    def result(self) -> dict[str, Any]:
        profiles = {}
        for index in self.profiled:
            profile = self.categorical.get(index) or self.numeric.get(index)
            profiles[self.names[index]] = profile.to_dict()
        return {"profiles": profiles, **({"profiles_left_out": self.left_out} if self.left_out else {})}


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
    # The row count and schema come from the footer; the profiles from the listed columns' data, in batches.
    try:
        with pq.ParquetFile(path) as parquet:
            metadata = parquet.metadata
            schema = parquet.schema_arrow
            profiles = _parquet_profiles(parquet, list(schema)[:MAX_LISTED_COLUMNS])
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DatasetInvalid(f"not a valid Parquet file: {exc}") from None
    return {
        "format": "parquet",
        "row_count": metadata.num_rows,
        "row_groups": metadata.num_row_groups,
        "column_count": len(schema),
        "columns": [{"name": column.name, "type": str(column.type)} for column in list(schema)[:MAX_LISTED_COLUMNS]],
        **profiles,
    }


def _parquet_kind(type_: pa.DataType) -> str | None:
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        return "numeric"
    if pa.types.is_dictionary(type_):
        return _parquet_kind(type_.value_type)
    if pa.types.is_boolean(type_) or pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "categorical"
    return None


def _parquet_profiles(parquet: pq.ParquetFile, fields: list[pa.Field]) -> dict[str, Any]:
    left_out: dict[str, str] = {}
    profiles: dict[str, NumericProfile | CategoricalProfile] = {}
    for field in fields:
        kind = _parquet_kind(field.type)
        if field.name in profiles or field.name in left_out:
            left_out[field.name] = "an earlier column has the same name"
        elif kind is None:
            left_out[field.name] = f"its type {field.type} is not profiled"
        else:
            profiles[field.name] = NumericProfile() if kind == "numeric" else CategoricalProfile()
    if profiles:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=list(profiles)):
            for name, column in zip(batch.schema.names, batch.columns):
                _profile_arrow(profiles[name], column)
    return {
        "profiles": {name: profile.to_dict() for name, profile in profiles.items()},
        **({"profiles_left_out": left_out} if left_out else {}),
    }


def _profile_arrow(profile: NumericProfile | CategoricalProfile, column: pa.Array) -> None:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if isinstance(profile, NumericProfile):
        # Nulls become NaN, which the profile counts as nulls.
        profile.update(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
        return
    profile.add_nulls(column.null_count)
    if pa.types.is_boolean(column.type):
        column = pc.if_else(column, "true", "false")
    counts = pc.value_counts(column.drop_null())
    profile.update_counts(dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())))
