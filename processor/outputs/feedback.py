"""Per-unit feedback workbooks `phan_hoi/<unit>_YYYY-MM.xlsx` (SPEC §4 step 5).

A unit gets back its own workbook with each problem marked on its cell (a fill and a comment)
and a first sheet listing the problems in plain Vietnamese, plus its results. When the unit's
file cannot be edited in place (.xls, .ods, or unreadable), the list and results come alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from processor.domain.catalogue import Catalogue, Unit
from processor.domain.issues import ERROR, ISSUE_LABELS, WARNING, Issue
from processor.domain.periods import Period
from processor.intake.submission import Submission
from processor.outputs._xlsx import xlsxpatch
from processor.outputs._xlsx.book import WIDTH_SAMPLE, Book, column_width, row_heights, write_table
from processor.outputs.files import atomic_path
from processor.outputs.summary import citizen_labels, household_labels, unit_labels
from processor.scoring.score import Results

FEEDBACK_SHEET = "Phản hồi"
RESULTS_SHEETS = {
    "citizens": "Kết quả công dân",
    "households": "Kết quả hộ",
    "units": "Kết quả tổ dân phố",
}
_CELL = re.compile(r"^[A-Z]{1,3}\d+$")
# Columns that wrap, in characters: a problem's message, a result's reason.
_MESSAGE_WIDTH, _REASON_WIDTH = 90, 60
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
    """The unit's rows of each level; a worker's job holds only them (then nothing is copied)."""
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
    marked = [i for i in mine if _CELL.match(i.cell) and i.sheet]
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
    note = ""
    if marked and editable and target is not None:
        try:
            return _patch_own_workbook(path, target, catalogue, unit, period, mine, results)
        except xlsxpatch.Unsupported as exc:
            # A layout xlsxpatch does not edit (its docstring says which it does): the unit
            # gets the list below, told why its cells are not coloured. Any other error is a
            # fault and stops the run. openpyxl, which edits any layout, is not a fallback:
            # it took about ten times xlsxpatch's time (benchmarks/README.md, issue 22).
            note = (
                f"Các ô không tô màu được trên tệp {target.name}: chương trình chưa sửa được "
                f"cách tệp này được lưu ({exc})."
            )[:300]
    return _plain_feedback(path, catalogue, unit, period, mine, results, note)


def _left_out(unit: Unit, results: Results) -> str:
    """Who registration leaves out of the unit's results, said on the first sheet: each row's
    Lý do says why, but a clean form's feedback must not read as if everyone counted."""
    row = results.units[results.units["unit_code"] == unit.code]
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


def _summary_lines(unit: Unit, period: Period, issues: list[Issue], results: Results) -> list[str]:
    """The title, what was wrong with the form, and who registration leaves out (or "")."""
    errors = sum(1 for i in issues if i.severity == ERROR)
    warnings = len(issues) - errors
    lines = [f"PHẢN HỒI KẾT QUẢ TỔNG HỢP - {unit.name.upper()} - {period.label.upper()}"]
    if not issues:
        lines.append("Biểu mẫu của đơn vị đã được tiếp nhận đầy đủ, không có lỗi. Xin cảm ơn!")
    else:
        lines.append(
            f"Có {errors} lỗi (dòng chưa được tính) và {warnings} cảnh báo. Các ô có lỗi "
            "được tô đỏ, cảnh báo tô vàng; di chuột vào ô để xem ghi chú. Hãy sửa rồi gửi "
            "lại tệp này."
        )
    return [*lines, _left_out(unit, results)]


def _plain_feedback(
    path: Path,
    catalogue: Catalogue,
    unit: Unit,
    period: Period,
    issues: list[Issue],
    results: Results,
    note: str = "",
) -> Path:
    with atomic_path(path) as tmp:
        book = Book(tmp)
        ws = book.sheet(FEEDBACK_SHEET)
        lines = _summary_lines(unit, period, issues, results)
        if issues:
            # The cells cannot be coloured here: the list below says where each problem is.
            lines[1] = (
                f"Có {sum(1 for i in issues if i.severity == ERROR)} lỗi (dòng chưa được tính) "
                f"và {sum(1 for i in issues if i.severity != ERROR)} cảnh báo, liệt kê dưới "
                "đây theo sheet và ô. Hãy sửa trong tệp của đơn vị rồi gửi lại. " + note
            ).strip()
        for i, line in enumerate(lines):
            ws.write_string(i, 0, line, book.title if i == 0 else book.base)
        frame = pd.DataFrame([i.as_row() for i in issues], columns=list(ISSUE_LABELS))
        write_table(book, ws, frame, ISSUE_LABELS, first_row=3, widths={"message": _MESSAGE_WIDTH})
        _results_sheets(book, catalogue, unit, results)
        book.close()
    return path


def _results_sheets(book: Book, catalogue: Catalogue, unit: Unit, results: Results) -> None:
    for name, frame, columns in _result_frames(catalogue, unit, results):
        write_table(book, book.sheet(name), frame, columns, widths={"reason": _REASON_WIDTH})


def _result_frames(
    catalogue: Catalogue, unit: Unit, results: Results
) -> list[tuple[str, pd.DataFrame, dict[str, str]]]:
    """(sheet name, rows, column labels) of the unit's results, in the order they are shown."""
    labels = _labels(catalogue)
    out = []
    for key, frame in _unit_results(results, unit).items():
        if frame.empty or (key == "units" and not unit.is_tdp):
            continue
        columns = {c: label for c, label in labels[key].items() if c in frame.columns}
        # A worker's job holds only these columns, in this order (shown_results): no copy.
        shown = frame if list(frame.columns) == list(columns) else frame[list(columns)]
        out.append((RESULTS_SHEETS[key], shown, columns))
    return out


def _patch_own_workbook(
    path: Path,
    target: Submission,
    catalogue: Catalogue,
    unit: Unit,
    period: Period,
    issues: list[Issue],
    results: Results,
) -> Path:
    """The unit's workbook marked by editing its XML (_xlsx.xlsxpatch): no full load."""
    marks = [
        # A cell to fix (rejected, or read as unknown) in the error colour; a note in the other.
        xlsxpatch.Mark(i.sheet, i.cell, i.needs_fix, f"[{i.severity}] {i.message}")
        for i in issues
        if _CELL.match(i.cell) and i.sheet
    ]
    lines = _summary_lines(unit, period, issues, results)
    listing = [[str(getattr(i, key)) for key in ISSUE_LABELS] for i in issues]
    message = list(ISSUE_LABELS).index("message")
    listing_heights = row_heights([([row[message] for row in listing], _MESSAGE_WIDTH)])
    sheets = [
        xlsxpatch.NewSheet(
            FEEDBACK_SHEET,
            rows=[[lines[0]], [lines[1]], [lines[2]], list(ISSUE_LABELS.values()), *listing],
            row_styles=["title", "text", "plain", "header", *["plain"] * len(listing)],
            widths=dict(enumerate((28, 14, 10, 10, 22, _MESSAGE_WIDTH))),
            wrap_columns=frozenset({message}),
            heights={4 + i: height for i, height in listing_heights.items()},
        )
    ]
    for name, frame, columns in _result_frames(catalogue, unit, results):
        rows = frame.to_numpy(dtype=object).tolist()
        keys = list(columns)
        # Widths are taken from the first rows (column_width), reasons' heights from all.
        head = frame.iloc[:WIDTH_SAMPLE]
        reasons = [(frame[key].tolist(), _REASON_WIDTH) for key in keys if key == "reason"]
        sheets.append(
            xlsxpatch.NewSheet(
                name,
                rows=[list(columns.values()), *rows],
                row_styles=["header", *["plain"] * len(rows)],
                widths={
                    j: _REASON_WIDTH
                    if key == "reason"
                    else column_width(columns[key], head[key].tolist())
                    for j, key in enumerate(keys)
                },
                wrap_columns=frozenset(j for j, key in enumerate(keys) if key == "reason"),
                freeze_first_row=True,
                autofilter_from_row=1,
                # The header row holds two lines, as write_table makes it.
                heights={0: 32} | {1 + i: h for i, h in row_heights(reasons).items()},
            )
        )
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
