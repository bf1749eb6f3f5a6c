"""profile_dataset on CSV, TSV and Parquet files written by the tests, valid and broken."""

import csv
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from registry.profiles.columns import profile_from_dict
from registry.validation import datasets
from registry.validation.datasets import DatasetInvalid, profile_dataset


def write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def profile_error(path, filename) -> DatasetInvalid:
    with pytest.raises(DatasetInvalid) as caught:
        profile_dataset(path, filename=filename)
    return caught.value


# --- CSV / TSV ---------------------------------------------------------------------------------------


def test_csv_columns_get_the_narrowest_type_and_null_counts(tmp_path):
    path = write(
        tmp_path,
        "upload",
        (
            "\ufeffid,score,ratio,flag,label,blank,mixed_bool\r\n"
            "1,0.5,1,true,a,,true\r\n"
            '-2,,2.5e3,FALSE,"multi\nline",,1\r\n'
            "\r\n"
            "+3,7,NaN,,b c,,no\r\n"
        ).encode(),
    )

    profile = profile_dataset(path, filename="Train.CSV")
    profiles = profile.pop("profiles")

    assert profile == {
        "format": "csv",
        "delimiter": ",",
        "row_count": 3,
        "column_count": 7,
        "columns": [
            {"name": "id", "type": "integer", "nulls": 0},
            {"name": "score", "type": "float", "nulls": 1},
            {"name": "ratio", "type": "float", "nulls": 0},
            {"name": "flag", "type": "boolean", "nulls": 1},
            {"name": "label", "type": "string", "nulls": 0},
            {"name": "blank", "type": "empty", "nulls": 3},
            {"name": "mixed_bool", "type": "string", "nulls": 0},
        ],
    }
    # Every column is profiled as its type says; the NaN cell is a null of the numeric profile.
    assert {name: p["kind"] for name, p in profiles.items()} == {
        "id": "numeric",
        "score": "numeric",
        "ratio": "numeric",
        "flag": "categorical",
        "label": "categorical",
        "blank": "numeric",
        "mixed_bool": "categorical",
    }
    ids = profile_from_dict(profiles["id"])
    assert (ids.count, ids.min, ids.max, ids.mean) == (3, -2.0, 3.0, 2 / 3)
    assert (profiles["ratio"]["count"], profiles["ratio"]["nulls"]) == (2, 1)
    assert profile_from_dict(profiles["flag"]).frequencies() == {"false": 1, "true": 1}
    assert profiles["flag"]["nulls"] == 1
    assert profiles["blank"]["count"] == 0 and profiles["blank"]["nulls"] == 3
    assert profile_from_dict(profiles["mixed_bool"]).frequencies() == {"1": 1, "no": 1, "true": 1}


def test_tsv_uses_tabs(tmp_path):
    path = write(tmp_path, "data.tsv", b"text\tcount\nhello, world\t4\n")

    profile = profile_dataset(path, filename="data.tsv")

    assert profile["format"] == "tsv" and profile["delimiter"] == "\t"
    assert profile["row_count"] == 1
    assert profile["columns"] == [
        {"name": "text", "type": "string", "nulls": 0},
        {"name": "count", "type": "integer", "nulls": 0},
    ]


def test_header_only_file_has_no_rows(tmp_path):
    profile = profile_dataset(write(tmp_path, "a.csv", b"a,b\n"), filename="a.csv")

    assert profile["row_count"] == 0
    assert [c["type"] for c in profile["columns"]] == ["empty", "empty"]


def test_ragged_row_names_its_line(tmp_path):
    # The quoted field spans lines 2-3, so the short row starts on line 5.
    path = write(tmp_path, "a.csv", b'a,b,c\n1,"x\ny",3\n4,5,6\n7,8\n')

    error = profile_error(path, "a.csv")

    assert error.reason == "line 5 has 2 fields, the header has 3"
    assert str(error) == error.reason


def test_bytes_that_are_not_utf8_name_their_line(tmp_path):
    lines = [b"a,b\n"] + [b"1,2\n"] * 5 + [b"caf\xe9,3\n"]
    error = profile_error(write(tmp_path, "a.csv", b"".join(lines)), "a.csv")

    assert error.reason == "not UTF-8 text near line 7"


def test_empty_file_is_invalid(tmp_path):
    error = profile_error(write(tmp_path, "a.csv", b""), "a.csv")

    assert error.reason == "the file is empty"


def test_header_with_an_unnamed_column_is_invalid(tmp_path):
    error = profile_error(write(tmp_path, "a.csv", b"a,,c\n1,2,3\n"), "a.csv")

    assert error.reason == "column 2 of the header has no name"


def test_too_many_columns_is_invalid(tmp_path):
    header = ",".join(f"c{i}" for i in range(10_001)).encode()
    error = profile_error(write(tmp_path, "a.csv", header + b"\n"), "a.csv")

    assert "10001 columns" in error.reason and "10000" in error.reason


def test_field_over_10_mb_is_invalid_and_the_csv_limit_is_restored(tmp_path):
    limit_before = csv.field_size_limit()
    huge = b"x" * (10 * 1024 * 1024 + 1)
    path = write(tmp_path, "a.csv", b'a,b\n1,2\n3,"' + huge + b'"\n')

    error = profile_error(path, "a.csv")

    assert "larger than 10 MB" in error.reason and "line 3" in error.reason
    assert csv.field_size_limit() == limit_before


def test_field_under_10_mb_is_accepted(tmp_path):
    # Above the csv module's default limit of 128 KiB.
    path = write(tmp_path, "a.csv", b"a\n" + b"x" * (1024 * 1024) + b"\n")

    assert profile_dataset(path, filename="a.csv")["columns"] == [{"name": "a", "type": "string", "nulls": 0}]


def test_csv_is_streamed_not_loaded_whole(tmp_path, monkeypatch):
    row = b"12345,0.25,some text here,true\n"
    path = write(tmp_path, "big.csv", b"a,b,c,d\n" + row * 2_500_000)  # about 80 MB
    pool = pa.proxy_memory_pool(pa.default_memory_pool())  # counts what pyarrow's reader allocates
    monkeypatch.setattr(datasets, "MEMORY_POOL", pool)
    tracemalloc.start()
    try:
        profile = profile_dataset(path, filename="big.csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert profile["row_count"] == 2_500_000
    assert [c["type"] for c in profile["columns"]] == ["integer", "float", "string", "boolean"]
    assert profile["profiles"]["a"]["count"] == 2_500_000
    assert peak < 1024 * 1024  # Python's heap: the sketches and one chunk of numbers
    assert 0 < pool.max_memory() < 48 * 1024 * 1024  # pyarrow's: the 4 MiB blocks read ahead, not the file


def test_files_pyarrow_refuses_are_read_by_the_csv_module(tmp_path, monkeypatch):
    # A row longer than pyarrow's block, and a repeated column name: the csv module profiles both.
    monkeypatch.setattr(datasets, "BLOCK_BYTES", 1024)
    path = write(tmp_path, "t.csv", b"a,b\n1," + b"x" * 5000 + b"\n2,y\n")
    profile = profile_dataset(path, filename="t.csv")
    assert profile["row_count"] == 2 and profile["columns"][1]["type"] == "string"
    assert profile["profiles"]["a"]["count"] == 2
    twice = profile_dataset(write(tmp_path, "u.csv", b"a,a\n1,2\n"), filename="u.csv")
    assert twice["profiles_left_out"] == {"a": "an earlier column has the same name"}
    assert [c["type"] for c in twice["columns"]] == ["integer", "integer"]


@pytest.mark.parametrize(
    "cells, expected",
    [
        (["1", " -2 ", "+3"], "integer"),
        (["1", "2.5", "1e3", ".5", "5.", "NaN", "-Infinity", "inf"], "float"),
        (["True", " false", "TRUE"], "boolean"),
        (["1", "true"], "string"),
        (["1", "0x10"], "string"),  # pyarrow's casts read hex and +nan; _cell_type does not
        (["1.5", "+nan"], "string"),
        (["1", "99999999999999999999"], "integer"),  # past int64, still an integer
        (["١٢"], "string"),  # Arabic-Indic digits are not ASCII digits
        (["", " "], "empty"),
    ],
)
def test_both_readers_agree_on_types(tmp_path, monkeypatch, cells, expected):
    path = write(tmp_path, "t.csv", ("v\n" + "\n".join(f'"{c}"' for c in cells) + "\n").encode())
    fast = profile_dataset(path, filename="t.csv")
    monkeypatch.setattr(datasets, "_profile_delimited_arrow", lambda *a, **k: None)
    slow = profile_dataset(path, filename="t.csv")
    assert fast["columns"] == slow["columns"] and fast["columns"][0]["type"] == expected
    assert fast["profiles"] == slow["profiles"] or expected == "float"  # NaN != NaN in the float case


@pytest.mark.parametrize("filename", ["model.pkl", "notes.txt", "data.csv.gz", "archive.json", "README"])
def test_other_formats_are_not_profiled_or_opened(tmp_path, filename):
    # The path does not exist, so any attempt to open it would raise.
    assert profile_dataset(tmp_path / "missing", filename=filename) is None


# --- Parquet -----------------------------------------------------------------------------------------


def test_parquet_profile_comes_from_metadata(tmp_path):
    table = pa.table(
        {
            "id": pa.array(range(10), pa.int64()),
            "name": pa.array([f"n{i}" for i in range(10)], pa.string()),
            "score": pa.array([i / 2 for i in range(10)], pa.float64()),
            "tags": pa.array([["a"]] * 10, pa.list_(pa.string())),
        }
    )
    path = tmp_path / "upload"
    pq.write_table(table, path, row_group_size=4)

    profile = profile_dataset(path, filename="train.parquet")
    profiles = profile.pop("profiles")
    left_out = profile.pop("profiles_left_out")

    assert profile == {
        "format": "parquet",
        "row_count": 10,
        "row_groups": 3,
        "column_count": 4,
        "columns": [
            {"name": "id", "type": "int64"},
            {"name": "name", "type": "string"},
            {"name": "score", "type": "double"},
            {"name": "tags", "type": "list<element: string>"},
        ],
    }
    assert left_out == {"tags": "its type list<element: string> is not profiled"}
    scores = profile_from_dict(profiles["score"])
    assert (scores.count, scores.max, scores.mean) == (10, 4.5, 2.25)
    assert profile_from_dict(profiles["name"]).frequencies() == {f"n{i}": 1 for i in range(10)}


def test_parquet_nulls_booleans_and_dictionaries(tmp_path):
    table = pa.table(
        {
            "x": pa.array([1.0, None, float("nan"), 4.0]),
            "ok": pa.array([True, None, False, True]),
            "city": pa.array(["a", "b", None, "a"]).dictionary_encode(),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    profiles = profile_dataset(path, filename="t.parquet")["profiles"]
    assert (profiles["x"]["count"], profiles["x"]["nulls"]) == (2, 2)
    assert profile_from_dict(profiles["ok"]).frequencies() == {"true": 2, "false": 1}
    assert profiles["ok"]["nulls"] == 1
    assert profile_from_dict(profiles["city"]).frequencies() == {"a": 2, "b": 1}


def test_csv_profiles_span_blocks_and_widening(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "BLOCK_ROWS", 10)
    monkeypatch.setattr(datasets, "RAW_COUNTS_MAX_VALUES", 30)
    lines = ["code,value,id,id"]
    # code: a few numbers for 25 rows, then text; value: 100 numbers, then text (too many to seed from).
    for i in range(120):
        code = str(i % 3) if i < 25 else "x"
        value = str(i) if i < 100 else "later text"
        lines.append(f"{code},{value},{i},{i}")
    path = write(tmp_path, "t.csv", ("\n".join(lines) + "\n").encode())
    profile = profile_dataset(path, filename="t.csv")
    assert profile_from_dict(profile["profiles"]["code"]).frequencies() == {"x": 95, "0": 9, "1": 8, "2": 8}
    assert set(profile["profiles"]) == {"code", "id"}
    assert profile["profiles_left_out"] == {
        "value": "it holds more than 30 distinct numbers before its first text value",
        "id": "an earlier column has the same name",
    }
    ids = profile_from_dict(profile["profiles"]["id"])
    assert (ids.count, ids.min, ids.max) == (120, 0.0, 119.0)


def test_pq_extension_is_parquet(tmp_path):
    path = tmp_path / "t.pq"
    pq.write_table(pa.table({"a": [1, 2, 3]}), path)

    assert profile_dataset(path, filename="T.PQ")["row_count"] == 3


@pytest.mark.parametrize("cut", ["garbage", "truncated"])
def test_corrupt_parquet_is_invalid(tmp_path, cut):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": list(range(100))}), path)
    content = path.read_bytes()
    path.write_bytes(b"not parquet at all" if cut == "garbage" else content[: len(content) // 2])

    error = profile_error(path, "t.parquet")

    assert error.reason.startswith("not a valid Parquet file: ")


@pytest.mark.parametrize("first, later", [("2.5", "+nan"), ("7", "0x10"), ("7", "2.5")])
def test_later_blocks_get_the_same_checks(tmp_path, monkeypatch, first, later):
    monkeypatch.setattr(datasets, "BLOCK_BYTES", 256)  # many blocks: the cast-only fast path is taken
    path = write(tmp_path, "t.csv", ("v\n" + f"{first}\n" * 300 + f"{later}\n").encode())
    fast = profile_dataset(path, filename="t.csv")
    monkeypatch.setattr(datasets, "_profile_delimited_arrow", lambda *a, **k: None)
    assert fast["columns"] == profile_dataset(path, filename="t.csv")["columns"]
    assert fast["columns"][0]["type"] == ("float" if later == "2.5" else "string")
