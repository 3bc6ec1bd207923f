"""This month's people against last month's (issue 17 items 6 and 7), through two runs of the
batch on one store: the forms are the project's own, edited with openpyxl as a clerk would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from processor.batch import run_batch
from processor.domain import schema as S
from processor.domain.periods import Period
from tests import corpus
from tests.conftest import all_tasks_done, citizen, household, make_form

OCT, NOV = "2021-10", "2021-11"
FIRST = corpus.FIRST


def _people(unit: str, homes: tuple[str, str]) -> tuple[list[dict], list[dict]]:
    h1, h2 = homes
    people = [
        citizen(h1, "Nguyễn Văn An", dt.date(1970, 3, 2), votes=40, cccd=corpus.cccd(unit, 1)),
        citizen(h1, "Trần Thị Bình", dt.date(1972, 5, 6), votes=45, cccd=corpus.cccd(unit, 2)),
        citizen(h2, "Lê Văn Dũng", dt.date(1960, 1, 1), votes=41, cccd=corpus.cccd(unit, 3)),
    ]
    homes_rows = [
        household(h1, "Nguyễn Văn An", votes=44),
        household(h2, "Lê Văn Dũng", votes=45),
    ]
    return people, homes_rows


# TDP02's household codes do not name their unit, so only the history can tell its rows.
HOMES = {"TDP01": ("TDP01-H001", "TDP01-H002"), "TDP02": ("B-01", "B-02")}


def _form(catalogue, folder: Path, unit: str, period: str, extra=((), ())) -> Path:
    people, homes = _people(unit, HOMES[unit])
    return make_form(
        catalogue, folder, unit, period, people + list(extra[0]), homes + list(extra[1]),
        all_tasks_done(catalogue), corpus.NOV,
    )  # fmt: skip


def _run(inbox: Path, period: str, store: Path, catalogue):
    return run_batch(
        inbox, Period.parse(period), catalogue, store / f"out{period}", store / "ls.sqlite", store,
        workers=1, next_forms=False,
    )  # fmt: skip


@pytest.fixture
def october(tmp_path: Path, catalogue) -> Path:
    inbox = tmp_path / "oct"
    inbox.mkdir()
    for unit in HOMES:
        _form(catalogue, inbox, unit, OCT)
    store = tmp_path / "kho"
    _run(inbox, OCT, store, catalogue)
    return store


def test_a_date_with_day_and_month_swapped_keeps_last_months(
    october: Path, tmp_path: Path, catalogue
) -> None:
    inbox = tmp_path / "nov"
    inbox.mkdir()
    path = _form(catalogue, inbox, "TDP01", NOV)
    born = corpus.col(catalogue, "birth_date")
    book = openpyxl.load_workbook(path)
    sheet = book[S.FORM_CITIZENS.name]
    sheet[f"{born}{FIRST}"] = dt.datetime(1970, 2, 3)  # Excel in US order: 02/03 read m/d
    sheet[f"{born}{FIRST + 1}"] = dt.datetime(1973, 5, 6)  # a real correction of the year
    book.save(path)
    report = _run(inbox, NOV, october, catalogue)
    (sub,) = report.submissions
    found = {(i.code, i.cell): i for i in sub.issues}
    swapped = found[("BIRTH_DATE_SWAPPED", f"{born}{FIRST}")]
    assert swapped.message.startswith("Nguyễn Văn An, ") and "02/03/1970" in swapped.message
    assert swapped.needs_fix
    changed = found[("BIRTH_DATE_CHANGED", f"{born}{FIRST + 1}")]
    assert "06/05/1972" in changed.message and "06/05/1973" in changed.message
    assert not changed.needs_fix
    # Scored with last month's date, and what was typed kept for the next form.
    assert sub.citizens["birth_date"].tolist()[:2] == [dt.date(1970, 3, 2), dt.date(1973, 5, 6)]
    assert sub.citizens["_raw"].tolist()[0] == {"birth_date": "03/02/1970"}
    assert sub.rows_rejected == 0 and report.exit_code == 1


def test_an_unchanged_month_says_nothing_of_dates(october: Path, tmp_path: Path, catalogue) -> None:
    inbox = tmp_path / "nov"
    inbox.mkdir()
    _form(catalogue, inbox, "TDP01", NOV)
    report = _run(inbox, NOV, october, catalogue)
    codes = {i.code for i in report.issues}
    assert not codes & {"BIRTH_DATE_SWAPPED", "BIRTH_DATE_CHANGED", "ROWS_OF_OTHER_UNIT"}


def test_another_units_person_pasted_in_is_counted_for_neither(
    october: Path, tmp_path: Path, catalogue
) -> None:
    """TDP02's Lê Văn Dũng and his household pasted into TDP01's form: the CCCD and household
    code TDP02 gave him in October say whose rows they are."""
    inbox = tmp_path / "nov"
    inbox.mkdir()
    people, homes = _people("TDP02", HOMES["TDP02"])
    _form(catalogue, inbox, "TDP01", NOV, extra=([people[2]], [homes[1]]))
    _form(catalogue, inbox, "TDP02", NOV)
    report = _run(inbox, NOV, october, catalogue)
    tdp01 = next(s for s in report.submissions if s.unit_code == "TDP01")
    tdp02 = next(s for s in report.submissions if s.unit_code == "TDP02")
    (issue,) = [i for i in tdp01.issues if i.code == "ROWS_OF_OTHER_UNIT"]
    assert "TDP02" in issue.message and "dòng 7" in issue.message and "kỳ 2021-10" in issue.message
    assert tdp01.citizens["full_name"].tolist() == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Dũng"]
    assert tdp01.citizens["cccd"].tolist() == [corpus.cccd("TDP01", i) for i in (1, 2, 3)]
    assert tdp01.households["household_code"].tolist() == list(HOMES["TDP01"])
    assert tdp01.counts[S.FORM_CITIZENS.name].rejected == 1
    assert tdp01.counts[S.FORM_HOUSEHOLDS.name].rejected == 1
    told = [i for i in report.issues if i.code == "ROWS_SENT_BY_OTHER_UNIT"]
    assert [i.file for i in told] == [tdp02.name]
    # TDP02's own count is its own form's: Lê Văn Dũng once.
    results = report.results.citizens
    assert (results["cccd"] == corpus.cccd("TDP02", 3)).sum() == 1
