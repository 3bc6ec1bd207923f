"""A month's form as a tổ trưởng really sends it (issue 17): the form the project wrote, typed
over in a dozen ways people and Excel do at once, then opened and saved again in LibreOffice.
Every value is read with its meaning or left unknown with a message naming the person and the
cell; no row is lost without a word."""

from __future__ import annotations

import datetime as dt
import shutil
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.domain import schema as S
from processor.store.history import History
from tests import libreoffice
from tests.conftest import all_tasks_done
from tests.town import small_catalogue, town_inbox, unit_form

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module", autouse=True)
def _soffice() -> None:
    libreoffice.require_soffice()


PERIOD = "2021-09"
NAMES = [
    "Đỗ Văn Khoa",
    "Vũ Thị Lan",
    "Hoàng Đức Yến",
    "Phan Văn Tài",
    "Trịnh Thị Hoa",
    "Lương Văn Sơn",
    "Đinh Thị Mai",
    "Kiều Văn Hải",
    "Tạ Thị Thu",
    "Ngô Văn Bảo",
    "Hà Thị Cúc",
    "Tôn Văn Đạt",
]
PASTED = "Bùi Thị Ngọc"  # a TDP03 resident whose row was pasted in from TDP03's list


def _column(sheet, header: str) -> int:
    headers = next(r for r in sheet.iter_rows(max_row=10) if r[0].value == "STT")
    return next(c.column for c in headers if str(c.value or "").startswith(header))


def _row(sheet, name: str) -> int:
    return next(r[0].row for r in sheet.iter_rows() if any(c.value == name for c in r))


def _messy(form: Path) -> dict[str, str]:
    """Type over the form as people do; return the cell (Công dân!D5) of each person edited."""
    book = openpyxl.load_workbook(form)
    sheet = book[S.FORM_CITIZENS.name]
    where: dict[str, str] = {}
    last = max(_row(sheet, n) for n in NAMES)

    def typed(name: str, header: str, value: object) -> None:
        cell = sheet.cell(_row(sheet, name), _column(sheet, header))
        cell.value = value
        where[name] = cell.coordinate

    # A year typed into a date cell: Excel keeps the serial 1989, shown as 11/06/1905.
    typed("Đỗ Văn Khoa", "Ngày sinh", dt.datetime(1905, 6, 11))
    typed("Vũ Thị Lan", "Ngày sinh", 1975)  # the year alone, as a number
    # Ticks instead of the list's Đạt.
    typed("Phan Văn Tài", "CD01", "v")
    typed("Trịnh Thị Hoa", "CD02", "✓")
    typed("Lương Văn Sơn", "CD03", "được")  # nobody can say what this means
    typed("Đinh Thị Mai", "Số CCCD", 1089012345)  # 001089012345 typed into a Number cell
    typed("Kiều Văn Hải", "Ngày sinh", "06/02/1966")  # typed as text, day first
    typed("Tạ Thị Thu", "Giới tính", "nữ ")
    typed("Ngô Văn Bảo", "Đăng ký", True)  # a TRUE that LibreOffice may keep as a formula
    # A name typed after an apostrophe, and another in decomposed Unicode with stray spaces.
    name = sheet.cell(_row(sheet, "Hoàng Đức Yến"), _column(sheet, "Họ và tên"))
    name.value = "'Hoàng Đức Yến"
    where["Hoàng Đức Yến"] = name.coordinate
    name = sheet.cell(_row(sheet, "Hà Thị Cúc"), _column(sheet, "Họ và tên"))
    name.value = "  " + unicodedata.normalize("NFD", "Hà Thị Cúc") + " "
    where["Hà Thị Cúc"] = name.coordinate
    # The name deleted, the rest of the row left.
    name = sheet.cell(_row(sheet, "Tôn Văn Đạt"), _column(sheet, "Họ và tên"))
    name.value = None
    where["Tôn Văn Đạt"] = name.coordinate
    # A row pasted from TDP03's list under the unit's own.
    pasted = last + 2
    for header, value in (
        ("Mã hộ", "TDP03-H001"),
        ("Họ và tên", PASTED),
        ("Ngày sinh", dt.datetime(1971, 1, 1)),
        ("Giới tính", "Nữ"),
        ("Đăng ký", "Có"),
        ("CD01", "Đạt"),
    ):
        sheet.cell(pasted, _column(sheet, header)).value = value
    where[PASTED] = f"A{pasted}"
    book.save(form)
    return where


def _resave(form: Path, tmp_path: Path, fmt: str) -> Path:
    """``form`` opened and saved again by LibreOffice as ``fmt``, as a unit on Linux does."""
    return libreoffice.convert([form], fmt, tmp_path / "resaved", tmp_path / "lo_profile")[0]


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_messy_form_resaved_in_libreoffice_is_read_right_or_flagged(tmp_path, fmt) -> None:
    catalogue = small_catalogue(tmp_path / "bo_tieu_chi.xlsx")
    inbox = town_inbox(catalogue, tmp_path / "inbox", PERIOD, ("TDP01", "CQ01"))
    written = unit_form(catalogue, tmp_path / "written", "TDP02", PERIOD, NAMES)
    where = _messy(written)
    sent = _resave(written, tmp_path, fmt)
    shutil.copy(sent, inbox / sent.name)
    before = {p.name: p.read_bytes() for p in inbox.iterdir()}

    place = tmp_path / "place"
    result = CliRunner().invoke(
        main,
        ["run", str(inbox), "--ky", PERIOD, "--out", str(place / "out"),
         "--kho", str(place / "kho"), "--bo-tieu-chi", str(catalogue.path), "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # cells to fix, and a row not counted
    assert {p.name: p.read_bytes() for p in inbox.iterdir()} == before  # inputs untouched

    with History(place / "kho" / "lich_su.sqlite") as history:
        people = history.load(PERIOD, "result", "citizens")
    tdp02 = people[people["unit_code"] == "TDP02"].set_index("full_name")
    summary = CalamineWorkbook.from_path(str(place / "out" / PERIOD / f"tong_hop_{PERIOD}.xlsx"))
    listed = summary.get_sheet_by_name(S.OUT_ISSUES).to_python()
    issues = pd.DataFrame(listed[1:], columns=listed[0])
    issues = issues[issues["Tệp"] == sent.name]

    def said(cell: str, who: str = "") -> pd.DataFrame:
        found = issues[issues["Ô"] == cell]
        return found[found["Nội dung"].str.startswith(who)] if who else found

    # Read with their meaning, and the unit told what was read.
    assert tdp02.loc["Đỗ Văn Khoa", "birth_year"] == 1989
    assert not said(where["Đỗ Văn Khoa"], "Đỗ Văn Khoa").empty
    assert tdp02.loc["Vũ Thị Lan", "birth_year"] == 1975
    assert tdp02.loc["Phan Văn Tài", "CD01"] == S.PASS
    assert tdp02.loc["Trịnh Thị Hoa", "CD02"] == S.PASS
    assert str(tdp02.loc["Kiều Văn Hải", "birth_date"])[:10] == "1966-02-06"
    assert tdp02.loc["Tạ Thị Thu", "gender"] == "Nữ"
    assert tdp02.loc["Ngô Văn Bảo", "registered"] == S.YES
    # LibreOffice saved that TRUE as the formula TRUE(): a constant, not a formula to warn of.
    assert said(where["Ngô Văn Bảo"]).empty
    assert tdp02.loc["Đinh Thị Mai", "cccd"] == "001089012345"
    assert not said(where["Đinh Thị Mai"], "Đinh Thị Mai").empty
    assert "Hoàng Đức Yến" in tdp02.index and "'Hoàng Đức Yến" not in tdp02.index
    assert "Hà Thị Cúc" in tdp02.index
    # A mark nobody can read: the person stays, that criterion unknown, the cell named.
    unread = tdp02.loc["Lương Văn Sơn", "CD03"]
    assert pd.isna(unread) or unread == "", unread
    assert tdp02.loc["Lương Văn Sơn", "outcome"] == S.NOT_ELIGIBLE
    assert not said(where["Lương Văn Sơn"], "Lương Văn Sơn").empty
    # A row without a name is not counted, and the unit is told at that cell.
    assert "VALUE_REQUIRED" in set(said(where["Tôn Văn Đạt"])["Mã lỗi"])
    # The row from TDP03's list is counted for neither unit, and said so.
    assert PASTED not in tdp02.index
    assert "ROWS_OF_OTHER_UNIT" in set(issues["Mã lỗi"])
    assert set(people[people["full_name"] == PASTED]["unit_code"]) <= {"TDP03"}

    # Every row the unit sent is accounted for: counted, or refused with a message.
    sources = summary.get_sheet_by_name(S.OUT_SOURCES).to_python()
    first = next(i for i, r in enumerate(sources) if r[0] == "Tệp")
    header = sources[first]
    entry = next(
        dict(zip(header, r, strict=False)) for r in sources[first + 1 :] if r[0] == sent.name
    )
    # The citizens, the pasted row, the households and the unit's task rows.
    read = len(NAMES) + 1 + len(NAMES) // 2 + len(all_tasks_done(catalogue))
    assert entry["Số dòng đọc"] == read
    assert entry["Số dòng nhận"] + entry["Số dòng loại"] + entry["Số dòng không tính"] == read
    assert len(tdp02) == len(NAMES) - 1  # all but the nameless row
    # The next form keeps every row the unit sent as its own, the TDP03 row left to TDP03.
    following = openpyxl.load_workbook(place / "out" / PERIOD / "bieu_mau" / "TDP02_2021-10.xlsx")[
        S.FORM_CITIZENS.name
    ]
    column = _column(following, "Họ và tên")
    births = _column(following, "Ngày sinh")
    listed_rows = [
        (r[column - 1].value, r[births - 1].value)
        for r in following.iter_rows(min_row=4)
        if r[births - 1].value is not None
    ]
    names = [n for n, _ in listed_rows]
    assert len(listed_rows) == len(NAMES) and PASTED not in names
    assert None in names and "Hoàng Đức Yến" in names and "Hà Thị Cúc" in names
