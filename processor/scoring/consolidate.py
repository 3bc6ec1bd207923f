"""Many submissions -> one frame per level (SPEC §4 steps 1 and 3).

Same bytes twice are one submission; for the same unit and period the latest received wins and
the others are listed as superseded; rows of files that do not count are accounted as rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue
from processor.domain.form_layout import citizen_columns, household_columns
from processor.domain.issues import Issue, make_issue
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
        return [s for s in self.submissions if s.status in COUNTED]


def resolve_duplicates(submissions: list[Submission]) -> None:
    """Mark byte-identical copies and superseded submissions, whatever order files came in."""
    by_hash: dict[str, Submission] = {}
    for sub in sorted(submissions, key=lambda s: (s.mtime, s.name)):
        first = by_hash.get(sub.sha256)
        if first is None or not sub.sha256:
            by_hash[sub.sha256] = sub
            continue
        # Same bytes: one submission. The copy's own problems are the first one's; listing them
        # twice would only double the unit's feedback.
        sub.issues.clear()
        sub.issue("FILE_DUPLICATE", detail=first.name)
        sub.status = DUPLICATE
        sub.reject_all()
    latest: dict[tuple[str, str], Submission] = {}
    live = [s for s in submissions if s.status in COUNTED]
    # Received time is the file's time in the inbox; ties are broken by report date, then by hash
    # so the choice never depends on the order the files were listed in.
    for sub in sorted(
        live, key=lambda s: (s.mtime, str(s.info.get("report_date") or ""), s.sha256)
    ):
        key = (sub.unit_code or "", sub.period or "")
        earlier = latest.get(key)
        if earlier is not None:
            earlier.issue("FILE_SUPERSEDED", detail=sub.name)
            earlier.status = SUPERSEDED
            earlier.superseded_by = sub.name
            earlier.reject_all()
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
    counted = sorted(
        (s for s in submissions if s.status in COUNTED), key=lambda s: s.unit_code or ""
    )
    citizens = _stack(counted, "citizens", [c.key for c in citizen_columns(catalogue)])
    households = _stack(counted, "households", [c.key for c in household_columns(catalogue)])
    tasks = _stack(counted, "tasks")
    issues: list[Issue] = []
    issues += _citizens_in_two_units(citizens, {s.name: s for s in counted})
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
            issues.append(
                make_issue("CITIZEN_OTHER_UNIT", row["source_file"], shown, cell, cccd, others)
            )
    return issues
