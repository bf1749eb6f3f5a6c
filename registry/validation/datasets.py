"""Profiles of uploaded tabular data sets: columns, types, null counts, row counts and column profiles.

Files are streamed, never loaded whole, so a multi-gigabyte upload is profiled in bounded memory.
Only the formats below are read, and only as data; anything else is stored without a profile.

Each listed column also gets a mergeable profile (registry.profiles.columns): the reference that monitoring
compares an endpoint's traffic with.

CSV/TSV is read by pyarrow's threaded streaming reader, every listed column as text, block by block; each block
is checked column by column with vectorised kernels (pyarrow.compute: whitespace, the type patterns, value
counts), so no Python runs per cell. Python's csv module stays the definition of a valid file: when pyarrow
refuses one (a ragged row, bytes that are not UTF-8, a row longer than a block, a repeated column name), the
csv module reads it again and either names the line that is wrong, with the messages below, or profiles it
itself (slowly; such files are rare). Parquet is read in record batches.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
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

# pyarrow's CSV block. A row must fit in one, so it stays below MAX_FIELD_BYTES: a field or line over its limit
# makes pyarrow fail, and the csv module then reports it with its line number.
BLOCK_BYTES = 4 * 1024 * 1024
# The memory pool pyarrow's CSV reader allocates from; None is pyarrow's default (tests count with a proxy).
MEMORY_POOL = None
# Values handed to a NumericProfile at once: its temporaries are Python-heap arrays of this many floats.
PROFILE_CHUNK = 16_384
# Rows of the csv module's blocks handed to the column profiles together, and Parquet's batch size.
BLOCK_ROWS = 2048
PARQUET_BATCH_ROWS = 65_536
# A column read as numbers keeps the counts of its cells while they are this few distinct values, so that if
# it turns out to be text (or booleans) after all, its categorical profile still covers its earlier rows.
RAW_COUNTS_MAX_VALUES = 256

_NUMERIC_TYPES = {"empty", "integer", "float"}
# The cell types of _cell_type in RE2 syntax (pc.match_substring_regex), for cells stripped of whitespace. Case is
# spelled out rather than (?i), which would also match the Kelvin sign and the long s.
_INTEGER_PATTERN = r"^[+-]?[0-9]+$"
_FLOAT_PATTERN = (
    r"^(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[Nn][Aa][Nn]|[+-]?[Ii][Nn][Ff](?:[Ii][Nn][Ii][Tt][Yy])?)$"
)
_BOOLEAN_PATTERN = r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"
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
        fast = _profile_delimited_arrow(Path(path), format_name=name, delimiter=delimiter)
        return fast if fast is not None else _profile_delimited(Path(path), format_name=name, delimiter=delimiter)
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
    return _delimited_result(format_name, delimiter, row_count, names, types, nulls, profiler)


def _delimited_result(format_name, delimiter, row_count, names, types, nulls, profiler) -> dict[str, Any]:
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


def _header(path: Path, delimiter: str) -> list[str]:
    """The first row, read and checked by the csv module as _profile_delimited reads it."""
    with open(path, "rb") as stream, _field_size_limit(MAX_FIELD_BYTES):
        header = _next_row(csv.reader(_decoded_lines(stream), delimiter=delimiter))
    if header is None:
        raise DatasetInvalid("the file is empty")
    return _check_header(header)


def _profile_delimited_arrow(path: Path, *, format_name: str, delimiter: str) -> dict[str, Any] | None:
    """The profile _profile_delimited makes, read by pyarrow's threaded reader with every cell checked by
    vectorised kernels; None when pyarrow refuses the file (a ragged row, text that is not UTF-8, a row longer
    than a block), and the csv module then names the line that is wrong, or reads the file itself."""
    names = _header(path, delimiter)
    if len(set(names)) != len(names):
        return None  # pyarrow types columns by name: one name twice is for the csv module
    listed = names[:MAX_LISTED_COLUMNS]
    types, nulls, row_count = ["empty"] * len(listed), [0] * len(listed), 0
    profiler = _DelimitedProfiler(listed)
    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                include_columns=listed,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
            memory_pool=MEMORY_POOL,
        )
        with closing(reader):
            if reader.schema.names != listed:
                return None
            for batch in reader:
                row_count += batch.num_rows
                for index, column in enumerate(batch.columns):
                    fast = _fast_numbers(column, types[index])
                    if fast is not None:
                        types[index] = _widen(types[index], fast[0])
                        profiler.add_column(index, column, 0, types[index], numbers=fast[1])
                        continue
                    trimmed = pc.utf8_trim_whitespace(column)
                    empty = pc.equal(pc.utf8_length(trimmed), 0)
                    blank = pc.sum(empty).as_py() or 0
                    values = trimmed.filter(pc.invert(empty)) if blank else trimmed
                    nulls[index] += blank
                    types[index] = _widen(types[index], _block_type(values, types[index]))
                    profiler.add_column(index, values, blank, types[index])
    except (pa.ArrowException, OSError):  # ArrowInvalid and the rest: the csv module says what is wrong
        return None
    return _delimited_result(format_name, delimiter, row_count, names, types, nulls, profiler)


def _fast_numbers(column: pa.Array, current: str) -> tuple[str, pa.Array] | None:
    """("integer" or "float", the block as float64) when one cast shows every cell a number as _cell_type reads
    one; None for the full checks of _block_type. The casts refuse empty and padded cells, but read a little more
    than _cell_type: hex integers and NaN spellings such as +nan are looked for, and a column that is still
    integer gets the full checks when the integer cast fails (a number past int64 is an integer too)."""
    if current == "string" or current == "boolean" or len(column) == 0:
        return None
    if current != "float":
        try:
            integers = pc.cast(column, pa.int64())
        except pa.ArrowInvalid:
            return None
        if pc.any(pc.match_substring(column, "x", ignore_case=True)).as_py():
            return None
        return "integer", pc.cast(integers, pa.float64())
    try:
        numbers = pc.cast(column, pa.float64())
    except pa.ArrowInvalid:
        return None
    nan = pc.is_nan(numbers)
    if pc.any(nan).as_py() and not pc.all(pc.match_substring_regex(column.filter(nan), r"^[Nn][Aa][Nn]$")).as_py():
        return None
    return "float", numbers


def _block_type(values: pa.Array, current: str) -> str:
    """The narrowest type of a block's non-empty (stripped) cells that the column's current type may widen to."""
    if len(values) == 0:
        return "empty"
    if current == "string":
        return "string"

    def every(pattern: str) -> bool:
        return bool(pc.all(pc.match_substring_regex(values, pattern)).as_py())

    if current in ("empty", "integer") and every(_INTEGER_PATTERN):
        return "integer"
    if current != "boolean" and every(_FLOAT_PATTERN):
        return "float"
    if current in ("empty", "boolean") and every(_BOOLEAN_PATTERN):
        return "boolean"
    return "string"


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
        """A block of the csv module's rows, the types as they stand after it."""
        width = len(self.names)
        columns = list(zip(*(row[:width] for row in block)))
        for index in list(self.profiled):
            cells = [cell.strip() for cell in columns[index] if cell and not cell.isspace()]
            self.add_column(index, pa.array(cells, pa.string()), len(block) - len(cells), types[index])

    def add_column(self, index: int, values: pa.Array, blank: int, type_: str, numbers: pa.Array | None = None) -> None:
        """One block of a column: its non-empty cells (stripped), its count of empty ones, its type so far, and
        the cells as float64 when the caller parsed them already."""
        if index not in self.profiled:
            return
        if type_ in _NUMERIC_TYPES:
            profile = self.numeric[index]
            profile.add_nulls(blank)
            self.empty[index] += blank
            if len(values):
                if numbers is None:
                    numbers = pc.cast(values, pa.float64())
                for start in range(0, len(numbers), PROFILE_CHUNK):
                    profile.update(numbers.slice(start, PROFILE_CHUNK).to_numpy(zero_copy_only=False))
                raw = self.raw[index]
                if raw is not None:
                    counts = pc.value_counts(values)
                    if len(counts) + len(raw) > RAW_COUNTS_MAX_VALUES:
                        self.raw[index] = None
                    else:
                        raw.update(_counts(counts))
            return
        categorical = self.categorical.get(index)
        if categorical is None:
            categorical = self._to_categorical(index)
            if categorical is None:
                return
        categorical.add_nulls(blank)
        if len(values):
            if type_ == "boolean":
                values = pc.utf8_lower(values)
            categorical.update_counts(_counts(pc.value_counts(values)))

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


def _counts(value_counts: pa.StructArray) -> dict:
    return dict(zip(value_counts.field("values").to_pylist(), value_counts.field("counts").to_pylist()))


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
    profile.update_counts(_counts(pc.value_counts(column.drop_null())))
