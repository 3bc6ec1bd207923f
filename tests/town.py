"""A small town for the tests of runs and corrections: a catalogue with five units only (each
unit of the catalogue gets a next form: five keep the runs quick), and its monthly inboxes."""

from __future__ import annotations

import datetime as dt
import random
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


# --- generated towns for the reference scorer (issue 18) -----------------------------------------

GIVEN = ("An", "Bình", "Cường", "Dung", "Giang", "Hà", "Khánh", "Linh", "Minh", "Ngọc", "Phúc")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
# What a unit types in a mark's cell, and how often: mostly Đạt, some Chưa đạt, a few blanks
# and words that cannot be read.
MARKS = ("Đạt",) * 14 + ("Chưa đạt",) * 3 + (None, "Tốt")


def _marks(rng: random.Random, codes: list[str]) -> dict[str, object]:
    """A row's marks: two rows in three all Đạt, the others drawn from MARKS."""
    good = rng.random() < 2 / 3
    return {code: "Đạt" if good else rng.choice(MARKS) for code in codes}


def generated_town(
    catalogue: Catalogue, folder: Path, period: str, seed: int, units: tuple[str, ...] = UNITS
) -> dict[str, list[dict]]:
    """One month's forms of UNITS for a town drawn from ``seed`` (the same people every month of
    a seed: only the month's marks are drawn again), in ``folder``; returns the citizens typed
    per unit. Planted in every town: blank and unreadable cells, a year of birth alone, a
    blank and an unreadable birth date, a baby born after the month, agency staff living in a
    household of a tổ (and one whose Mã hộ no tổ has), a household whose member is listed by
    another tổ, a CCCD on a tổ's and an agency's forms, a CCCD on two tổ's forms, a member
    whose cell the product flags, late and missing registrations, a blank attendance, a
    household of children only."""
    people_rng = random.Random(seed)
    rng = random.Random(f"{seed}-{period}")
    year, month = (int(p) for p in period.split("-"))
    november = month >= 11
    forms: dict[str, list[dict]] = {}
    cccd = iter(range(38_100_000_000 + seed * 1000, 38_200_000_000))
    tdps = [u for u in UNITS if u.startswith("TDP")]
    homes: dict[str, list[str]] = {}
    shared_cccd = f"0{next(cccd)}"
    twice_cccd = f"0{next(cccd)}"
    for unit in tdps:
        citizens, households = [], []
        for h in range(1, people_rng.randint(4, 7) + 1):
            code = f"{unit}-H{h:03d}"
            size = people_rng.randint(1, 5)
            for m in range(size):
                born: object = dt.date(
                    people_rng.randint(1940, 2015) if m else people_rng.randint(1940, 2000),
                    people_rng.randint(1, 12),
                    people_rng.randint(1, 28),
                )
                row = citizen(
                    code,
                    f"{people_rng.choice(FAMILY)} {people_rng.choice(GIVEN)} {unit[-1]}{h}{m}",
                    born,
                    cccd=f"0{next(cccd)}",
                    registered=rng.choice(("Có",) * 8 + (None, "Không")) if month > 1 else "Có",
                    **_marks(rng, [f"CD0{i}" for i in range(1, 9)]),
                )
                if november:
                    row["votes"] = rng.choice((20, 25, 26, 40, 45, None))
                citizens.append(row)
            values: dict[str, object] = _marks(rng, [f"GD0{i}" for i in range(4, 10)])
            values["GD01"] = rng.choice((1, 3, 3, 4, 5, 5, None))
            if month == 1 and year > 2021:
                values["GD01"] = None  # the new year's form: moved on from November (rule 12)
            if november:
                values["votes"] = rng.choice((25, 26, 40, 45, None))
            registered = rng.choice(("Có",) * 8 + (None,)) if month > 1 else "Có"
            households.append(
                household(code, citizens[-size]["full_name"], registered=registered, **values)
            )
        homes[unit] = [h["household_code"] for h in households]
        forms[unit] = citizens
        forms[unit + ":households"] = households
    # Planted rows.
    if month > 1:
        forms["TDP04:households"][0]["registered"] = None  # TDP04 sends no January form
    t1, t2 = forms["TDP01"], forms["TDP02"]
    t1[0]["birth_date"] = 1990 + seed % 20  # a year alone
    t1[1]["birth_date"] = None
    t1[2]["birth_date"] = "31/02/1985"  # a day that does not exist
    t1.append(
        citizen(
            homes["TDP01"][0], "Lê Bé Mới", dt.date(year, month, 28) + dt.timedelta(7), cccd=None
        )
    )
    t1[3]["CD04"] = "Tốt"  # the product flags the cell; the member still counts
    t2.append(citizen(homes["TDP01"][1], "Đỗ Văn Sang", dt.date(1980, 1, 1)))  # another tổ's code
    t2[0]["cccd"] = shared_cccd
    # A household with no adult on its form: no one to count in GD02 (rule 8).
    t2 += [citizen("TDP02-H009", name, dt.date(2010 + i, 3, 3)) for i, name in
           enumerate(("Lương Bé Một", "Lương Bé Hai"))]  # fmt: skip
    forms["TDP02:households"].append(household("TDP02-H009", "Lương Bé Một"))
    forms["TDP03"][0]["cccd"] = twice_cccd
    forms["TDP04"][0]["cccd"] = twice_cccd
    staff = [
        citizen(None, "Cao Văn Phúc", dt.date(1975, 4, 4), cccd=f"0{next(cccd)}"),
        citizen(
            homes["TDP01"][2],
            "Mai Thị Thu",
            dt.date(1985, 6, 6),
            cccd=f"0{next(cccd)}",
            CD01="Chưa đạt",
        ),
        citizen(homes["TDP03"][0], "Hồ Văn Đủ", dt.date(1970, 2, 2), cccd=f"0{next(cccd)}"),
        citizen("TDP09-H001", "Kiều Văn Lạc", dt.date(1979, 3, 3), cccd=f"0{next(cccd)}"),
        citizen(None, t2[0]["full_name"], t2[0]["birth_date"], cccd=shared_cccd, CD02="Chưa đạt"),
    ]
    if november:
        for row in staff:
            row["votes"] = rng.choice((26, 40))
    forms["CQ01"] = staff
    for unit in [u for u in tdps if u in units]:
        overrides = {}
        for task in ("TDP04.1", "TDP05.2", "TDP06.3", "TDP07.1", "TDP10.2"):
            overrides[task] = {"self_assessment": rng.choice(("Đạt", "Đạt", "Chưa đạt", None))}
            if november and rng.random() < 0.4:
                overrides[task]["inspection"] = rng.choice(("Đạt", "Chưa đạt"))
        overrides["TDP08"] = {"value": rng.choice((1.5, 2, 3, None))}
        overrides["TDP09"] = {"value": rng.choice((6, 8, 10, None))}
        overrides["TDP02"] = {"value": rng.choice((4, 5, 6, None)) if year == 2021 else None}
        if november and rng.random() < 0.5:
            overrides["TDP08"]["inspection"] = rng.choice(("Đạt", "Chưa đạt"))
        info = dict(MEETING) if november else None
        if november and unit == "TDP04":
            info["attendees"] = None
        make_form(
            catalogue,
            folder,
            unit,
            period,
            forms[unit],
            forms[unit + ":households"],
            all_tasks_done(catalogue, **overrides),
            info,
        )
    if "CQ01" in units:
        make_form(
            catalogue, folder, "CQ01", period, staff, None, None, MEETING if november else None
        )
    return forms
