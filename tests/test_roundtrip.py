"""Forms survive a real office suite (SPEC §3, §9).

Every unit of the sample town gets a form from `write_form`, pre-filled with the first rows of its
committed sample (and, for TDP01, values chosen to trip an office suite). LibreOffice re-saves all
of them as .xlsx, .xls and .ods, running with a Vietnamese locale as the units' computers do: one
soffice call per format for all files, the three formats in parallel, so the module stays well
under a minute. The re-saved files must read exactly as the originals do.

What LibreOffice 7.4 keeps of the guards on a headless re-save (checked below, except freeze panes):
validations and their Vietnamese messages, sheet protection without password, the hidden `_meta`
sheet, A4 landscape and the repeated header row survive in all three formats; frozen panes are
dropped in all three, because a headless conversion has no view to save them from (a save from the
Calc window should keep them; this machine has no GUI to check). Nothing in the reader needs them.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.domain import schema as S
from processor.domain.catalogue import load_catalogue
from processor.domain.form_layout import (
    CARRIED,
    HEADER_ROW,
    RAW,
    citizen_columns,
    household_columns,
)
from processor.domain.periods import Period
from processor.intake.reader import read_submission
from processor.intake.submission import Submission
from processor.outputs.forms import SPARE_ROWS, Roster, write_form
from tests import libreoffice

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module", autouse=True)
def _soffice() -> None:
    libreoffice.require_soffice()


SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "inbox"
FORMATS = ("xlsx", "xls", "ods")
HOUSEHOLDS_PER_UNIT = 6  # and their members; a cơ quan keeps its first STAFF_PER_UNIT staff
STAFF_PER_UNIT = 12
# The unit whose form carries marked cells: a text the unit typed that could not be read (orange,
# with what to fix) and a value carried from an earlier month (blue, saying from when).
MARKED = "TDP02"
UNREADABLE = "3l/02/19"
TABLES = (S.FORM_CITIZENS.name, S.FORM_HOUSEHOLDS.name, S.FORM_UNIT.name)
# LibreOffice's locale setting, as a unit's Vietnamese computer has it (SPEC §9).
VIETNAMESE_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>vi-VN</value></prop></item>
</oor:items>
"""


def _tricky_rows(citizens: pd.DataFrame, households: pd.DataFrame) -> tuple[list, list]:
    """Values an office suite may turn into something else: formulas, booleans, IDs, dates."""
    code = households["household_code"].iloc[0]
    base = {"household_code": code, "gender": "Nam", "registered": "Có"}
    tricky = [
        {**base, "full_name": "=Nguyễn Văn Bằng", "birth_date": dt.date(1989, 1, 5),
         "cccd": "001089012345", "note": "Sai", "CD01": "Đạt"},
        {**base, "full_name": "+Trần Thị Ơn", "birth_date": dt.date(2000, 2, 29),
         "cccd": "000000000001", "note": "Đúng", "gender": "Nữ", "registered": "Không"},
        {**base, "full_name": "-Lê Văn Ưng", "birth_date": dt.date(1911, 3, 1), "note": "TRUE",
         "CD02": "Chưa đạt", "votes": 0},
        {**base, "full_name": "@Phạm Thị Ể & <Nga>", "birth_date": dt.date(2003, 12, 31),
         "note": "05/01/1980", "registered": None},
    ]  # fmt: skip
    house = {**households.iloc[-1].to_dict(), "household_code": "TDP01-H999", "GD01": 2.5}
    # A head typed as a formula would be refused (no letter in `=1+1`): this one is text.
    house.update(head_name="=Vũ Văn Hải", address="0012 Phố Lê Lợi", note="3,5")
    return tricky, [house]


def _sample_table(
    book: CalamineWorkbook, sheet: str, columns: list[S.Column], rows: int | None = None
) -> pd.DataFrame:
    """The first ``rows`` rows of a sample sheet, raw, keyed like a roster (fast: no parsing)."""
    if sheet not in book.sheet_names:
        return pd.DataFrame()
    handle = book.get_sheet_by_name(sheet)
    cells = handle.to_python(nrows=HEADER_ROW + 1 + rows) if rows else handle.to_python()
    keys = {c.label: c.key for c in columns if c.key != "row_no"}
    header = [keys.get(label) for label in cells[HEADER_ROW]]
    records = [
        {key: None if v == "" else v for key, v in zip(header, row, strict=True) if key}
        for row in cells[HEADER_ROW + 1 :]
    ]
    return pd.DataFrame([r for r in records if any(v is not None for v in r.values())])


def _marked_rows(
    citizens: pd.DataFrame, households: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first citizen's birth date unreadable as typed, the first household's GD01 carried."""
    citizens = citizens.copy()
    citizens[RAW] = [{"birth_date": UNREADABLE}] + [None] * (len(citizens) - 1)
    citizens.loc[citizens.index[0], "birth_date"] = None
    households = households.copy()
    households[CARRIED] = [{"GD01": "2021-10"}] + [None] * (len(households) - 1)
    return citizens, households


def write_originals(catalogue, folder: Path) -> dict[str, Path]:
    """One form per unit of the sample town, pre-filled with the first rows of its sample."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for sample in sorted(SAMPLES.glob("*.xlsx")):
        book = CalamineWorkbook.from_path(str(sample))
        meta = dict(row[:2] for row in book.get_sheet_by_name(S.FORM_META).to_python())
        unit = catalogue.unit(meta["unit_code"])
        assert unit is not None, sample
        info_keys = {c.label: c.key for c in S.FORM_INFO.columns}
        info = {
            info_keys[row[0]]: row[1]
            for row in book.get_sheet_by_name(S.FORM_INFO.name).to_python()
            if row[0] in info_keys and row[1] != ""
        }
        households = _sample_table(
            book, S.FORM_HOUSEHOLDS.name, household_columns(catalogue), HOUSEHOLDS_PER_UNIT
        )
        citizens = _sample_table(book, S.FORM_CITIZENS.name, citizen_columns(catalogue), 80)
        if households.empty:
            citizens = citizens.head(STAFF_PER_UNIT)
        else:
            citizens = citizens[citizens["household_code"].isin(households["household_code"])]
        if unit.code == "TDP01":
            more_citizens, more_households = _tricky_rows(citizens, households)
            citizens = pd.concat([citizens, pd.DataFrame(more_citizens)], ignore_index=True)
            households = pd.concat([households, pd.DataFrame(more_households)], ignore_index=True)
        if unit.code == MARKED:
            citizens, households = _marked_rows(citizens, households)
        tasks = _sample_table(book, S.FORM_UNIT.name, list(S.FORM_UNIT.columns))
        roster = Roster(citizens, households, tasks, info)
        written[unit.code] = write_form(
            catalogue, unit, Period.parse(meta["period"]), folder / sample.name, roster
        )
    return written


def _start_resaving(originals: dict[str, Path], root: Path) -> dict[str, subprocess.Popen]:
    """LibreOffice re-saving every original in each format, one profile each: the three run
    side by side."""
    files = list(originals.values())
    return {
        fmt: libreoffice.start(files, fmt, root / fmt, root / f"profile_{fmt}", VIETNAMESE_PROFILE)
        for fmt in FORMATS
    }


_EARLY: dict[str, object] = {}


def start_early(folder: Path) -> None:
    """Called by tests/conftest.py before the first test when this module's tests are selected:
    the forms are written and LibreOffice's re-saves queued, to run one by one beside the
    modules run before this one (the suite runs in one process; the machine has two cores)."""
    if shutil.which("soffice") is None:
        return  # _soffice says why, when the module's tests run
    originals = _EARLY["originals"] = write_originals(load_catalogue(), folder / "goc")
    files = list(originals.values())
    _EARLY["queued"] = {
        fmt: libreoffice.Queued(
            files, fmt, folder / fmt, folder / f"profile_{fmt}", VIETNAMESE_PROFILE
        )
        for fmt in FORMATS
    }


@pytest.fixture(scope="module")
def originals(tmp_path_factory, catalogue) -> dict[str, Path]:
    if "originals" in _EARLY:
        return _EARLY["originals"]
    return write_originals(catalogue, tmp_path_factory.mktemp("goc"))


@pytest.fixture(scope="module")
def resaved(originals, tmp_path_factory) -> dict[str, dict[str, Path]]:
    """format -> unit -> the form as LibreOffice saved it (queued by start_early: what has not
    started yet starts now, side by side)."""
    files = list(originals.values())
    if "queued" in _EARLY:
        queued = _EARLY["queued"]
        for conversion in queued.values():
            conversion.start_now()
        made = {fmt: conversion.result() for fmt, conversion in queued.items()}
    else:
        root = tmp_path_factory.mktemp("libreoffice")
        runs = _start_resaving(originals, root)
        made = {fmt: libreoffice.finish(run, files, fmt, root / fmt) for fmt, run in runs.items()}
    return {fmt: dict(zip(originals, paths, strict=True)) for fmt, paths in made.items()}


@pytest.fixture(scope="module")
def read_back(originals, catalogue) -> dict[str, Submission]:
    return {unit: read_submission(path, catalogue) for unit, path in originals.items()}


def _cell_values(series: pd.Series) -> list[tuple[type, object]]:
    """(type, value) of each cell, any missing value as None: `7` and `7.0` differ here."""
    return [(type(None), None) if pd.isna(v) else (type(v), v) for v in series.tolist()]


def test_every_unit_of_the_town_goes_round(originals, read_back, catalogue) -> None:
    assert sorted(originals) == sorted(u.code for u in catalogue.units)
    for unit, sub in read_back.items():
        if unit == MARKED:  # the unreadable date is an issue, the row is kept
            (issue,) = sub.issues
            assert issue.cell.endswith(str(HEADER_ROW + 2)) and UNREADABLE in issue.message
            assert (sub.unit_code, sub.rows_rejected) == (unit, 0)
            continue
        assert (sub.unit_code, sub.issues, sub.rows_rejected) == (unit, [], 0)
        assert len(sub.citizens) >= HOUSEHOLDS_PER_UNIT, unit
        assert sub.info.get("reporter") and sub.info.get("report_date"), unit
    tdp01 = read_back["TDP01"]
    assert len(tdp01.households) == HOUSEHOLDS_PER_UNIT + 1 and len(tdp01.tasks) > 10
    tricky = tdp01.citizens.set_index("full_name")
    assert tricky.at["=Nguyễn Văn Bằng", "cccd"] == "001089012345"
    assert tricky.at["+Trần Thị Ơn", "note"] == "Đúng"
    assert tricky.at["-Lê Văn Ưng", "birth_date"] == dt.date(1911, 3, 1)
    assert tdp01.households.set_index("household_code").at["TDP01-H999", "GD01"] == 2.5


@pytest.mark.parametrize("fmt", FORMATS)
def test_resaved_forms_read_the_same(fmt, resaved, read_back, catalogue) -> None:
    for unit, before in read_back.items():
        after = read_submission(resaved[fmt][unit], catalogue)
        where = f"{unit}.{fmt}"
        assert [i.message for i in after.issues] == [i.message for i in before.issues], where
        assert (after.unit_code, after.period, after.form_version, after.fingerprint) == (
            before.unit_code,
            before.period,
            before.form_version,
            before.fingerprint,
        ), where
        assert (after.rows_read, after.rows_rejected) == (before.rows_read, 0), where
        assert after.info == before.info, where
        for level in ("citizens", "households", "tasks"):
            old, new = getattr(before, level), getattr(after, level)
            assert list(new.columns) == list(old.columns), (where, level)
            for column in old.columns:
                assert _cell_values(new[column]) == _cell_values(old[column]), (where, column)


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_is_clean_on_resaved_forms(fmt, resaved, catalogue) -> None:
    files = [str(p) for unit, p in resaved[fmt].items() if unit != MARKED]
    result = CliRunner().invoke(main, ["check", "--bo-tieu-chi", str(catalogue.path), *files])
    assert result.exit_code == 0, result.output
    assert f"{len(files)}/{len(files)} tệp sạch." in result.output


def test_dropdowns_survive_resave_to_xlsx(resaved, read_back, catalogue) -> None:
    """Every enumerated column keeps its list, on the first and the last input row."""
    tables = {
        S.FORM_CITIZENS.name: (citizen_columns(catalogue), SPARE_ROWS),
        S.FORM_HOUSEHOLDS.name: (household_columns(catalogue), SPARE_ROWS),
        S.FORM_UNIT.name: (list(S.FORM_UNIT.columns), 0),
    }
    first = HEADER_ROW + 2  # Excel row of the first input row
    for unit, path in resaved["xlsx"].items():
        book = openpyxl.load_workbook(path)
        for name, (columns, blank_rows) in tables.items():
            if name not in book.sheetnames:
                continue
            ws = book[name]
            letters = {c.value: c.column_letter for c in ws[HEADER_ROW + 1] if c.value}
            last = first + read_back[unit].counts[name].read + blank_rows - 1
            for column in (c for c in columns if c.choices):
                for cell in (f"{letters[column.label]}{first}", f"{letters[column.label]}{last}"):
                    rules = [
                        (dv.formula1, dv.error)
                        for dv in ws.data_validations.dataValidation
                        if dv.type == "list" and cell in dv.sqref
                    ]
                    assert rules == [
                        (
                            '"' + ",".join(column.choices) + '"',
                            f"Chỉ chọn một trong các giá trị: {', '.join(column.choices)}.",
                        )
                    ], (unit, name, cell)


def test_marked_cells_keep_their_text_and_comments_in_xlsx(resaved) -> None:
    """Issue 17 item 4 and 18 item 6: the marks a form shows survive the unit's re-save."""
    book = openpyxl.load_workbook(resaved["xlsx"][MARKED])
    first = HEADER_ROW + 2
    people = book[S.FORM_CITIZENS.name]
    born = next(c for c in people[HEADER_ROW + 1] if c.value == S.FORM_CITIZENS.label("birth_date"))
    cell = people.cell(first, born.column)
    assert cell.value == UNREADABLE and cell.fill.fgColor.rgb.endswith("FCD5B4")
    assert f"«{UNREADABLE}»" in cell.comment.text
    ws = book[S.FORM_HOUSEHOLDS.name]
    header = next(c for c in ws[HEADER_ROW + 1] if str(c.value).startswith("GD01"))
    carried = ws.cell(first, header.column)
    assert carried.fill.fgColor.rgb.endswith("DDEBF7")
    assert "lấy từ tháng 10/2021" in carried.comment.text


def test_guards_libreoffice_keeps_in_xlsx(resaved) -> None:
    book = openpyxl.load_workbook(resaved["xlsx"]["TDP01"])
    assert book[S.FORM_META].sheet_state == "hidden"
    for name in TABLES:
        ws = book[name]
        assert ws.protection.sheet and not ws.protection.password, name
        assert ws.print_title_rows == "$3:$3", name
        assert (int(ws.page_setup.paperSize), ws.page_setup.orientation) == (9, "landscape")
        kinds = {dv.type for dv in ws.data_validations.dataValidation}
        assert {"list", "whole"} <= kinds, name
        assert all(dv.showErrorMessage for dv in ws.data_validations.dataValidation)


def test_guards_libreoffice_keeps_in_ods(resaved) -> None:
    with zipfile.ZipFile(resaved["ods"]["TDP01"]) as ods:
        content = ods.read("content.xml").decode()
    assert 'of:cell-content-is-in-list("Đạt";"Chưa đạt")' in content.replace("&quot;", '"')
    assert "<table:error-message" in content and "Giá trị không hợp lệ" in content
    for name in TABLES:
        assert f'<table:table table:name="{name}" ' in content
        start = content.index(f'<table:table table:name="{name}" ')
        assert 'table:protected="true"' in content[start : content.index(">", start)], name
    assert content.count("<table:table-header-rows>") >= len(TABLES)
    meta_style = re.search(r'table:name="_meta" table:style-name="([^"]+)"', content)
    assert meta_style is not None
    style = re.search(rf'style:name="{meta_style[1]}".*?</style:style>', content)
    assert style is not None and 'table:display="false"' in style[0]


def _biff_records(path: Path):
    data = olefile.OleFileIO(str(path)).openstream("Workbook").read()
    at = 0
    while at + 4 <= len(data):
        kind, size = struct.unpack_from("<HH", data, at)
        yield kind, data[at + 4 : at + 4 + size]
        at += 4 + size


def test_guards_libreoffice_keeps_in_xls(resaved) -> None:
    """Read from the BIFF records: BOUNDSHEET, built-in NAME, BOF, DV, PROTECT."""
    hidden, print_titles, sheets = [], set(), []
    for kind, body in _biff_records(resaved["xls"]["TDP01"]):
        if kind == 0x0085:  # BOUNDSHEET: visibility
            hidden.append(body[4] != 0)
        elif kind == 0x0018 and body[0] & 0x20 and body[15] == 0x07:  # NAME Print_Titles
            print_titles.add(struct.unpack_from("<H", body, 8)[0] - 1)
        elif kind == 0x0809 and struct.unpack_from("<H", body, 2)[0] == 0x10:  # BOF worksheet
            sheets.append({"rules": 0, "protected": False})
        elif kind == 0x01BE and sheets:  # DV
            sheets[-1]["rules"] += 1
        elif kind == 0x0012 and sheets:  # PROTECT
            sheets[-1]["protected"] = bool(struct.unpack_from("<H", body)[0])
    assert hidden == [False] * 5 + [True]  # _meta, the last sheet
    tables = range(2, 5)
    assert set(tables) <= print_titles
    assert all(sheets[i]["rules"] > 0 and sheets[i]["protected"] for i in tables)


# A LibreOffice Basic macro doing what a person does on the protected Công dân sheet: insert a
# row above the second person (Insert > Rows above, through the dispatcher that the menu uses, so
# the sheet's protection applies), type a new resident into it, delete the row of the person now
# on row 7 (Delete rows), and save as .xlsx. It logs what it saw, to tell a refused command from
# one that did nothing.
_EDIT_MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1"
 script:language="StarBasic">
Sub Edit(source As String, target As String, log As String)
  Dim args(0) As New com.sun.star.beans.PropertyValue
  args(0).Name = "Hidden"
  args(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(source), "_blank", 0, args())
  sheet = doc.Sheets.getByName("Công dân")
  controller = doc.CurrentController
  controller.setActiveSheet(sheet)
  helper = createUnoService("com.sun.star.frame.DispatchHelper")
  controller.select(sheet.getCellRangeByName("A5"))
  helper.executeDispatch(controller.Frame, ".uno:InsertRowsBefore", "", 0, Array())
  sheet.getCellRangeByName("B5").setString("TDP01-H001")
  sheet.getCellRangeByName("C5").setString("Người Chèn Giữa")
  sheet.getCellRangeByName("F5").setString("038090001122")
  sheet.getCellRangeByName("D5").setValue(32968)
  gone = sheet.getCellRangeByName("C7").getString()
  controller.select(sheet.getCellRangeByName("A7"))
  helper.executeDispatch(controller.Frame, ".uno:DeleteRows", "", 0, Array())
  f = FreeFile
  Open log For Output As #f
  later = sheet.getCellRangeByName("C7").getString()
  Print #f, gone &amp; "|" &amp; later &amp; "|" &amp; sheet.isProtected()
  Close #f
  Dim save(0) As New com.sun.star.beans.PropertyValue
  save(0).Name = "FilterName"
  save(0).Value = "Calc MS Excel 2007 XML"
  doc.storeToURL(ConvertToURL(target), save())
  doc.close(True)
End Sub
</script:module>
"""


def test_rows_inserted_and_deleted_on_the_protected_sheet_are_read(tmp_path, catalogue) -> None:
    """Issue 23: a unit inserts a row for a new resident anywhere in the list and deletes the
    row of one who left, in LibreOffice, on the protected sheet; the reader reads the list as
    it now is."""
    people = _sample_table(
        CalamineWorkbook.from_path(str(SAMPLES / "TDP01_2021-11.xlsx")),
        S.FORM_CITIZENS.name,
        citizen_columns(catalogue),
        12,
    )
    unit = catalogue.unit("TDP01")
    # November's votes are not December's (and would want the meeting's attendees).
    people = people.drop(columns=["votes"], errors="ignore")
    form = write_form(catalogue, unit, Period(2021, 12), tmp_path / "goc.xlsx", Roster(people))
    profile = tmp_path / "profile"
    start = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless"]
    subprocess.run([*start, "--terminate_after_init"], check=True, timeout=120)
    (profile / "user" / "basic" / "Standard" / "Module1.xba").write_text(_EDIT_MACRO)
    edited, log = tmp_path / "sua.xlsx", tmp_path / "log.txt"
    call = f'macro:///Standard.Module1.Edit("{form}","{edited}","{log}")'
    subprocess.run([*start, call], check=True, timeout=180, capture_output=True)
    gone, now_on_row_7, protected = (
        log.read_text(encoding="utf-8", errors="replace").strip().split("|")
    )
    assert protected == "True"
    assert gone == people["full_name"].iloc[2] and now_on_row_7 == people["full_name"].iloc[3]
    sub = read_submission(edited, catalogue)
    assert sub.rows_rejected == 0 and [i.message for i in sub.issues] == []
    names = sub.citizens["full_name"].tolist()
    expected = people["full_name"].tolist()
    assert names == [expected[0], "Người Chèn Giữa", expected[1], *expected[3:]]
    new = sub.citizens.iloc[1]
    assert (new["cccd"], new["birth_date"]) == ("038090001122", dt.date(1990, 4, 5))
    ws = openpyxl.load_workbook(edited)[S.FORM_CITIZENS.name]
    assert ws.protection.sheet and not any(ws.cell(5, j).protection.locked for j in range(1, 8))
