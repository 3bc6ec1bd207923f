"""The rules of the catalogue's Đọc trước sheet, one test each, on forms the project writes and a
person then edits (openpyxl: a cell cleared, a word typed over a mark, a setting retyped), read
and scored by the monthly batch (issue 18, issue 23 items 1 and 3)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from processor.batch import run_batch
from processor.cli import main
from processor.domain import schema as S
from processor.domain.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from processor.domain.default_catalogue import README_LINES
from processor.domain.errors import CatalogueError
from processor.domain.form_layout import citizen_columns, household_columns
from processor.domain.periods import Period
from processor.scoring.score import Results
from tests.conftest import all_tasks_done, citizen, household, make_form

NOV_INFO = {"attendees": 50, "meeting_date": dt.date(2021, 11, 12)}


def catalogue_with(tmp_path: Path, **settings: object) -> Catalogue:
    """The default catalogue with Cấu hình values retyped in Excel (openpyxl): a date typed as
    30/11 arrives as a date, a month as a number."""
    path = tmp_path / "bo_tieu_chi.xlsx"
    shutil.copy(DEFAULT_CATALOGUE, path)
    book = openpyxl.load_workbook(path)
    sheet = book[S.CAT_SETTINGS.name]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in settings:
            row[2].value = settings.pop(row[0].value)
    for key, value in settings.items():
        sheet.append([key, "", value])
    book.save(path)
    return load_catalogue(path)


def edit(path: Path, sheet: str, changes: dict[tuple[str, str], object], catalogue: Catalogue):
    """Type over cells of a form's table sheet, found by the row's name (or code) and the
    column's label, as a person editing the workbook would."""
    columns = {
        S.FORM_CITIZENS.name: citizen_columns(catalogue),
        S.FORM_HOUSEHOLDS.name: household_columns(catalogue),
    }.get(sheet, list(S.FORM_UNIT.columns))
    labels = {c.key: c.label for c in columns}
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    header_row = next(
        r for r in ws.iter_rows(max_row=10) if any(c.value in labels.values() for c in r)
    )
    by_label = {c.value: c.column for c in header_row if c.value}
    for (who, key), value in changes.items():
        row = next(
            r[0].row
            for r in ws.iter_rows(min_row=header_row[0].row + 1)
            if who in [c.value for c in r]
        )
        ws.cell(row=row, column=by_label[labels[key]]).value = value
    book.save(path)


def edit_info(path: Path, key: str, value: object) -> None:
    book = openpyxl.load_workbook(path)
    ws = book[S.FORM_INFO.name]
    for row in ws.iter_rows():
        if row[0].value == S.FORM_INFO.label(key):
            row[1].value = value
    book.save(path)


def run_month(inbox: Path, period: str, store: Path, catalogue: Catalogue) -> tuple[Results, list]:
    """The month's batch (one process, no forms or feedback written): results and issues."""
    report = run_batch(
        inbox,
        Period.parse(period),
        catalogue,
        store / "out",
        store / "kho" / "lich_su.sqlite",
        store / "kho",
        workers=1,
        next_forms=False,
        feedback=False,
    )
    return report.results, report.issues


def row(frame: pd.DataFrame, column: str, value: object) -> pd.Series:
    (found,) = [r for _, r in frame.iterrows() if r[column] == value]
    return found


def home(results: Results, code: str) -> pd.Series:
    return row(results.households, "household_code", code)


def person(results: Results, name: str, unit: str | None = None) -> pd.Series:
    frame = results.citizens
    if unit:
        frame = frame[frame["unit_code"] == unit]
    return row(frame, "full_name", name)


def tdp01(catalogue, folder, period, people, homes, info=None, tasks=None, name=None) -> Path:
    return make_form(
        catalogue,
        folder,
        "TDP01",
        period,
        people,
        homes,
        tasks if tasks is not None else all_tasks_done(catalogue),
        info,
        name,
    )


def family(code: str, *names: str, **values: object) -> list[dict]:
    born = [dt.date(1960 + 5 * i, 3, 1) for i in range(len(names))]
    return [citizen(code, name, b, **values) for name, b in zip(names, born, strict=True)]


# --- rule 3: a blank or unreadable cell is not assessed -----------------------------------------


def test_a_cleared_cell_or_a_word_typed_over_a_mark_is_not_assessed(
    catalogue, tmp_path: Path
) -> None:
    path = tdp01(
        catalogue,
        tmp_path / "in",
        "2021-10",
        family("TDP01-H001", "Lê Văn An", "Lê Thị Bé"),
        [household("TDP01-H001", "Lê Văn An")],
    )
    edit(path, "Công dân", {("Lê Văn An", "CD05"): None, ("Lê Thị Bé", "CD08"): "Tốt"}, catalogue)
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path, catalogue)
    an, be = person(results, "Lê Văn An"), person(results, "Lê Thị Bé")
    assert (an["outcome"], an["reason"]) == (
        S.NOT_ELIGIBLE,
        "Chưa đủ dữ liệu: CD05 - Vệ sinh môi trường: ô trống",
    )
    assert be["outcome"] == S.NOT_ELIGIBLE
    assert be["reason"] == "Chưa đủ dữ liệu: CD08 - Nếp sống văn minh: ghi 'Tốt', không đọc được"
    # Both are members, not known: the household waits for them, naming them.
    h = home(results, "TDP01-H001")
    assert (h["members"], h["outcome"], h["GD02"]) == (2, S.NOT_ELIGIBLE, "")
    assert "Lê Văn An (CD05 - Vệ sinh môi trường: ô trống)" in h["reason"]
    assert "Lê Thị Bé (CD08 - Nếp sống văn minh: ghi 'Tốt', không đọc được)" in h["reason"]


# --- rule 4: Chưa đạt when failure is certain, whatever the blanks hold ----------------------


def test_certain_failure_is_chua_dat_even_with_blanks(catalogue, tmp_path: Path) -> None:
    path = tdp01(
        catalogue,
        tmp_path / "in",
        "2021-10",
        family("TDP01-H001", "Phạm Văn Cường", "Phạm Thị Dung"),
        [household("TDP01-H001", "Phạm Văn Cường")],
    )
    edit(
        path,
        "Công dân",
        {
            ("Phạm Văn Cường", "CD01"): "Chưa đạt",
            ("Phạm Văn Cường", "CD05"): None,
            ("Phạm Thị Dung", "CD02"): "Chưa đạt",
            ("Phạm Thị Dung", "CD03"): "chua dat",
            ("Phạm Thị Dung", "CD05"): "",
        },
        catalogue,
    )
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path, catalogue)
    cuong = person(results, "Phạm Văn Cường")
    assert cuong["outcome"] == S.NOT_ACHIEVED
    assert cuong["reason"] == (
        "Không đạt: CD01 - Chấp hành pháp luật (bắt buộc). "
        "Chưa đủ dữ liệu: CD05 - Vệ sinh môi trường: ô trống"
    )
    dung = person(results, "Phạm Thị Dung")  # 5 passed + 1 blank < 7
    assert dung["outcome"] == S.NOT_ACHIEVED and "đạt 5/8 tiêu chí, cần 7" in dung["reason"]
    # Both fail for certain: the household's share of model citizens is decided, 0%.
    assert home(results, "TDP01-H001")["GD02"] == S.FAIL


# --- rule 5: the age date --------------------------------------------------------------------


def test_age_is_counted_on_the_day_the_catalogue_sets(catalogue, tmp_path: Path) -> None:
    people = [citizen("TDP01-H001", "Ngô Văn Em", dt.date(2003, 12, 22))]
    tdp01(catalogue, tmp_path / "in", "2021-10", people, [household("TDP01-H001", "Ngô Văn Em")])
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path / "a", catalogue)
    em = person(results, "Ngô Văn Em")
    assert (em["age"], em["outcome"]) == (18, S.ACHIEVED)
    # The Ban chỉ đạo types 30/11 over 31/12; Excel keeps a date.
    november = catalogue_with(tmp_path, ngay_tinh_tuoi=dt.datetime(2024, 11, 30))
    assert november.age_date(2021) == dt.date(2021, 11, 30)
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path / "b", november)
    em = person(results, "Ngô Văn Em")
    assert (em["age"], em["outcome"], em["reason"]) == (
        17,
        S.NOT_ELIGIBLE,
        "Chưa đủ 18 tuổi (tính đến 30/11/2021)",
    )


def test_a_blank_birth_date_keeps_the_person_undecided(catalogue, tmp_path: Path) -> None:
    path = tdp01(
        catalogue,
        tmp_path / "in",
        "2021-10",
        family("TDP01-H001", "Đinh Văn Giang", "Đinh Thị Hà", "Đinh Văn Hải", "Đinh Thị Hoa"),
        [household("TDP01-H001", "Đinh Văn Giang")],
    )
    edit(path, "Công dân", {("Đinh Thị Hoa", "birth_date"): None}, catalogue)
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path, catalogue)
    hoa = person(results, "Đinh Thị Hoa")
    assert (hoa["outcome"], hoa["reason"]) == (
        S.NOT_ELIGIBLE,
        "Chưa đủ dữ liệu: Ngày sinh: ô trống",
    )
    assert bool(hoa["undecided"])
    # Counted both ways in the household: 3/4 = 75% or 4/4 = 100% (need 80%): not known.
    h = home(results, "TDP01-H001")
    assert (h["members"], h["GD02"], h["outcome"]) == (4, "", S.NOT_ELIGIBLE)
    assert "từ 75% đến 100%" in h["reason"] and "Đinh Thị Hoa (Ngày sinh: ô trống)" in h["reason"]


# --- rule 7: votes -----------------------------------------------------------------------------


def test_blank_attendance_leaves_the_votes_undecided_with_one_reason(
    catalogue, tmp_path: Path
) -> None:
    people = family("TDP01-H001", "Vũ Văn Khoa", "Vũ Thị Lan", votes=40)
    homes = [household("TDP01-H001", "Vũ Văn Khoa", votes=40)]
    path = tdp01(catalogue, tmp_path / "in", "2021-11", people, homes, NOV_INFO)
    edit_info(path, "attendees", None)
    results, issues = run_month(tmp_path / "in", "2021-11", tmp_path, catalogue)
    # One problem, at the cell to fill; the votes are kept, none is said to exceed anything.
    assert [(i.sheet, i.cell) for i in issues] == [(S.FORM_INFO.name, "B9")]
    assert set(results.citizens["outcome"]) == {S.NOT_ELIGIBLE}
    assert set(results.citizens["reason"]) == {
        "Chưa đủ dữ liệu: Số người dự họp (sheet Thông tin): ô trống"
    }
    h = home(results, "TDP01-H001")
    assert h["outcome"] == S.NOT_ELIGIBLE and h["GD02"] == ""  # never 0%


def test_votes_count_from_the_voting_month_of_the_catalogue(catalogue, tmp_path: Path) -> None:
    people = [citizen("TDP01-H001", "Trịnh Văn Minh", dt.date(1970, 1, 1), votes=25)]
    homes = [household("TDP01-H001", "Trịnh Văn Minh", votes=26)]
    tdp01(catalogue, tmp_path / "in", "2021-10", people, homes, NOV_INFO)
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path / "a", catalogue)
    assert person(results, "Trịnh Văn Minh")["outcome"] == S.ACHIEVED  # October: no votes yet
    october = catalogue_with(tmp_path, thang_binh_xet=10)
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path / "b", october)
    minh = person(results, "Trịnh Văn Minh")
    assert minh["outcome"] == S.NOT_ACHIEVED  # 25/50 = 50% is not more than 50%
    assert minh["reason"] == "Không đạt: Số phiếu đồng ý 25/50 (50%) không vượt quá 50%"


# --- rules 8, 9: shares with members not known; agency staff in their household -------------


def test_a_share_is_decided_only_when_the_unknown_members_cannot_change_it(
    catalogue, tmp_path: Path
) -> None:
    five = ("Lý Văn A", "Lý Thị B", "Lý Văn C", "Lý Thị D", "Lý Văn E")
    other = ("Mạc Văn A", "Mạc Thị B", "Mạc Văn C", "Mạc Thị D", "Mạc Văn E")
    path = tdp01(
        catalogue,
        tmp_path / "in",
        "2021-10",
        family("TDP01-H001", *five) + family("TDP01-H002", *other),
        [household("TDP01-H001", "Lý Văn A"), household("TDP01-H002", "Mạc Văn A")],
    )
    edit(
        path,
        "Công dân",
        {
            ("Lý Văn E", "CD05"): None,  # 4 Đạt + 1 not known: 80% to 100%
            ("Mạc Thị D", "CD01"): "Chưa đạt",  # 3 Đạt, 1 Chưa đạt, 1 not known: 60% to 80%
            ("Mạc Văn E", "CD05"): None,
        },
        catalogue,
    )
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path, catalogue)
    decided = home(results, "TDP01-H001")
    assert (decided["GD02"], decided["outcome"]) == (S.PASS, S.ACHIEVED)
    waiting = home(results, "TDP01-H002")
    assert (waiting["GD02"], waiting["outcome"]) == ("", S.NOT_ELIGIBLE)
    assert waiting["reason"] == (
        "Chưa đủ dữ liệu: GD02 - Thành viên là CDKM: chưa rõ (từ 60% đến 80%, cần ≥ 80%) vì "
        "chưa rõ người: Mạc Văn E (CD05 - Vệ sinh môi trường: ô trống)"
    )


def test_a_blank_health_insurance_does_not_pass_the_whole_household(
    catalogue, tmp_path: Path
) -> None:
    path = tdp01(
        catalogue,
        tmp_path / "in",
        "2021-10",
        [
            *family("TDP01-H910", "Tạ Văn Nam", "Tạ Thị Oanh"),
            citizen("TDP01-H910", "Tạ Văn Phát", dt.date(2015, 1, 1), registered=None),
        ],
        [household("TDP01-H910", "Tạ Văn Nam")],
    )
    edit(path, "Công dân", {("Tạ Văn Phát", "CD04"): None}, catalogue)
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path, catalogue)
    h = home(results, "TDP01-H910")
    assert (h["GD02"], h["GD03"], h["outcome"]) == (S.PASS, "", S.NOT_ELIGIBLE)
    assert "Tạ Văn Phát (CD04 - Bảo hiểm y tế: ô trống)" in h["reason"]


def test_agency_staff_count_in_the_household_where_they_live(catalogue, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    tdp01(
        catalogue,
        inbox,
        "2021-10",
        family("TDP01-H005", "Hồ Văn Quý", "Hồ Thị Rạng", "Hồ Văn Sáng"),
        [household("TDP01-H005", "Hồ Văn Quý")],
    )
    path = make_form(
        catalogue,
        inbox,
        "CQ01",
        "2021-10",
        [citizen("TDP01-H005", "Hồ Thị Thu", dt.date(1990, 2, 2))],
    )
    edit(path, "Công dân", {("Hồ Thị Thu", "CD01"): "Chưa đạt"}, catalogue)
    results, _ = run_month(inbox, "2021-10", tmp_path, catalogue)
    h = home(results, "TDP01-H005")
    assert (h["members"], h["GD02"], h["outcome"]) == (4, S.FAIL, S.NOT_ACHIEVED)
    assert "GD02 - Thành viên là CDKM (bắt buộc): 75% (cần ≥ 80%)" in h["reason"]
    # The tổ's residents include her: 4 people for its health-insurance share.
    unit = row(results.units, "unit_code", "TDP01")
    assert unit["TDP03_value"] == 100 and person(results, "Hồ Thị Thu")["unit_code"] == "CQ01"


# --- rule 10: one person, one result ---------------------------------------------------------


def test_one_cccd_in_two_units_gives_one_result(catalogue, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    lives = citizen("TDP01-H001", "Kiều Văn Ước", dt.date(1980, 6, 6), cccd="038080001234")
    tdp01(
        catalogue,
        inbox,
        "2021-10",
        [lives, *family("TDP01-H001", "Kiều Thị Vân")],
        [household("TDP01-H001", "Kiều Văn Ước")],
    )
    works = dict(lives, household_code=None, CD02="Chưa đạt")
    twice = citizen("TDP02-H001", "Khúc Văn Xuân", dt.date(1985, 5, 5), cccd="038085005555")
    make_form(catalogue, inbox, "CQ01", "2021-10", [works])
    make_form(
        catalogue,
        inbox,
        "TDP02",
        "2021-10",
        [twice],
        [household("TDP02-H001", "Khúc Văn Xuân")],
        all_tasks_done(catalogue),
    )
    make_form(
        catalogue,
        inbox,
        "TDP03",
        "2021-10",
        [dict(twice, household_code="TDP03-H009")],
        [household("TDP03-H009", "Khúc Văn Xuân")],
        all_tasks_done(catalogue),
    )
    results, _ = run_month(inbox, "2021-10", tmp_path, catalogue)
    at_home, at_work = (
        person(results, "Kiều Văn Ước", "TDP01"),
        person(results, "Kiều Văn Ước", "CQ01"),
    )
    assert at_home["outcome"] == at_work["outcome"] == S.ACHIEVED
    assert at_work["reason"].startswith("Chấm tại TDP01 (cùng số CCCD, nơi cư trú)")
    agency = row(results.units, "unit_code", "CQ01")
    assert (agency["citizens"], agency["citizens_achieved"]) == (0, 0)  # counted once, at home
    for unit in ("TDP02", "TDP03"):
        xuan = person(results, "Khúc Văn Xuân", unit)
        assert xuan["outcome"] == S.NOT_ELIGIBLE
        assert "Số CCCD 038085005555 cũng có ở" in xuan["reason"]


def test_a_cccd_the_units_have_not_agreed_on_is_unknown_in_the_shares(
    catalogue, tmp_path: Path
) -> None:
    """Rule 10: Xuân's TDP02 row fails CD01, but his CCCD is on TDP03's form too: if he lives in
    TDP03, TDP02-H001 has two adults, both Đạt. The household waits for the units to agree."""
    inbox = tmp_path / "in"
    xuan = citizen("TDP02-H001", "Khúc Văn Xuân", dt.date(1985, 5, 5), cccd="038085005555",
                   CD01="Chưa đạt")  # fmt: skip
    make_form(catalogue, inbox, "TDP02", "2021-10",
              [xuan, *family("TDP02-H001", "Khúc Thị Yên", "Khúc Văn Bình")],
              [household("TDP02-H001", "Khúc Văn Xuân")], all_tasks_done(catalogue))  # fmt: skip
    make_form(catalogue, inbox, "TDP03", "2021-10", [dict(xuan, household_code="TDP03-H009")],
              [household("TDP03-H009", "Khúc Văn Xuân")], all_tasks_done(catalogue))  # fmt: skip
    results, _ = run_month(inbox, "2021-10", tmp_path, catalogue)
    house = home(results, "TDP02-H001")
    assert house["outcome"] == S.NOT_ELIGIBLE, house["reason"]
    assert "Khúc Văn Xuân (Số CCCD 038085005555 cũng có ở TDP03" in house["reason"]


def test_a_cccd_registered_by_another_unit_is_not_registered_here(
    catalogue, tmp_path: Path
) -> None:
    """Rule 6: Chương registers on TDP03's January form; in March he is on TDP04's form (its
    first), Đăng ký Không. TDP04's forms decide for TDP04's rows: not registered."""
    chuong = citizen("TDP03-H001", "Lều Văn Chương", dt.date(1980, 1, 1), cccd="038080007777")
    for period, unit, registered in (("2021-01", "TDP03", "Có"), ("2021-03", "TDP04", "Không")):
        inbox = tmp_path / period
        code = f"{unit}-H001"
        make_form(catalogue, inbox, unit, period,
                  [dict(chuong, household_code=code, registered=registered)],
                  [household(code, "Lều Văn Chương")], all_tasks_done(catalogue))  # fmt: skip
        results, _ = run_month(inbox, period, tmp_path, catalogue)
    moved = person(results, "Lều Văn Chương", "TDP04")
    assert (moved["registration"], moved["outcome"]) == ("Chưa đăng ký", S.NOT_ELIGIBLE)
    assert moved["reason"].startswith("Chưa đăng ký thi đua")


# --- rule 11: the Ban chỉ đạo's inspection ---------------------------------------------------


def test_the_inspection_overrides_a_measured_value(catalogue, tmp_path: Path) -> None:
    tasks = all_tasks_done(catalogue)
    tasks["inspection"] = None
    tasks.loc[tasks["criterion"] == "TDP08", ["value", "inspection"]] = [1.5, S.FAIL]
    tdp01(
        catalogue,
        tmp_path / "in",
        "2021-10",
        family("TDP01-H001", "Bùi Văn Yên"),
        [household("TDP01-H001", "Bùi Văn Yên")],
        tasks=tasks,
    )
    results, _ = run_month(tmp_path / "in", "2021-10", tmp_path, catalogue)
    unit = row(results.units, "unit_code", "TDP01")
    assert (unit["TDP08"], unit["TDP08_value"]) == (S.FAIL, 1.5)


# --- rule 6: registration, per unit, from the catalogue's settings ---------------------------


def _registration_year(catalogue: Catalogue, root: Path) -> dict[str, Results]:
    """January: only TDP02 sends its form (Đinh registers, Đoàn writes Không). February: TDP01
    joins with Có; TDP02 again, Đoàn now Có. Run in turn on one store."""
    january, february = root / "t01", root / "t02"
    make_form(
        catalogue,
        january,
        "TDP02",
        "2021-01",
        [
            citizen("TDP02-H001", "Đinh Văn Ân", dt.date(1970, 1, 1)),
            citizen("TDP02-H001", "Đoàn Thị Bích", dt.date(1972, 1, 1), registered="Không"),
        ],
        [household("TDP02-H001", "Đinh Văn Ân")],
        all_tasks_done(catalogue),
    )
    make_form(
        catalogue,
        february,
        "TDP02",
        "2021-02",
        [
            citizen("TDP02-H001", "Đinh Văn Ân", dt.date(1970, 1, 1), registered=None),
            citizen("TDP02-H001", "Đoàn Thị Bích", dt.date(1972, 1, 1)),
        ],
        [household("TDP02-H001", "Đinh Văn Ân")],
        all_tasks_done(catalogue),
    )
    tdp01(
        catalogue,
        february,
        "2021-02",
        family("TDP01-H001", "Cù Văn Chính"),
        [household("TDP01-H001", "Cù Văn Chính")],
    )
    run_month(january, "2021-01", root, catalogue)
    results, _ = run_month(february, "2021-02", root, catalogue)
    return results


def test_registration_is_decided_per_unit_and_late_ones_count_by_default(
    catalogue, tmp_path: Path
) -> None:
    results = _registration_year(catalogue, tmp_path)
    an = person(results, "Đinh Văn Ân")  # Có in January, blank since: registered for the year
    assert (an["registration"], an["registered_in"], an["outcome"]) == (
        "Đúng hạn",
        "2021-01",
        S.ACHIEVED,
    )
    chinh = person(results, "Cù Văn Chính")  # TDP01 joined in February: not wiped by TDP02
    assert (chinh["registration"], chinh["registered_in"], chinh["outcome"]) == (
        "Muộn, được tính",
        "2021-02",
        S.ACHIEVED,
    )
    assert person(results, "Đoàn Thị Bích")["registration"] == "Muộn, được tính"


def test_a_late_registration_is_refused_when_the_catalogue_says_so(
    catalogue, tmp_path: Path
) -> None:
    strict = catalogue_with(tmp_path, dang_ky_muon="Không tính")
    results = _registration_year(strict, tmp_path)
    assert person(results, "Đinh Văn Ân")["outcome"] == S.ACHIEVED
    chinh = person(results, "Cù Văn Chính")
    assert (chinh["outcome"], chinh["registered"], chinh["reason"]) == (
        S.NOT_ELIGIBLE,
        S.NO,
        "Đăng ký muộn (kỳ 2021-02, hạn đăng ký: tháng 1): theo Bộ tiêu chí, đăng ký sau hạn "
        "không được xét",
    )
    # A refused member is decided, not unknown: her household's share is 50%, failed.
    assert home(results, "TDP02-H001")["GD02"] == S.FAIL
    # The summary counts, per unit, whose registration counts and whom it leaves out.
    units = results.units.set_index("unit_code")
    counts = ["citizens_registered", "citizens_not_registered", "households_not_registered"]
    assert units.loc["TDP02", counts].tolist() == [1, 1, 0]
    assert units.loc["TDP01", counts].tolist() == [0, 1, 1]


def test_registration_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError) as caught:
        catalogue_with(tmp_path, ngay_tinh_tuoi="30/02", han_dang_ky=13, dang_ky_muon="có lẽ")
    problems = caught.value.problems
    assert any("ngay_tinh_tuoi" not in p and "'30/02' không phải ngày/tháng" in p for p in problems)
    assert any("'13' không phải tháng" in p for p in problems)
    assert any("'có lẽ' không hợp lệ: ghi 'tính' hoặc 'không tính'" in p for p in problems)
    assert all(p.startswith("Cấu hình!C") for p in problems)
    result = CliRunner().invoke(
        main, ["catalogue", "check", "--bo-tieu-chi", str(tmp_path / "bo_tieu_chi.xlsx")]
    )
    assert result.exit_code == 2 and "'13' không phải tháng" in result.output


# --- rule 12: year counts carried within the year and moved on at its turn ------------------


def test_year_counts_are_carried_and_moved_on_as_shown(catalogue, tmp_path: Path) -> None:
    homes = [household("TDP01-H001", "Lã Văn Đức", GD01=4), household("TDP01-H002", "Lã Văn Em")]
    people = family("TDP01-H001", "Lã Văn Đức") + family("TDP01-H002", "Lã Văn Em")
    tdp01(catalogue, tmp_path / "t03", "2021-03", people, homes)
    october = tdp01(catalogue, tmp_path / "t10", "2021-10", people, homes)
    edit(october, "Hộ gia đình", {("TDP01-H001", "GD01"): None}, catalogue)
    november = tdp01(
        catalogue,
        tmp_path / "t11",
        "2021-11",
        [dict(p, votes=40) for p in people],
        [dict(homes[0], GD01=None, votes=40), dict(homes[1], GD01=2, votes=40)],
        NOV_INFO,
    )
    january = tdp01(catalogue, tmp_path / "t01", "2022-01", people, homes)
    edit(
        january, "Hộ gia đình", {(c, "GD01"): None for c in ("TDP01-H001", "TDP01-H002")}, catalogue
    )
    run_month(tmp_path / "t03", "2021-03", tmp_path, catalogue)
    results, _ = run_month(tmp_path / "t10", "2021-10", tmp_path, catalogue)
    h = home(results, "TDP01-H001")
    assert (h["GD01"], h["GD01_value"]) == (S.PASS, 4)
    assert h["carried"] == "GD01 - Gia đình văn hóa: 4 (lấy từ kỳ 2021-03)"
    results, _ = run_month(november.parent, "2021-11", tmp_path, catalogue)
    assert home(results, "TDP01-H001")["outcome"] == S.ACHIEVED
    assert home(results, "TDP01-H002")["outcome"] == S.NOT_ACHIEVED  # GD01 = 2
    results, _ = run_month(tmp_path / "t01", "2022-01", tmp_path, catalogue)
    h = home(results, "TDP01-H001")
    assert h["GD01_value"] == 5
    assert h["carried"] == (
        "GD01 - Gia đình văn hóa: 5 (lấy từ kỳ 2021-11, cộng 1 năm vì năm 2021 đạt Gia đình "
        "kiểu mẫu)"
    )
    # Not reached in November 2021: not moved on, left for the unit to write.
    e = home(results, "TDP01-H002")
    assert (e["GD01"], e["carried"], e["outcome"]) == ("", "", S.NOT_ELIGIBLE)
    assert "GD01 - Gia đình văn hóa: ô trống" in e["reason"]


# --- the documents say it ----------------------------------------------------------------------


def test_the_read_first_sheet_states_each_rule_and_setting() -> None:
    text = "\n".join(README_LINES)
    for words in (
        "Ô trống, một quy tắc cho mọi loại tiêu chí",
        "Chưa đạt chắc chắn, kể cả khi còn ô trống",
        "ngay_tinh_tuoi",
        "han_dang_ky",
        "dang_ky_muon",
        "thang_binh_xet",
        "Tỷ lệ thấp nhất = Đ / (Đ + K + R + MK + MR)",
        "Cán bộ của cơ quan được tính vào hộ nơi họ ở",
        "Một người, một kết quả",
        "Kết quả kiểm tra của BCĐ nếu có ghi (thay cho tự đánh giá của đơn vị, kể cả Giá trị đo",
        "Số năm liên tục",
    ):
        assert words in text, words
