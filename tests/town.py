"""A small town for the tests of runs and corrections: a catalogue with five units only (each
unit of the catalogue gets a next form: five keep the runs quick), and its monthly inboxes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from processor.domain import schema as S
from processor.domain.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from tests.conftest import all_tasks_done, citizen, household, make_form

UNITS = ("TDP01", "TDP02", "TDP03", "TDP04", "CQ01")
MEETING = {
    "attendees": 50,
    "meeting_date": dt.date(2021, 11, 12),
    "chair": "Lê Văn Hùng",
    "secretary": "Mai Thị Thu",
}
PEOPLE = {
    "TDP01": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"],
    "TDP02": ["Đỗ Văn Khoa", "Vũ Thị Lan"],
    "TDP03": ["Hoàng Văn Minh", "Bùi Thị Ngọc"],
    "TDP04": ["Mai Văn Quang", "Lý Thị Rạng"],
    "CQ01": ["Cao Văn Phúc"],
}


def small_catalogue(path: Path, units: tuple[str, ...] = UNITS) -> Catalogue:
    """The default catalogue with only ``units`` in its Đơn vị sheet, edited as the Ban chỉ
    đạo would, in a workbook saved at ``path``."""
    book = openpyxl.load_workbook(DEFAULT_CATALOGUE)
    sheet = book[S.CAT_UNITS.name]
    for row in range(sheet.max_row, 1, -1):
        if sheet.cell(row, 1).value not in units:
            sheet.delete_rows(row)
    book.save(path)
    return load_catalogue(path)


def unit_form(
    catalogue: Catalogue,
    folder: Path,
    code: str,
    period: str,
    names: list[str] | None = None,
    *,
    name: str | None = None,
    **changed: dict,
) -> Path:
    """``code``'s form for ``period``: its people (PEOPLE, two to a household in a tổ dân phố),
    every criterion met, and in November 40 votes of 50 for everyone. ``changed`` maps a
    person's name to the cells typed otherwise (``CD01="Chưa đạt"``)."""
    names = names or PEOPLE[code]
    tdp = code.startswith("TDP")
    november = period.endswith("-11")
    votes = {"votes": 40} if november else {}
    citizens = [
        citizen(
            f"{code}-H00{1 + i // 2}" if tdp else None,
            person,
            dt.date(1970 + i, 1, 1),
            **votes,
            **changed.get(person, {}),
        )
        for i, person in enumerate(names)
    ]
    households = (
        [
            household(f"{code}-H00{h}", names[2 * (h - 1)], **votes)
            for h in range(1, len(names) // 2 + 1)
        ]
        if tdp
        else None
    )
    return make_form(
        catalogue,
        folder,
        code,
        period,
        citizens,
        households,
        all_tasks_done(catalogue) if tdp else None,
        MEETING if november else None,
        name=name,
    )


def town_inbox(catalogue: Catalogue, folder: Path, period: str, units: tuple[str, ...]) -> Path:
    """An inbox with the forms of ``units`` for ``period``."""
    for code in units:
        unit_form(catalogue, folder, code, period)
    return folder
