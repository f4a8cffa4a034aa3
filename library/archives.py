"""Expanding uploaded zip archives of sample packs, safely.

Refused: names that climb out of the archive (``..``, absolute paths, drive
letters), links, nested archives, more members than allowed, and expansion
beyond a byte budget. Sizes are counted while reading, not taken from the
archive's own (forgeable) header, so a zip bomb stops at the budget.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from library.errors import ArchiveRejected, FileTooLarge

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".aif", ".aiff", ".aifc", ".flac", ".ogg", ".oga", ".mp3"}
)
ARCHIVE_EXTENSIONS = frozenset({".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz"})
# Files that packs carry beside the audio and that are skipped silently.
IGNORED_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
CHUNK = 1024 * 1024
# A member's local header, or the end record of an empty archive.
ZIP_SIGNATURES = frozenset({b"PK\x03\x04", b"PK\x05\x06"})


@dataclass(frozen=True)
class Member:
    name: str  # the path inside the archive, for messages
    path: Path  # where it was extracted


def is_zip(path: Path) -> bool:
    """Whether the file's content is a zip archive, whatever its name says.

    It must open with a zip signature as well: ``is_zipfile`` alone looks for an
    end record near the end, which a long recording can hold by chance.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(4)
    except OSError:
        return False
    return head in ZIP_SIGNATURES and zipfile.is_zipfile(path)


def _safe_name(name: str) -> PurePosixPath:
    normalized = name.replace("\\", "/")
    pure = PurePosixPath(normalized)
    if (
        pure.is_absolute()
        or ".." in pure.parts
        or (pure.parts and ":" in pure.parts[0])
        or "\x00" in normalized
    ):
        raise ArchiveRejected(
            f"The archive contains an unsafe path ({name!r}); nothing was imported.",
            details={"member": name},
        )
    return pure


def declared_audio(archive: Path) -> list[tuple[str, int]]:
    """The audio members ``archive`` lists, as ``(file name, declared size)``, without extracting.

    Read from the central directory alone, so quotas can refuse a pack before
    any of it is expanded. The sizes are the archive's own claim: extraction
    still counts the real bytes against its budget.
    """
    try:
        with zipfile.ZipFile(archive) as bundle:
            infos = bundle.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRejected(f"This is not a zip archive we can open ({exc}).") from None
    declared = []
    for info in infos:
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if info.is_dir() or name.name.lower() in IGNORED_NAMES or name.name.startswith("._"):
            continue
        if name.suffix.lower() in AUDIO_EXTENSIONS:
            declared.append((name.name, max(0, info.file_size)))
    return declared


@contextmanager
def extract_zip(
    archive: Path, *, max_members: int, max_total_bytes: int, max_file_bytes: int
) -> Iterator[tuple[list[Member], list[dict[str, str]]]]:
    """Extract the audio members of ``archive`` into a temporary folder.

    Yields ``(members, skipped)``: the extracted audio files, and the other
    entries with the reason they were left out. The folder is removed after.
    Raises :class:`ArchiveRejected` for an unsafe or oversized archive.
    """
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRejected(f"This is not a zip archive we can open ({exc}).") from None
    folder = Path(tempfile.mkdtemp(prefix="samplemind-zip-"))
    try:
        with bundle:
            infos = bundle.infolist()
            if len(infos) > max_members:
                raise ArchiveRejected(
                    f"The archive holds {len(infos)} entries; at most {max_members} are allowed."
                )
            members, skipped, budget = [], [], max_total_bytes
            for index, info in enumerate(infos):
                name = _safe_name(info.filename)
                if info.is_dir():
                    continue
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise ArchiveRejected(
                        f"The archive contains a link ({info.filename!r}); nothing was imported."
                    )
                suffix = name.suffix.lower()
                if suffix in ARCHIVE_EXTENSIONS:
                    raise ArchiveRejected(
                        f"Archives inside archives are not accepted ({info.filename!r})."
                    )
                if name.name.lower() in IGNORED_NAMES or name.name.startswith("._"):
                    continue
                if suffix not in AUDIO_EXTENSIONS:
                    skipped.append({"file": info.filename, "error": "Not an audio file; skipped."})
                    continue
                target = folder / f"{index:05d}{suffix}"
                budget -= _copy_member(bundle, info, target, max_file_bytes, budget)
                members.append(Member(name=str(name), path=target))
            yield members, skipped
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _copy_member(
    bundle: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, max_file: int, budget: int
) -> int:
    written = 0
    try:
        with bundle.open(info) as source, open(target, "wb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > max_file:
                    raise FileTooLarge(
                        f"{info.filename!r} expands beyond the {max_file // 1024**2} MB file limit."
                    )
                if written > budget:
                    raise ArchiveRejected(
                        "The archive expands beyond the allowed size; nothing was imported."
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise ArchiveRejected(f"{info.filename!r} could not be extracted ({exc}).") from None
    except RuntimeError as exc:  # encrypted members
        raise ArchiveRejected(f"{info.filename!r} could not be extracted ({exc}).") from None
    return written
