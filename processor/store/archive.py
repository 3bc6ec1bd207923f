"""The archive of every file received, kept by SHA-256 (SPEC §4 step 1): the inbox itself is
never touched, and a month can be read again from what the store holds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from processor.intake.inbox import SPREADSHEET_SUFFIXES
from processor.intake.submission import Submission


def archive(sub: Submission, workspace: Path) -> None:
    """Keep a copy of the submission's file by SHA-256: the inbox itself is never touched."""
    if not sub.sha256:
        return  # the file could not even be read; its issue says so
    suffix = sub.path.suffix.lower() if sub.path.suffix.lower() in SPREADSHEET_SUFFIXES else ".bin"
    target = workspace / "luu_tru" / sub.sha256[:2] / f"{sub.sha256}{suffix}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(sub.path, tmp)
        os.replace(tmp, target)
