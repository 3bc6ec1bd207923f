"""What is in an inbox: the files to read, in a stable order, and the ones never read.

Three things in an inbox are not the units' forms, and are never read as such (issue 24):

- kieumau's own outputs, when the output folder (or the store) was put inside the inbox: a
  folder holding a run's manifest (`nhat_ky.json`) or a history store (`lich_su.sqlite`), or a
  folder the caller names in ``skip``. The folder is listed once, as skipped, not its files;
- links (symbolic links) that lead out of the inbox: listed, and refused by the reader without
  reading what they point at (a link to a system file must not end up in the archive);
- links to folders: never followed. One that leads out of the inbox is listed, and refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# Files every inbox collects: editor lock files, OS thumbnails. Listed as skipped, never read.
_IGNORED_PREFIXES = (".", "~$")
_IGNORED_NAMES = {"thumbs.db", "desktop.ini"}
# What only a folder kieumau wrote holds: a run's manifest, the history store.
OUTPUT_MARKERS = ("nhat_ky.json", "lich_su.sqlite")


def list_inbox(inbox: Path, skip: Iterable[Path] = ()) -> list[Path]:
    """Every file under the inbox, recursively, in a stable order. Lock and hidden files are
    listed too: read_submission marks them skipped, so the accounting shows every file.

    Folders of kieumau's outputs (found by OUTPUT_MARKERS, or named in ``skip``) are listed as
    themselves, not their files; links to folders are not followed, and are listed when they
    lead out of the inbox."""
    root = inbox.resolve()
    skipped = {Path(p).resolve() for p in skip}
    found: list[Path] = []
    for folder, dirs, files in os.walk(inbox, followlinks=False):
        here = Path(folder)
        kept = []
        for name in dirs:
            path = here / name
            if path.is_symlink():
                if not _inside(path.resolve(), root):
                    found.append(path)
            elif path.resolve() in skipped or any((path / m).is_file() for m in OUTPUT_MARKERS):
                found.append(path)
            else:
                kept.append(name)
        dirs[:] = kept
        found += [here / name for name in files if _is_entry(here / name)]
    return sorted(found)


def _is_entry(path: Path) -> bool:
    """A file to list: a regular file, or a link (to a file, or broken: the reader says so)."""
    return path.is_symlink() or path.is_file()


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def link_outside(path: Path, name: str) -> Path | None:
    """Where ``path`` leads when a link on its way from the inbox leads out of it; None when it
    stays inside, or when ``name`` is not its path relative to an inbox (a file named alone).

    The inbox is ``path`` less as many parts as ``name`` has (a name is compared by its parts'
    count only: one that is not UTF-8 reaches here shown otherwise)."""
    parts = Path(name).parts
    if not parts or len(path.parts) <= len(parts):
        return None
    root = Path(*path.parts[: -len(parts)])
    relative = path.parts[-len(parts) :]
    steps = [root.joinpath(*relative[: i + 1]) for i in range(len(relative))]
    if not any(step.is_symlink() for step in steps):
        return None
    target = path.resolve()
    return None if _inside(target, root.resolve()) else target


def is_ignored(name: str) -> bool:
    """Lock files (`~$x.xlsx`, `.~lock.x.ods#`), hidden files and folders, OS thumbnails."""
    parts = Path(name).parts
    return any(part.startswith(_IGNORED_PREFIXES) for part in parts) or (
        bool(parts) and parts[-1].lower() in _IGNORED_NAMES
    )
