"""Marking a unit's own workbook by editing its XML (processor.outputs._xlsx.xlsxpatch).

Each test opens the result the way a unit or the clerk would: openpyxl (Excel's model of the
file), calamine (the reader of the next batch) and, where marked, LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.comments import Comment
from python_calamine import CalamineWorkbook

from processor.domain import schema as S
from processor.outputs._xlsx import xlsxpatch
from processor.outputs._xlsx.xlsxpatch import Mark, NewSheet
from tests.conftest import citizen, make_form

CD = S.FORM_CITIZENS.name


def _listing(name: str = "Phản hồi", rows: int = 2) -> NewSheet:
    return NewSheet(
        name,
        rows=[["TIÊU ĐỀ"], ["Có lỗi & cảnh báo"], [], ["Tệp", "Ô"], *[["a.xlsx", "H8"]] * rows],
        row_styles=["title", "text", "plain", "header", *["plain"] * rows],
        widths={0: 28, 1: 90},
        wrap_columns=frozenset({1}),
    )


@pytest.fixture
def form(catalogue, tmp_path: Path) -> Path:
    people = [
        citizen("HGD01", f"Nguyễn Văn {chr(65 + i)}", dt.date(1980, 1, 1 + i)) for i in range(6)
    ]
    return make_form(catalogue, tmp_path, "TDP01", "2021-11", people)


def _values(ws) -> dict[str, object]:
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


def _first_data_row(path: Path) -> int:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(CD).to_python()
    return next(i for i, row in enumerate(rows, start=1) if "Nguyễn Văn A" in row)


def test_marks_fill_and_comment_keeping_the_units_values_and_formats(form: Path, tmp_path):
    row = _first_data_row(form)
    out = tmp_path / "out.xlsx"
    marks = [
        Mark(CD, f"C{row}", True, "[Lỗi] tên & <ký hiệu>"),
        Mark(CD, f"C{row}", False, "[Cảnh báo] thứ hai"),  # two problems, one cell
        Mark(CD, f"D{row + 1}", False, "[Cảnh báo] ngày"),
        Mark(CD, f"E{row + 200}", True, "[Lỗi] một dòng trống"),  # a row the form never wrote
    ]
    xlsxpatch.mark_workbook(form, out, marks, [_listing()])

    before, after = openpyxl.load_workbook(form), openpyxl.load_workbook(out)
    assert after.sheetnames == ["Phản hồi", *before.sheetnames]
    assert after.active.title == "Phản hồi"
    assert [ws.title for ws in after.worksheets if ws.sheet_view.tabSelected] == ["Phản hồi"]
    ws, old = after[CD], before[CD]
    cell = ws[f"C{row}"]
    assert cell.fill.fgColor.rgb == xlsxpatch.ERROR_RGB  # an error among its marks
    assert cell.comment.text == "[Lỗi] tên & <ký hiệu>\n[Cảnh báo] thứ hai"
    assert cell.comment.author == "kieumau"
    assert ws[f"D{row + 1}"].fill.fgColor.rgb == xlsxpatch.WARNING_RGB
    assert ws[f"D{row + 1}"].number_format == old[f"D{row + 1}"].number_format  # still a date
    assert ws[f"E{row + 200}"].fill.fgColor.rgb == xlsxpatch.ERROR_RGB
    for ref in (f"C{row}", f"D{row + 1}"):  # the unit can still type in its own cells
        assert ws[ref].protection.locked == old[ref].protection.locked
        assert (ws[ref].font.name, ws[ref].font.sz) == (old[ref].font.name, old[ref].font.sz)
        assert ws[ref].border.left.style == old[ref].border.left.style
    for name in before.sheetnames:
        assert _values(after[name]) == _values(before[name]), name
    assert after[CD].print_title_rows == before[CD].print_title_rows
    assert after[CD].protection.sheet == before[CD].protection.sheet
    listing = after["Phản hồi"]
    assert listing["A1"].value == "TIÊU ĐỀ" and listing["A1"].font.b
    assert listing["A2"].value == "Có lỗi & cảnh báo"
    assert listing["B5"].alignment.wrap_text
    # The next batch reads the same values from it.
    book = CalamineWorkbook.from_path(str(out))
    assert book.get_sheet_by_name(CD).to_python() == (
        CalamineWorkbook.from_path(str(form)).get_sheet_by_name(CD).to_python()
    )


def test_rows_stay_in_order_when_a_row_is_added(form: Path, tmp_path):
    row = _first_data_row(form)
    out = tmp_path / "out.xlsx"
    marks = [Mark(CD, "A2000", True, "x"), Mark(CD, f"B{row + 50}", True, "y")]
    xlsxpatch.mark_workbook(form, out, marks, [])
    part = next(n for n in zipfile.ZipFile(out).namelist() if "comments" in n)
    assert part
    for name in zipfile.ZipFile(out).namelist():
        if name.startswith("xl/worksheets/sheet"):
            xml = zipfile.ZipFile(out).read(name).decode()
            numbers = [int(n) for n in re.findall(r'<row r="(\d+)"', xml)]
            assert numbers == sorted(set(numbers)), name


def test_a_merged_cell_is_marked_on_its_top_left(tmp_path: Path):
    path = tmp_path / "merged.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Thông tin"
    ws["B2"] = "Tổ dân phố số 1"
    ws.merge_cells("B2:D2")
    book.save(path)
    out = tmp_path / "out.xlsx"
    xlsxpatch.mark_workbook(path, out, [Mark("Thông tin", "C2", True, "gộp")], [])
    ws = openpyxl.load_workbook(out)["Thông tin"]
    assert ws["B2"].fill.fgColor.rgb == xlsxpatch.ERROR_RGB
    assert ws["B2"].comment.text == "gộp" and ws["B2"].value == "Tổ dân phố số 1"


def test_another_producers_workbook_keeps_its_names_and_comments(tmp_path: Path):
    """openpyxl lays a package out differently from xlsxwriter (prefixes, rels, comments)."""
    path = tmp_path / "openpyxl.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Bìa"
    ws = book.create_sheet(CD)
    ws.append(["Họ và tên", "Ngày sinh"])
    ws.append(["Trần Thị Bình", dt.date(1990, 5, 6)])
    ws["A1"].comment = Comment("Ghi chú của tổ trưởng", "Tổ trưởng")
    ws.print_title_rows = "1:1"
    book.save(path)
    out = tmp_path / "out.xlsx"
    xlsxpatch.mark_workbook(path, out, [Mark(CD, "B2", True, "ngày sai")], [_listing()])
    after = openpyxl.load_workbook(out)
    assert after.sheetnames == ["Phản hồi", "Bìa", CD]
    ws = after[CD]
    assert ws.print_title_rows == "$1:$1"  # still on its sheet, though it moved one place
    assert ws["A1"].comment.text == "Ghi chú của tổ trưởng"  # the unit's own note stays
    assert ws["B2"].comment.text == "ngày sai"
    assert ws["B2"].value == dt.datetime(1990, 5, 6)
    assert ws["B2"].number_format == book[CD]["B2"].number_format


def test_an_earlier_feedback_sent_back_is_cleaned_before_marking(form: Path, tmp_path: Path):
    """Units correct the feedback workbook and send it back: the next feedback shows only the
    current problems, once."""
    row = _first_data_row(form)
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    xlsxpatch.mark_workbook(
        form,
        first,
        [Mark(CD, f"C{row}", True, "cũ"), Mark(CD, f"E{row + 300}", False, "cũ nữa")],
        [_listing(), _listing("Kết quả công dân")],
    )
    xlsxpatch.mark_workbook(
        first, second, [Mark(CD, f"D{row}", True, "mới")], [_listing()], ["Kết quả công dân"]
    )
    before, after = openpyxl.load_workbook(form), openpyxl.load_workbook(second)
    assert after.sheetnames == ["Phản hồi", *before.sheetnames]
    ws = after[CD]
    assert ws[f"C{row}"].comment is None and ws[f"E{row + 300}"].comment is None
    old = before[CD][f"C{row}"].fill
    assert (ws[f"C{row}"].fill.fill_type, ws[f"C{row}"].fill.fgColor.rgb) == (
        old.fill_type,
        old.fgColor.rgb,
    )  # the old mark is undone
    assert ws[f"C{row}"].protection.locked == before[CD][f"C{row}"].protection.locked
    assert ws[f"D{row}"].comment.text == "mới"
    assert ws[f"D{row}"].fill.fgColor.rgb == xlsxpatch.ERROR_RGB


def test_a_mark_on_a_sheet_the_workbook_lacks_is_left_to_the_listing(form: Path, tmp_path):
    out = tmp_path / "out.xlsx"
    xlsxpatch.mark_workbook(form, out, [Mark("Không có", "A1", True, "x")], [_listing()])
    assert openpyxl.load_workbook(out).sheetnames[0] == "Phản hồi"


def test_a_layout_it_does_not_edit_is_refused_not_broken(form: Path, tmp_path: Path):
    broken = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/styles.xml":
                data = data.replace(b"<styleSheet", b"<x:styleSheet").replace(
                    b"</styleSheet>", b"</x:styleSheet>"
                )
            dst.writestr(info, data)
    with pytest.raises(xlsxpatch.Unsupported):
        xlsxpatch.mark_workbook(broken, tmp_path / "out.xlsx", [Mark(CD, "A5", True, "x")], [])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 30), st.booleans()), min_size=1, max_size=12
    )
)
def test_any_set_of_marks_gives_a_readable_workbook_with_every_mark(
    form: Path, tmp_path: Path, cells
):
    out = tmp_path / "any.xlsx"
    marks = [Mark(CD, f"{openpyxl.utils.get_column_letter(c + 1)}{r}", e, "n") for r, c, e in cells]
    xlsxpatch.mark_workbook(form, out, marks, [_listing()])
    book = openpyxl.load_workbook(out)
    merged = book[CD].merged_cells.ranges
    for mark in marks:
        cell = book[CD][mark.cell]
        top_left = next((m.start_cell for m in merged if mark.cell in m), cell)
        assert top_left.comment is not None and "n" in top_left.comment.text
        assert top_left.fill.fgColor.rgb in (xlsxpatch.ERROR_RGB, xlsxpatch.WARNING_RGB)
    assert CalamineWorkbook.from_path(str(out)).get_sheet_by_name(CD).to_python() == (
        CalamineWorkbook.from_path(str(form)).get_sheet_by_name(CD).to_python()
    )


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_the_marks_and_its_resave_can_be_marked(form: Path, tmp_path: Path):
    row = _first_data_row(form)
    out = tmp_path / "marked.xlsx"
    xlsxpatch.mark_workbook(form, out, [Mark(CD, f"C{row}", True, "[lỗi] tên")], [_listing()])
    resaved = tmp_path / "lo"
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
         "--outdir", str(resaved), str(out)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    book = openpyxl.load_workbook(resaved / out.name)
    assert book.sheetnames[0] == "Phản hồi"
    assert book[CD][f"C{row}"].comment.text == "[lỗi] tên"
    assert book[CD][f"C{row}"].fill.fgColor.rgb == xlsxpatch.ERROR_RGB
    # LibreOffice's own layout, sent back by the unit, is marked again, cleanly.
    again = tmp_path / "again.xlsx"
    xlsxpatch.mark_workbook(resaved / out.name, again, [Mark(CD, f"D{row}", False, "mới")],
                            [_listing()], note_prefixes=("[lỗi]",))  # fmt: skip
    book = openpyxl.load_workbook(again)
    assert book.sheetnames.count("Phản hồi") == 1
    assert book[CD][f"C{row}"].comment is None
    assert book[CD][f"D{row}"].comment.text == "mới"


def test_rows_with_a_long_wrapped_text_are_made_tall(form: Path, tmp_path: Path):
    """LibreOffice does not grow a row to fit wrapped text: the height is in the file."""
    long_reason = "Không đạt: " + "; ".join(f"CD0{i} - tiêu chí số {i}" for i in range(1, 9))
    sheet = NewSheet(
        "Kết quả",
        rows=[["Họ và tên", "Lý do"], ["An", "Chưa đủ 18 tuổi"], ["Bình", long_reason]],
        row_styles=["header", "plain", "plain"],
        widths={0: 20, 1: 30},
        wrap_columns=frozenset({1}),
        heights={2: 45},
    )
    out = tmp_path / "out.xlsx"
    xlsxpatch.mark_workbook(form, out, [], [sheet])
    ws = openpyxl.load_workbook(out)["Kết quả"]
    assert ws.row_dimensions[3].height == 45
    assert ws.row_dimensions[2].height is None
    assert ws["B3"].value == long_reason


def test_rows_and_cells_naming_their_reference_last_are_still_found(form: Path, tmp_path: Path):
    """Producers write a row's or cell's reference first, where it is looked for directly; the
    schema allows it anywhere in the tag, and then the rows and cells are gone through."""
    moved = tmp_path / "moved.xlsx"
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(moved, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<row r="(\d+)"', rb'<row thickTop="0" r="\1"', data)
                data = re.sub(rb'<c r="([A-Z]+\d+)"( s="\d+")', rb'<c\2 r="\1"', data)
            dst.writestr(info, data)
    row = _first_data_row(moved)
    refs = [f"C{row}", f"D{row + 1}", f"AB{row + 1}", f"B{row + 300}"]  # the last two: no cell
    out = tmp_path / "out.xlsx"
    xlsxpatch.mark_workbook(moved, out, [Mark(CD, ref, True, ref) for ref in refs], [])
    ws = openpyxl.load_workbook(out)[CD]
    for ref in refs:
        assert ws[ref].fill.fgColor.rgb == xlsxpatch.ERROR_RGB and ws[ref].comment.text == ref
    assert CalamineWorkbook.from_path(str(out)).get_sheet_by_name(CD).to_python() == (
        CalamineWorkbook.from_path(str(moved)).get_sheet_by_name(CD).to_python()
    )
    with zipfile.ZipFile(out) as book:
        sheets = [book.read(n) for n in book.namelist() if "worksheets/sheet" in n]
    xml = next(sheet for sheet in sheets if b"<legacyDrawing" in sheet)  # the marked one
    numbers = [int(n) for n in re.findall(rb'<row\b[^>]*?\br="(\d+)"', xml)]
    assert numbers == sorted(set(numbers))  # each row once, in order: none added twice
    for ref in refs:
        assert xml.count(f' r="{ref}"'.encode()) == 1


def test_a_table_given_by_columns_is_written_as_the_same_rows_given_one_by_one(
    form: Path, tmp_path: Path
):
    header = ["Tên", "Năm", "Lý do", "Kết quả"]
    body = [["An", 1990, None, "Đạt"], ["Bình", 1985, "Chưa đủ 18 tuổi", None]]
    columns = [[row[j] for row in body] for j in range(len(header))]
    layout = {
        "widths": {0: 20, 2: 30},
        "wrap_columns": frozenset({2}),
        "center_columns": frozenset({1}),
        "heights": {2: 30},
        "autofilter_from_row": 1,
    }
    sheets = [
        NewSheet("Kết quả", [header, *body], ["header", "plain", "plain"], **layout),
        NewSheet("Kết quả", [header], ["header"], table=columns, **layout),
    ]
    parts = []
    for n, sheet in enumerate(sheets):
        xlsxpatch.mark_workbook(form, tmp_path / f"{n}.xlsx", [], [sheet])
        with zipfile.ZipFile(tmp_path / f"{n}.xlsx") as book:
            parts.append({name: book.read(name) for name in book.namelist()})
    assert parts[0] == parts[1]
    ws = openpyxl.load_workbook(tmp_path / "1.xlsx")["Kết quả"]
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=2)] == body
    assert ws.auto_filter.ref == "A1:D3"
