"""Per-unit feedback workbooks `phan_hoi/<unit>_YYYY-MM.xlsx` (SPEC §4 step 5).

A unit gets back its own workbook with each problem marked on its cell (a fill and a comment)
and a first sheet listing the problems in plain Vietnamese, plus its results. When the unit's
file cannot be edited in place (.xls, .ods, or unreadable), the list and results come alone.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from processor.domain.catalogue import Catalogue, Unit
from processor.domain.issues import ERROR, WARNING, Issue
from processor.domain.periods import Period
from processor.domain.unit_report import deadline, received_line, thousands, title_lines
from processor.intake.submission import Submission
from processor.outputs._xlsx import xlsxpatch
from processor.outputs._xlsx.book import (
    Book,
    column_width,
    header_height,
    numbers,
    pages_across,
    print_wide,
    row_heights,
    write_cell,
    write_table,
)
from processor.outputs.files import atomic_path
from processor.outputs.summary import (
    REGISTER_KEYS,
    citizen_labels,
    household_labels,
    register_widths,
    unit_labels,
)
from processor.scoring.score import Results

FEEDBACK_SHEET = "Phản hồi"
RESULTS_SHEETS = {
    "citizens": "Kết quả công dân",
    "households": "Kết quả hộ",
    "units": "Kết quả tổ dân phố",
}
_CELL = re.compile(r"^[A-Z]{1,3}\d+$")
# The list of problems: whom, where and what to do first; the code last, for the clerk.
LIST_COLUMNS = ("STT", "Người hoặc hộ", "Ô", "Việc cần làm", "Nội dung", "Mã lỗi")
_MESSAGE_COLUMN = LIST_COLUMNS.index("Nội dung")
# The message's column wraps at this many characters (a result's reason: REASON_WIDTH).
_MESSAGE_WIDTH = 70
# The summary's lines are cut to this many characters: narrower than the list, so each prints
# whole where it spills over the empty cells to its right.
_LINE_CHARS = 160
# Where the cells to fix are shown: coloured in the unit's own workbook, or only listed.
_MARKED = (
    "Các ô cần sửa được tô đỏ trong các sheet của tệp này, ô cần xem lại tô vàng; di chuột vào "
    "ô để đọc ghi chú. Hãy sửa ngay trong tệp này rồi gửi lại."
)
_LISTED = (
    "Danh sách dưới đây ghi từng ô theo sheet và dòng: hãy sửa trong tệp của đơn vị rồi gửi lại."
)
# Files refused before or while parsing: never handed to openpyxl.
_UNREADABLE = {
    "FILE_NOT_SPREADSHEET",
    "FILE_CORRUPT",
    "FILE_PASSWORD",
    "FILE_TOO_LARGE",
    "FILE_UNSAFE_XML",
    "FILE_FORMAT_UNSUPPORTED",
}


def _labels(catalogue: Catalogue) -> dict[str, dict[str, str]]:
    return {
        "citizens": citizen_labels(catalogue),
        "households": household_labels(catalogue),
        "units": unit_labels(catalogue),
    }


def shown_results(catalogue: Catalogue, results: Results) -> Results:
    """``results`` with only what a feedback shows: the columns of its results sheets.

    A feedback written in a worker process receives its unit's results pickled; the columns it
    never shows (CCCD, birth date, notes, row numbers, tasks) were a third of what was sent.
    """
    kept = {
        key: getattr(results, key)[[c for c in labels if c in getattr(results, key).columns]]
        for key, labels in _labels(catalogue).items()
    }
    # The first sheet says how many registration leaves out (_left_out).
    counts = [c for c in ("citizens_not_registered", "households_not_registered")
              if c in results.units.columns]  # fmt: skip
    kept["units"] = kept["units"].join(results.units[counts])
    return Results(kept["citizens"], kept["households"], kept["units"])


def _unit_results(results: Results, unit: Unit) -> dict[str, pd.DataFrame]:
    """The unit's rows of each level, by key of RESULTS_SHEETS; a worker's job holds only them
    (then nothing is copied)."""
    out = {}
    for key in RESULTS_SHEETS:
        frame = getattr(results, key)
        mine = frame["unit_code"].to_numpy() == unit.code
        out[key] = frame if mine.all() else frame[mine]
    return out


def write_feedback(
    path: Path,
    catalogue: Catalogue,
    unit: Unit,
    period: Period,
    submissions: list[Submission],
    issues: list[Issue],
    results: Results,
) -> Path:
    names = {s.name for s in submissions if s.unit_code == unit.code}
    mine = [i for i in issues if i.file in names]
    own = [s for s in submissions if s.unit_code == unit.code]
    marked = [i for i in mine if _marked(i)]
    # The file the unit will edit and send back: the one that counted, else its latest.
    target = next((s for s in own if s.status.counts), own[-1] if own else None)
    # Only a workbook the safety checks passed whole is opened again (openpyxl loads it all).
    editable = (
        target is not None
        and target.path.suffix.lower() in (".xlsx", ".xlsm")
        and target.sha256 != ""
        and not target.oversized
        and not any(i.code in _UNREADABLE for i in target.issues)
    )

    shown = _unit_results(results, unit)

    def page(how: str) -> _Page:
        return _page(catalogue, unit, period, own, mine, shown, how)

    note = ""
    if marked and editable and target is not None:
        try:
            return _patch_own_workbook(path, target, catalogue, unit, mine, shown, page(_MARKED))
        except xlsxpatch.Unsupported as exc:
            # A layout xlsxpatch does not edit (its docstring says which it does): the unit
            # gets the list below, told why its cells are not coloured. Any other error is a
            # fault and stops the run. openpyxl, which edits any layout, is not a fallback:
            # it took about ten times xlsxpatch's time (benchmarks/README.md, issue 22).
            note = (
                f"Các ô không tô màu được trên tệp {target.name}: chương trình chưa sửa được "
                f"cách tệp này được lưu ({exc})."
            )[:300]
    return _plain_feedback(path, catalogue, unit, shown, page(f"{note} {_LISTED}".strip()))


def _left_out(row: pd.DataFrame) -> str:
    """Who registration leaves out of the unit's results (its ``row`` of the units' results),
    said on the first sheet: each row's Lý do says why, but a clean form's feedback must not
    read as if everyone counted."""
    keys = {"citizens_not_registered": "công dân", "households_not_registered": "hộ"}
    if row.empty or not set(keys) <= set(row.columns):
        return ""
    parts = [f"{int(row[key].iloc[0])} {noun}" for key, noun in keys.items() if row[key].iloc[0]]
    if not parts:
        return ""
    return (
        f"{' và '.join(parts)} không được xét danh hiệu vì chưa đăng ký thi đua hoặc đăng ký "
        "muộn không được tính: Lý do ghi ở từng dòng của sheet Kết quả công dân, Kết quả hộ."
    )


@dataclass
class _Page:
    """The Phản hồi sheet: the summary's lines (text, style), then the list's rows."""

    lines: list[tuple[str, str]]
    rows: list[list[object]]

    @property
    def header_row(self) -> int:
        """0-based row of the list's header: after the summary and a blank row."""
        return len(self.lines) + 1


def _page(
    catalogue: Catalogue,
    unit: Unit,
    period: Period,
    own: list[Submission],
    issues: list[Issue],
    results: dict[str, pd.DataFrame],
    how: str,
) -> _Page:
    """What a tổ trưởng reads first: what was received, how many reach each title so far, how
    many cells to fix and by when (as the mail that carries the workbook says it, in words
    shared through domain.unit_report); then one line per problem, fixes first. ``how`` says
    where the cells are shown (coloured in this workbook, or only listed)."""
    title = f"PHẢN HỒI KẾT QUẢ TỔNG HỢP - {unit.name.upper()} - {period.label.upper()}"
    lines = [
        (title, "title"),
        ("", "text"),
        *_received(own),
        *_results_so_far(catalogue, unit, period, results),
        *_to_fix(issues, how),
        *_next_deadline(catalogue, period),
    ]
    files = {i.file for i in issues}
    rows = [
        [n, *_where(issue, len(files) > 1), issue.text, issue.code]
        for n, issue in enumerate(sorted(issues, key=lambda i: not i.needs_fix), start=1)
    ]
    return _Page(_wrapped(lines), rows)


def _received(own: list[Submission]) -> list[tuple[str, str]]:
    """1. The unit's files in force (or, when every one was set aside, all of them)."""
    shown = [s for s in own if not s.status.set_aside] or own
    return [("1. Đã nhận:", "heading")] + [
        (
            "   - "
            + received_line(
                s.name, s.status, s.rows_read, s.rows_accepted, s.rows_rejected, s.received_at
            ),
            "text",
        )
        for s in shown
    ]


def _results_so_far(
    catalogue: Catalogue, unit: Unit, period: Period, mine: dict[str, pd.DataFrame]
) -> list[tuple[str, str]]:
    """2. How many reach each title so far, and whom registration leaves out."""
    counts = title_lines(catalogue, unit, mine["citizens"], mine["households"], mine["units"])
    lines = [(f"2. Kết quả đến {period.label}:", "heading")]
    lines += [(f"   - {line}", "text") for line in counts or ["Chưa có kết quả."]]
    left_out = _left_out(mine["units"])
    if left_out:
        lines.append((f"   {left_out}", "text"))
    return lines


def _to_fix(issues: list[Issue], how: str) -> list[tuple[str, str]]:
    """3. How many cells to fix, how many notes to look at, and where they are shown."""
    fixes = sum(1 for i in issues if i.needs_fix)
    notes = len(issues) - fixes
    if fixes:
        # A cell, or a row or a file when the problem has no one cell (a row of another unit).
        what = "ô" if all(i.cell for i in issues if i.needs_fix) else "mục"
        text = f"3. Cần sửa: {thousands(fixes)} {what} (dòng ghi Cần sửa ở danh sách dưới)."
        lines = [(text, "heading")]
    else:
        lines = [("3. Không có ô nào cần sửa. Xin cảm ơn!", "heading")]
    if notes:
        lines.append(
            (f"   Ngoài ra có {thousands(notes)} lưu ý cần xem lại (không bắt buộc sửa).", "text")
        )
    if issues:
        lines.append((f"   {how}", "text"))
    return lines


def _next_deadline(catalogue: Catalogue, period: Period) -> list[tuple[str, str]]:
    """4. By when next month's form is due, when the catalogue sets a deadline."""
    following = period.next()
    due = deadline(catalogue, following, default="")
    if not due:
        return []
    return [(f"4. Hạn nộp biểu mẫu {following.label}: trước {due}.", "heading")]


def _wrapped(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Long lines go on to the next row, indented as they began."""
    return [
        (part, style)
        for line, style in lines
        for part in textwrap.wrap(
            line, _LINE_CHARS, subsequent_indent=" " * (len(line) - len(line.lstrip()) + 2)
        )
        or [""]
    ]


def _where(issue: Issue, name_file: bool) -> list[str]:
    """Whom (with the row), which cell, what to do: 'Trần Thị Bình (dòng 5)', 'Công dân, ô E5',
    'Cần sửa'."""
    row = issue.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    # A row without a name is already named by its number ('Dòng 6').
    named = issue.who and row and not issue.who.startswith("Dòng ")
    who = f"{issue.who} (dòng {row})" if named else issue.who
    if issue.sheet and issue.cell:
        where = f"{issue.sheet}, ô {issue.cell}"
    elif issue.sheet:
        where = f"Sheet {issue.sheet}"
    else:
        where = f"Tệp {issue.file}"
    if name_file and issue.sheet:
        where = f"{issue.file}: {where}"
    return [who, where, "Cần sửa" if issue.needs_fix else "Xem lại"]


def _list_widths(page: _Page) -> dict[int, float]:
    """Characters wide for each column of the list: its longest value (column_width), the
    message's column wrapped at a fixed width."""
    widths = {}
    for j, label in enumerate(LIST_COLUMNS):
        if j == _MESSAGE_COLUMN:
            widths[j] = float(_MESSAGE_WIDTH)
        else:
            widths[j] = column_width(label, [str(row[j]) for row in page.rows])
    return widths


def _plain_feedback(
    path: Path, catalogue: Catalogue, unit: Unit, results: dict[str, pd.DataFrame], page: _Page
) -> Path:
    with atomic_path(path) as tmp:
        book = Book(tmp)
        ws = book.sheet(FEEDBACK_SHEET)
        styles = {"title": book.title, "heading": book.bold, "text": book.base}
        for i, (line, style) in enumerate(page.lines):
            if line:
                ws.write_string(i, 0, line, styles[style])
        if page.rows:
            widths = _list_widths(page)
            for j, width in widths.items():
                ws.set_column(j, j, width)
            first = page.header_row
            ws.set_row(first, 32)
            for j, label in enumerate(LIST_COLUMNS):
                ws.write_string(first, j, label, book.header)
            messages = [row[_MESSAGE_COLUMN] for row in page.rows]
            heights = row_heights([(messages, widths[_MESSAGE_COLUMN])])
            for i, row in enumerate(page.rows):
                ws.set_row(first + 1 + i, heights.get(i))
                for j, value in enumerate(row):
                    fmt = {0: book.number, _MESSAGE_COLUMN: book.wrap}.get(j, book.base)
                    write_cell(ws, first + 1 + i, j, value, fmt)
            ws.autofilter(first, 0, first + len(page.rows), len(LIST_COLUMNS) - 1)
            ws.repeat_rows(first)
        _results_sheets(book, catalogue, unit, results)
        book.close()
    return path


def _results_sheets(
    book: Book, catalogue: Catalogue, unit: Unit, results: dict[str, pd.DataFrame]
) -> None:
    for name, frame, columns in _result_frames(catalogue, unit, results):
        ws = book.sheet(name)
        widths = register_widths(catalogue, frame, columns)
        write_table(book, ws, frame, columns, widths=widths)
        print_wide(ws, list(widths.values()), REGISTER_KEYS)


def _result_frames(
    catalogue: Catalogue, unit: Unit, results: dict[str, pd.DataFrame]
) -> list[tuple[str, pd.DataFrame, dict[str, str]]]:
    """(sheet name, rows, column labels) of the unit's ``results`` (_unit_results), in the
    order they are shown. A frame may hold other columns: each sheet reads its own by label
    (copying the units' row without the counts _left_out reads cost more than its sheet)."""
    labels = _labels(catalogue)
    out = []
    for key, frame in results.items():
        if frame.empty or (key == "units" and not unit.is_tdp):
            continue
        columns = {c: label for c, label in labels[key].items() if c in frame.columns}
        out.append((RESULTS_SHEETS[key], frame, columns))
    return out


def _marked(issue: Issue) -> bool:
    """Whether the problem is on one cell of a sheet, to be coloured there."""
    return bool(_CELL.match(issue.cell) and issue.sheet)


def _patch_own_workbook(
    path: Path,
    target: Submission,
    catalogue: Catalogue,
    unit: Unit,
    issues: list[Issue],
    results: dict[str, pd.DataFrame],
    page: _Page,
) -> Path:
    """The unit's workbook marked by editing its XML (_xlsx.xlsxpatch): no full load."""
    marks = [
        # A cell to fix (rejected, or read as unknown) in the error colour; a note in the other.
        xlsxpatch.Mark(i.sheet, i.cell, i.needs_fix, f"[{i.severity}] {i.message}")
        for i in issues
        if _marked(i)
    ]
    sheets = [_feedback_sheet(page)] + [
        _result_sheet(catalogue, name, frame, columns)
        for name, frame, columns in _result_frames(catalogue, unit, results)
    ]
    with atomic_path(path) as tmp:
        xlsxpatch.mark_workbook(
            target.path,
            tmp,
            marks,
            sheets,
            replace=[FEEDBACK_SHEET, *RESULTS_SHEETS.values()],
            note_prefixes=(f"[{ERROR}]", f"[{WARNING}]"),
        )
    return path


def _feedback_sheet(page: _Page) -> xlsxpatch.NewSheet:
    """The Phản hồi sheet, as _plain_feedback writes it: the summary, then the list."""
    first = page.header_row
    listing_heights = row_heights([([row[_MESSAGE_COLUMN] for row in page.rows], _MESSAGE_WIDTH)])
    table = [list(LIST_COLUMNS), *page.rows] if page.rows else []
    return xlsxpatch.NewSheet(
        FEEDBACK_SHEET,
        rows=[[line] for line, _ in page.lines] + [[]] + table,
        row_styles=[style for _, style in page.lines]
        + ["plain"]
        + (["header"] + ["plain"] * len(page.rows) if table else []),
        widths=_list_widths(page),
        wrap_columns=frozenset({_MESSAGE_COLUMN}),
        center_columns=frozenset({0}),  # STT
        heights={first: 32} | {first + 1 + i: h for i, h in listing_heights.items()},
        autofilter_from_row=first + 1 if table else None,
        print_title_row=first + 1 if table else None,
    )


def _result_sheet(
    catalogue: Catalogue, name: str, frame: pd.DataFrame, columns: dict[str, str]
) -> xlsxpatch.NewSheet:
    """One level's results, as _results_sheets writes them (write_table, print_wide)."""
    keys = list(columns)
    # Each column read once, as write_table reads it (Series.tolist), and kept as a column.
    values = [frame[key].tolist() for key in keys]
    # Widths are taken from the first rows (column_width), reasons' heights from all.
    widths = register_widths(catalogue, frame, columns)
    reasons = [(values[j], widths[key]) for j, key in enumerate(keys) if key == "reason"]
    pages = pages_across(list(widths.values()), sum(list(widths.values())[:REGISTER_KEYS]))
    return xlsxpatch.NewSheet(
        name,
        rows=[list(columns.values())],
        row_styles=["header"],
        table=values,
        widths=dict(enumerate(widths.values())),
        wrap_columns=frozenset(j for j, key in enumerate(keys) if key == "reason"),
        center_columns=frozenset(j for j, column in enumerate(values) if numbers(column)),
        freeze_first_row=True,
        autofilter_from_row=1,
        print_title_row=1,
        pages_across=pages,
        print_title_columns=REGISTER_KEYS if pages > 1 else 0,
        # The header row as write_table makes it: its labels wrapped.
        heights={0: header_height(list(columns.values()), list(widths.values()))}
        | {1 + i: h for i, h in row_heights(reasons).items()},
    )
