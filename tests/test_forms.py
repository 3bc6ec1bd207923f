"""The unit forms (SPEC §3): their guards, read with openpyxl, and how edited forms read back.

Guards are a help to the unit, never a guarantee (SPEC §9): every test that edits a form does
what a unit's office suite can do (add rows, move columns, rename a sheet) and reads it again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.domain import schema as S
from processor.domain.form_layout import HEADER_ROW, citizen_columns, household_columns
from processor.domain.issues import ERROR
from processor.intake.reader import read_submission
from processor.outputs.forms import SPARE_ROWS, VALIDATED_ROWS, spare_rows
from processor.outputs.prefill import NOT_CARRIED
from tests.conftest import all_tasks_done, citizen, household, make_form

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "inbox"
HEADER = HEADER_ROW + 1  # Excel row of the header
FIRST = HEADER + 1  # Excel row of the first data row

CITIZENS = [
    citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 3, 2), cccd="038070001234", votes=40),
    citizen("TDP01-H001", "Trần Thị Bình", dt.date(1972, 5, 6), cccd="001172005678", CD03=None),
    citizen("TDP01-H002", "Lê Văn Dũng", dt.date(1960, 1, 1), CD01="Chưa đạt", gender="Nam"),
]
HOUSEHOLDS = [household("TDP01-H001", "Nguyễn Văn An"), household("TDP01-H002", "Lê Văn Dũng")]
# The meeting the votes above were cast at: without it the votes cannot be counted.
MEETING = {"attendees": 50}


@pytest.fixture(scope="module")
def tdp_form(tmp_path_factory, catalogue) -> Path:
    folder = tmp_path_factory.mktemp("forms")
    tasks = all_tasks_done(catalogue)
    return make_form(
        catalogue, folder, "TDP01", "2021-11", CITIZENS, HOUSEHOLDS, tasks, info=MEETING
    )


@pytest.fixture(scope="module")
def book(tdp_form: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(tdp_form)


def _table_sheets(catalogue) -> list[tuple[str, list[S.Column], int]]:
    """(sheet, columns, data rows incl. the blank ones) of the TDP01 fixture form."""
    return [
        (S.FORM_CITIZENS.name, citizen_columns(catalogue), len(CITIZENS) + SPARE_ROWS),
        (S.FORM_HOUSEHOLDS.name, household_columns(catalogue), len(HOUSEHOLDS) + SPARE_ROWS),
        (S.FORM_UNIT.name, list(S.FORM_UNIT.columns), len(all_tasks_done(catalogue))),
    ]


def _letters(ws: Worksheet) -> dict[str, str]:
    """Header label -> column letter."""
    return {c.value: c.column_letter for c in ws[HEADER] if c.value}


def _rules(ws: Worksheet, cell: str) -> list:
    return [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]


def _copy(path: Path, folder: Path, name: str) -> Path:
    target = folder / name
    shutil.copyfile(path, target)
    return target


# --- the guards -----------------------------------------------------------------------------


def test_every_enumerated_column_has_a_dropdown_with_vietnamese_messages(book, catalogue) -> None:
    for sheet, columns, rows in _table_sheets(catalogue):
        ws = book[sheet]
        letters = _letters(ws)
        enumerated = [c for c in columns if c.choices]
        assert enumerated, sheet
        for column in enumerated:
            # SPEC §9: Sai/Đúng would turn into booleans in a Vietnamese LibreOffice.
            assert not {"Sai", "Đúng"} & set(column.choices)
            letter = letters[column.label]
            for row in (FIRST, FIRST + rows - 1):  # first and last input row
                (rule,) = _rules(ws, f"{letter}{row}")
                assert rule.type == "list"
                assert rule.formula1 == '"' + ",".join(column.choices) + '"'
                assert rule.showErrorMessage and rule.errorStyle in (None, "stop")
                assert rule.errorTitle == "Giá trị không hợp lệ"
                assert rule.error == f"Chỉ chọn một trong các giá trị: {', '.join(column.choices)}."
                assert rule.prompt.startswith("Chọn: ")


def test_dates_and_numbers_are_validated(book, catalogue) -> None:
    for sheet, columns, _ in _table_sheets(catalogue):
        ws = book[sheet]
        letters = _letters(ws)
        for column in columns:
            if column.kind not in ("date", "int", "number") or column.key == "row_no":
                continue
            (rule,) = _rules(ws, f"{letters[column.label]}{FIRST}")
            expected = {"date": "date", "int": "whole", "number": "decimal"}[column.kind]
            assert rule.type == expected, (sheet, column.label)
            assert rule.error.startswith("Hãy nhập") and rule.showErrorMessage
            if column.key == "planned_month":
                assert rule.operator in (None, "between")  # `between` is the OOXML default
                assert (rule.formula1, rule.formula2) == ("1", "12")
                assert rule.error == "Hãy nhập một số từ 1 đến 12."
    info = book[S.FORM_INFO.name]
    kinds = {dv.type for dv in info.data_validations.dataValidation}
    assert kinds == {"date", "whole"}  # report and meeting dates, attendees


def test_points_are_bounded_in_the_form_and_again_by_the_reader(tmp_path, catalogue) -> None:
    """A `diem` criterion takes 0..points; a pasted 6 skips the validation, the reader stops it."""
    criteria = tuple(
        dataclasses.replace(c, kind="diem", points=5.0) if c.code == "GD01" else c
        for c in catalogue.criteria
    )
    scored = dataclasses.replace(catalogue, criteria=criteria)
    homes = [household("TDP01-H001", "Nguyễn Văn An", GD01=4.5), *HOUSEHOLDS[1:]]
    homes[1] = {**homes[1], "GD01": 6}
    path = make_form(scored, tmp_path, "TDP01", "2021-11", CITIZENS, homes, info=MEETING)
    ws = openpyxl.load_workbook(path)[S.FORM_HOUSEHOLDS.name]
    letter = next(c.column_letter for c in ws[HEADER] if str(c.value).startswith("GD01"))
    (rule,) = _rules(ws, f"{letter}{FIRST}")
    assert (rule.type, rule.operator, rule.formula1) == ("decimal", None, "0")
    assert float(rule.formula2) == 5
    assert rule.error == "Hãy nhập một số từ 0 đến 5."
    sub = read_submission(path, scored)
    issues = [(i.code, i.cell) for i in sub.issues]
    assert ("NUMBER_OUT_OF_RANGE", f"{letter}{FIRST + 1}") in issues
    # The household stays, its GD01 unknown, the 6 kept as typed for the next form.
    assert sub.households["GD01"].tolist() == [4.5, None]
    assert sub.households["_raw"].tolist() == [None, {"GD01": "6"}]


def test_a_planned_month_outside_the_year_is_refused_like_the_form_refuses_it(
    tmp_path, catalogue
) -> None:
    """Month 1..12 in the form's validation; a pasted 13 (or 0) is stopped by the reader too."""
    tasks = all_tasks_done(catalogue)
    tasks.loc[0, "planned_month"] = 13
    tasks.loc[1, "planned_month"] = 0
    path = make_form(
        catalogue, tmp_path, "TDP01", "2021-11", CITIZENS, HOUSEHOLDS, tasks, info=MEETING
    )
    ws = openpyxl.load_workbook(path)[S.FORM_UNIT.name]
    letter = next(
        c.column_letter for c in ws[HEADER] if c.value == S.FORM_UNIT.label("planned_month")
    )
    sub = read_submission(path, catalogue)
    issues = [(i.code, i.cell) for i in sub.issues]
    assert ("NUMBER_OUT_OF_RANGE", f"{letter}{FIRST}") in issues
    assert ("NUMBER_OUT_OF_RANGE", f"{letter}{FIRST + 1}") in issues
    assert 13 not in sub.tasks["planned_month"].tolist()
    # The tasks stay, their month unknown until the unit fixes it.
    assert len(sub.tasks) == len(tasks)
    assert sub.tasks["_raw"].tolist()[:2] == [{"planned_month": "13"}, {"planned_month": "0"}]


def test_a_points_value_above_its_criterions_points_is_refused(tmp_path, catalogue) -> None:
    """`Giá trị đo được` of a points criterion (TDP09: 0..10 in the default catalogue)."""
    (criterion,) = [c for c in catalogue.criteria if c.kind == "diem"]
    tasks = all_tasks_done(catalogue)
    at = tasks.index[tasks["criterion"] == criterion.code][0]
    tasks.loc[at, "value"] = criterion.points + 2
    path = make_form(
        catalogue, tmp_path, "TDP01", "2021-11", CITIZENS, HOUSEHOLDS, tasks, info=MEETING
    )
    ws = openpyxl.load_workbook(path)[S.FORM_UNIT.name]
    letter = next(c.column_letter for c in ws[HEADER] if c.value == S.FORM_UNIT.label("value"))
    sub = read_submission(path, catalogue)
    (issue,) = [i for i in sub.issues if i.code == "NUMBER_OUT_OF_RANGE"]
    assert issue.cell == f"{letter}{FIRST + at}"
    assert f"đến {criterion.points:g}" in issue.message
    count = sub.counts[S.FORM_UNIT.name]
    assert (count.read, count.accepted, count.rejected) == (len(tasks), len(tasks), 0)
    assert pd.isna(sub.tasks["value"].tolist()[at])
    assert sub.tasks["_raw"].tolist()[at] == {"value": f"{criterion.points + 2:g}"}


def test_an_unknown_task_is_reported_and_counted_as_rejected(tmp_path, catalogue) -> None:
    """A task code typed over the form's own list (the form lists the catalogue's tasks)."""
    tasks = all_tasks_done(catalogue)
    path = make_form(
        catalogue, tmp_path, "TDP01", "2021-11", CITIZENS, HOUSEHOLDS, tasks, info=MEETING
    )
    book = openpyxl.load_workbook(path)
    ws = book[S.FORM_UNIT.name]
    letter = next(c.column_letter for c in ws[HEADER] if c.value == S.FORM_UNIT.label("task"))
    ws[f"{letter}{FIRST + 2}"] = "XX99"
    book.save(path)
    sub = read_submission(path, catalogue)
    (issue,) = [i for i in sub.issues if i.code == "TASK_UNKNOWN"]
    assert issue.severity == ERROR and "XX99" in issue.message
    assert issue.cell.endswith(str(FIRST + 2))
    count = sub.counts[S.FORM_UNIT.name]
    assert (count.read, count.accepted, count.rejected) == (len(tasks), len(tasks) - 1, 1)
    assert len(sub.tasks) == len(tasks) - 1


def test_rows_repeated_are_refused_and_votes_over_the_attendees_unknown(
    tmp_path, catalogue
) -> None:
    """A citizen without CCCD listed twice (same name, birth date and household) and a
    household listed twice: the repeat is refused with a message on its cell naming the row it
    repeats, and counted. Votes above the meeting's attendance (a few rows among many): the row
    stays, its votes unknown and kept as typed."""
    child = citizen("TDP01-H002", "Lê Minh Khôi", dt.date(2015, 8, 9), registered="Không")
    voters = [dict(CITIZENS[0]), *(dict(c, votes=6) for c in CITIZENS[1:])]
    citizens = [*voters, dict(child, votes=5), dict(child), dict(CITIZENS[0], cccd="038070009999")]
    households = [
        *(dict(h, votes=7) for h in HOUSEHOLDS),
        dict(HOUSEHOLDS[0]),
        household("TDP01-H003", "Vũ Văn Hải", votes=9),
    ]
    info = {"meeting_date": dt.date(2021, 11, 20), "attendees": 8}
    path = make_form(
        catalogue, tmp_path, "TDP01", "2021-11", citizens, households, all_tasks_done(catalogue),
        info,
    )  # fmt: skip
    sub = read_submission(path, catalogue)
    rows = {}
    for issue in sub.issues:
        rows.setdefault((issue.code, issue.sheet), []).append(
            int(issue.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        )
    citizens_sheet, households_sheet = S.FORM_CITIZENS.name, S.FORM_HOUSEHOLDS.name
    # The namesake of the first citizen has another CCCD: not the same person.
    assert rows["CITIZEN_DUPLICATE", citizens_sheet] == [FIRST + 4]
    assert rows["HOUSEHOLD_DUPLICATE", households_sheet] == [FIRST + 2]
    # 40 votes (the first citizen and his namesake) and 9 (the new household), 8 at the meeting.
    assert rows["VOTES_EXCEED", citizens_sheet] == [FIRST, FIRST + 5]
    assert rows["VOTES_EXCEED", households_sheet] == [FIRST + 3]
    messages = {i.code: i.message for i in sub.issues}
    assert f"{FIRST + 3}" in messages["CITIZEN_DUPLICATE"]
    assert messages["CITIZEN_DUPLICATE"].startswith("Lê Minh Khôi, Công dân!C8: ")
    assert "TDP01-H001" in messages["HOUSEHOLD_DUPLICATE"]
    assert f"{FIRST}" in messages["HOUSEHOLD_DUPLICATE"]
    counts = sub.counts[citizens_sheet], sub.counts[households_sheet]
    assert [(c.read, c.accepted, c.rejected) for c in counts] == [(6, 5, 1), (4, 3, 1)]
    assert sub.citizens["full_name"].tolist() == [
        "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Dũng", "Lê Minh Khôi", "Nguyễn Văn An"
    ]  # fmt: skip
    assert sub.citizens["votes"].tolist() == [None, 6, 6, 5, None]
    assert sub.citizens["_raw"].tolist()[::4] == [{"votes": "40"}, {"votes": "40"}]
    assert sub.households["household_code"].tolist() == ["TDP01-H001", "TDP01-H002", "TDP01-H003"]
    assert sub.info["attendees"] == 8


def test_headers_are_locked_and_input_cells_unlocked(book, catalogue) -> None:
    """Only what the form itself says is locked: titles, headers, the catalogue's tasks. Every
    cell of a row of the lists takes input (STT too), so whole rows can be inserted and deleted
    on the protected sheet."""
    locked_keys = {"criterion", "task", "text"}
    for sheet, columns, rows in _table_sheets(catalogue):
        ws = book[sheet]
        letters = _letters(ws)
        for column in columns:
            letter = letters[column.label]
            assert ws[f"{letter}{HEADER}"].protection.locked, (sheet, column.label)
            first = ws[f"{letter}{FIRST}"].protection.locked
            assert first == (column.key in locked_keys), (sheet, column.label)
            # The blank rows for new residents are input cells, STT included.
            if sheet != S.FORM_UNIT.name:
                assert not ws[f"{letter}{FIRST + rows - 1}"].protection.locked
        if sheet != S.FORM_UNIT.name:  # the listed rows and the blank ones, as whole rows
            for row in (FIRST, FIRST + rows - 1):
                assert not ws.row_dimensions[row].protection.locked, (sheet, row)
    info = book[S.FORM_INFO.name]
    labels = {info.cell(row, 1).value: row for row in range(2, info.max_row + 1)}
    for column in S.FORM_INFO.columns:
        cell = info.cell(labels[column.label], 2)
        expected = column.key in ("unit_code", "unit_name", "period")
        assert cell.protection.locked == expected, column.label


def test_code_columns_are_text_over_the_whole_input_range(book, catalogue) -> None:
    """SPEC §9: an ID typed into a General cell loses its leading zero."""
    for sheet, columns, rows in _table_sheets(catalogue):
        ws = book[sheet]
        letters = _letters(ws)
        for column in (c for c in columns if c.kind == "code"):
            for row in (FIRST, FIRST + rows - 1):
                assert ws[f"{letters[column.label]}{row}"].number_format == "@", (sheet, row)
    assert (
        book[S.FORM_CITIZENS.name][
            f"{_letters(book[S.FORM_CITIZENS.name])['Số CCCD']}{FIRST + 1}"
        ].value
        == "001172005678"
    )


def test_sheets_are_protected_without_password_frozen_and_print_ready(book) -> None:
    tables = (S.FORM_CITIZENS.name, S.FORM_HOUSEHOLDS.name, S.FORM_UNIT.name)
    assert book.sheetnames == [S.FORM_GUIDE, S.FORM_INFO.name, *tables, S.FORM_META]
    for ws in book.worksheets[:-1]:
        assert ws.protection.sheet and not ws.protection.password, ws.title
        assert int(ws.page_setup.paperSize) == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    for name in tables:
        ws = book[name]
        assert ws.freeze_panes == "D4", name
        assert ws.page_setup.orientation == "landscape", name
        assert ws.print_title_rows == f"${HEADER}:${HEADER}", name
        # Units may filter and sort their own list on a protected sheet.
        assert not ws.protection.autoFilter and not ws.protection.sort
    assert book[S.FORM_GUIDE].page_setup.orientation == "portrait"
    assert book[S.FORM_GUIDE].print_title_rows is None  # row 3 of the guide is no header


def test_guide_gives_the_deadline_and_email_of_the_catalogue(tmp_path: Path, catalogue) -> None:
    settings = {**catalogue.settings, "han_nop": ["20"], "email_nhan": ["bcd@phongson.vn"]}
    other = dataclasses.replace(catalogue, settings=settings)
    path = make_form(other, tmp_path, "CQ01", "2021-12", [])
    ws = openpyxl.load_workbook(path)[S.FORM_GUIDE]
    lines = {row[0].value: row[1].value for row in ws.iter_rows(max_col=2)}
    assert lines["Hạn nộp"] == "Trước ngày 20 tháng 12/2021."
    assert "bcd@phongson.vn" in lines["Nơi nhận"]


def test_meta_sheet_is_hidden_and_names_the_form(book, catalogue) -> None:
    ws = book[S.FORM_META]
    assert ws.sheet_state == "hidden"
    values = {row[0].value: row[1].value for row in ws.iter_rows(max_col=2)}
    assert values == {
        "form_code": S.FORM_CODE,
        "form_version": str(S.FORM_VERSION),
        "catalogue_fingerprint": catalogue.fingerprint,
        "unit_code": "TDP01",
        "period": "2021-11",
    }


def test_forms_made_one_after_another_are_each_their_units(tmp_path: Path, catalogue) -> None:
    """Each form names its own unit and period; its filter covers its own rows and the rows
    drawn under them, its validations reach VALIDATED_ROWS rows down, past them."""
    small = make_form(catalogue, tmp_path, "TDP01", "2021-11", CITIZENS, HOUSEHOLDS, info=MEETING)
    many = [
        citizen("TDP02-H001", f"Hoàng Văn {i}", dt.date(1980, 1, 1 + i % 28)) for i in range(40)
    ]
    large = make_form(catalogue, tmp_path, "TDP02", "2021-11", many, HOUSEHOLDS[:1])
    for path, code, rows in ((small, "TDP01", len(CITIZENS)), (large, "TDP02", len(many))):
        unit = catalogue.unit(code)
        book = openpyxl.load_workbook(path)
        assert book.properties.title == f"Biểu mẫu kiểu mẫu {code} 2021-11"
        assert unit.name.upper() in book[S.FORM_GUIDE]["B1"].value
        assert book[S.FORM_INFO.name]["B2"].value == code
        meta = {row[0].value: row[1].value for row in book[S.FORM_META].iter_rows(max_col=2)}
        assert (meta["unit_code"], meta["period"]) == (code, "2021-11")
        ws = book[S.FORM_CITIZENS.name]
        assert ws["A1"].value == f"DANH SÁCH CÔNG DÂN - {unit.name} - tháng 11/2021"
        last = HEADER + rows + SPARE_ROWS
        assert ws.auto_filter.ref.endswith(f"{last}")
        ends = {
            str(dv.sqref).split(":")[-1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            for dv in ws.data_validations.dataValidation
        }
        assert ends == {str(HEADER + VALIDATED_ROWS)}


# --- edited forms read back -----------------------------------------------------------------


def test_prefilled_form_after_a_run_has_the_last_roster(tmp_path: Path, catalogue) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for unit in ("TDP01", "CQ01"):
        shutil.copy(SAMPLES / f"{unit}_2021-11.xlsx", inbox)
    runner = CliRunner()
    kho, out = str(tmp_path / "kho"), str(tmp_path / "out")
    run = ["run", str(inbox), "--ky", "2021-11", "--out", out, "--kho", kho, "--workers", "1"]
    ran = runner.invoke(main, run)
    assert ran.exit_code == 0, ran.output
    made = runner.invoke(
        main, ["forms", "--ky", "2021-12", "--out", str(tmp_path / "f"), "--kho", kho]
    )
    assert made.exit_code == 0, made.output
    assert "2 điền sẵn từ lịch sử" in made.output
    for unit in ("TDP01", "CQ01"):
        last = read_submission(inbox / f"{unit}_2021-11.xlsx", catalogue)
        sub = read_submission(tmp_path / "f" / f"{unit}_2021-12.xlsx", catalogue)
        assert (sub.unit_code, sub.period, sub.rows_rejected, sub.issues) == (
            unit,
            "2021-12",
            0,
            [],
        )
        for level in ("citizens", "households", "tasks"):
            before, after = getattr(last, level), getattr(sub, level)
            assert len(after) == len(before), (unit, level)
            for key in before.columns:
                if key in NOT_CARRIED:  # one meeting's values
                    assert after[key].isna().all()
                else:
                    pd.testing.assert_series_equal(after[key], before[key], check_dtype=False)


def test_rows_added_at_the_bottom_are_read(tmp_path: Path, tdp_form: Path, catalogue) -> None:
    path = _copy(tdp_form, tmp_path, "them_dong.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book[S.FORM_CITIZENS.name]
    col = {label: i + 1 for i, label in enumerate(c.label for c in citizen_columns(catalogue))}
    added = {
        FIRST + len(CITIZENS): (
            "TDP01-H002",
            "Lê Thị Mới",
            dt.datetime(1999, 9, 9),
            "038199000111",
        ),
        FIRST + len(CITIZENS) + SPARE_ROWS - 1: (
            "TDP01-H001",
            "Cuối Cùng",
            dt.datetime(2001, 1, 2),
            None,
        ),
    }
    for row, (code, name, born, cccd) in added.items():
        ws.cell(row, col["Mã hộ"], code)
        ws.cell(row, col["Họ và tên"], name)
        ws.cell(row, col["Ngày sinh"], born)
        ws.cell(row, col["Số CCCD"], cccd)
        ws.cell(row, col[catalogue.criteria[0].label], "Đạt")
    book.save(path)
    sub = read_submission(path, catalogue)
    assert sub.rows_rejected == 0 and not sub.issues
    assert len(sub.citizens) == len(CITIZENS) + 2
    new = sub.citizens.set_index("_row").loc[list(added)]
    assert new["full_name"].tolist() == ["Lê Thị Mới", "Cuối Cùng"]
    assert new["birth_date"].tolist() == [dt.date(1999, 9, 9), dt.date(2001, 1, 2)]
    assert new["cccd"].tolist()[0] == "038199000111"
    assert new[catalogue.criteria[0].code].tolist() == ["Đạt", "Đạt"]


def test_a_moved_criterion_column_is_read_by_its_header(
    tmp_path: Path, tdp_form, catalogue
) -> None:
    path = _copy(tdp_form, tmp_path, "doi_cot.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book[S.FORM_CITIZENS.name]
    moved = next(c for c in ws[HEADER] if str(c.value).startswith("CD03"))
    end = ws.max_column + 1
    for row in range(1, ws.max_row + 1):
        ws.cell(row, end, ws.cell(row, moved.column).value)
    ws.delete_cols(moved.column)
    book.save(path)
    before = read_submission(tdp_form, catalogue)
    sub = read_submission(path, catalogue)
    assert sub.rows_rejected == 0 and not sub.issues
    assert sub.positions[S.FORM_CITIZENS.name]["CD03"] == end - 2  # 0-based, one column removed
    pd.testing.assert_frame_equal(sub.citizens, before.citizens)


def test_sheet_names_in_decomposed_unicode_are_read(tmp_path: Path, tdp_form, catalogue) -> None:
    path = _copy(tdp_form, tmp_path, "nfd.xlsx")
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        ws.title = unicodedata.normalize("NFD", ws.title)
    book.save(path)
    stored = CalamineWorkbook.from_path(str(path)).sheet_names
    assert S.FORM_CITIZENS.name not in stored  # really decomposed on disk
    assert unicodedata.normalize("NFD", S.FORM_CITIZENS.name) in stored
    before = read_submission(tdp_form, catalogue)
    sub = read_submission(path, catalogue)
    assert sub.rows_rejected == 0 and not sub.issues
    for level in ("citizens", "households", "tasks"):
        pd.testing.assert_frame_equal(getattr(sub, level), getattr(before, level))


def test_booleans_from_a_vietnamese_libreoffice_are_read_back(tmp_path, tdp_form, catalogue):
    """A typed Đúng/Sai becomes TRUE/FALSE in LibreOffice's Vietnamese locale (SPEC §9)."""
    path = _copy(tdp_form, tmp_path, "bool.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book[S.FORM_CITIZENS.name]
    col = {c.value: c.column for c in ws[HEADER]}
    first_criterion = catalogue.criteria[0]
    ws.cell(FIRST, col[first_criterion.label], True)
    ws.cell(FIRST + 1, col[first_criterion.label], False)
    ws.cell(FIRST, col["Ghi chú"], False)
    ws.cell(FIRST + 2, col["Giới tính"], True)  # no yes/no meaning for Nam/Nữ
    book.save(path)
    sub = read_submission(path, catalogue)
    assert [(i.code, i.cell) for i in sub.issues] == [
        ("VALUE_NOT_ALLOWED", f"{openpyxl.utils.get_column_letter(col['Giới tính'])}{FIRST + 2}")
    ]
    assert sub.citizens[first_criterion.code].tolist()[:2] == ["Đạt", "Chưa đạt"]
    assert sub.citizens["note"].tolist()[0] == "Sai"
    # The person stays, gender unknown, TRUE kept as the word LibreOffice's user typed.
    assert sub.rows_rejected == 0
    assert sub.citizens["_raw"].tolist()[2] == {"gender": "Đúng"}


def test_form_of_an_older_catalogue_is_read_with_a_warning(tmp_path: Path, catalogue) -> None:
    older = dataclasses.replace(catalogue, tasks=catalogue.tasks[:-1])
    assert older.fingerprint != catalogue.fingerprint
    path = make_form(older, tmp_path, "TDP01", "2021-11", CITIZENS, HOUSEHOLDS, info=MEETING)
    sub = read_submission(path, catalogue)
    assert [i.code for i in sub.issues] == ["FILE_OLD_VERSION"]
    assert sub.issues[0].severity != ERROR
    assert sub.rows_rejected == 0 and len(sub.citizens) == len(CITIZENS)


def test_form_version_99_is_incompatible(tmp_path: Path, tdp_form: Path, catalogue) -> None:
    path = _copy(tdp_form, tmp_path, "v99.xlsx")
    book = openpyxl.load_workbook(path)
    meta = book[S.FORM_META]
    row = next(r for r in meta.iter_rows(max_col=2) if r[0].value == "form_version")
    row[1].value = "99"
    book.save(path)
    sub = read_submission(path, catalogue)
    codes = [(i.code, i.severity) for i in sub.issues]
    assert ("FILE_INCOMPATIBLE_VERSION", ERROR) in codes
    assert sub.rows_accepted == 0
    assert sub.rows_rejected == len(CITIZENS) + len(HOUSEHOLDS)


def test_task_rows_are_the_catalogues_tasks_merged_with_the_roster(catalogue) -> None:
    """The unit sheet's rows: every task of the catalogue once, with what the roster says of
    it, as pandas' left merge on (criterion, task) gives them: a task listed twice is two
    rows, a task the roster lacks is blank, a criterion without tasks matches a missing code,
    and what is not carried (the inspection) or not a value (`_row`) stays blank."""
    from processor.domain.form_layout import unit_task_rows
    from processor.domain.periods import Period
    from processor.outputs.forms import _task_rows
    from processor.outputs.prefill import LastRows, next_rosters

    tasks = all_tasks_done(catalogue)
    tasks["task"] = tasks["task"].replace("", None)  # as the intake reads an empty code
    tasks = pd.concat([tasks.iloc[1:], tasks.iloc[[3]].assign(planned_month=9)])
    tasks["inspection"] = "Đạt"
    tasks["_row"] = range(len(tasks))
    last = {"TDP01": LastRows(Period(2021, 11), {"tasks": tasks})}
    roster = next_rosters(last, Period(2021, 12), catalogue, None)["TDP01"]
    listed, n = _task_rows(catalogue, roster)
    catalogue_rows = pd.DataFrame(unit_task_rows(catalogue))
    last = tasks.drop(columns=["inspection", "_row"]).assign(task=tasks["task"].fillna(""))
    merged = catalogue_rows.merge(last, on=["criterion", "task"], how="left")
    assert n == len(merged) == len(catalogue_rows) + 1
    assert set(listed) == set(merged.columns)

    def blanks_as_none(values: list) -> list:  # NaN or None: a blank cell either way
        return [None if pd.isna(v) else v for v in values]

    for key, values in listed.items():
        assert blanks_as_none(values) == blanks_as_none(merged[key].tolist()), key
    assert listed["planned_month"][0] is None  # the first task: not in the roster


# --- rows for a whole unit, marked cells ----------------------------------------------------


def test_a_blank_form_has_rows_for_a_whole_unit_and_takes_input_below(tmp_path, catalogue) -> None:
    """Issue 23: Công dân!C104 was locked on a blank form of 100 rows. A blank form draws rows
    for a tổ dân phố of about 1,000 people, and every cell below them takes input of its
    column's kind (a CCCD typed there stays text)."""
    path = make_form(catalogue, tmp_path, "TDP03", "2022-01", [])
    book = openpyxl.load_workbook(path)
    citizens, households = book[S.FORM_CITIZENS.name], book[S.FORM_HOUSEHOLDS.name]
    drawn = spare_rows(True, S.FORM_CITIZENS.name, 0)
    assert drawn >= 1_000 and spare_rows(True, S.FORM_HOUSEHOLDS.name, 0) >= 250
    assert citizens.auto_filter.ref.endswith(str(HEADER + drawn))
    assert not citizens[f"C{FIRST + drawn - 1}"].protection.locked
    for j, column in enumerate(citizen_columns(catalogue), start=1):
        # xlsxwriter writes alike neighbours as one <col min max>, openpyxl keys it by min.
        (dimension,) = [d for d in citizens.column_dimensions.values() if d.min <= j <= d.max]
        assert not dimension.protection.locked, column.label
        assert (dimension.number_format == "@") == (column.kind == "code"), column.label
    assert not households.column_dimensions["B"].protection.locked
    # Every drawn row is unlocked as a whole (its row format), so it can be deleted.
    for row in (FIRST, FIRST + drawn - 1):
        assert not citizens.row_dimensions[row].protection.locked, row
    assert citizens.row_dimensions[HEADER].protection.locked
    assert citizens.protection.insertRows is False and citizens.protection.deleteRows is False


def test_rows_typed_far_below_the_drawn_rows_are_read(tmp_path, catalogue) -> None:
    path = make_form(catalogue, tmp_path, "TDP03", "2022-01", [], [household("TDP03-H001", "An")])
    book = openpyxl.load_workbook(path)
    ws = book[S.FORM_CITIZENS.name]
    letters = _letters(ws)
    row = FIRST + spare_rows(True, S.FORM_CITIZENS.name, 0) + 500
    ws[f"{letters['Mã hộ']}{row}"] = "TDP03-H001"
    ws[f"{letters['Họ và tên']}{row}"] = "Phạm Văn Xa"
    ws[f"{letters['Ngày sinh']}{row}"] = dt.datetime(1990, 4, 5)
    ws[f"{letters['Số CCCD']}{row}"] = "038090001122"
    book.save(path)
    sub = read_submission(path, catalogue)
    assert sub.rows_rejected == 0
    (person,) = sub.citizens.to_dict("records")
    assert (person["full_name"], person["cccd"], person["_row"]) == (
        "Phạm Văn Xa",
        "038090001122",
        row,
    )


def test_unreadable_and_carried_cells_are_shown_coloured_with_a_comment(tmp_path, catalogue):
    """Issue 17 item 4, issue 18 item 6: the text a unit typed that could not be read stays in
    its cell, orange, with what to fix; a value carried from an earlier period is blue and says
    from which. The guide counts both."""
    from processor.domain.form_layout import CARRIED, RAW

    people = [
        citizen(
            "TDP01-H001", "Nguyễn Văn An", None, CD01=None, **{RAW: {"birth_date": "3l/02/19"}}
        ),
        citizen("TDP01-H001", "Trần Thị Bình", dt.date(1972, 5, 6), **{RAW: None}),
    ]
    moved = "lấy từ kỳ 2021-11, cộng 1 năm vì năm 2021 đạt Gia đình kiểu mẫu"
    homes = [
        household("TDP01-H001", "Nguyễn Văn An", GD01=4, **{CARRIED: {"GD01": "2021-01"}}),
        household("TDP01-H002", "Lê Văn Dũng", GD01=6, **{CARRIED: {"GD01": moved}}),
    ]
    people.append(citizen("TDP01-H002", "Lê Văn Dũng", None, **{RAW: {"birth_date": ""}}))
    tasks = all_tasks_done(catalogue)
    tasks.loc[0, "planned_month"] = None  # read as unknown, typed `mười ba`
    tasks[RAW] = [{"planned_month": "mười ba"}] + [None] * (len(tasks) - 1)
    at = tasks.index[tasks["criterion"] == "TDP02"][0]
    tasks[CARRIED] = [{"value": "2021-10"} if i == at else None for i in tasks.index]
    path = make_form(catalogue, tmp_path, "TDP01", "2021-12", people, homes, tasks)
    book = openpyxl.load_workbook(path)
    ws = book[S.FORM_CITIZENS.name]
    cell = ws[f"{_letters(ws)['Ngày sinh']}{FIRST}"]
    assert cell.value == "3l/02/19" and cell.fill.fgColor.rgb.endswith("FCD5B4")
    assert "«3l/02/19»" in cell.comment.text and "05/01/1980" in cell.comment.text
    assert ws[f"{_letters(ws)['Ngày sinh']}{FIRST + 1}"].comment is None
    left_blank = ws[f"{_letters(ws)['Ngày sinh']}{FIRST + 2}"]  # a required date left blank
    assert left_blank.value is None and left_blank.fill.fgColor.rgb.endswith("FCD5B4")
    assert left_blank.comment.text.startswith("Cần sửa: kỳ trước đơn vị để trống ở cột Ngày sinh")
    unit_ws = book[S.FORM_UNIT.name]
    letters = _letters(unit_ws)
    month = unit_ws[f"{letters[S.FORM_UNIT.label('planned_month')]}{FIRST}"]
    assert month.value == "mười ba" and "từ 1 đến 12" in month.comment.text
    count = unit_ws[f"{letters[S.FORM_UNIT.label('value')]}{FIRST + at}"]
    assert count.value == tasks.at[at, "value"] and "tháng 10/2021" in count.comment.text
    homes_ws = book[S.FORM_HOUSEHOLDS.name]
    carried = homes_ws[
        f"{next(v for k, v in _letters(homes_ws).items() if k.startswith('GD01'))}{FIRST}"
    ]
    assert carried.value == 4 and carried.fill.fgColor.rgb.endswith("DDEBF7")
    assert "lấy từ tháng 01/2021" in carried.comment.text
    below = homes_ws.cell(carried.row + 1, carried.column)
    assert below.value == 6 and moved in below.comment.text
    guide = {r[0].value: r[1].value for r in book[S.FORM_GUIDE].iter_rows(max_col=2)}
    assert guide["Ô cần sửa"].startswith("3 ô tô màu cam")
    assert guide["Giá trị mang sang"].startswith("3 ô tô màu xanh")
    sub = read_submission(path, catalogue)  # the unit sends it back unchanged
    issue = next(i for i in sub.issues if i.sheet == S.FORM_CITIZENS.name)
    assert issue.cell == cell.coordinate


def test_a_count_carried_from_last_year_says_the_years_added(tmp_path, catalogue) -> None:
    """Issue 23 item 3: on a new year's form a year count left blank is last year's value plus
    the years since; its comment says so rather than that the unit left it blank."""
    from processor.domain.form_layout import CARRIED

    homes = [household("TDP01-H001", "Nguyễn Văn An", GD01=6, **{CARRIED: {"GD01": "2021-11"}})]
    people = [citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 1, 2))]
    path = make_form(catalogue, tmp_path, "TDP01", "2022-01", people, homes)
    ws = openpyxl.load_workbook(path)[S.FORM_HOUSEHOLDS.name]
    column = next(v for k, v in _letters(ws).items() if k.startswith("GD01"))
    cell = ws[f"{column}{FIRST}"]
    assert cell.value == 6 and cell.fill.fgColor.rgb.endswith("DDEBF7")
    assert cell.comment.text.startswith("Giá trị tính từ tháng 11/2021: số năm khi đó cộng thêm 1")
    assert "để trống" not in cell.comment.text


def test_a_year_count_left_blank_is_on_the_next_form_with_where_it_came_from(tmp_path, catalogue):
    """Issue 18 item 6: a unit leaves GD01 blank in October after writing it in March; the run
    scores October with March's value, and the November form it writes shows that value, blue,
    saying it came from March, whether made by `run` or by `forms` from the history."""
    homes = [household("TDP01-H001", "Nguyễn Văn An", GD01=4)]
    people = [citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 3, 2))]
    make_form(catalogue, tmp_path / "t03", "TDP01", "2021-03", people, homes)
    make_form(catalogue, tmp_path / "t10", "TDP01", "2021-10", people, [dict(homes[0], GD01=None)])
    out, kho = tmp_path / "out", tmp_path / "kho"
    for month in ("03", "10"):
        args = ["run", str(tmp_path / f"t{month}"), "--ky", f"2021-{month}", "--workers", "1"]
        result = CliRunner().invoke(main, [*args, "--out", str(out), "--kho", str(kho)])
        assert result.exit_code in (0, 1), result.output
    args = ["forms", "--ky", "2021-11", "--don-vi", "TDP01", "--out", str(tmp_path / "f")]
    made = CliRunner().invoke(main, [*args, "--kho", str(kho)])
    assert made.exit_code == 0, made.output
    for path in (
        out / "2021-10" / "bieu_mau" / "TDP01_2021-11.xlsx",
        tmp_path / "f" / "TDP01_2021-11.xlsx",
    ):
        ws = openpyxl.load_workbook(path)[S.FORM_HOUSEHOLDS.name]
        column = next(v for k, v in _letters(ws).items() if k.startswith("GD01"))
        cell = ws[f"{column}{FIRST}"]
        assert cell.value == 4 and cell.fill.fgColor.rgb.endswith("DDEBF7"), path
        assert "lấy từ tháng 03/2021" in cell.comment.text, path
        assert read_submission(path, catalogue).households.at[0, "GD01"] == 4


def test_the_empty_last_row_libreoffice_writes_after_a_deletion_is_no_extent(
    tmp_path: Path, tdp_form: Path, catalogue
) -> None:
    """After Delete rows, LibreOffice saves an empty `<row r="1048576">` and a dimension down
    to it: the sheet is not refused as too large (calamine ignores a row without cells)."""
    import re
    import zipfile

    path = tmp_path / "xoa_dong.xlsx"
    with zipfile.ZipFile(tdp_form) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:Q1048576"/>', data)
                last = b'<row r="1048576" customFormat="false" ht="12.8" hidden="false"></row>'
                data = data.replace(b"</sheetData>", last + b"</sheetData>")
            dst.writestr(info, data)
    sub = read_submission(path, catalogue)
    assert [i.code for i in sub.issues] == [] and sub.rows_rejected == 0
    assert len(sub.citizens) == len(CITIZENS)


# --- the forms command ----------------------------------------------------------------------


def test_forms_help_describes_every_option() -> None:
    """Issue 21: `--lich-su` had no help."""
    import click

    command = main.commands["forms"]
    undescribed = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert undescribed == []
    result = CliRunner().invoke(main, ["forms", "--help"])
    assert result.exit_code == 0
    assert "--lich-su" in result.output and "--danh-sach" in result.output


def test_forms_go_under_output_by_default(tmp_path: Path, catalogue, monkeypatch) -> None:
    """Issue 21: forms written into input_templates/bieu_mau/ showed as untracked in git."""
    project = tmp_path / "du_an"
    (project / "input_templates").mkdir(parents=True)
    shutil.copy(catalogue.path, project / "input_templates")
    monkeypatch.chdir(project)
    args = ["forms", "--ky", "2021-12", "--trong", "--don-vi", "CQ01", "--don-vi", "TDP01"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    folder = project / "output" / "bieu_mau" / "2021-12"
    assert sorted(p.name for p in folder.iterdir()) == ["CQ01_2021-12.xlsx", "TDP01_2021-12.xlsx"]
    assert sorted(p.name for p in (project / "input_templates").iterdir()) == ["bo_tieu_chi.xlsx"]
    assert "output/bieu_mau/2021-12/" in result.output
    assert "0 điền sẵn từ lịch sử, 2 biểu mẫu trắng" in result.output


def _guide(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)[S.FORM_GUIDE]
    return {row[0]: row[1] for row in ws.iter_rows(max_col=2, values_only=True) if row[0]}


def test_the_guide_tells_the_truth_of_each_kind_of_form(tmp_path: Path, catalogue) -> None:
    """Issue 23: the guide said the list was pre-filled on a blank form. It says what the form
    holds (blank, or the last form's rows) and what the month asks (votes in November,
    registration in January)."""
    november = make_form(catalogue, tmp_path, "TDP01", "2021-11", CITIZENS, HOUSEHOLDS)
    guide = _guide(november)
    assert guide["Cách điền"].startswith("Biểu mẫu đã ghi sẵn danh sách và kết quả kỳ trước")
    assert guide["Bình xét"].startswith("Tháng 11 là tháng bình xét")
    assert "ngày họp bình xét" in guide["Sheet Thông tin"]
    assert guide["Đăng ký"].startswith("Cột Đăng ký giữ câu trả lời khi đăng ký thi đua năm 2021")
    assert "Ô cần sửa" not in guide and "Giá trị mang sang" not in guide
    december = _guide(make_form(catalogue, tmp_path, "CQ01", "2021-12", []))
    assert december["Cách điền"].startswith("Biểu mẫu trắng: chưa có danh sách.")
    assert "chỉ ghi ở kỳ tháng 11" in december["Bình xét"]
    assert "bình xét" not in december["Sheet Thông tin"]
    assert "Sheet Hộ gia đình" not in december  # an agency's form has no households
    january = _guide(make_form(catalogue, tmp_path, "TDP02", "2022-01", []))
    assert january["Đăng ký"].startswith("Tháng 1 là tháng đăng ký thi đua năm 2022")


def test_the_guide_states_the_registration_rule_of_the_catalogue(tmp_path: Path) -> None:
    """The deadline and what a late registration means are Cấu hình's (han_dang_ky,
    dang_ky_muon): the guide says the rule the scoring applies, not a rule of its own."""
    from tests.test_rules import catalogue_with

    strict = catalogue_with(tmp_path, han_dang_ky=2, dang_ky_muon="không tính")
    march = _guide(make_form(strict, tmp_path, "TDP01", "2021-03", []))
    assert march["Đăng ký"].endswith(
        "Hạn đăng ký: hết tháng 2; đăng ký sau đó là đăng ký muộn, không được xét."
    )
    january = _guide(make_form(strict, tmp_path, "TDP02", "2022-01", []))
    assert january["Đăng ký"].startswith("Tháng 1 là tháng đăng ký thi đua năm 2022")
    assert january["Đăng ký"].endswith(
        "Hạn đăng ký: hết tháng 2; đăng ký sau đó là đăng ký muộn, không được xét."
    )
