"""Many submissions -> one frame per level (SPEC §4 steps 1 and 3).

Same bytes twice are one submission; for the same unit and period the latest received wins and
the others are listed as superseded (receipt_order); their rows are set aside, not rejected.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue
from processor.domain.form_layout import citizen_columns, household_columns
from processor.domain.issues import Issue, make_issue
from processor.intake.reader import who
from processor.intake.submission import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
    DUPLICATE,
    SUPERSEDED,
    Submission,
)

COUNTED = (ACCEPTED, ACCEPTED_WITH_ERRORS)
INFO_KEYS = ("reporter", "phone", "report_date", "meeting_date", "attendees", "chair", "secretary")


@dataclass
class Consolidated:
    citizens: pd.DataFrame
    households: pd.DataFrame
    tasks: pd.DataFrame
    units: pd.DataFrame  # one row per unit of the register, with its submission's info
    submissions: list[Submission]
    issues: list[Issue]

    @property
    def counted(self) -> list[Submission]:
        return [s for s in self.submissions if s.status.counts]


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_SAVED = {
    "docProps/core.xml": re.compile(rb"<dcterms:modified[^>]*>([^<]+)<"),
    "meta.xml": re.compile(rb"<dc:date>([^<]+)<"),
}


def saved_at(path: Path) -> dt.datetime | None:
    """When the workbook was last saved by Excel or LibreOffice, from its own properties (not
    the file system's time, which copying and saving attachments change), or None."""
    try:
        with zipfile.ZipFile(path) as book:
            for member, pattern in _SAVED.items():
                try:
                    info = book.getinfo(member)
                except KeyError:
                    continue
                if info.file_size > 1 << 20:
                    return None
                if match := pattern.search(book.read(info)):
                    moment = dt.datetime.fromisoformat(match[1].decode().strip())
                    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except (OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    return None


# The rule of receipt_order as the clerk reads it (the summary's Nguồn sheet).
RECEIPT_RULE = (
    "Bản có hiệu lực của mỗi đơn vị trong kỳ là bản nhận sau cùng. Thời điểm nhận là lúc kho "
    "lần đầu thấy tệp (theo mã SHA-256) hoặc ngày của thư nếu tệp được lấy bằng kieumau thu; "
    "không dùng ngày sửa tệp trên máy. Cùng thời điểm nhận thì bản được lưu (trong Excel, "
    "LibreOffice) sau cùng có hiệu lực, rồi đến ngày báo cáo ghi trên biểu mẫu. Bản cũ và bản "
    "trùng không được tính: số dòng của chúng ghi ở cột 'Số dòng không tính'."
)


def receipt_order(sub: Submission) -> tuple:
    """The order in which versions of a unit's form were received (the last is in force):
    the time the store first received the file (its receipt: first seen in an inbox, or the
    mail's date); at equal times, the time the workbook was last saved in Excel or LibreOffice,
    then the report date typed on the form, then the SHA-256 (only so that the choice never
    depends on the order files are listed in). Never the file's time on the clerk's disk."""
    return (
        sub.received_at or _EARLIEST,
        saved_at(sub.path) or _EARLIEST,
        str(sub.info.get("report_date") or ""),
        sub.sha256,
    )


def resolve_duplicates(submissions: list[Submission]) -> None:
    """Mark byte-identical copies and the versions a later one replaces (receipt_order),
    whatever order the files came in. Both stand aside (Submission.stand_aside)."""
    by_hash: dict[str, Submission] = {}
    # The copy kept is the inbox's (the archive's is the same bytes), first by name.
    for sub in sorted(submissions, key=lambda s: (s.from_archive, s.name)):
        if not sub.sha256 or sub.status.set_aside:
            continue
        first = by_hash.setdefault(sub.sha256, sub)
        if first is not sub:
            sub.stand_aside(DUPLICATE, "FILE_DUPLICATE", first.name)
    latest: dict[tuple[str, str], Submission] = {}
    live = [s for s in submissions if s.status.counts]
    for sub in sorted(live, key=receipt_order):
        key = (sub.unit_code or "", sub.period or "")
        earlier = latest.get(key)
        if earlier is not None:
            earlier.stand_aside(SUPERSEDED, "FILE_SUPERSEDED", sub.name)
            earlier.superseded_by = sub.name
        latest[key] = sub


def _stack(
    submissions: list[Submission], attribute: str, columns: list[str] | None = None
) -> pd.DataFrame:
    """The level's rows of every counted submission; with no rows, the level's columns still
    (an inbox of agencies alone has no household, and scoring reads the columns)."""
    kept = [(sub, getattr(sub, attribute)) for sub in submissions]
    kept = [(sub, frame) for sub, frame in kept if not frame.empty]
    if not kept:
        keys = [*(columns or []), "_row", "unit_code", "source_file"]
        return pd.DataFrame({key: pd.Series(dtype=object) for key in dict.fromkeys(keys)})
    if len({tuple(frame.columns) for _, frame in kept}) > 1 or any(
        key in frame for _, frame in kept for key in ("unit_code", "source_file")
    ):
        # Frames of different shapes: each gets its columns first, as concat then orders them.
        return pd.concat(
            [frame.assign(unit_code=sub.unit_code, source_file=sub.name) for sub, frame in kept],
            ignore_index=True,
        )
    # The usual case, every file's rows with the same columns: the unit and file columns are
    # added once to the stacked rows (an assign per file was half of consolidation).
    stacked = pd.concat([frame for _, frame in kept], ignore_index=True)
    lengths = [len(frame) for _, frame in kept]
    for key, values in (
        ("unit_code", [sub.unit_code for sub, _ in kept]),
        ("source_file", [sub.name for sub, _ in kept]),
    ):
        column = np.empty(len(values), dtype=object)
        column[:] = values
        repeated = np.repeat(column, lengths)
        if all(type(value) is str for value in values):
            stacked[key] = repeated  # the dtype pandas gives a text column, as assign gave
        else:  # a file without a unit: assign's None made the stacked column object
            stacked[key] = pd.Series(repeated, index=stacked.index, dtype=object)
    return stacked


def consolidate(
    submissions: list[Submission], catalogue: Catalogue, *, resolved: bool = False
) -> Consolidated:
    """The month's rows of the submissions that count (``resolved``: resolve_duplicates has
    already run on ``submissions``)."""
    if not resolved:
        resolve_duplicates(submissions)
    counted = sorted((s for s in submissions if s.status.counts), key=lambda s: s.unit_code or "")
    # With no file counted (an empty inbox), each level still has the columns a read file gives:
    # the form's, and the birth year the reader derives from the birth date.
    citizens = _stack(
        counted, "citizens", [*(c.key for c in citizen_columns(catalogue)), "birth_year"]
    )
    households = _stack(counted, "households", [c.key for c in household_columns(catalogue)])
    tasks = _stack(counted, "tasks", [c.key for c in S.FORM_UNIT.columns])
    issues: list[Issue] = []
    issues += _citizens_in_two_units(citizens, {s.name: s for s in counted})
    issues += _tell_other_units(submissions, counted)
    for frame, columns in (
        (citizens, ("household_code", "full_name")),
        (households, ("household_code", "head_name")),
    ):
        for column in columns:
            if column not in frame:
                frame[column] = pd.Series(dtype=object)
    by_unit = {s.unit_code: s for s in counted}
    rows = []
    for unit in catalogue.units:
        sub = by_unit.get(unit.code)
        row: dict[str, object] = {
            "unit_code": unit.code,
            "unit_name": unit.name,
            "kind": unit.kind,
            "head": unit.head,
            "submitted": sub is not None,
            "source_file": sub.name if sub else None,
        }
        for key in INFO_KEYS:
            row[key] = sub.info.get(key) if sub else None
        rows.append(row)
    units = pd.DataFrame(rows)
    names = units.set_index("unit_code")["unit_name"]
    for frame in (citizens, households):
        frame["unit_name"] = frame["unit_code"].map(names)
    return Consolidated(citizens, households, tasks, units, submissions, issues)


def _citizens_in_two_units(citizens: pd.DataFrame, by_name: dict[str, Submission]) -> list[Issue]:
    """The same CCCD reported by two units: a warning on each, both kept (SPEC §7)."""
    if citizens.empty or "cccd" not in citizens:
        return []
    with_id = citizens[citizens["cccd"].notna()]
    # CCCDs found with more than one unit: distinct (cccd, unit) pairs, by hashing (a
    # groupby's nunique sorted the 300,000 CCCDs of a district).
    pairs = with_id.loc[with_id["unit_code"].notna(), ["cccd", "unit_code"]].drop_duplicates()
    shared = pairs.loc[pairs["cccd"].duplicated(keep=False), "cccd"].unique()
    issues = []
    for cccd, group in with_id[with_id["cccd"].isin(shared)].groupby("cccd"):
        places = sorted(set(group["unit_code"]))
        for _, row in group.iterrows():
            others = ", ".join(u for u in places if u != row["unit_code"])
            sub = by_name[row["source_file"]]
            sheet = S.FORM_CITIZENS.name
            cell = sub.cell(sheet, "cccd", row["_row"])
            shown = sub.sheet_titles.get(sheet, sheet)
            person = who(sheet, row.get, int(row["_row"]))
            issues.append(
                make_issue(
                    "CITIZEN_OTHER_UNIT", row["source_file"], shown, cell, cccd, others, person
                )
            )
    return issues


def _tell_other_units(submissions: list[Submission], counted: list[Submission]) -> list[Issue]:
    """A unit whose rows were found pasted in another unit's file (and not counted there) is
    told in its own feedback, when it sent a file: it may be missing people in its own."""
    by_unit = {s.unit_code: s for s in counted}
    issues = []
    for sub in submissions:
        if sub.status.set_aside:
            continue
        for code, rows in sorted(sub.misplaced.items()):
            own = by_unit.get(code)
            if own is not None:
                issues.append(
                    make_issue(
                        "ROWS_SENT_BY_OTHER_UNIT", own.name, value=len(rows), detail=sub.name
                    )
                )
    return issues
