"""The archive of every file received, kept by SHA-256 (SPEC §4 step 1): the inbox itself is
never touched, and a month can be read again from what the store holds (a re-run of a month
takes its earlier files from here). Folders and files are readable by their owner only: the
forms hold CCCD numbers and birth dates."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from processor.intake.inbox import SPREADSHEET_SUFFIXES
from processor.intake.submission import Submission
from processor.store.history import private_folder

ARCHIVE_FOLDER = "luu_tru"


def archived_path(workspace: Path, sha256: str, suffix: str) -> Path:
    """Where the file of hash ``sha256`` is kept (``suffix`` as the unit sent it)."""
    suffix = suffix.lower() if suffix.lower() in SPREADSHEET_SUFFIXES else ".bin"
    return workspace / ARCHIVE_FOLDER / sha256[:2] / f"{sha256}{suffix}"


def find_archived(workspace: Path, sha256: str) -> Path | None:
    """The archived copy of ``sha256``, whatever its suffix, or None."""
    folder = workspace / ARCHIVE_FOLDER / sha256[:2]
    for suffix in (*SPREADSHEET_SUFFIXES, ".bin"):
        path = folder / f"{sha256}{suffix}"
        if path.is_file():
            return path
    return None


def archive(sub: Submission, workspace: Path) -> None:
    """Keep a copy of the submission's file by SHA-256: the inbox itself is never touched.

    The copy is written beside its place and renamed into it, so a failure (a full disk)
    leaves no partial copy; it raises OSError, which stops the run with a message."""
    if not sub.sha256:
        return  # the file could not even be read; its issue says so
    if sub.kind is None:
        return  # not a spreadsheet the reader would open (a PDF, a link, a bomb): never kept
    target = archived_path(workspace, sub.sha256, sub.path.suffix)
    if target.exists():
        return
    private_folder(workspace / ARCHIVE_FOLDER)
    private_folder(target.parent)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, sub.path.open("rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def remove_archived(workspace: Path, sha256s: list[str]) -> int:
    """Delete the archived copies of ``sha256s``; returns how many files went."""
    removed = 0
    for sha in sha256s:
        path = find_archived(workspace, sha)
        if path is not None:
            path.unlink()
            removed += 1
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
    return removed
