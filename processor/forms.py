"""Unit workbooks (biểu mẫu), pre-filled from a roster (SPEC §3).

The same writer makes the blank form of a new unit, next month's pre-filled form and the demo
town's filled forms: a roster is just the values to put in the input cells.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from processor import schema as S
from processor.catalogue import Catalogue, Criterion, Unit
from processor.fastrows import Block, close_and_inject, register_formats
from processor.fastrows import Column as FastColumn
from processor.output_files import atomic_path
from processor.periods import Period
from processor.xlsx import WORKBOOK_OPTIONS, line_count, row_heights

# Blank input rows left under the roster, so units can add new residents without inserting rows.
EXTRA_ROWS = 100
HEADER_ROW = 2  # 0-based: a title line, a hint line, then the header
MAX_DATE = dt.date(2100, 12, 31)
MIN_DATE = dt.date(1900, 1, 1)
MONTHS = (1, 12)  # `Tháng hoàn thành dự kiến` of the roadmap (seed III.1)
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


def criterion_column(criterion: Criterion) -> S.Column:
    """How a criterion appears as a form column: a dropdown for `dat`, a number otherwise."""
    if criterion.kind == "dat":
        return S.Column(criterion.code, criterion.label, "choice", False, S.PASS_FAIL, 14)
    if criterion.kind == "diem":
        return S.Column(
            criterion.code,
            criterion.label,
            "number",
            False,
            (),
            14,
            note=f"0..{criterion.points:g}",
        )
    return S.Column(criterion.code, criterion.label, "number", False, (), 14)


def citizen_columns(catalogue: Catalogue) -> list[S.Column]:
    crits = [criterion_column(c) for c in catalogue.form_criteria(catalogue.citizen_title.code)]
    return [*S.FORM_CITIZENS.columns, *crits, S.VOTES, S.NOTE]


def household_columns(catalogue: Catalogue) -> list[S.Column]:
    crits = [criterion_column(c) for c in catalogue.form_criteria(catalogue.household_title.code)]
    return [*S.FORM_HOUSEHOLDS.columns, *crits, S.VOTES, S.NOTE]


def unit_task_rows(catalogue: Catalogue) -> list[dict[str, object]]:
    """One row per task of each unit criterion, or per criterion without tasks (SPEC §3)."""
    rows: list[dict[str, object]] = []
    for criterion in catalogue.form_criteria(catalogue.unit_title.code):
        tasks = catalogue.tasks_of(criterion.code)
        if tasks:
            rows += [{"criterion": criterion.code, "task": t.code, "text": t.text} for t in tasks]
        else:
            rows.append({"criterion": criterion.code, "task": "", "text": criterion.text})
    return rows


def _line_count(text: object, width: float, bold: bool = False) -> int:
    """Lines a wrapped cell of ``width`` needs for ``text`` (an estimate, erring on more)."""
    if not isinstance(text, str):
        return 1
    per_line = max(1, int(width * (CHARS_PER_WIDTH_BOLD if bold else CHARS_PER_WIDTH)) - 1)
    return line_count(text, per_line)


def _wraps(column: S.Column, locked: bool) -> bool:
    """Text columns that wrap (see `_cell_format`): their rows need a height."""
    return column.kind == "text" and (locked or column.width >= 24)


def _write_value(ws: Worksheet, row: int, col: int, value: object, column: S.Column, fmt) -> None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        ws.write_blank(row, col, None, fmt)
    elif column.kind == "date" and isinstance(value, dt.date):
        ws.write_datetime(row, col, value, fmt)
    elif column.kind == "code" or isinstance(value, str):
        # write_string: a name starting with '=' stays text, never becomes a formula.
        ws.write_string(row, col, str(value), fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _table_sheet(
    book,
    fmt: _Formats,
    name: str,
    title: str,
    hint: str,
    columns: list[S.Column],
    listed: dict[str, list],
    n: int,
    locked_keys: set[str],
    pending: dict[int, list[Block]],
    extra_rows: int = EXTRA_ROWS,
    limits: dict[str, tuple[float, float]] | None = None,
) -> None:
    """A list sheet of ``n`` rows, ``listed`` giving the values of its columns by key (a
    column not there is blank); its cells go to ``pending`` for the fast row writer
    (processor.fastrows)."""
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, title, fmt.title)
    ws.write_string(1, 0, hint, fmt.hint)
    header_lines = max(_line_count(c.label, c.width, bold=True) for c in columns)
    ws.set_row(HEADER_ROW, LINE_HEIGHT * max(3, header_lines))
    for j, column in enumerate(columns):
        ws.write_string(HEADER_ROW, j, column.label, fmt.header)
        ws.set_column(j, j, column.width)
    first, last = HEADER_ROW + 1, HEADER_ROW + n + extra_rows
    filled, blank = [], []
    for j, column in enumerate(columns):
        locked = column.key in locked_keys
        values = listed.get(column.key, [None] * n)
        if column.key == "row_no":
            values = list(range(1, n + 1))
        # Codes and IDs are written as text so a CCCD keeps its leading zero.
        as_text = column.kind == "code"
        filled.append(FastColumn(values, _cell_format(column, fmt, locked), text=as_text))
        # The blank rows below the roster are input cells, for new residents.
        blank.append(FastColumn([None] * extra_rows, _cell_format(column, fmt, False)))
        rule = _validation(column, (limits or {}).get(column.key))
        if rule and not locked:
            ws.data_validation(first, j, last, j, rule)
    if n:
        heights = _fitted_heights(columns, listed, locked_keys)
        pending.setdefault(ws.index, []).append(Block(first, 0, filled, n, heights))
    if extra_rows:
        pending.setdefault(ws.index, []).append(Block(first + n, 0, blank, extra_rows))
    for block in pending.get(ws.index, []):
        register_formats(block)
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


def _guide_sheet(book, fmt: _Formats, catalogue: Catalogue, unit: Unit, period: Period) -> None:
    ws = book.add_worksheet(S.FORM_GUIDE)
    label_width, text_width = 18, 110
    ws.set_column(0, 0, label_width)
    ws.set_column(1, 1, text_width)
    deadline = catalogue.setting("han_nop", "25")
    email = catalogue.setting("email_nhan")
    receiver = catalogue.setting("can_bo_tiep_nhan", "cán bộ Văn hóa - Xã hội")
    lines: list[tuple[str, str]] = [
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
        if criterion.kind == "tong_hop":
            how = "tính tự động"
        elif criterion.kind == "dat":
            how = "Đạt / Chưa đạt"
        elif criterion.kind == "diem":
            how = f"điểm từ 0 đến {criterion.points:g}"
        else:
            how = (
                f"nhập số ({criterion.unit_of_measure or 'số'}), đạt khi {criterion.comparator} "
                f"{criterion.threshold:g}"
            )
        mandatory = " (bắt buộc)" if criterion.mandatory else ""
        lines.append(
            (
                criterion.code,
                f"{criterion.short_name}{mandatory}: {criterion.text}. Cách ghi: {how}.",
            )
        )
    for i, (label, text) in enumerate(lines):
        ws.write_string(i, 0, label, fmt.bold)
        ws.write_string(i, 1, text, fmt.title if i == 0 else fmt.plain)
        count = max(_line_count(label, label_width, bold=True), _line_count(text, text_width))
        if i and count > 1:
            ws.set_row(i, LINE_HEIGHT * count)
    ws.protect("")
    _print_setup(ws, 2)
    ws.set_portrait()
    ws.activate()


def _info_sheet(book, fmt: _Formats, unit: Unit, period: Period, info: dict[str, object]) -> None:
    ws = book.add_worksheet(S.FORM_INFO.name)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 50)
    values = {"unit_code": unit.code, "unit_name": unit.name, "period": str(period), **info}
    notes = {
        "meeting_date": "Chỉ điền ở kỳ tháng 11",
        "attendees": "Chỉ điền ở kỳ tháng 11",
        "chair": "Chỉ điền ở kỳ tháng 11",
        "secretary": "Chỉ điền ở kỳ tháng 11",
        "report_date": "ngày/tháng/năm",
    }
    ws.write_string(0, 0, "THÔNG TIN BÁO CÁO", fmt.title)
    for i, column in enumerate(S.FORM_INFO.columns, start=1):
        locked = column.key in ("unit_code", "unit_name", "period")
        ws.write_string(i, 0, column.label, fmt.header)
        _write_value(ws, i, 1, values.get(column.key), column, _cell_format(column, fmt, locked))
        ws.write_string(i, 2, notes.get(column.key, ""), fmt.hint)
        rule = _validation(column)
        if rule and not locked:
            ws.data_validation(i, 1, i, 1, rule)
    ws.protect("")
    _print_setup(ws, 3)


def _meta_sheet(book, catalogue: Catalogue, unit: Unit, period: Period) -> None:
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


def write_form(
    catalogue: Catalogue, unit: Unit, period: Period, path: Path, roster: Roster | None = None
) -> Path:
    """Write one unit's workbook for a period; return its path. Written atomically."""
    roster = roster or Roster()
    with atomic_path(path) as tmp:
        # Made in memory: fastrows.close_and_inject writes the workbook to tmp once.
        book = xlsxwriter.Workbook(io.BytesIO(), WORKBOOK_OPTIONS)
        # A fixed creation date keeps the same inputs byte-identical (the samples test needs it).
        book.set_properties(
            {
                "title": f"Biểu mẫu kiểu mẫu {unit.code} {period}",
                "author": "kieumau",
                "created": dt.datetime(period.year, period.month, 1),
            }
        )
        fmt = _Formats(book)
        pending: dict[int, list[Block]] = {}
        limits = {
            c.code: (0, c.points) for c in catalogue.criteria if c.kind == "diem" and c.points
        }
        limits["planned_month"] = MONTHS
        _guide_sheet(book, fmt, catalogue, unit, period)
        _info_sheet(book, fmt, unit, period, roster.info)
        caption = f"{unit.name} - tháng {period.month:02d}/{period.year}"
        citizens, households = citizen_columns(catalogue), household_columns(catalogue)
        task_values, task_rows = _task_rows(catalogue, roster)
        _table_sheet(
            book,
            fmt,
            S.FORM_CITIZENS.name,
            f"DANH SÁCH CÔNG DÂN - {caption}",
            "Ô trắng là ô nhập. Đạt/Chưa đạt chọn trong danh sách; để trống = chưa đánh giá.",
            citizens,
            _listed(roster.citizens, citizens, roster.cleared),
            len(roster.citizens),
            {"row_no"},
            pending,
            limits=limits,
        )
        if unit.is_tdp:
            _table_sheet(
                book,
                fmt,
                S.FORM_HOUSEHOLDS.name,
                f"DANH SÁCH HỘ GIA ĐÌNH - {caption}",
                "Mỗi dòng một hộ. Các tiêu chí tính tự động không có ở đây.",
                households,
                _listed(roster.households, households, roster.cleared),
                len(roster.households),
                {"row_no"},
                pending,
                limits=limits,
            )
            _table_sheet(
                book,
                fmt,
                S.FORM_UNIT.name,
                f"TIÊU CHÍ TỔ DÂN PHỐ - {caption}",
                "Mỗi dòng một phần việc. Kết quả kiểm tra của BCĐ (tháng 11) thay cho "
                "Tự đánh giá khi có.",
                list(S.FORM_UNIT.columns),
                task_values,
                task_rows,
                {"criterion", "task", "text"},
                pending,
                extra_rows=0,
                limits=limits,
            )
        _meta_sheet(book, catalogue, unit, period)
        close_and_inject(book, tmp, pending)
    return path
