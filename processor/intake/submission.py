"""A unit's file as the run knows it: where it is, what it held, what was found (SPEC §4 steps
1-2). Every file of the inbox gets a Submission, even one skipped or refused before parsing, so
the run's accounting lists them all (SPEC §7)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import pandas as pd

from processor.domain import schema as S
from processor.domain.form_layout import FLAGGED
from processor.domain.issues import Issue, make_issue
from processor.domain.sheets import column_letter


class FileStatus(StrEnum):
    """A file's status in the run's accounting (`Nguồn`, nhat_ky.json, the history); the value
    is what users read."""

    ACCEPTED = "đã nhận"
    # Taken, with something the unit must fix: a row rejected, or a cell read as unknown.
    ACCEPTED_WITH_ERRORS = "đã nhận, có lỗi cần sửa"
    REJECTED = "bị từ chối"
    DUPLICATE = "trùng lặp"
    SUPERSEDED = "bị thay thế"
    OTHER_PERIOD = "khác kỳ"
    OTHER_UNIT = "đơn vị khác"
    IGNORED = "bỏ qua"
    WITHDRAWN = "bỏ khỏi kỳ"  # the clerk took the unit out of the month (--bo-don-vi)

    @property
    def counts(self) -> bool:
        """Whether the file's rows count for its unit this period."""
        return self in (FileStatus.ACCEPTED, FileStatus.ACCEPTED_WITH_ERRORS)

    @property
    def set_aside(self) -> bool:
        """Whether the file was read but stands aside for another (a copy, an earlier version,
        a unit taken out): its rows are neither accepted nor rejected."""
        return self in (FileStatus.DUPLICATE, FileStatus.SUPERSEDED, FileStatus.WITHDRAWN)


ACCEPTED = FileStatus.ACCEPTED
ACCEPTED_WITH_ERRORS = FileStatus.ACCEPTED_WITH_ERRORS
REJECTED = FileStatus.REJECTED
DUPLICATE = FileStatus.DUPLICATE
SUPERSEDED = FileStatus.SUPERSEDED
OTHER_PERIOD = FileStatus.OTHER_PERIOD
OTHER_UNIT = FileStatus.OTHER_UNIT
IGNORED = FileStatus.IGNORED
WITHDRAWN = FileStatus.WITHDRAWN


@dataclass
class SheetCount:
    """Rows of one sheet: every row read is accepted, rejected, or set aside with its file
    (a copy or an earlier version of a file that counts, a unit taken out of the month)."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    set_aside: int = 0


@dataclass
class Submission:
    """One file received: where it is, what it held (rows by level), what was found in it."""

    path: Path
    name: str  # path relative to the inbox, as shown to users
    sha256: str
    mtime: float
    status: FileStatus = REJECTED
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
    # When the store first received the file (the history's receipts), set by the run: the
    # latest received version of a unit's form is the one in force, never the file's mtime.
    received_at: dt.datetime | None = None
    # Read from the store's archive (a re-run of a month), not from the inbox.
    from_archive: bool = False
    # What the safety checks found it to be ('xlsx', 'ods', 'xls'), None when not a spreadsheet:
    # only spreadsheets are archived.
    kind: str | None = None
    # Thông tin's values: key -> the cell it was read from ('B9'), for messages about them.
    info_cells: dict[str, str] = field(default_factory=dict)
    # Excel rows of Công dân whose birth date was typed as text: read day first whatever the
    # editor's locale, so it is what the unit means even when it differs from the history's.
    text_dates: set[int] = field(default_factory=set)
    # Rows found to be another unit's and not counted: unit code -> (sheet, Excel row) of each.
    misplaced: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # Rows not counted, per level: those rejected as read (the bad cells in `_raw`) and those
    # typed twice (the cell in form_layout.FLAGGED). The unit's next form keeps them with what
    # it typed until it fixes or deletes them; the history keeps them too (History REFUSED).
    rejected_rows: dict[str, pd.DataFrame] = field(default_factory=dict)

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

    @property
    def rows_set_aside(self) -> int:
        return sum(c.set_aside for c in self.counts.values())

    def issue(
        self,
        code: str,
        sheet: str = "",
        cell: str = "",
        value: object = "",
        detail: object = "",
        who: str = "",
    ) -> Issue:
        """Record a problem; ``sheet`` is the form's name, shown as the unit's file names it;
        ``who`` names the person or household of a row's problem."""
        issue = make_issue(
            code, self.name, self.sheet_titles.get(sheet, sheet), cell, value, detail, who
        )
        self.issues.append(issue)
        return issue

    def settle_status(self) -> None:
        """Taken, or taken with something to fix (a row rejected, a cell read as unknown).

        A file holding nothing of its unit's own but another unit's rows is refused: it is not
        the unit's submission, and must not replace one that was."""
        people = (LEVEL_SHEETS["citizens"], LEVEL_SHEETS["households"])
        if self.misplaced and not any(self.counts[s].accepted for s in people if s in self.counts):
            self.reject_all()
            self.status = REJECTED
            return
        to_fix = self.rows_rejected > 0 or any(i.needs_fix for i in self.issues)
        self.status = ACCEPTED_WITH_ERRORS if to_fix else ACCEPTED

    def reject_rows(
        self, level: str, positions: Collection[int], flag: tuple[str, str] | None = None
    ) -> None:
        """Drop the rows at ``positions`` of a level's frame (indexed 0..n-1) as rejected:
        every row read is accepted or rejected. With ``flag`` (column key, issue code) the
        rows are kept for the unit's next form, that cell marked (form_layout.FLAGGED)."""
        if not positions:
            return
        frame = getattr(self, level)
        if flag is not None:
            key, code = flag
            kept = frame.iloc[sorted(positions)].assign(**{FLAGGED: [{key: code}] * len(positions)})
            earlier = self.rejected_rows.get(level)
            self.rejected_rows[level] = (
                kept if earlier is None else pd.concat([earlier, kept], ignore_index=True)
            )
        setattr(self, level, frame.drop(index=sorted(positions)).reset_index(drop=True))
        count = self.counts[LEVEL_SHEETS[level]]
        count.accepted -= len(positions)
        count.rejected += len(positions)

    def reject_all(self) -> None:
        """The file cannot be used: every row it holds is counted as rejected."""
        for count in self.counts.values():
            count.rejected += count.accepted
            count.accepted = 0
        self._drop_rows()

    def stand_aside(self, status: FileStatus, code: str, detail: str) -> None:
        """The file stands aside for another (see FileStatus.set_aside): its rows are counted
        as set aside, not rejected, and its own problems are no longer reported, only why it
        stands aside: the unit's feedback describes the file in force."""
        self.status = status
        self.issues.clear()
        self.issue(code, detail=detail)
        for count in self.counts.values():
            count.set_aside += count.accepted + count.rejected
            count.accepted = count.rejected = 0
        self._drop_rows()

    def _drop_rows(self) -> None:
        self.citizens = self.citizens.iloc[0:0]
        self.households = self.households.iloc[0:0]
        self.tasks = self.tasks.iloc[0:0]
        self.rejected_rows = {}


# The form's sheet of each level's frame.
LEVEL_SHEETS = {
    "citizens": S.FORM_CITIZENS.name,
    "households": S.FORM_HOUSEHOLDS.name,
    "tasks": S.FORM_UNIT.name,
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
