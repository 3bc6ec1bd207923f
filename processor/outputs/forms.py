"""Unit workbooks (biểu mẫu), pre-filled from a roster (SPEC §3).

The same writer makes the blank form of a new unit, next month's pre-filled form and the demo
town's filled forms: a roster is just the values to put in the input cells.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Unit
from processor.domain.form_layout import (
    HEADER_ROW,
    MAX_DATE,
    MIN_DATE,
    MONTHS,
    citizen_columns,
    household_columns,
    unit_task_rows,
)
from processor.domain.periods import Period
from processor.outputs._xlsx.book import WORKBOOK_OPTIONS, line_count, row_heights
from processor.outputs._xlsx.fastrows import Block, closed_parts, escape, inject
from processor.outputs._xlsx.fastrows import Column as FastColumn
from processor.outputs.files import atomic_path

# Blank input rows left under the roster, so units can add new residents without inserting rows.
EXTRA_ROWS = 100
# LibreOffice does not grow a row to fit wrapped text when it opens an xlsx (xlsxwriter leaves
# row heights to the reader), so wrapped lines printed over the next row: heights are set here.
LINE_HEIGHT = 16  # points, one line of 12 pt Times New Roman
# 12 pt Times New Roman characters per unit of column width, measured on a LibreOffice PDF.
CHARS_PER_WIDTH, CHARS_PER_WIDTH_BOLD = 1.35, 1.15


@dataclass
class Roster:
    """What a form is pre-filled with. Frames use the keys of schema columns and criterion codes."""

    citizens: pd.DataFrame = field(default_factory=pd.DataFrame)
    households: pd.DataFrame = field(default_factory=pd.DataFrame)
    tasks: pd.DataFrame = field(default_factory=pd.DataFrame)  # keyed by (criterion, task)
    info: dict[str, object] = field(default_factory=dict)
    # Columns of the frames left blank on the form (next month's votes start empty).
    cleared: frozenset[str] = frozenset()


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": "Times New Roman", "font_size": 12, "valign": "top"}
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
        self.input = book.add_format({**base, "border": 1, "locked": False})
        self.input_text = book.add_format({**base, "border": 1, "locked": False, "num_format": "@"})
        self.input_date = book.add_format(
            {**base, "border": 1, "locked": False, "num_format": "dd/mm/yyyy"}
        )
        self.input_wrap = book.add_format({**base, "border": 1, "locked": False, "text_wrap": True})
        self.plain = book.add_format({**base, "text_wrap": True})
        self.bold = book.add_format({**base, "bold": True, "text_wrap": True})


def _cell_format(column: S.Column, fmt: _Formats, locked: bool = False):
    if locked:
        return fmt.locked_text if column.kind == "code" else fmt.locked
    if column.kind == "code":
        return fmt.input_text
    if column.kind == "date":
        return fmt.input_date
    if column.width >= 24:
        return fmt.input_wrap
    return fmt.input


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


def _line_count(text: object, width: float, bold: bool = False) -> int:
    """Lines a wrapped cell of ``width`` needs for ``text`` (an estimate, erring on more)."""
    if not isinstance(text, str):
        return 1
    per_line = max(1, int(width * (CHARS_PER_WIDTH_BOLD if bold else CHARS_PER_WIDTH)) - 1)
    return line_count(text, per_line)


def _wraps(column: S.Column, locked: bool) -> bool:
    """Text columns that wrap (see `_cell_format`): their rows need a height."""
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


def _table_sheet(
    book,
    fmt: _Formats,
    name: str,
    hint: str,
    columns: list[S.Column],
    locked_keys: set[str],
    last: int,
    limits: dict[str, tuple[float, float]] | None = None,
) -> None:
    """A list sheet's parts that are the same for every unit (see _Prototype): its hint,
    header, widths, validations and filter down to row ``last`` (0-based; a placeholder the
    unit's last row replaces), protection and print setup. The title and rows are blocks."""
    ws = book.add_worksheet(name)
    ws.write_string(1, 0, hint, fmt.hint)
    header_lines = max(_line_count(c.label, c.width, bold=True) for c in columns)
    ws.set_row(HEADER_ROW, LINE_HEIGHT * max(3, header_lines))
    for j, column in enumerate(columns):
        ws.write_string(HEADER_ROW, j, column.label, fmt.header)
        ws.set_column(j, j, column.width)
    for j, column in enumerate(columns):
        rule = _validation(column, (limits or {}).get(column.key))
        if rule and column.key not in locked_keys:
            ws.data_validation(HEADER_ROW + 1, j, last, j, rule)
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
    _print_setup(ws, len(columns))
    ws.repeat_rows(HEADER_ROW)


def _table_blocks(
    fmt: _Formats,
    title: str,
    columns: list[S.Column],
    listed: dict[str, list],
    n: int,
    locked_keys: set[str],
    extra_rows: int = EXTRA_ROWS,
) -> list[Block]:
    """A list sheet's unit part, for the fast row writer (_xlsx.fastrows): its title, and
    ``n`` rows, ``listed`` giving the values of their columns by key (a column not there is
    blank), then ``extra_rows`` blank input rows."""
    first = HEADER_ROW + 1
    filled, blank = [], []
    for column in columns:
        locked = column.key in locked_keys
        values = listed.get(column.key, [None] * n)
        if column.key == "row_no":
            values = list(range(1, n + 1))
        # Codes and IDs are written as text so a CCCD keeps its leading zero.
        as_text = column.kind == "code"
        filled.append(FastColumn(values, _cell_format(column, fmt, locked), text=as_text))
        # The blank rows below the roster are input cells, for new residents.
        blank.append(FastColumn([None] * extra_rows, _cell_format(column, fmt, False)))
    blocks = [Block(0, 0, [FastColumn([title], fmt.title)], 1)]
    if n:
        heights = _fitted_heights(columns, listed, locked_keys)
        blocks.append(Block(first, 0, filled, n, heights))
    if extra_rows:
        blocks.append(Block(first + n, 0, blank, extra_rows))
    return blocks


def _listed(
    frame: pd.DataFrame, columns: list[S.Column], cleared: frozenset[str]
) -> dict[str, list]:
    """The values of ``frame``'s columns that are ``columns`` and not ``cleared``, as lists:
    each column is taken out of the frame once (pandas' cost per column)."""
    wanted = {c.key for c in columns} - cleared
    return {key: frame[key].tolist() for key in frame.columns if key in wanted}


def _task_rows(catalogue: Catalogue, roster: Roster) -> tuple[dict[str, list], int]:
    """The unit sheet's rows (one per task of the catalogue, see unit_task_rows) with what the
    roster last said of each, matched on (criterion, task), as listed values and a count.

    A merge in Python: pandas' merge of these thirty rows cost 2 ms a form.
    """
    rows = unit_task_rows(catalogue)
    taken = [
        key
        for key in roster.tasks.columns
        if key not in ("criterion", "task", "text") and key not in roster.cleared
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


def _print_setup(ws: Worksheet, n_columns: int) -> None:
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&CTrang &P/&N")


_GUIDE_WIDTHS = (18, 110)  # label, text
_GUIDE_UNIT_ROWS = 2  # the guide's lines naming the unit, first (_guide_unit_lines)


def _guide_unit_lines(unit: Unit, period: Period) -> list[tuple[str, str]]:
    """The guide's first _GUIDE_UNIT_ROWS lines, which name the unit (see _Prototype)."""
    return [
        (
            "",
            f"BIỂU MẪU THEO DÕI XÂY DỰNG CÁC DANH HIỆU KIỂU MẪU - {unit.name.upper()} - "
            f"THÁNG {period.month:02d}/{period.year}",
        ),
        ("Gửi đến", f"Trưởng Ban vận động {unit.name} ({unit.head})."),
    ]


def _guide_line_height(label: str, text: str) -> float | None:
    """Points high of a guide line wrapped over more than one line, else None."""
    label_width, text_width = _GUIDE_WIDTHS
    count = max(_line_count(label, label_width, bold=True), _line_count(text, text_width))
    return LINE_HEIGHT * count if count > 1 else None


def _guide_blocks(fmt: _Formats, unit: Unit, period: Period) -> list[Block]:
    """The unit's lines of the guide: the title, not made taller, then the addressee."""
    blocks = []
    for i, (label, text) in enumerate(_guide_unit_lines(unit, period)):
        height = _guide_line_height(label, text) if i else None
        columns = [FastColumn([label], fmt.bold), FastColumn([text], fmt.plain if i else fmt.title)]
        blocks.append(Block(i, 0, columns, 1, {0: height} if height else {}))
    return blocks


def _guide_sheet(book, fmt: _Formats, catalogue: Catalogue, is_tdp: bool, period: Period) -> None:
    """The guide but its unit's lines (_guide_blocks)."""
    ws = book.add_worksheet(S.FORM_GUIDE)
    label_width, text_width = _GUIDE_WIDTHS
    ws.set_column(0, 0, label_width)
    ws.set_column(1, 1, text_width)
    deadline = catalogue.setting("han_nop", "25")
    email = catalogue.setting("email_nhan")
    receiver = catalogue.setting("can_bo_tiep_nhan", "cán bộ Văn hóa - Xã hội")
    first = _GUIDE_UNIT_ROWS
    lines: list[tuple[str, str]] = [
        ("Hạn nộp", f"Trước ngày {deadline} tháng {period.month:02d}/{period.year}."),
        (
            "Nơi nhận",
            f"Gửi tệp này qua email cho {receiver}: {email}. Giữ nguyên tên sheet và "
            "dòng tiêu đề; không đặt mật khẩu cho tệp.",
        ),
        (
            "Cách điền",
            "Biểu mẫu đã ghi sẵn danh sách và kết quả kỳ trước: chỉ sửa những gì đã "
            "thay đổi. Ô nền trắng là ô nhập; ô nền xám là ô khóa (không sửa).",
        ),
        (
            "Thêm người",
            "Người mới đến ở: điền vào các dòng trống cuối danh sách (không cần chèn "
            "dòng). Người đã chuyển đi hoặc đã mất: ghi vào cột Ghi chú và xóa nội "
            "dung dòng.",
        ),
        (
            "Sheet Thông tin",
            "Ghi người báo cáo, số điện thoại, ngày báo cáo. Tháng 11: ghi thêm "
            "ngày họp bình xét và số người dự họp.",
        ),
        (
            "Sheet Công dân",
            "Mỗi dòng một công dân. Mã hộ phải có trong sheet Hộ gia đình "
            "(trừ cơ quan). Ngày sinh dạng ngày/tháng/năm, ví dụ 05/01/1980. "
            "Số CCCD đủ 12 chữ số. Đăng ký: Có nếu đã đăng ký thi đua từ tháng 1.",
        ),
    ]
    if is_tdp:
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
                "kiểm tra của BCĐ do Ban chỉ đạo ghi khi kiểm tra tháng 11.",
            ),
        ]
    lines += [
        (
            "Giá trị hợp lệ",
            "Đạt / Chưa đạt (cũng nhận: đạt, x, 1, Có; chưa đạt, Không, 0). Để "
            "trống nghĩa là chưa đánh giá. Có / Không. Nam / Nữ.",
        ),
        (
            "Bình xét",
            "Tháng 11: ghi Số phiếu đồng ý của cuộc họp bình xét cho từng người, từng "
            "hộ; số phiếu không được lớn hơn số người dự họp.",
        ),
        ("", ""),
        ("", "CÁC TIÊU CHÍ"),
    ]
    for criterion in catalogue.criteria:
        how = criterion.rules.how_to_fill()
        mandatory = " (bắt buộc)" if criterion.mandatory else ""
        lines.append(
            (
                criterion.code,
                f"{criterion.short_name}{mandatory}: {criterion.text}. Cách ghi: {how}.",
            )
        )
    for i, (label, text) in enumerate(lines, start=first):
        ws.write_string(i, 0, label, fmt.bold)
        ws.write_string(i, 1, text, fmt.plain)
        height = _guide_line_height(label, text)
        if height:
            ws.set_row(i, height)
    ws.protect("")
    _print_setup(ws, 2)
    ws.set_portrait()
    ws.activate()


_INFO_NOTES = {
    "meeting_date": "Chỉ điền ở kỳ tháng 11",
    "attendees": "Chỉ điền ở kỳ tháng 11",
    "chair": "Chỉ điền ở kỳ tháng 11",
    "secretary": "Chỉ điền ở kỳ tháng 11",
    "report_date": "ngày/tháng/năm",
}
_INFO_LOCKED = ("unit_code", "unit_name", "period")


def _info_sheet(book, fmt: _Formats) -> None:
    """Thông tin but its rows (_info_blocks): the title, widths and validations."""
    ws = book.add_worksheet(S.FORM_INFO.name)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 50)
    ws.write_string(0, 0, "THÔNG TIN BÁO CÁO", fmt.title)
    for i, column in enumerate(S.FORM_INFO.columns, start=1):
        rule = _validation(column)
        if rule and column.key not in _INFO_LOCKED:
            ws.data_validation(i, 1, i, 1, rule)
    ws.protect("")
    _print_setup(ws, 3)


def _info_blocks(fmt: _Formats, unit: Unit, period: Period, info: dict[str, object]) -> list[Block]:
    """Thông tin's rows, a block each (a row is written whole by one writer): the label, the
    value (the unit and period, locked, then ``info``) and a note."""
    values = {"unit_code": unit.code, "unit_name": unit.name, "period": str(period), **info}
    blocks = []
    for i, column in enumerate(S.FORM_INFO.columns, start=1):
        style = _cell_format(column, fmt, column.key in _INFO_LOCKED)
        value = _cell_value(values.get(column.key), column)
        cells = [
            FastColumn([column.label], fmt.header),
            FastColumn([value], style, text=column.kind == "code"),
            FastColumn([_INFO_NOTES.get(column.key, "")], fmt.hint),
        ]
        blocks.append(Block(i, 0, cells, 1))
    return blocks


def _meta_sheet(book, catalogue: Catalogue) -> None:
    """The hidden _meta sheet but the rows naming the unit and period (_meta_blocks)."""
    ws = book.add_worksheet(S.FORM_META)
    values = {
        "form_code": S.FORM_CODE,
        "form_version": S.FORM_VERSION,
        "catalogue_fingerprint": catalogue.fingerprint,
    }
    for i, key in enumerate(S.META_KEYS):
        if key in values:
            ws.write_string(i, 0, key)
            ws.write_string(i, 1, str(values[key]))
    ws.hide()


def _meta_blocks(unit: Unit, period: Period) -> list[Block]:
    values = {"unit_code": unit.code, "period": str(period)}
    return [
        Block(i, 0, [FastColumn([key], None), FastColumn([values[key]], None, text=True)], 1)
        for i, key in enumerate(S.META_KEYS)
        if key in values
    ]


# A list sheet's last row (0-based) in a prototype: 987,650 + the sheet's position. Its 1-based
# form, 987,651 and on, appears only in the sheet's and the workbook's cell references (the
# validations, the filter and its defined name), where the unit's last row replaces it.
_PLACEHOLDER_LAST = 987_650
_PLACEHOLDER_REF = re.compile(rb"(?<=[A-Z$])(98765\d)(?!\d)")
_PLACEHOLDER_PARTS = ("xl/worksheets/sheet", "xl/workbook.xml")  # where it may appear
_PLACEHOLDER_CODE = "MA-DON-VI-KIEUMAU"  # the unit's code in the document title
_PROTOTYPES: dict[tuple[int, bool, str], _Prototype] = {}
_PROTOTYPES_KEPT = 8


@dataclass
class _Prototype:
    """xlsxwriter's part of every form of a kind of unit (tổ dân phố or agency) for a period:
    a next-month form's styles, guide, headers, validations, protection and print setup,
    made once and reused (a third of what a form cost). Only the unit's cells, written by the
    fast row writer, and its list sheets' last rows differ from one unit to the next."""

    parts: list[tuple[zipfile.ZipInfo, bytes]]
    fmt: _Formats
    sheets: dict[str, int]  # sheet name -> its index, for the unit's blocks
    catalogue: Catalogue  # frozen; held, so that the key's id() stays its own while cached

    def source(self, lasts: dict[int, int], unit_code: str) -> io.BytesIO:
        """The unit's workbook but its blocks, as a zip of stored parts (fastrows.inject)."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for info, data in self.parts:
                if info.filename.startswith(_PLACEHOLDER_PARTS):
                    data = _PLACEHOLDER_REF.sub(
                        lambda m: b"%d" % (lasts[int(m[1]) - _PLACEHOLDER_LAST - 1] + 1), data
                    )
                elif info.filename == "docProps/core.xml":
                    data = data.replace(_PLACEHOLDER_CODE.encode(), escape(unit_code).encode())
                archive.writestr(info, data)
        return out


def _prototype(catalogue: Catalogue, is_tdp: bool, period: Period) -> _Prototype:
    key = (id(catalogue), is_tdp, str(period))
    if key not in _PROTOTYPES:
        if len(_PROTOTYPES) >= _PROTOTYPES_KEPT:
            del _PROTOTYPES[next(iter(_PROTOTYPES))]
        _PROTOTYPES[key] = _make_prototype(catalogue, is_tdp, period)
    return _PROTOTYPES[key]


def _make_prototype(catalogue: Catalogue, is_tdp: bool, period: Period) -> _Prototype:
    book = xlsxwriter.Workbook(io.BytesIO(), WORKBOOK_OPTIONS)
    # A fixed creation date keeps the same inputs byte-identical (the samples test needs it).
    book.set_properties(
        {
            "title": f"Biểu mẫu kiểu mẫu {_PLACEHOLDER_CODE} {period}",
            "author": "kieumau",
            "created": dt.datetime(period.year, period.month, 1),
        }
    )
    fmt = _Formats(book)
    limits = {c.code: bounds for c in catalogue.criteria if (bounds := c.rules.bounds())}
    limits["planned_month"] = MONTHS
    _guide_sheet(book, fmt, catalogue, is_tdp, period)
    _info_sheet(book, fmt)
    tables: dict[str, int] = {}
    for name, hint, columns, locked in _tables(catalogue, is_tdp):
        tables[name] = len(book.worksheets())
        last = _PLACEHOLDER_LAST + tables[name]
        _table_sheet(book, fmt, name, hint, columns, locked, last, limits=limits)
    _meta_sheet(book, catalogue)
    sheets = {ws.name: ws.index for ws in book.worksheets()}
    # Every format a unit's cells may take gets its index before the styles are written.
    for style in vars(fmt).values():
        style._get_xf_index()
    parts = closed_parts(book)
    found = {
        int(m)
        for info, data in parts
        if info.filename.startswith(_PLACEHOLDER_PARTS)
        for m in _PLACEHOLDER_REF.findall(data)
    }
    if found != {_PLACEHOLDER_LAST + 1 + index for index in tables.values()}:
        raise RuntimeError(f"form prototype: unexpected row references {sorted(found)}")
    return _Prototype(parts, fmt, sheets, catalogue)


def _tables(catalogue: Catalogue, is_tdp: bool) -> list[tuple[str, str, list[S.Column], set[str]]]:
    """(sheet name, hint line, columns, locked column keys) of each list sheet of a form."""
    tables = [
        (
            S.FORM_CITIZENS.name,
            "Ô trắng là ô nhập. Đạt/Chưa đạt chọn trong danh sách; để trống = chưa đánh giá.",
            citizen_columns(catalogue),
            {"row_no"},
        )
    ]
    if is_tdp:
        tables += [
            (
                S.FORM_HOUSEHOLDS.name,
                "Mỗi dòng một hộ. Các tiêu chí tính tự động không có ở đây.",
                household_columns(catalogue),
                {"row_no"},
            ),
            (
                S.FORM_UNIT.name,
                "Mỗi dòng một phần việc. Kết quả kiểm tra của BCĐ (tháng 11) thay cho "
                "Tự đánh giá khi có.",
                list(S.FORM_UNIT.columns),
                {"criterion", "task", "text"},
            ),
        ]
    return tables


_TITLES = {
    S.FORM_CITIZENS.name: "DANH SÁCH CÔNG DÂN",
    S.FORM_HOUSEHOLDS.name: "DANH SÁCH HỘ GIA ĐÌNH",
    S.FORM_UNIT.name: "TIÊU CHÍ TỔ DÂN PHỐ",
}


def write_form(
    catalogue: Catalogue, unit: Unit, period: Period, path: Path, roster: Roster | None = None
) -> Path:
    """Write one unit's workbook for a period; return its path. Written atomically."""
    roster = roster or Roster()
    proto = _prototype(catalogue, unit.is_tdp, period)
    fmt = proto.fmt
    pending: dict[int, list[Block]] = {
        proto.sheets[S.FORM_GUIDE]: _guide_blocks(fmt, unit, period),
        proto.sheets[S.FORM_INFO.name]: _info_blocks(fmt, unit, period, roster.info),
        proto.sheets[S.FORM_META]: _meta_blocks(unit, period),
    }
    caption = f"{unit.name} - tháng {period.month:02d}/{period.year}"
    lasts: dict[int, int] = {}
    for name, _, columns, locked in _tables(catalogue, unit.is_tdp):
        if name == S.FORM_UNIT.name:
            listed, n = _task_rows(catalogue, roster)
            extra_rows = 0
        else:
            frame = roster.citizens if name == S.FORM_CITIZENS.name else roster.households
            listed, n, extra_rows = _listed(frame, columns, roster.cleared), len(frame), EXTRA_ROWS
        index = proto.sheets[name]
        title = f"{_TITLES[name]} - {caption}"
        pending[index] = _table_blocks(fmt, title, columns, listed, n, locked, extra_rows)
        lasts[index] = HEADER_ROW + n + extra_rows
    with atomic_path(path) as tmp:
        inject(tmp, pending, proto.source(lasts, unit.code))
    return path
