"""A unit's file as the run knows it: where it is, what it held, what was found (SPEC §4 steps
1-2). Every file of the inbox gets a Submission, even one skipped or refused before parsing, so
the run's accounting lists them all (SPEC §7)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from processor.domain.issues import Issue, make_issue
from processor.domain.sheets import column_letter

# Statuses of a file in the run's accounting (`Nguồn`, nhat_ky.json).
ACCEPTED = "đã nhận"
ACCEPTED_WITH_ERRORS = "đã nhận, có dòng bị loại"
REJECTED = "bị từ chối"
DUPLICATE = "trùng lặp"
SUPERSEDED = "bị thay thế"
OTHER_PERIOD = "khác kỳ"
OTHER_UNIT = "đơn vị khác"
IGNORED = "bỏ qua"


@dataclass
class SheetCount:
    read: int = 0
    accepted: int = 0
    rejected: int = 0


@dataclass
class Submission:
    path: Path
    name: str  # path relative to the inbox, as shown to users
    sha256: str
    mtime: float
    status: str = REJECTED
    unit_code: str | None = None
    period: str | None = None
    form_version: str | None = None
    fingerprint: str | None = None
    info: dict[str, object] = field(default_factory=dict)
    citizens: pd.DataFrame = field(default_factory=pd.DataFrame)
    households: pd.DataFrame = field(default_factory=pd.DataFrame)
    tasks: pd.DataFrame = field(default_factory=pd.DataFrame)
    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, SheetCount] = field(default_factory=dict)
    superseded_by: str | None = None
    # Where each column was found, per sheet: messages name the cell the unit actually typed in.
    positions: dict[str, dict[str, int]] = field(default_factory=dict)
    # Form sheet name -> the name in the unit's file, when the unit renamed the sheet.
    sheet_titles: dict[str, str] = field(default_factory=dict)
    # A sheet was too large to load: nothing may open the whole file later (feedback).
    oversized: bool = False

    def without_rows(self) -> Submission:
        """A copy without the rows read: what a worker writing the unit's feedback needs."""
        return replace(
            self, citizens=pd.DataFrame(), households=pd.DataFrame(), tasks=pd.DataFrame()
        )

    def cell(self, sheet: str, key: str, row: int) -> str:
        """Excel name of column ``key`` on Excel row ``row`` of ``sheet`` ('H12')."""
        return f"{column_letter(self.positions.get(sheet, {}).get(key, 0))}{row}"

    @property
    def rows_read(self) -> int:
        return sum(c.read for c in self.counts.values())

    @property
    def rows_accepted(self) -> int:
        return sum(c.accepted for c in self.counts.values())

    @property
    def rows_rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())

    def issue(
        self, code: str, sheet: str = "", cell: str = "", value: object = "", detail: object = ""
    ) -> Issue:
        """Record a problem; ``sheet`` is the form's name, shown as the unit's file names it."""
        issue = make_issue(
            code, self.name, self.sheet_titles.get(sheet, sheet), cell, value, detail
        )
        self.issues.append(issue)
        return issue

    def reject_all(self) -> None:
        """The file cannot be used: every row it holds is counted as rejected."""
        for count in self.counts.values():
            count.rejected += count.accepted
            count.accepted = 0
        self.citizens = self.citizens.iloc[0:0]
        self.households = self.households.iloc[0:0]
        self.tasks = self.tasks.iloc[0:0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
