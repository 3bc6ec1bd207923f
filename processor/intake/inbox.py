"""What is in an inbox: the files to read, in a stable order, and the ones never read."""

from __future__ import annotations

from pathlib import Path

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# Files every inbox collects: editor lock files, OS thumbnails. Listed as skipped, never read.
_IGNORED_PREFIXES = (".", "~$")
_IGNORED_NAMES = {"thumbs.db", "desktop.ini"}


def list_inbox(inbox: Path) -> list[Path]:
    """Every file under the inbox, recursively, in a stable order. Lock and hidden files are
    listed too: read_submission marks them skipped, so the accounting shows every file."""
    return sorted(path for path in inbox.rglob("*") if path.is_file())


def is_ignored(name: str) -> bool:
    """Lock files (`~$x.xlsx`, `.~lock.x.ods#`), hidden files and folders, OS thumbnails."""
    parts = Path(name).parts
    return any(part.startswith(_IGNORED_PREFIXES) for part in parts) or (
        bool(parts) and parts[-1].lower() in _IGNORED_NAMES
    )
