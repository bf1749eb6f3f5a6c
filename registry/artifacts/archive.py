"""Safe extraction of uploaded model archives.

A model version is uploaded as a .zip holding one .onnx graph plus its external-data files. The archive
comes from a user, so its central directory is checked in full before a single byte is written, and the
extraction that follows trusts none of the sizes the headers declare. This module is pure Python on purpose:
the web process and the validation worker both call it, and neither should need Django to do so.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["ArchiveLimits", "ArchiveRejected", "ExtractedFile", "check_file_paths", "extract_zip_safely"]

CHUNK_SIZE = 1024 * 1024

# Small members are exempt from the ratio check: a 40 KiB JSON sidecar can legitimately compress 300:1,
# and a member this small cannot hurt anyone however well it compresses.
RATIO_CHECK_FLOOR = 1024 * 1024

# BZIP2 and LZMA are refused although zipfile reads them: its reader feeds each compressed chunk to those
# decompressors without an output bound, so a member whose header understates its size could expand to
# gigabytes in memory before the declared-size cut-off applies. Deflate is decompressed with a bound.
_SUPPORTED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")

# Everything zipfile (and the decompressors under it) raises for a damaged archive. OSError is included
# because the bz2/zlib layers report bad streams that way; errors writing to dest never pass through here.
_CORRUPT_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    NotImplementedError,
    RuntimeError,
)

_SPECIAL_FILE_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}


class ArchiveRejected(Exception):
    """The upload cannot be extracted safely.

    str(exc) is a sentence a person can read, naming the offending member when there is one; it is meant to
    be shown to the uploader as is.
    """


@dataclass(frozen=True)
class ExtractedFile:
    path: str  # normalised POSIX path relative to the archive root, e.g. "model/weights.bin"
    local_path: Path  # where it was written under dest (dest resolved, so symlinks in dest are followed)
    sha256: str  # hex digest of the bytes actually written
    size: int  # number of bytes actually written


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int  # sum of uncompressed sizes
    max_ratio: float = 200.0  # uncompressed/compressed per member, for members over RATIO_CHECK_FLOOR
    max_members: int = 1000  # entries in the central directory, folder entries included
    max_path_length: int = 255  # characters in a member's normalised path

    def __post_init__(self) -> None:
        if self.max_total_bytes < 0 or self.max_ratio <= 0 or self.max_members < 1 or self.max_path_length < 1:
            raise ValueError(f"ArchiveLimits values must be positive: {self!r}")


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]

    @property
    def path(self) -> str:
        return "/".join(self.parts)


def extract_zip_safely(zip_path: Path, dest: Path, *, limits: ArchiveLimits) -> list[ExtractedFile]:
    """Extract the regular files of a user-supplied zip under dest, one entry per file, in archive order.

    Guarantees:
    - The whole central directory is checked before anything is written; any of these raises
      ArchiveRejected and leaves dest untouched: not a zip or corrupt, encrypted or unsupported compression,
      an unsafe name (absolute, drive letter, backslash, "..", empty), names that collide after normalisation
      or case folding, a file that is also used as a folder, a symlink or other special entry, too many
      entries, a path that is too long, a declared total over the limit, a member compressed suspiciously
      well, or no files at all. Folder entries are skipped; folders are created as files need them.
    - Members are streamed in CHUNK_SIZE pieces, so memory stays bounded whatever their size. The bytes
      actually produced are counted against both the member's declared size and max_total_bytes, and
      hashed as they are written; a CRC mismatch or damaged stream raises ArchiveRejected.
    - Nothing is written outside dest: every folder is resolved before anything is created in it, and files
      are created exclusively without following symlinks, so an existing file is never overwritten.
    - On any failure (ArchiveRejected, an OSError writing to dest, an interrupt) every file and folder this
      call created is removed, dest included if this call created it, and the exception is re-raised.
      What was in dest before is left alone.

    OSErrors from the filesystem (a missing zip_path, a full disk, a file already at a member's path)
    propagate unchanged: they are the server's problem, not the uploader's.
    """
    with open(zip_path, "rb") as archive_file:
        try:
            archive = zipfile.ZipFile(archive_file)
        except _CORRUPT_ARCHIVE_ERRORS as exc:
            raise ArchiveRejected("The upload is not a valid zip archive.") from exc
        with archive:
            members = _inspect(archive, limits)
            created_files: list[Path] = []
            created_dirs: list[Path] = []
            try:
                root = _make_dest(Path(dest), created_dirs)
                extracted: list[ExtractedFile] = []
                written = 0
                for member in members:
                    extracted.append(
                        _extract_member(
                            archive, member, root, limits.max_total_bytes - written, limits, created_files, created_dirs
                        )
                    )
                    written += extracted[-1].size
                return extracted
            except BaseException:
                _remove_created(created_files, created_dirs)
                raise


# Inspection: everything decided from the central directory alone.


def _inspect(archive: zipfile.ZipFile, limits: ArchiveLimits) -> list[_Member]:
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveRejected(f"The archive has {len(infos):,} entries, over the limit of {limits.max_members:,}.")

    files: list[_Member] = []
    tree = _Tree()
    declared_total = 0
    for position, info in enumerate(infos, start=1):
        parts = _safe_parts(info.filename, position, limits)
        is_folder = info.filename.endswith("/")
        _check_entry_type(info, is_folder)
        if info.flag_bits & 0x1:
            raise ArchiveRejected(f"{_quote(info.filename)} is encrypted; encrypted archives are not supported.")
        tree.add(info.filename, parts, is_folder=is_folder)
        if is_folder:
            continue
        _check_compression(info, limits)
        declared_total += info.file_size
        files.append(_Member(info, parts))
    tree.check_files_are_not_folders()
    if declared_total > limits.max_total_bytes:
        raise ArchiveRejected(
            f"Uncompressed, the archive expands to {_human_size(declared_total)}, "
            f"over the limit of {_human_size(limits.max_total_bytes)}."
        )
    if not files:
        raise ArchiveRejected("The archive contains no files.")
    return files


def check_file_paths(names: list[str], *, limits: ArchiveLimits) -> list[str]:
    """The normalised paths of files given one by one (a version sent file by file), checked as an archive's
    members are: relative, no "..", no two that collide by case or accent, no file that is also a folder."""
    if len(names) > limits.max_members:
        raise ArchiveRejected(f"{len(names):,} files are over the limit of {limits.max_members:,}.")
    tree, paths = _Tree(), []
    for position, name in enumerate(names, start=1):
        if name.endswith("/"):
            raise ArchiveRejected(f"{_quote(name)} names a folder; give the path of a file.")
        parts = _safe_parts(name, position, limits)
        tree.add(name, parts, is_folder=False)
        paths.append("/".join(parts))
    tree.check_files_are_not_folders()
    return paths


class _Tree:
    """The paths seen so far, folded for collisions (see _collision_key)."""

    def __init__(self) -> None:
        self.file_keys: dict[str, str] = {}  # collision key -> name as written
        self.folder_keys: set[str] = set()

    def add(self, name: str, parts: tuple[str, ...], *, is_folder: bool) -> None:
        key = _collision_key("/".join(parts))
        # Parents count as folders whether or not they are listed, so "a" (file) + "a/b" collide.
        self.folder_keys.update(_collision_key("/".join(parts[:depth])) for depth in range(1, len(parts)))
        if is_folder:
            self.folder_keys.add(key)
            return
        if key in self.file_keys:
            raise ArchiveRejected(_duplicate_message(self.file_keys[key], name))
        self.file_keys[key] = name

    def check_files_are_not_folders(self) -> None:
        for key, name in self.file_keys.items():
            if key in self.folder_keys:
                raise ArchiveRejected(f"{_quote(name)} is used both as a file and as a folder in the archive.")


def _safe_parts(name: str, position: int, limits: ArchiveLimits) -> tuple[str, ...]:
    """Split a member name into path components, rejecting anything that could land outside dest."""
    if _DRIVE_LETTER.match(name):
        raise ArchiveRejected(f"{_quote(name)} starts with a drive letter; paths in the archive must be relative.")
    if name.startswith("/"):
        raise ArchiveRejected(f"{_quote(name)} is an absolute path; paths in the archive must be relative.")
    if "\\" in name:
        # Rejected rather than translated: Windows tools would treat it as a separator, Linux as a
        # character, and the two readings of one archive must not differ.
        raise ArchiveRejected(f"{_quote(name)} contains a backslash; use forward slashes in archive paths.")
    raw_parts = name.split("/")
    if ".." in raw_parts:
        raise ArchiveRejected(f'{_quote(name)} contains a ".." component, which could point outside the archive.')
    parts = tuple(part for part in raw_parts if part not in ("", "."))
    if not parts:
        raise ArchiveRejected(f"Entry number {position} in the archive has an empty name.")
    path_length = len("/".join(parts))
    if path_length > limits.max_path_length:
        raise ArchiveRejected(
            f"{_quote(name)} is a path of {path_length} characters, over the limit of {limits.max_path_length}."
        )
    return parts


def _check_entry_type(info: zipfile.ZipInfo, is_folder: bool) -> None:
    # Unix archivers keep the st_mode in the high 16 bits; archivers that do not leave them at zero.
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type in _SPECIAL_FILE_KINDS:
        raise ArchiveRejected(
            f"{_quote(info.filename)} is {_SPECIAL_FILE_KINDS[file_type]}; only regular files and folders are allowed."
        )
    expected = stat.S_IFDIR if is_folder else stat.S_IFREG
    if file_type not in (0, expected):
        what = "a file but is named like a folder" if is_folder else "a folder but is named like a file"
        raise ArchiveRejected(f"{_quote(info.filename)} is marked as {what}.")


def _check_compression(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    if info.compress_type not in _SUPPORTED_METHODS:
        raise ArchiveRejected(
            f"{_quote(info.filename)} uses compression method {info.compress_type}, which is not supported; "
            "use stored or deflate."
        )
    if info.file_size > RATIO_CHECK_FLOOR:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise ArchiveRejected(
                f"{_quote(info.filename)} looks like a zip bomb: {_human_size(info.compress_size)} would expand "
                f"to {_human_size(info.file_size)} ({ratio:,.0f} times), over the limit of {limits.max_ratio:g} times."
            )


def _collision_key(path: str) -> str:
    # Case-insensitive filesystems (macOS, Windows) would merge names that differ only in case, and macOS
    # also merges composed and decomposed accents, so both are folded before comparing.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


def _duplicate_message(first: str, second: str) -> str:
    if first == second or _safe_join(first) == _safe_join(second):
        return f"{_quote(second)} appears more than once in the archive."
    return (
        f"{_quote(first)} and {_quote(second)} differ only in letter case or accent encoding, "
        "so they would overwrite each other on some filesystems."
    )


def _safe_join(name: str) -> str:
    return "/".join(part for part in name.split("/") if part not in ("", "."))


# Extraction: nothing from the headers is trusted here.


def _make_dest(dest: Path, created_dirs: list[Path]) -> Path:
    missing = []
    candidate = dest.absolute()
    while not os.path.lexists(candidate):
        missing.append(candidate)
        candidate = candidate.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # created concurrently: not ours to remove
            os.mkdir(folder)
            created_dirs.append(folder)
    return dest.resolve(strict=True)


def _extract_member(
    archive: zipfile.ZipFile,
    member: _Member,
    root: Path,
    budget: int,
    limits: ArchiveLimits,
    created_files: list[Path],
    created_dirs: list[Path],
) -> ExtractedFile:
    """Write one member under root; budget is how many bytes the archive may still produce in total."""
    parent = _make_parents(root, member, created_dirs)
    # parent is a resolved folder inside root and O_NOFOLLOW|O_EXCL refuses an existing file or symlink, so
    # the final path resolves inside dest as well.
    target = parent / member.parts[-1]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(target, flags, 0o644)
    created_files.append(target)

    digest = hashlib.sha256()
    size = 0
    with os.fdopen(descriptor, "wb") as out, _open_member(archive, member) as source:
        while chunk := _read_chunk(source, member):
            size += len(chunk)
            # zipfile itself stops at the declared size today; these checks keep the limits honest if a
            # future reader (or a forged header it does not catch) yields more than was declared.
            if size > member.info.file_size:
                raise ArchiveRejected(
                    f"{_quote(member.info.filename)} holds more data than its header declares "
                    f"({_human_size(member.info.file_size)}); the archive is corrupt or forged."
                )
            if size > budget:
                raise ArchiveRejected(
                    f"While extracting, the archive grew past the limit of {_human_size(limits.max_total_bytes)}."
                )
            digest.update(chunk)
            out.write(chunk)
    return ExtractedFile(path=member.path, local_path=target, sha256=digest.hexdigest(), size=size)


def _make_parents(root: Path, member: _Member, created_dirs: list[Path]) -> Path:
    """Create the member's folders one level at a time, each inside a folder already proven to be in root.

    Resolving before descending matters when dest already holds a symlink: creating "a/b" first and
    checking afterwards would already have made "b" wherever "a" points.
    """
    current = root
    for part in member.parts[:-1]:
        candidate = current / part
        try:
            os.mkdir(candidate)
            created_dirs.append(candidate)
        except FileExistsError:
            pass
        current = candidate.resolve(strict=True)
        if not current.is_relative_to(root):
            raise ArchiveRejected(f"{_quote(member.info.filename)} would be written outside the destination folder.")
    return current


def _open_member(archive: zipfile.ZipFile, member: _Member) -> IO[bytes]:
    try:
        return archive.open(member.info)
    except _CORRUPT_ARCHIVE_ERRORS as exc:
        raise ArchiveRejected(f"{_quote(member.info.filename)} is corrupt and cannot be extracted ({exc}).") from exc


def _read_chunk(source: IO[bytes], member: _Member) -> bytes:
    try:
        return source.read(CHUNK_SIZE)
    except _CORRUPT_ARCHIVE_ERRORS as exc:
        raise ArchiveRejected(f"{_quote(member.info.filename)} is corrupt and cannot be extracted ({exc}).") from exc


def _remove_created(created_files: list[Path], created_dirs: list[Path]) -> None:
    # Best effort and never raising, so the original error is the one reported. A folder we created that
    # is no longer empty holds something we did not write, and is left in place.
    for path in reversed(created_files):
        with contextlib.suppress(OSError):
            os.unlink(path)
    for path in reversed(created_dirs):
        with contextlib.suppress(OSError):
            os.rmdir(path)


# Messages.


def _quote(name: str, limit: int = 120) -> str:
    printable = "".join(char if char.isprintable() else repr(char)[1:-1] for char in name)
    if len(printable) > limit:
        printable = printable[: limit // 2] + "…" + printable[-limit // 2 :]
    return f'"{printable}"'


def _human_size(size: int) -> str:
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value = size / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
