"""extract_zip_safely against real archives, including hand-patched hostile ones."""

import hashlib
import os
import stat
import struct
import tracemalloc
import unicodedata
import warnings
import zipfile
from pathlib import Path

import pytest

from registry.artifacts.archive import ArchiveLimits, ArchiveRejected, ExtractedFile, extract_zip_safely

MiB = 1024 * 1024
LIMITS = ArchiveLimits(max_total_bytes=256 * MiB)

# Offsets of fixed fields in a central directory record; the local file header has the same fields two
# bytes earlier (it lacks "version made by").
_CENTRAL_FIELDS = {
    "flag_bits": (8, "<H"),
    "compress_type": (10, "<H"),
    "crc": (16, "<L"),
    "compress_size": (20, "<L"),
    "file_size": (24, "<L"),
}


def write_zip(path: Path, entries, compression=zipfile.ZIP_DEFLATED) -> Path:
    """entries: (name or ZipInfo, bytes) pairs, written in order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names some tests need
        with zipfile.ZipFile(path, "w", compression) as archive:
            for name, data in entries:
                if isinstance(name, zipfile.ZipInfo):
                    name.compress_type = compression
                archive.writestr(name, data)
    return path


def patch_headers(path: Path, name: str, *, local: bool = True, **fields: int) -> None:
    """Overwrite header fields of one member in the central directory and, unless local=False, its local header."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if bytes(data[position + 46 : position + 46 + name_length]) == encoded:
            break
        position = data.find(b"PK\x01\x02", position + 4)
    else:
        raise AssertionError(f"{name} not found in the central directory")
    local_offset = struct.unpack_from("<L", data, position + 42)[0]
    for field, value in fields.items():
        offset, fmt = _CENTRAL_FIELDS[field]
        struct.pack_into(fmt, data, position + offset, value)
        if local:
            struct.pack_into(fmt, data, local_offset + offset - 2, value)
    path.write_bytes(bytes(data))


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "area" / "dest"
    folder.mkdir(parents=True)
    return folder


def test_extracts_nested_files_with_hashes_and_sizes(tmp_path, dest):
    graph, weights, notes = b"onnx graph bytes", os.urandom(3 * MiB), b"x" * 10
    archive = write_zip(
        tmp_path / "model.zip",
        [
            ("model/", b""),
            ("model/model.onnx", graph),
            ("model/weights/layer0.bin", weights),
            ("./README.txt", notes),
        ],
    )

    extracted = extract_zip_safely(archive, dest, limits=LIMITS)

    root = dest.resolve()
    assert extracted == [
        ExtractedFile("model/model.onnx", root / "model/model.onnx", hashlib.sha256(graph).hexdigest(), len(graph)),
        ExtractedFile(
            "model/weights/layer0.bin",
            root / "model/weights/layer0.bin",
            hashlib.sha256(weights).hexdigest(),
            len(weights),
        ),
        ExtractedFile("README.txt", root / "README.txt", hashlib.sha256(notes).hexdigest(), len(notes)),
    ]
    assert (dest / "model/weights/layer0.bin").read_bytes() == weights
    assert tree(dest) == {"model", "model/model.onnx", "model/weights", "model/weights/layer0.bin", "README.txt"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../evil.txt", '"../evil.txt" contains a ".." component'),
        ("a/../../evil", '"a/../../evil" contains a ".." component'),
        ("a/../b", '"a/../b" contains a ".." component'),
        ("/etc/x", '"/etc/x" is an absolute path'),
        ("C:/evil.txt", '"C:/evil.txt" starts with a drive letter'),
        ("c:evil.txt", '"c:evil.txt" starts with a drive letter'),
        ("a\\..\\evil.txt", '"a\\..\\evil.txt" contains a backslash'),
        ("./", "Entry number 2 in the archive has an empty name."),
    ],
)
def test_rejects_unsafe_names_and_writes_nothing(tmp_path, dest, name, expected):
    archive = write_zip(tmp_path / "evil.zip", [("fine.txt", b"fine"), (name, b"evil")])
    before = tree(tmp_path)

    with pytest.raises(ArchiveRejected) as caught:
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert expected in str(caught.value)
    assert tree(tmp_path) == before
    assert not (tmp_path / "area" / "evil.txt").exists()
    assert list(dest.iterdir()) == []


def test_rejects_a_name_that_is_empty_once_read(tmp_path, dest):
    # zipfile cuts names at NUL, so a name of "\0abc" reads back as "" and would be dest itself.
    archive = write_zip(tmp_path / "nul.zip", [("Xabc", b"data")])
    raw = archive.read_bytes()
    assert raw.count(b"Xabc") == 2  # local header and central directory
    archive.write_bytes(raw.replace(b"Xabc", b"\0abc"))

    with pytest.raises(ArchiveRejected, match="Entry number 1 in the archive has an empty name"):
        extract_zip_safely(archive, dest, limits=LIMITS)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(("file_type", "kind"), [(stat.S_IFLNK, "a symbolic link"), (stat.S_IFIFO, "a named pipe")])
def test_rejects_special_entries(tmp_path, dest, file_type, kind):
    special = zipfile.ZipInfo("model/link")
    special.external_attr = (file_type | 0o777) << 16
    archive = write_zip(tmp_path / "special.zip", [("model/a.bin", b"a"), (special, b"/etc/passwd")])

    with pytest.raises(ArchiveRejected) as caught:
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert str(caught.value) == f'"model/link" is {kind}; only regular files and folders are allowed.'
    assert list(dest.iterdir()) == []


def test_rejects_a_zip_bomb_and_leaves_dest_empty(tmp_path, dest):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.onnx", b"graph")
        with archive.open("weights.bin", "w") as member:
            zeros = bytes(MiB)
            for _ in range(50):
                member.write(zeros)

    with pytest.raises(ArchiveRejected) as caught:
        extract_zip_safely(path, dest, limits=ArchiveLimits(max_total_bytes=1024 * MiB, max_ratio=200))

    message = str(caught.value)
    assert message.startswith('"weights.bin" looks like a zip bomb:')
    assert "would expand to 50.0 MiB" in message and "over the limit of 200 times" in message
    assert list(dest.iterdir()) == []


def test_small_members_are_exempt_from_the_ratio_check(tmp_path, dest):
    archive = write_zip(tmp_path / "sidecar.zip", [("config.json", b" " * 500_000)])

    extracted = extract_zip_safely(archive, dest, limits=ArchiveLimits(max_total_bytes=MiB, max_ratio=2))

    assert [(f.path, f.size) for f in extracted] == [("config.json", 500_000)]


def test_rejects_an_archive_that_expands_past_the_total_limit(tmp_path, dest):
    archive = write_zip(tmp_path / "big.zip", [("a.bin", os.urandom(700 * 1024)), ("b.bin", os.urandom(700 * 1024))])

    with pytest.raises(ArchiveRejected) as caught:
        extract_zip_safely(archive, dest, limits=ArchiveLimits(max_total_bytes=MiB))

    assert str(caught.value) == "Uncompressed, the archive expands to 1.4 MiB, over the limit of 1.0 MiB."
    assert list(dest.iterdir()) == []


def test_rejects_encrypted_members(tmp_path, dest):
    archive = write_zip(tmp_path / "locked.zip", [("model.onnx", b"graph"), ("secret.bin", b"data")])
    patch_headers(archive, "secret.bin", flag_bits=0x1)

    with pytest.raises(ArchiveRejected) as caught:
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert str(caught.value) == '"secret.bin" is encrypted; encrypted archives are not supported.'
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("model.onnx", "model.onnx", '"model.onnx" appears more than once in the archive.'),
        ("dir/a.bin", "dir//./a.bin", '"dir//./a.bin" appears more than once in the archive.'),
        ("Model.onnx", "model.onnx", '"Model.onnx" and "model.onnx" differ only in letter case'),
        (
            unicodedata.normalize("NFC", "café.bin"),
            unicodedata.normalize("NFD", "café.bin"),
            "differ only in letter case",
        ),
        ("model", "model/weights.bin", '"model" is used both as a file and as a folder in the archive.'),
    ],
)
def test_rejects_names_that_collide(tmp_path, dest, first, second, expected):
    archive = write_zip(tmp_path / "dupes.zip", [(first, b"one"), (second, b"two")])

    with pytest.raises(ArchiveRejected) as caught:
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert expected in str(caught.value)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"just some text, not a zip", "truncated"])
def test_rejects_files_that_are_not_zip_archives(tmp_path, dest, content):
    path = tmp_path / "upload.zip"
    if content == "truncated":
        write_zip(path, [("model.onnx", os.urandom(10_000))])
        content = path.read_bytes()[:5_000]
    path.write_bytes(content)

    with pytest.raises(ArchiveRejected, match=r"^The upload is not a valid zip archive\.$"):
        extract_zip_safely(path, dest, limits=LIMITS)
    assert list(dest.iterdir()) == []


def test_rejects_a_member_whose_header_understates_its_size(tmp_path, dest):
    real = os.urandom(300_000)
    archive = write_zip(tmp_path / "liar.zip", [("weights.bin", real)])
    patch_headers(archive, "weights.bin", file_size=100_000)

    with pytest.raises(ArchiveRejected) as caught:
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert str(caught.value).startswith('"weights.bin" is corrupt and cannot be extracted')
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("entries", [[], [("model/", b""), ("model/weights/", b"")]])
def test_rejects_an_archive_without_files(tmp_path, dest, entries):
    archive = write_zip(tmp_path / "empty.zip", entries)

    with pytest.raises(ArchiveRejected, match=r"^The archive contains no files\.$"):
        extract_zip_safely(archive, dest, limits=LIMITS)
    assert list(dest.iterdir()) == []


def test_rejects_too_many_members(tmp_path, dest):
    archive = write_zip(tmp_path / "many.zip", [(f"part{i}.bin", b"x") for i in range(4)])

    with pytest.raises(ArchiveRejected, match=r"^The archive has 4 entries, over the limit of 3\.$"):
        extract_zip_safely(archive, dest, limits=ArchiveLimits(max_total_bytes=MiB, max_members=3))


def test_rejects_a_path_that_is_too_long(tmp_path, dest):
    name = "model/" + "w" * 30 + ".bin"
    archive = write_zip(tmp_path / "long.zip", [(name, b"x")])

    with pytest.raises(ArchiveRejected, match=r"is a path of 40 characters, over the limit of 32\.$"):
        extract_zip_safely(archive, dest, limits=ArchiveLimits(max_total_bytes=MiB, max_path_length=32))


def test_rejects_compression_methods_without_a_bounded_reader(tmp_path, dest):
    archive = write_zip(tmp_path / "bz.zip", [("model.onnx", b"graph" * 100)], compression=zipfile.ZIP_BZIP2)

    with pytest.raises(ArchiveRejected, match=r'^"model.onnx" uses compression method 12, which is not supported'):
        extract_zip_safely(archive, dest, limits=LIMITS)


def test_failure_on_a_later_member_removes_only_what_this_call_created(tmp_path, dest):
    (dest / "keep.txt").write_bytes(b"already here")
    (dest / "model").mkdir()
    archive = write_zip(
        tmp_path / "partial.zip",
        [
            ("model/model.onnx", b"graph"),
            ("model/weights/a.bin", os.urandom(2 * MiB)),
            ("model/weights/b.bin", b"b" * 1000),
        ],
    )
    patch_headers(archive, "model/weights/b.bin", crc=0, local=False)

    corrupt = r'^"model/weights/b.bin" is corrupt and cannot be extracted \(Bad CRC-32'
    with pytest.raises(ArchiveRejected, match=corrupt):
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert tree(dest) == {"keep.txt", "model"}
    assert (dest / "keep.txt").read_bytes() == b"already here"


def test_failure_removes_dest_when_this_call_created_it(tmp_path):
    dest = tmp_path / "new" / "dest"
    archive = write_zip(tmp_path / "partial.zip", [("a.bin", b"a"), ("b.bin", b"b" * 1000)])
    patch_headers(archive, "b.bin", crc=0, local=False)

    with pytest.raises(ArchiveRejected):
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert not (tmp_path / "new").exists()


def test_never_follows_a_symlink_already_in_dest(tmp_path, dest):
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "model").symlink_to(outside, target_is_directory=True)
    archive = write_zip(tmp_path / "model.zip", [("model/sub/weights.bin", b"w")])

    with pytest.raises(ArchiveRejected, match='"model/sub/weights.bin" would be written outside the destination'):
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert list(outside.iterdir()) == []
    assert tree(dest) == {"model"}


def test_never_overwrites_a_file_already_in_dest(tmp_path, dest):
    (dest / "model.onnx").write_bytes(b"someone else's")
    archive = write_zip(tmp_path / "model.zip", [("weights.bin", b"w"), ("model.onnx", b"graph")])

    with pytest.raises(FileExistsError):
        extract_zip_safely(archive, dest, limits=LIMITS)

    assert tree(dest) == {"model.onnx"}
    assert (dest / "model.onnx").read_bytes() == b"someone else's"


def test_reads_zip64_records(tmp_path, dest, monkeypatch):
    # Lowering zipfile's thresholds while writing produces genuine Zip64 records (end-of-central-directory,
    # size and offset extra fields) without writing 4 GiB or 65,536 members.
    entries = [(f"model/part{i}.bin", os.urandom(100 + i)) for i in range(3)]
    with monkeypatch.context() as patch:
        patch.setattr(zipfile, "ZIP64_LIMIT", 16)
        patch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
        archive = write_zip(tmp_path / "zip64.zip", entries)
    raw = archive.read_bytes()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw  # Zip64 end record and its locator
    assert struct.unpack_from("<L", raw, raw.find(b"PK\x01\x02") + 24)[0] == 0xFFFFFFFF  # size is in the extra

    extracted = extract_zip_safely(archive, dest, limits=LIMITS)

    assert [(f.path, f.sha256) for f in extracted] == [(n, hashlib.sha256(d).hexdigest()) for n, d in entries]


def test_large_stored_member_is_extracted_in_bounded_memory(tmp_path, dest):
    size = 128 * MiB
    block = os.urandom(MiB)
    expected = hashlib.sha256()
    path = tmp_path / "stored.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive, archive.open("weights.bin", "w") as member:
        for _ in range(size // MiB):
            member.write(block)
            expected.update(block)

    tracemalloc.start()
    try:
        extracted = extract_zip_safely(path, dest, limits=LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [(f.size, f.sha256) for f in extracted] == [(size, expected.hexdigest())]
    assert peak < 8 * MiB, f"peak Python allocation was {peak / MiB:.1f} MiB"
