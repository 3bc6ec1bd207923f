"""What a unit is told about its month, in the words its feedback workbook and its mail share.

The feedback workbook (outputs.feedback) and the mail that carries it (mail.compose) say the
same things to a tổ trưởng: the files received, how many reach each title, the deadline. The
outputs may not import the mail (tests/test_layers.py), so the words live here, below both.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Unit
from processor.domain.periods import Period
from processor.domain.vietnamese import format_number


def thousands(count: int) -> str:
    """A count as Vietnamese write it: 1.267."""
    return format_number(count, 0)


def deadline(catalogue: Catalogue, period: Period, default: str = "25") -> str:
    """The form of ``period`` is due before this day (as the form's own guide says); '' when
    Cấu hình gives no day and ``default`` is ''."""
    day = catalogue.setting("han_nop", default)
    return f"ngày {day} tháng {period.month:02d}/{period.year}" if day else ""


def received_line(
    name: str,
    status: str,
    rows_read: int,
    rows_accepted: int,
    rows_rejected: int,
    received_at: dt.datetime | None,
) -> str:
    """'TDP01_2021-11.xlsx (nhận lúc 03/12/2021 14:05): đã nhận; đọc 12 dòng, nhận 12, loại 0.'"""
    when = received_at.astimezone().strftime("%d/%m/%Y %H:%M") if received_at else ""
    return (
        f"{name}{f' (nhận lúc {when})' if when else ''}: {status}; đọc {thousands(rows_read)} "
        f"dòng, nhận {thousands(rows_accepted)}, loại {thousands(rows_rejected)}."
    )


def title_lines(
    catalogue: Catalogue,
    unit: Unit,
    citizens: pd.DataFrame,
    households: pd.DataFrame,
    units: pd.DataFrame,
) -> list[str]:
    """One line per title the unit can reach, from its results (an ``outcome`` column):
    'Công dân kiểu mẫu: 120/340 người đạt (5 người chưa đủ điều kiện)'. A level without
    results has no line."""
    lines = []
    for frame, title, word, shown in (
        (citizens, catalogue.citizen_title, "người", True),
        (households, catalogue.household_title, "hộ", unit.is_tdp),
    ):
        if not shown or frame.empty or "outcome" not in frame:
            continue
        # Compared as plain objects: a pandas comparison per title cost more than the rest of
        # a feedback's first sheet (a blank outcome is None, never equal).
        outcomes = frame["outcome"].to_numpy(dtype=object, na_value=None)
        achieved = thousands(int((outcomes == S.ACHIEVED).sum()))
        not_eligible = thousands(int((outcomes == S.NOT_ELIGIBLE).sum()))
        lines.append(
            f"{title.name}: {achieved}/{thousands(len(frame))} {word} đạt "
            f"({not_eligible} {word} {S.NOT_ELIGIBLE.lower()})"
        )
    if unit.is_tdp and not units.empty and "outcome" in units:
        value = units["outcome"].iloc[0]
        lines.append(f"{catalogue.unit_title.name}: {'' if pd.isna(value) else value}")
    return lines
