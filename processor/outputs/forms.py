"""Unit workbooks (biểu mẫu), pre-filled from a roster (SPEC §3).

The same writer makes the blank form of a new unit, next month's pre-filled form, January's form
from a resident list and the demo town's filled forms: a roster is the values to put in the input
cells, with where they came from, so that the guide tells the unit what it is looking at.

Written by xlsxwriter, but for the list sheets' rows: a town's forms hold half a million cells,
which xlsxwriter writes several times slower than the row writer of processor.outputs._xlsx
(benchmarks/README.md).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, ScoringRules, Unit
from processor.domain.errors import KieumauError
from processor.domain.form_layout import (
    CARRIED,
    FLAGGED,
    HEADER_ROW,
    MAX_DATE,
    MIN_DATE,
    MONTHS,
    RAW,
    citizen_columns,
    household_columns,
    unit_task_rows,
)
from processor.domain.issues import NEXT_FORM_NOTES
from processor.domain.periods import Period
from processor.outputs._xlsx.book import WORKBOOK_OPTIONS, line_count, row_heights
from processor.outputs._xlsx.fastrows import Block, close_and_inject, register_formats
from processor.outputs._xlsx.fastrows import Column as FastColumn
from processor.outputs.files import atomic_path

# Input rows under the roster of a form pre-filled with it, for new residents: at least
# SPARE_ROWS, and a tenth of the roster for a large unit.
SPARE_ROWS = 100
# A blank form has rows for a whole unit of its kind: a tổ dân phố has about 1,000 people in
# 250 households, an agency up to a few hundred staff. Below them, and in rows inserted
# anywhere, every cell of the list sheets takes input too (see _table_sheet).
BLANK_ROWS = {
    (True, S.FORM_CITIZENS.name): 1_200,
    (True, S.FORM_HOUSEHOLDS.name): 350,
    (False, S.FORM_CITIZENS.name): 300,
}
# Data validations (dropdowns, date and number checks) reach this far down a list sheet, past
# the rows drawn, so a row typed or inserted further down gets them too.
VALIDATED_ROWS = 20_000
# LibreOffice does not grow a row to fit wrapped text when it opens an xlsx (xlsxwriter leaves
# row heights to the reader), so wrapped lines printed over the next row: heights are set here.
LINE_HEIGHT = 16  # points, one line of 12 pt Times New Roman
# 12 pt Times New Roman characters per unit of column width, measured on a LibreOffice PDF.
CHARS_PER_WIDTH, CHARS_PER_WIDTH_BOLD = 1.35, 1.15
MARKED_FILL = "#FCD5B4"  # a cell the unit must fix: what it typed could not be read
CARRIED_FILL = "#DDEBF7"  # a value taken from an earlier period, the unit left the cell blank


class Origin(StrEnum):
    """What a form's rows were taken from; the guide says so to the unit."""

    BLANK = "trong"  # nothing: the unit lists its people
    HISTORY = "lich_su"  # the unit's last form, as received (this run's or the history's)
    NEW_YEAR = "nam_moi"  # last year's last form: people kept, the year's values cleared
    RESIDENTS = "danh_sach"  # a resident list (kieumau forms --danh-sach)


@dataclass
class Roster:
    """What a form is pre-filled with. Frames use the keys of schema columns and criterion codes.

    Two optional columns of the citizen and household frames mark cells (form_layout.RAW and
    CARRIED): per row, None or {column key: text typed that could not be read} and
    {column key: period the value was carried from}.
    """

    citizens: pd.DataFrame = field(default_factory=pd.DataFrame)
    households: pd.DataFrame = field(default_factory=pd.DataFrame)
    tasks: pd.DataFrame = field(default_factory=pd.DataFrame)  # keyed by (criterion, task)
    info: dict[str, object] = field(default_factory=dict)
    origin: Origin | None = None  # None: BLANK when every frame is empty, else HISTORY
    # Where the rows came from, for the guide: "kỳ 11/2021", "tệp danh_sach.xlsx".
    source: str = ""

    def resolved_origin(self) -> Origin:
        if self.origin is not None:
            return self.origin
        frames = (self.citizens, self.households, self.tasks)
        return Origin.BLANK if all(f.empty for f in frames) else Origin.HISTORY


class _Formats:
    """The form's cell formats, made once a workbook; marked variants on demand."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        base = {"font_name": "Times New Roman", "font_size": 12, "valign": "top"}
        self.base = base
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.hint = book.add_format({**base, "italic": True, "font_color": "#595959"})
        self.header = book.add_format(
            {
                **base,
                "bold": True,
                "text_wrap": True,
                "border": 1,
                "bg_color": "#DDEBF7",
                "align": "center",
                "valign": "vcenter",
            }
        )
        self.locked = book.add_format(
            {**base, "border": 1, "bg_color": "#F2F2F2", "text_wrap": True}
        )
        self.locked_text = book.add_format(
            {**base, "border": 1, "bg_color": "#F2F2F2", "num_format": "@", "text_wrap": True}
        )
        self.input_options = {
            "input": {**base, "border": 1, "locked": False},
            "input_text": {**base, "border": 1, "locked": False, "num_format": "@"},
            "input_date": {**base, "border": 1, "locked": False, "num_format": "dd/mm/yyyy"},
            "input_wrap": {**base, "border": 1, "locked": False, "text_wrap": True},
        }
        self.inputs = {k: book.add_format(v) for k, v in self.input_options.items()}
        # The same without borders, for whole columns: what is typed below the rows drawn.
        self.open_columns = {
            k: book.add_format({key: v for key, v in o.items() if key != "border"})
            for k, o in self.input_options.items()
        }
        self.locked_row = book.add_format(base)
        self.plain = book.add_format({**base, "text_wrap": True})
        self.bold = book.add_format({**base, "bold": True, "text_wrap": True})
        self._filled: dict[tuple[str, str], Format] = {}

    def filled(self, style: str, colour: str) -> Format:
        """An input format with a background, for a marked or carried cell."""
        key = (style, colour)
        if key not in self._filled:
            options = {**self.input_options[style], "bg_color": colour}
            self._filled[key] = self.book.add_format(options)
        return self._filled[key]


def _input_style(column: S.Column) -> str:
    if column.kind == "code":
        return "input_text"
    if column.kind == "date":
        return "input_date"
    if column.width >= 24:
        return "input_wrap"
    return "input"


def _validation(column: S.Column, limits: tuple[float, float] | None = None) -> dict | None:
    """Excel data validation for a column, with Vietnamese messages (SPEC §3).

    ``limits`` bounds a number column (the points of a `diem` criterion, a month). Validation
    is a help, not a guard: a pasted value skips it, so the reader checks again (SPEC §9).
    """
    if column.choices:
        return {
            "validate": "list",
            "source": list(column.choices),
            "input_title": column.label[:32],
            "input_message": "Chọn: " + ", ".join(column.choices),
            "error_title": "Giá trị không hợp lệ",
            "error_message": f"Chỉ chọn một trong các giá trị: {', '.join(column.choices)}.",
        }
    if column.kind == "date":
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": MIN_DATE,
            "maximum": MAX_DATE,
            "input_title": column.label[:32],
            "input_message": "Nhập ngày dạng ngày/tháng/năm, ví dụ 05/01/1980.",
            "error_title": "Ngày không hợp lệ",
            "error_message": "Hãy nhập ngày dạng ngày/tháng/năm, ví dụ 05/01/1980.",
        }
    if column.kind in ("int", "number"):
        rule: dict = {
            "validate": "integer" if column.kind == "int" else "decimal",
            "input_title": column.label[:32],
            "error_title": "Số không hợp lệ",
        }
        if limits is None:
            rule.update(criteria=">=", value=0)
            wanted = "một số không âm"
        else:
            rule.update(criteria="between", minimum=limits[0], maximum=limits[1])
            wanted = f"một số từ {limits[0]:g} đến {limits[1]:g}"
        rule["input_message"] = f"Nhập {wanted}."
        rule["error_message"] = f"Hãy nhập {wanted}."
        return rule
    return None


def _wanted(column: S.Column, limits: tuple[float, float] | None) -> str:
    """What a cell of ``column`` must hold, in the words of its validation's error message."""
    if column.key == "cccd":
        return "Số CCCD gồm đủ 12 chữ số."
    if column.key == "full_name" or column.key == "head_name":
        return "Ghi đủ họ và tên."
    if column.key == "household_code":
        return "Ghi mã hộ có trong sheet Hộ gia đình."
    rule = _validation(column, limits)
    return rule["error_message"] if rule else "Hãy ghi lại cho đúng."


def _line_count(text: object, width: float, bold: bool = False) -> int:
    """Lines a wrapped cell of ``width`` needs for ``text`` (an estimate, erring on more)."""
    if not isinstance(text, str):
        return 1
    per_line = max(1, int(width * (CHARS_PER_WIDTH_BOLD if bold else CHARS_PER_WIDTH)) - 1)
    return line_count(text, per_line)


def _wraps(column: S.Column, locked: bool) -> bool:
    """Text columns that wrap: their rows need a height."""
    return column.kind == "text" and (locked or column.width >= 24)


def _cell_value(value: object, column: S.Column) -> object:
    """``value`` as the form's cell holds it: blank, a date, a text (codes always, so a CCCD
    keeps its leading zero; a name starting with '=' stays text) or a number."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if column.kind == "date" and isinstance(value, dt.date):
        return value
    if column.kind == "code" or isinstance(value, str):
        return str(value)
    if isinstance(value, int | float):
        return float(value) if isinstance(value, bool) else value
    return str(value)


def _write(ws: Worksheet, row: int, col: int, value: object, style: Format | None) -> None:
    """One cell, by the type _cell_value gives (never through xlsxwriter's guessing write())."""
    if value is None:
        ws.write_blank(row, col, None, style)
    elif isinstance(value, str):
        ws.write_string(row, col, value, style)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, value, style)
    else:
        ws.write_number(row, col, value, style)


@dataclass
class _Table:
    """A list sheet of the form: its columns and what its rows hold."""

    name: str
    hint: str
    columns: list[S.Column]
    locked: set[str]
    listed: dict[str, list]  # column key -> values of the rows, a column not there is blank
    n: int
    spare: int  # input rows drawn under the roster
    open_below: bool  # every cell below (and of inserted rows) takes input
    # (row position, column key) -> the text typed that could not be read
    unreadable: dict[tuple[int, str], str] = field(default_factory=dict)
    typed_by: str = "kỳ trước đơn vị"  # who typed it, for its comment (see _typed_by)
    # (row position, column key) -> the comment on a value carried from an earlier period
    carried: dict[tuple[int, str], str] = field(default_factory=dict)
    # (row position, column key) -> the comment on a cell of a row not counted (a duplicate)
    flagged: dict[tuple[int, str], str] = field(default_factory=dict)


def _table_sheet(
    book: xlsxwriter.Workbook,
    fmt: _Formats,
    table: _Table,
    title: str,
    limits: dict[str, tuple[float, float]],
) -> list[Block]:
    """A list sheet: title, hint, header, the marked rows, validations, filter, protection and
    print setup by xlsxwriter; the roster's other rows and the blank input rows under it are
    returned as blocks for the row writer (processor.outputs._xlsx.fastrows), faster than
    xlsxwriter on a form's thousands of cells (benchmarks/README.md)."""
    ws = book.add_worksheet(table.name)
    columns = table.columns
    first = HEADER_ROW + 1
    last = HEADER_ROW + table.n + table.spare  # last row drawn (0-based)
    for j, column in enumerate(columns):
        # A column's own format is what a cell not written here takes: below the rows drawn,
        # and in a row the unit inserts, a cell is an input cell of the column's kind (a CCCD
        # typed there stays text).
        style = fmt.open_columns[_input_style(column)] if table.open_below else None
        ws.set_column(j, j, column.width, style)
    header_lines = max(_line_count(c.label, c.width, bold=True) for c in columns)
    # The rows above the list stay locked whatever the columns' format, by a row format that
    # shows nothing (a visible one would widen what LibreOffice prints).
    ws.set_row(0, None, fmt.locked_row)
    ws.write_string(0, 0, title, fmt.title)
    ws.set_row(1, None, fmt.locked_row)
    ws.write_string(1, 0, table.hint, fmt.hint)
    ws.set_row(HEADER_ROW, LINE_HEIGHT * max(3, header_lines), fmt.locked_row)
    for j, column in enumerate(columns):
        ws.write_string(HEADER_ROW, j, column.label, fmt.header)
    blocks = _row_blocks(ws, fmt, table, limits)
    validated = max(last, HEADER_ROW + VALIDATED_ROWS) if table.open_below else last
    for j, column in enumerate(columns):
        rule = _validation(column, limits.get(column.key))
        if rule and column.key not in table.locked:
            ws.data_validation(first, j, validated, j, rule)
    ws.freeze_panes(HEADER_ROW + 1, 3)
    ws.autofilter(HEADER_ROW, 0, last, len(columns) - 1)
    ws.protect(
        "",
        {
            "autofilter": True,
            "sort": True,
            "format_columns": True,
            "format_rows": True,
            "insert_rows": True,
            "delete_rows": True,
        },
    )
    _print_setup(ws)
    ws.repeat_rows(HEADER_ROW)
    return blocks


def _styles(fmt: _Formats, table: _Table) -> list[Format]:
    """Each column's format on the roster's rows: locked (grey) or an input cell."""
    styles = []
    for column in table.columns:
        if column.key in table.locked:
            styles.append(fmt.locked_text if column.kind == "code" else fmt.locked)
        else:
            styles.append(fmt.inputs[_input_style(column)])
    return styles


def _row_blocks(
    ws: Worksheet, fmt: _Formats, table: _Table, limits: dict[str, tuple[float, float]]
) -> list[Block]:
    """The roster's rows and the blank rows under it, as blocks for the row writer: a marked
    cell is written in the block with its colour, its comment by xlsxwriter."""
    columns = table.columns
    first = HEADER_ROW + 1
    styles = _styles(fmt, table)
    # Each row drawn takes input across the whole sheet (a row format), so that the unit can
    # delete it on the protected sheet: LibreOffice and Excel delete a row only when none of
    # its cells is locked.
    row_format = fmt.open_columns["input"] if table.open_below else None
    values = [
        list(range(1, table.n + 1))
        if c.key == "row_no"
        else table.listed.get(c.key, [None] * table.n)
        for c in columns
    ]
    own: dict[str, dict[int, tuple[object, Format]]] = {c.key: {} for c in columns}
    position = {c.key: j for j, c in enumerate(columns)}
    for (i, key), (value, style, note) in _marked_cells(fmt, table, limits).items():
        own[key][i] = (value, style)
        ws.write_comment(first + i, position[key], note, _COMMENT)
        # xlsxwriter writes a row for a cell's comment: the row keeps the rows' format.
        ws.set_row(first + i, None, row_format)
    roster = [
        FastColumn(v, style, text=c.kind == "code", own=own[c.key])
        for c, v, style in zip(columns, values, styles, strict=True)
    ]
    heights = _fitted_heights(columns, table.listed, table.locked)
    blocks = []
    if table.n:
        blocks.append(Block(first, 0, roster, table.n, heights, row_format))
    if table.spare:
        blank = [FastColumn([None] * table.spare, fmt.inputs[_input_style(c)]) for c in columns]
        blocks.append(Block(first + table.n, 0, blank, table.spare, row_format=row_format))
    return blocks


def _marked_cells(
    fmt: _Formats, table: _Table, limits: dict[str, tuple[float, float]]
) -> dict[tuple[int, str], tuple[object, Format, str]]:
    """The roster's marked cells, by (row position, column key): the value written, its format
    and its comment. A text that could not be read is kept as typed (orange, with what to fix),
    a cell of a row not counted is orange, a value carried from an earlier period blue; a cell
    marked twice takes the first of these."""
    by_key = {c.key: c for c in table.columns}
    cells: dict[tuple[int, str], tuple[object, Format, str]] = {}
    for (i, key), text in table.unreadable.items():
        if (column := by_key.get(key)) is not None:
            shown = text if text.strip() else None  # a value needed and left blank
            note = _unreadable_note(column, text, table.typed_by, limits)
            cells[i, key] = (shown, fmt.filled(_input_style(column), MARKED_FILL), note)
    for marks, colour in ((table.flagged, MARKED_FILL), (table.carried, CARRIED_FILL)):
        for (i, key), note in marks.items():
            if (column := by_key.get(key)) is not None and (i, key) not in cells:
                values = table.listed.get(key)
                value = _cell_value(values[i] if values is not None else None, column)
                cells[i, key] = (value, fmt.filled(_input_style(column), colour), note)
    return cells


_COMMENT = {"x_scale": 2.2, "y_scale": 1.6, "font_name": "Times New Roman", "font_size": 11}


def _unreadable_note(
    column: S.Column, text: str, typed_by: str, limits: dict[str, tuple[float, float]]
) -> str:
    """The comment on a cell kept as the unit typed it: what could not be read, what to write."""
    typed = f"ghi «{text}»" if text.strip() else "để trống"
    problem = "chưa đọc được" if text.strip() else "cần có giá trị"
    return (
        f"Cần sửa: {typed_by} {typed} ở cột {column.label}, {problem}. "
        f"{_wanted(column, limits.get(column.key))}"
    )


def _carried_note(source: str, period: Period) -> str:
    """The comment on a value carried from an earlier period into a cell left blank, on
    ``period``'s form: ``source`` is the period (`2021-11`) or the scoring's words for where it
    came from. A count carried from an earlier year is that year's value plus the years since
    (a new year's form clears the year's values and counts on from last year's)."""
    try:
        earlier = Period.parse(source)
    except KieumauError:
        return f"Giá trị này {source}. Sửa lại nếu chưa đúng."
    if earlier.year < period.year:
        return (
            f"Giá trị tính từ {earlier.label}: số năm khi đó cộng thêm "
            f"{period.year - earlier.year} năm. Sửa lại nếu chưa đúng."
        )
    return (
        f"Đơn vị để trống ô này; giá trị dùng để chấm là giá trị lấy từ {earlier.label}. "
        "Sửa lại nếu đã thay đổi."
    )


def _listed(frame: pd.DataFrame, columns: list[S.Column]) -> dict[str, list]:
    """The values of ``frame``'s columns that are ``columns``, as lists: each column is taken
    out of the frame once (pandas' cost per column)."""
    wanted = {c.key for c in columns}
    return {key: frame[key].tolist() for key in frame.columns if key in wanted}


def _marks_of(
    marks: list | None, listed: dict[str, list], columns: list[S.Column], blank: bool
) -> dict[tuple[int, str], str]:
    """The cells a mark column (form_layout.RAW or CARRIED: per row None or {column key:
    text}) marks, by (row position, column key). A mark holds only where the cell is blank
    (``blank``: an unreadable text is shown in place of no value) or filled (a carried value),
    so a stale mark never hides what the row holds. A locked column is never marked."""
    if not marks:
        return {}
    by_key = {c.key: c for c in columns}
    found = {}
    for i, row_marks in enumerate(marks):
        if not isinstance(row_marks, dict):
            continue
        for column_key, text in row_marks.items():
            column = by_key.get(column_key)
            if column is None or column_key in _NEVER_MARKED or text is None:
                continue
            values = listed.get(column_key)
            value = _cell_value(values[i], column) if values is not None else None
            if (value is None) == blank:
                found[i, column_key] = str(text)
    return found


_NEVER_MARKED = ("row_no", "criterion", "task", "text")


def _typed_by(origin: Origin) -> str:
    """Who typed a value that could not be read, as the form's comments and guide say it."""
    return "danh sách dân cư" if origin is Origin.RESIDENTS else "kỳ trước đơn vị"


def _task_rows(catalogue: Catalogue, roster: Roster) -> tuple[dict[str, list], int]:
    """The unit sheet's rows (one per task of the catalogue, see unit_task_rows) with what the
    roster last said of each, matched on (criterion, task), as listed values and a count."""
    rows = unit_task_rows(catalogue)
    taken = [
        key
        for key in roster.tasks.columns
        if key not in ("criterion", "task", "text")
        and (not key.startswith("_") or key in (RAW, CARRIED))
    ]
    matches: dict[tuple[object, object], list[int]] = {}
    if not roster.tasks.empty:
        # A criterion without tasks has no task code: read back as None (or NaN), written "".
        codes = [t if isinstance(t, str) else "" for t in roster.tasks["task"].tolist()]
        for i, key in enumerate(zip(roster.tasks["criterion"].tolist(), codes, strict=True)):
            matches.setdefault(key, []).append(i)
    last = {key: roster.tasks[key].tolist() for key in taken}
    listed: dict[str, list] = {key: [] for key in ("criterion", "task", "text", *taken)}
    for row in rows:
        # Every row the roster has for the task, in its order; the task alone when none.
        for i in matches.get((row["criterion"], row["task"]), [None]):
            for key in ("criterion", "task", "text"):
                listed[key].append(row[key])
            for key in taken:
                listed[key].append(None if i is None else last[key][i])
    return listed, len(listed["criterion"])


def _fitted_heights(
    columns: list[S.Column], listed: dict[str, list], locked_keys: set[str]
) -> dict[int, float]:
    """Points high, by position in the roster (``listed``: its values by column key), of the
    rows whose wrapped text needs more than one line (see LINE_HEIGHT)."""
    wrapped = [
        (listed[c.key], c.width)
        for c in columns
        if _wraps(c, c.key in locked_keys) and c.key in listed
    ]
    return row_heights(wrapped, CHARS_PER_WIDTH, LINE_HEIGHT)


def _print_setup(ws: Worksheet) -> None:
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&CTrang &P/&N")


_GUIDE_WIDTHS = (18, 110)  # label, text


def _guide_line_height(label: str, text: str) -> float | None:
    """Points high of a guide line wrapped over more than one line, else None."""
    label_width, text_width = _GUIDE_WIDTHS
    count = max(_line_count(label, label_width, bold=True), _line_count(text, text_width))
    return LINE_HEIGHT * count if count > 1 else None


def _how_filled(roster: Roster, origin: Origin, period: Period, is_tdp: bool) -> str:
    """The guide's line saying what the form already holds, true to where its rows came from."""
    cells = "Ô nền trắng là ô nhập; ô nền xám là ô khóa (không sửa)."
    people = "công dân và hộ gia đình" if is_tdp else "cán bộ, công chức, người lao động"
    source = f" ({roster.source})" if roster.source else ""
    if origin is Origin.BLANK:
        return (
            f"Biểu mẫu trắng: chưa có danh sách. Ghi danh sách {people} của đơn vị, mỗi dòng "
            f"một người{', mỗi hộ một dòng ở sheet Hộ gia đình' if is_tdp else ''}. {cells}"
        )
    if origin is Origin.RESIDENTS:
        return (
            f"Biểu mẫu đã ghi sẵn họ tên, ngày sinh, số CCCD và mã hộ theo danh sách dân cư"
            f"{source}: đối chiếu với thực tế, bổ sung người còn thiếu, xóa dòng người không "
            f"còn ở đơn vị; các tiêu chí và cột Đăng ký do đơn vị ghi. {cells}"
        )
    if origin is Origin.NEW_YEAR:
        return (
            f"Biểu mẫu năm {period.year} ghi sẵn danh sách {people} của năm {period.year - 1}"
            f"{source}. Đăng ký thi đua, các tiêu chí, lộ trình, tự đánh giá, phiếu bình xét và "
            f"kết quả kiểm tra của năm {period.year - 1} đã được xóa để đánh giá lại từ đầu năm; "
            f"số năm liên tục (gia đình văn hóa, tổ dân phố văn hóa) đã được tính tiếp theo "
            f"kết quả năm {period.year - 1}. {cells}"
        )
    return (
        f"Biểu mẫu đã ghi sẵn danh sách và kết quả kỳ trước{source}: chỉ sửa những gì đã thay "
        f"đổi. {cells}"
    )


def _guide_lines(
    catalogue: Catalogue, unit: Unit, period: Period, roster: Roster, tables: list[_Table]
) -> list[tuple[str, str]]:
    """(label, text) of each line of the guide, true to this form: where its rows came from,
    the month (registration in January, votes in the voting month) and what it marked."""
    origin = roster.resolved_origin()
    voting_month = catalogue.rules.voting_month
    return [
        *_guide_head(catalogue, unit, period, roster, origin),
        *_guide_marks(period, origin, tables),
        *_guide_sheets(unit, period, origin, catalogue.rules),
        *_guide_values(period, voting_month),
        *_guide_criteria(catalogue),
    ]


def _guide_head(
    catalogue: Catalogue, unit: Unit, period: Period, roster: Roster, origin: Origin
) -> list[tuple[str, str]]:
    """The title, who the form goes to, by when and where, and how it was filled in."""
    deadline = catalogue.setting("han_nop", "25")
    email = catalogue.setting("email_nhan")
    receiver = catalogue.setting("can_bo_tiep_nhan", "cán bộ Văn hóa - Xã hội")
    return [
        (
            "",
            f"BIỂU MẪU THEO DÕI XÂY DỰNG CÁC DANH HIỆU KIỂU MẪU - {unit.name.upper()} - "
            f"THÁNG {period.month:02d}/{period.year}",
        ),
        ("Gửi đến", f"Trưởng Ban vận động {unit.name} ({unit.head})."),
        ("Hạn nộp", f"Trước ngày {deadline} tháng {period.month:02d}/{period.year}."),
        (
            "Nơi nhận",
            f"Gửi tệp này qua email cho {receiver}: {email}. Giữ nguyên tên sheet và "
            "dòng tiêu đề; không đặt mật khẩu cho tệp.",
        ),
        ("Cách điền", _how_filled(roster, origin, period, unit.is_tdp)),
    ]


def _guide_marks(period: Period, origin: Origin, tables: list[_Table]) -> list[tuple[str, str]]:
    """What the coloured cells mean, for the colours this form uses."""
    unreadable = sum(len(t.unreadable) for t in tables)
    carried = sum(len(t.carried) for t in tables)
    flagged = sum(len(t.flagged) for t in tables)
    lines: list[tuple[str, str]] = []
    if unreadable:
        lines.append(
            (
                "Ô cần sửa",
                f"{unreadable} ô tô màu cam: {_typed_by(origin)} đã ghi nhưng chưa đọc được. "
                "Ô giữ nguyên chữ đơn vị đã ghi; rê chuột vào ô để xem ghi chú cần sửa gì, sửa "
                "lại rồi gửi.",
            )
        )
    if flagged:
        lines.append(
            (
                "Dòng trùng",
                f"{flagged} dòng có ô tô màu cam nhưng vẫn có chữ: dòng trùng với một dòng khác "
                "nên kỳ trước chưa được tính. Rê chuột vào ô để xem ghi chú; xóa dòng thừa "
                "hoặc sửa lại cho đúng.",
            )
        )
    if carried:
        lines.append(
            (
                "Giá trị mang sang",
                f"{carried} ô tô màu xanh: số năm liên tục tính tiếp từ kết quả năm "
                f"{period.year - 1} (ghi chú ở ô nói từ kỳ nào). Sửa lại nếu chưa đúng."
                if origin is Origin.NEW_YEAR
                else f"{carried} ô tô màu xanh: đơn vị để trống nên kết quả dùng giá trị đã "
                "ghi ở kỳ trước (ghi chú ở ô nói kỳ nào). Sửa lại nếu đã thay đổi.",
            )
        )
    return lines


def _guide_sheets(
    unit: Unit, period: Period, origin: Origin, rules: ScoringRules
) -> list[tuple[str, str]]:
    """How to add and remove people, and what each sheet asks for this month."""
    voting_month = rules.voting_month
    voting = period.month == voting_month
    lines = [
        (
            "Thêm, bớt người",
            "Người mới đến ở: ghi vào các dòng trống cuối danh sách, hoặc chèn dòng mới ở bất "
            "kỳ đâu trong danh sách (chuột phải vào số dòng > Chèn); các dòng dưới cùng cũng "
            "ghi được, không giới hạn số dòng. Người đã chuyển đi hoặc đã mất: xóa cả dòng.",
        ),
        (
            "Sheet Thông tin",
            "Ghi người báo cáo, số điện thoại, ngày báo cáo."
            + (
                " Tháng này có bình xét: ghi thêm ngày họp bình xét và số người dự họp."
                if voting
                else ""
            ),
        ),
        (
            "Sheet Công dân",
            "Mỗi dòng một công dân. Mã hộ phải có trong sheet Hộ gia đình "
            "(trừ cơ quan). Ngày sinh dạng ngày/tháng/năm, ví dụ 05/01/1980. "
            "Số CCCD đủ 12 chữ số.",
        ),
        ("Đăng ký", _registration_line(period, origin, rules)),
    ]
    if unit.is_tdp:
        lines += [
            (
                "Sheet Hộ gia đình",
                "Mỗi dòng một hộ, Chủ hộ ghi đủ họ tên. Các tiêu chí gia đình "
                "tính tự động (tỷ lệ thành viên đạt, bảo hiểm y tế) không cần điền.",
            ),
            (
                "Sheet Tổ dân phố",
                "Mỗi dòng một phần việc của tiêu chí. Ghi Thực trạng, Tháng hoàn "
                "thành dự kiến (1-12), Người phụ trách, Tự đánh giá. Cột Kết quả "
                "kiểm tra của BCĐ do Ban chỉ đạo ghi khi kiểm tra tháng "
                f"{voting_month}.",
            ),
        ]
    return lines


def _guide_values(period: Period, voting_month: int) -> list[tuple[str, str]]:
    return [
        (
            "Giá trị hợp lệ",
            "Đạt / Chưa đạt (cũng nhận: đạt, x, 1, Có; chưa đạt, Không, 0). Để "
            "trống nghĩa là chưa đánh giá. Có / Không. Nam / Nữ.",
        ),
        ("Bình xét", _voting_line(period, voting_month)),
        ("", ""),
        ("", "CÁC TIÊU CHÍ"),
    ]


def _guide_criteria(catalogue: Catalogue) -> list[tuple[str, str]]:
    """One line per criterion: its name, whether it is mandatory, and how to fill it."""
    lines = []
    for criterion in catalogue.criteria:
        how = criterion.rules.how_to_fill()
        mandatory = " (bắt buộc)" if criterion.mandatory else ""
        lines.append(
            (
                criterion.code,
                f"{criterion.short_name}{mandatory}: {criterion.text}. Cách ghi: {how}.",
            )
        )
    return lines


def _registration_line(period: Period, origin: Origin, rules: ScoringRules) -> str:
    # The deadline and what a late registration means are the catalogue's (Cấu hình
    # han_dang_ky, dang_ky_muon): the unit reads the rule the scoring applies.
    late = "vẫn được xét" if rules.late_registration_counts else "không được xét"
    deadline = (
        f"Hạn đăng ký: hết tháng {rules.registration_deadline}; đăng ký sau đó là đăng ký "
        f"muộn, {late}."
    )
    if period.month == 1:
        again = " lại từ đầu" if origin is Origin.NEW_YEAR else ""
        return (
            f"Tháng 1 là tháng đăng ký thi đua năm {period.year}{again}: ở cột Đăng ký của "
            "sheet Công dân (và Hộ gia đình) ghi Có cho người, hộ đăng ký; Không nếu không "
            f"đăng ký. Để trống là chưa đăng ký. {deadline}"
        )
    return (
        f"Cột Đăng ký giữ câu trả lời khi đăng ký thi đua năm {period.year}; người, hộ mới "
        f"tham gia ghi Có. {deadline}"
    )


def _voting_line(period: Period, voting_month: int) -> str:
    if period.month == voting_month:
        return (
            f"Tháng {voting_month} là tháng bình xét: ghi Số phiếu đồng ý của cuộc họp bình "
            "xét cho từng người, từng hộ; số phiếu không được lớn hơn số người dự họp (sheet "
            "Thông tin)."
        )
    return (
        f"Cột Số phiếu đồng ý chỉ ghi ở kỳ tháng {voting_month} (họp bình xét); tháng này để trống."
    )


def _guide_sheet(
    book: xlsxwriter.Workbook, fmt: _Formats, lines: list[tuple[str, str]]
) -> Worksheet:
    ws = book.add_worksheet(S.FORM_GUIDE)
    label_width, text_width = _GUIDE_WIDTHS
    ws.set_column(0, 0, label_width)
    ws.set_column(1, 1, text_width)
    for i, (label, text) in enumerate(lines):
        # The title line is left its own height; others grow with their wrapped text.
        height = _guide_line_height(label, text) if i else None
        if height:
            ws.set_row(i, height)
        ws.write_string(i, 0, label, fmt.bold)
        ws.write_string(i, 1, text, fmt.plain if i else fmt.title)
    ws.protect("")
    _print_setup(ws)
    ws.set_portrait()
    ws.activate()
    return ws


# Notes beside the Thông tin cells; {voting} is the catalogue's voting month (thang_binh_xet).
_INFO_NOTES = {
    "meeting_date": "Chỉ điền ở kỳ tháng {voting}",
    "attendees": "Chỉ điền ở kỳ tháng {voting}",
    "chair": "Chỉ điền ở kỳ tháng {voting}",
    "secretary": "Chỉ điền ở kỳ tháng {voting}",
    "report_date": "ngày/tháng/năm",
}
_INFO_LOCKED = ("unit_code", "unit_name", "period")


def _info_sheet(
    book: xlsxwriter.Workbook,
    fmt: _Formats,
    unit: Unit,
    period: Period,
    info: dict,
    voting_month: int,
) -> None:
    """Thông tin: the unit and period (locked), then what the reporter fills in, one per row."""
    ws = book.add_worksheet(S.FORM_INFO.name)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 50)
    ws.write_string(0, 0, "THÔNG TIN BÁO CÁO", fmt.title)
    values = {"unit_code": unit.code, "unit_name": unit.name, "period": str(period), **info}
    for i, column in enumerate(S.FORM_INFO.columns, start=1):
        locked = column.key in _INFO_LOCKED
        if locked:
            style = fmt.locked_text if column.kind == "code" else fmt.locked
        else:
            style = fmt.inputs[_input_style(column)]
        ws.write_string(i, 0, column.label, fmt.header)
        _write(ws, i, 1, _cell_value(values.get(column.key), column), style)
        note = _INFO_NOTES.get(column.key, "").format(voting=voting_month)
        ws.write_string(i, 2, note, fmt.hint)
    for i, column in enumerate(S.FORM_INFO.columns, start=1):
        rule = _validation(column)
        if rule and column.key not in _INFO_LOCKED:
            ws.data_validation(i, 1, i, 1, rule)
    ws.protect("")
    _print_setup(ws)


def _meta_sheet(book: xlsxwriter.Workbook, catalogue: Catalogue, unit: Unit, period: Period):
    """The hidden _meta sheet: what the reader identifies the form by."""
    ws = book.add_worksheet(S.FORM_META)
    values = {
        "form_code": S.FORM_CODE,
        "form_version": S.FORM_VERSION,
        "catalogue_fingerprint": catalogue.fingerprint,
        "unit_code": unit.code,
        "period": str(period),
    }
    for i, key in enumerate(S.META_KEYS):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, str(values[key]))
    ws.hide()


_TITLES = {
    S.FORM_CITIZENS.name: "DANH SÁCH CÔNG DÂN",
    S.FORM_HOUSEHOLDS.name: "DANH SÁCH HỘ GIA ĐÌNH",
    S.FORM_UNIT.name: "TIÊU CHÍ TỔ DÂN PHỐ",
}
_HINTS = {
    S.FORM_CITIZENS.name: (
        "Ô trắng là ô nhập. Đạt/Chưa đạt chọn trong danh sách; để trống = chưa đánh giá. "
        "Thêm người: ghi vào dòng trống hoặc chèn dòng."
    ),
    S.FORM_HOUSEHOLDS.name: "Mỗi dòng một hộ. Các tiêu chí tính tự động không có ở đây.",
    S.FORM_UNIT.name: (
        "Mỗi dòng một phần việc. Kết quả kiểm tra của BCĐ (tháng 11) thay cho Tự đánh giá khi có."
    ),
}


def spare_rows(is_tdp: bool, sheet: str, n: int) -> int:
    """Input rows drawn under a roster of ``n`` rows: a whole unit's on a blank form (see
    BLANK_ROWS), else SPARE_ROWS or a tenth of the roster, the larger."""
    if n == 0:
        return BLANK_ROWS.get((is_tdp, sheet), SPARE_ROWS)
    return max(SPARE_ROWS, n // 10)


def _tables(catalogue: Catalogue, unit: Unit, period: Period, roster: Roster) -> list[_Table]:
    """The list sheets of a unit's form for ``period`` with their rows."""
    tables = []
    typed_by = _typed_by(roster.resolved_origin())
    levels = [(S.FORM_CITIZENS.name, citizen_columns(catalogue), roster.citizens)]
    if unit.is_tdp:
        levels.append((S.FORM_HOUSEHOLDS.name, household_columns(catalogue), roster.households))
    for name, columns, frame in levels:
        listed = _listed(frame, columns)
        tables.append(
            _Table(
                name,
                _HINTS[name],
                columns,
                set(),
                listed,
                len(frame),
                spare_rows(unit.is_tdp, name, len(frame)),
                open_below=True,
                unreadable=_marks_of(_column(frame, RAW), listed, columns, blank=True),
                typed_by=typed_by,
                carried=_notes(
                    _marks_of(_column(frame, CARRIED), listed, columns, blank=False), period
                ),
                flagged={
                    cell: NEXT_FORM_NOTES[code]
                    for cell, code in _marks_of(
                        _column(frame, FLAGGED), listed, columns, blank=False
                    ).items()
                    if code in NEXT_FORM_NOTES
                },
            )
        )
    if unit.is_tdp:
        listed, n = _task_rows(catalogue, roster)
        columns = list(S.FORM_UNIT.columns)
        tables.append(
            _Table(
                S.FORM_UNIT.name,
                _HINTS[S.FORM_UNIT.name],
                columns,
                {"criterion", "task", "text"},
                listed,
                n,
                0,
                open_below=False,
                unreadable=_marks_of(listed.pop(RAW, None), listed, columns, blank=True),
                typed_by=typed_by,
                carried=_notes(
                    _marks_of(listed.pop(CARRIED, None), listed, columns, blank=False), period
                ),
            )
        )
    return tables


def _notes(carried: dict[tuple[int, str], str], period: Period) -> dict[tuple[int, str], str]:
    return {cell: _carried_note(source, period) for cell, source in carried.items()}


def _column(frame: pd.DataFrame, key: str) -> list | None:
    return frame[key].tolist() if key in frame.columns else None


def write_form(
    catalogue: Catalogue, unit: Unit, period: Period, path: Path, roster: Roster | None = None
) -> Path:
    """Write one unit's workbook for a period; return its path. Written atomically."""
    roster = roster or Roster()
    limits = {c.code: bounds for c in catalogue.criteria if (bounds := c.rules.bounds())}
    limits["planned_month"] = MONTHS
    caption = f"{unit.name} - tháng {period.month:02d}/{period.year}"
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(io.BytesIO(), WORKBOOK_OPTIONS)
        # A fixed creation date keeps the same inputs the same workbook.
        book.set_properties(
            {
                "title": f"Biểu mẫu kiểu mẫu {unit.code} {period}",
                "author": "kieumau",
                "created": dt.datetime(period.year, period.month, 1),
            }
        )
        fmt = _Formats(book)
        # The list sheets are laid out first: the guide, the first sheet, counts what they mark.
        tables = _tables(catalogue, unit, period, roster)
        _guide_sheet(book, fmt, _guide_lines(catalogue, unit, period, roster, tables))
        _info_sheet(book, fmt, unit, period, roster.info, catalogue.rules.voting_month)
        pending: dict[int, list[Block]] = {}
        for table in tables:
            title = f"{_TITLES[table.name]} - {caption}"
            index = len(book.worksheets())  # the sheet _table_sheet adds
            pending[index] = _table_sheet(book, fmt, table, title, limits)
            for block in pending[index]:
                register_formats(block)
        _meta_sheet(book, catalogue, unit, period)
        close_and_inject(book, tmp, pending)
    return path
