"""The fast paths of the workbook writers give the same file parts as xlsxwriter's own."""

from __future__ import annotations

import datetime as dt
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from hypothesis import example, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from processor.domain.sheets import column_letter
from processor.outputs._xlsx.book import (
    CHARS_PER_WIDTH,
    LINE_HEIGHT,
    Book,
    line_count,
    row_heights,
    write_table,
)
from processor.outputs._xlsx.fastrows import (
    Block,
    Column,
    _cell_bodies,
    cell_body,
    row_cells,
    row_tag,
)

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["0012", "1", "1.0", " đầu", "a&b<c>", "", "x\x01y", "\ue000", "\x1f"]),
    st.dates(min_value=dt.date(1900, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
    st.sampled_from([pd.NA, pd.NaT, float("nan"), pd.Timestamp("2021-11-05")]),
)


class _Format:
    def __init__(self, index: int) -> None:
        self.index = index

    def _get_xf_index(self) -> int:
        return self.index


@settings(max_examples=300, deadline=None)
@example(values=[0.0, -0.0], as_text=False, styled=False)
@given(
    values=st.one_of(
        st.lists(_values, max_size=40),  # mixed numbers: cached per (type, value)
        st.lists(st.one_of(st.none(), st.text(max_size=5), st.dates()), max_size=40),
        st.lists(st.one_of(st.none(), st.floats(), st.sampled_from([pd.NA])), max_size=40),
        # One type but None: each takes its own quick path.
        st.lists(st.one_of(st.none(), st.integers(-(10**15), 10**15)), max_size=40),
        st.lists(st.one_of(st.none(), st.dates()), max_size=40),
        st.lists(
            st.one_of(
                st.none(),
                st.text(max_size=8),
                st.sampled_from([" a", "b ", "\ta", "a\n", "\x1fz", "", "&<>", "\ue000", "x"]),
            ),
            max_size=40,
        ),
    ),
    as_text=st.booleans(),
    styled=st.booleans(),
)
def test_cell_bodies_are_each_values_own_body(values: list, as_text: bool, styled: bool) -> None:
    """Distinct values are found once (factorize); every cell still gets its own value's body."""
    fmt, date_fmt = (_Format(3), _Format(4)) if styled else (None, None)
    column = Column(values, fmt, date_fmt, text=as_text)
    style, date_style = (' s="3"', ' s="4"') if styled else ("", "")
    blank = f"{style}/>" if style else ""
    expected = [cell_body(v, style, date_style, blank, as_text) for v in values]
    assert _cell_bodies(column) == expected


def test_a_text_over_excels_limit_is_cut_like_any_other_cell() -> None:
    values = ["x" * 40_000, "a&b", "x" * 40_000]
    expected = [cell_body(v, "", "", "", False) for v in values]
    assert _cell_bodies(Column(values, None)) == expected
    assert expected[0].endswith("…</t></is></c>")


@pytest.mark.parametrize("side_by_side", [False, True])
def test_blocks_and_xlsxwriters_own_rows_are_merged_in_order(tmp_path: Path, side_by_side) -> None:
    """Blocks one below another take the quick path, blocks sharing rows the general merge;
    both keep xlsxwriter's own cells and row heights around and inside them."""
    path = tmp_path / "blocks.xlsx"
    book = Book(path)
    ws = book.sheet("Khối")
    ws.write_string(0, 0, "Tiêu đề", book.title)
    ws.set_row(2, 30)  # a row inside the first block keeps its height
    first = Block(1, 0, [Column(["a1", "a2", "a3"], book.base), Column([1, 2, 3], book.base)], 3)
    second = (
        Block(1, 3, [Column(["b1", "b2", "b3"], book.base)], 3, heights={2: 45})
        if side_by_side
        else Block(5, 0, [Column(["b1", None, "b3"], book.base)], 3, heights={2: 45})
    )
    ws.write_string(4, 0, "giữa", book.base)  # xlsxwriter's row between stacked blocks
    ws.write_string(9, 0, "cuối", book.base)
    book.add_rows(ws, first)
    book.add_rows(ws, second)
    book.close()
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Khối").to_python()
    assert rows[0][0] == "Tiêu đề" and rows[9][0] == "cuối"
    assert [r[0] for r in rows[1:4]] == ["a1", "a2", "a3"]
    assert [r[1] for r in rows[1:4]] == [1, 2, 3]
    if side_by_side:
        assert [r[3] for r in rows[1:4]] == ["b1", "b2", "b3"]
    else:
        assert rows[4][0] == "giữa"
        assert [r[0] for r in rows[5:8]] == ["b1", "", "b3"]
    sheet = openpyxl.load_workbook(path)["Khối"]
    assert sheet.row_dimensions[3].height == 30
    assert sheet.row_dimensions[4 if side_by_side else 8].height == 45  # the block's own


def test_a_long_block_keeps_its_heights_across_the_pieces_it_is_written_in(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dai.xlsx"
    book = Book(path)
    ws = book.sheet("Dài")
    ws.write_string(0, 0, "Tiêu đề", book.title)
    n = 9000  # three pieces of 4,096 rows
    tall = [0, 4095, 4096, 8191, 8192, n - 1]
    values = [f"dòng {i}" for i in range(n)]
    book.add_rows(
        ws,
        Block(1, 0, [Column(values, book.base), Column(list(range(n)), book.base)], n,
              heights=dict.fromkeys(tall, 30)),
    )  # fmt: skip
    book.close()
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Dài").to_python()
    assert [r[0] for r in rows[1:]] == values
    assert [r[1] for r in rows[1:]] == list(range(n))
    sheet = openpyxl.load_workbook(path)["Dài"]
    heights = {r: d.height for r, d in sheet.row_dimensions.items() if d.height}
    assert heights == {2 + i: 30 for i in tall}


@pytest.mark.parametrize("points", [15, 15.2, 16, 30, 32, 32.4, 45, 100.1, 409])
def test_a_blocks_row_height_is_written_as_xlsxwriters_set_row_writes_it(
    tmp_path: Path, points: float
) -> None:
    path = tmp_path / "h.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    ws.set_row(6, points)
    ws.write_string(6, 0, "x")
    book.close()
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    tag = xml[xml.index('<row r="7"') :]
    tag = tag[: tag.index(">") + 1].replace(' spans="1:1"', "")
    assert row_tag(7, points).decode() == tag


def test_a_table_gives_long_reasons_the_height_of_their_lines(tmp_path: Path) -> None:
    reason = "Không đạt: " + "; ".join(f"CD0{i} - Chấp hành pháp luật" for i in range(1, 9))
    frame = pd.DataFrame({"full_name": ["An", "Bình"], "reason": ["Chưa đủ 18 tuổi", reason]})
    path = tmp_path / "t.xlsx"
    book = Book(path)
    write_table(
        book,
        book.sheet("Kết quả"),
        frame,
        {"full_name": "Họ tên", "reason": "Lý do"},
        widths={"reason": 60},
    )
    book.close()
    ws = openpyxl.load_workbook(path)["Kết quả"]
    lines = line_count(reason, int(60 * CHARS_PER_WIDTH) - 1)
    assert lines >= 3
    assert ws.row_dimensions[3].height == LINE_HEIGHT * lines
    assert ws.row_dimensions[2].height is None  # one line: the reader's default height


@pytest.mark.parametrize("with_rows", [False, True])
def test_every_part_is_deflated_and_xlsxwriter_is_left_as_it_was(
    tmp_path: Path, with_rows: bool
) -> None:
    """With fast rows or without, every part of the file the user gets is deflated."""
    path = tmp_path / "book.xlsx"
    book = Book(path)
    ws = book.sheet("Khối")
    ws.write_string(0, 0, "Tiêu đề", book.title)
    if with_rows:
        book.add_rows(ws, Block(1, 0, [Column(["a"] * 50, book.base)], 50))
    book.close()
    with zipfile.ZipFile(path) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
        assert z.testzip() is None


@given(
    st.lists(
        st.lists(
            st.sampled_from(["", ' s="3"/>', "><v>1</v></c>", ' s="4"><v>%s</v></c>']),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=6,
    ),
    st.integers(min_value=0, max_value=30),
)
def test_rows_are_their_cells_one_after_another(columns: list[list[str]], first_col: int) -> None:
    """Blocks without a gap take the %-format path, others the cell-by-cell one: both write
    each non-empty body after its reference, a '%' in a body included."""
    numbers = range(5, 8)
    expected = [
        "".join(
            f'<c r="{column_letter(first_col + j)}{n}"{body[i]}'
            for j, body in enumerate(columns)
            if body[i]
        )
        for i, n in enumerate(numbers)
    ]
    assert list(row_cells(columns, first_col, numbers)) == list(zip(numbers, expected, strict=True))


def test_a_sheet_that_may_need_zip64_gets_it_and_reads_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet estimated past the limit is written with zip64 headers."""
    monkeypatch.setattr("processor.outputs._xlsx.fastrows._ZIP64_BYTES", 1_000)
    path = tmp_path / "big.xlsx"
    book = Book(path)
    ws = book.sheet("Khối")
    values = [f"dòng {i}" for i in range(200)]
    book.add_rows(ws, Block(0, 0, [Column(values, book.base)], len(values)))
    book.close()
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Khối").to_python()
    assert [r[0] for r in rows] == values


def _row_heights_by_cell(columns, chars_per_width=1.45, line_height=15) -> dict[int, float]:
    """row_heights as it was first written, cell by cell: the reference for the one in use."""
    lines: dict[int, int] = {}
    for values, width in columns:
        per_line = max(1, int(width * chars_per_width) - 1)
        for i, value in enumerate(values):
            if isinstance(value, str) and (len(value) > per_line or "\n" in value):
                wrapped = [
                    textwrap.wrap(part, per_line, break_on_hyphens=False)
                    for part in value.split("\n")
                ]
                count = sum(len(lines) or 1 for lines in wrapped)
                lines[i] = max(lines.get(i, 1), count or 1)
    return {i: line_height * count for i, count in sorted(lines.items()) if count > 1}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(
                st.one_of(
                    st.none(),
                    st.integers(),
                    st.text(alphabet=st.sampled_from("ab đ\n-"), max_size=40),
                ),
                max_size=8,
            ),
            st.integers(min_value=1, max_value=30),
        ),
        max_size=3,
    )
)
def test_row_heights_are_those_of_each_cell_wrapped(columns: list) -> None:
    assert row_heights(columns) == _row_heights_by_cell(columns)


@given(st.text(alphabet=st.sampled_from("a&<>\"';lt gmpquos#x"), max_size=40))
@example("&amp;lt;")  # unescaped once: "&lt;", not "<"
def test_escape_and_unescape_are_the_standard_librarys(text: str) -> None:
    from xml.sax.saxutils import escape as sax_escape
    from xml.sax.saxutils import unescape as sax_unescape

    from processor.outputs._xlsx.fastrows import escape, unescape

    assert escape(text) == sax_escape(text)
    assert unescape(text) == sax_unescape(text, {"&quot;": '"', "&apos;": "'"})
    assert unescape(escape(text)) == text
