"""Writing result tables with xlsxwriter directly (twice as fast as DataFrame.to_excel).

One place for the workbook defaults the house style asks for: strings never become formulas or
links, Times New Roman, frozen headers, autofilter tables, A4 print setup, widths that fit
Vietnamese text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from processor.domain.vietnamese import nfc
from processor.outputs._xlsx.fastrows import Block, Column, close_and_inject, register_formats

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,  # a name like "=1+1" or "-Ban" stays text (SPEC §5)
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": False,
    # Parts are built in memory, not in temporary files (~15 files created and removed per
    # workbook cost a third of a form's writing: benchmarks/README.md, "Figures behind").
    "in_memory": True,
}


# LibreOffice does not grow a row to fit wrapped text when it opens an xlsx that gives no row
# height: a long reason printed over the rows below it. Heights are set from the lines needed.
LINE_HEIGHT = 15  # points, one line of 11 pt Times New Roman
CHARS_PER_WIDTH = 1.45  # 11 pt Times New Roman characters per unit of column width


def line_count(text: str, per_line: int) -> int:
    """Lines ``text`` needs wrapped at ``per_line`` characters (textwrap's count, a word with
    hyphens kept whole: Excel and LibreOffice may break after a hyphen, so the count errs on
    more, never on fewer; and textwrap splits words half as fast looking for hyphens)."""
    if len(text) <= per_line and "\n" not in text:
        return 1
    return sum(
        len(textwrap.wrap(part, per_line, break_on_hyphens=False)) or 1 for part in text.split("\n")
    )


def row_heights(
    columns: Sequence[tuple[Sequence[object], float]],
    chars_per_width: float = CHARS_PER_WIDTH,
    line_height: float = LINE_HEIGHT,
) -> dict[int, float]:
    """Height in points of each row (by position) that a wrapped text makes taller than one
    line, from (values, column width) of the wrapped columns."""
    lines: dict[int, int] = {}
    for values, width in columns:
        per_line = max(1, int(width * chars_per_width) - 1)
        # Reasons and messages recur thousands of times in a column: each is wrapped once.
        counts: dict[str, int] = {}
        # Most cells fit on one line: only the long ones are wrapped word by word.
        for i, value in enumerate(values):
            if isinstance(value, str) and (len(value) > per_line or "\n" in value):
                count = counts.get(value)
                if count is None:
                    count = counts[value] = line_count(value, per_line)
                if count > lines.get(i, 1):
                    lines[i] = count
    return {i: line_height * count for i, count in sorted(lines.items())}


# Each printed page names its sheet: a clerk sorting a printed pile knows where each page goes.
FOOTER = "&C&A – trang &P/&N"


class Book:
    """An xlsxwriter workbook with the house formats."""

    def __init__(self, path: Path, created: dt.datetime | None = None) -> None:
        self.path = path
        self.pending: dict[int, list[Block]] = {}
        # Made in memory: fastrows.close_and_inject writes the workbook to path once.
        self.workbook = xlsxwriter.Workbook(io.BytesIO(), WORKBOOK_OPTIONS)
        if created is not None:
            self.workbook.set_properties({"created": created, "author": "kieumau"})
        base = {"font_name": "Times New Roman", "font_size": 11, "valign": "top"}
        self.base = self.workbook.add_format(base)
        self.wrap = self.workbook.add_format({**base, "text_wrap": True})
        self.title = self.workbook.add_format({**base, "bold": True, "font_size": 14})
        self.subtitle = self.workbook.add_format({**base, "italic": True})
        self.header = self.workbook.add_format(
            {
                **base,
                "bold": True,
                "text_wrap": True,
                "bg_color": "#DDEBF7",
                "border": 1,
                "align": "center",
                "valign": "vcenter",
            }
        )
        self.date = self.workbook.add_format({**base, "num_format": "dd/mm/yyyy"})
        # Counts centred in their column: flush right against the text of the next column
        # they read as one ("40 Đạt", "1970 Nam").
        self.number = self.workbook.add_format({**base, "align": "center"})
        self.bold = self.workbook.add_format({**base, "bold": True})
        self.good = self.workbook.add_format(
            {**base, "font_color": "#006100", "bg_color": "#C6EFCE"}
        )
        self.bad = self.workbook.add_format(
            {**base, "font_color": "#9C0006", "bg_color": "#FFC7CE"}
        )
        self.warn = self.workbook.add_format(
            {**base, "font_color": "#9C5700", "bg_color": "#FFEB9C"}
        )
        self.names: set[str] = set()

    def close(self) -> None:
        close_and_inject(self.workbook, self.path, self.pending)

    def add_rows(self, ws: Worksheet, block: Block) -> None:
        """Queue a block of cells for the fast writer (see processor.outputs._xlsx.fastrows)."""
        register_formats(block)
        self.pending.setdefault(ws.index, []).append(block)

    def sheet(self, name: str) -> Worksheet:
        self.names.add(name)
        ws = self.workbook.add_worksheet(name)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer(FOOTER)
        return ws


def write_cell(ws: Worksheet, row: int, col: int, value: object, fmt=None) -> None:
    """Write one value by its Python type; text always as text (never a formula)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "Có" if value else "Không", fmt)
    elif isinstance(value, int):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, dt.datetime | dt.date):
        ws.write_datetime(row, col, value, fmt)
    else:
        text = nfc(str(value)) if not isinstance(value, str) else value
        if len(text) > 32767:
            text = text[:32760] + "…"
        ws.write_string(row, col, text, fmt)


WIDTH_SAMPLE = 200  # rows a column's width is taken from
# Characters of column width an A4 landscape page prints at a size a clerk still reads (about
# three quarters of 11 pt): a wider sheet prints on pages side by side, its first columns
# (who the row is) repeated on each. Fit to one page, a register of 300 printed at 4 pt.
PAGE_WIDTH = 150
# Bold header characters per unit of column width (narrower than CHARS_PER_WIDTH: bold).
HEADER_CHARS_PER_WIDTH = 1.25


def pages_across(widths: Sequence[float], kept: float = 0) -> int:
    """Pages side by side that columns of these widths need, ``kept`` of width repeated on
    each page after the first."""
    total, pages = sum(widths), 1
    while total + kept * (pages - 1) > PAGE_WIDTH * pages:
        pages += 1
    return pages


def print_wide(ws: Worksheet, widths: Sequence[float], keep: int) -> None:
    """Print ``ws`` on as many pages across as its widths need (pages_across), its first
    ``keep`` columns repeated on each, page by page across before going down."""
    pages = pages_across(widths, sum(widths[:keep]))
    ws.fit_to_pages(pages, 0)
    if pages > 1:
        ws.repeat_columns(0, keep - 1)
        ws.print_across()


def header_height(labels: Sequence[str], widths: Sequence[float]) -> float:
    """Points a header row needs for its labels wrapped in their columns: two lines at least."""
    heights = [
        row_heights([([label], width)], HEADER_CHARS_PER_WIDTH).get(0, LINE_HEIGHT)
        for label, width in zip(labels, widths, strict=True)
    ]
    return max([2 * LINE_HEIGHT, *heights]) + 2


def column_width(label: str, values: Sequence[object]) -> float:
    """Characters wide for a column: its longest value (first WIDTH_SAMPLE rows) or half its
    label."""
    sample = [
        len(str(v)) for v in values[:WIDTH_SAMPLE] if v is not None and v is not pd.NA and v == v
    ]
    # Headers wrap onto two lines (the header row is 32 points high), so half a long label fits.
    header = len(label) * 0.9 if len(label) <= 14 else max(12, len(label) * 0.55)
    longest = max([header, *sample, 6])
    return min(60, longest + 2)


def numbers(values: list[object]) -> bool:
    """Whether a column holds numbers (its first WIDTH_SAMPLE values that are not blank)."""
    shown = [v for v in values[:WIDTH_SAMPLE] if v is not None and v is not pd.NA and v == v]
    return bool(shown) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in shown
    )


def table_widths(
    frame: pd.DataFrame, labels: dict[str, str], widths: dict[str, float] | None = None
) -> dict[str, float]:
    """The width write_table gives each of its columns: ``widths``' or column_width's."""
    widths = widths or {}
    return {
        key: widths.get(key) or column_width(labels[key], frame[key].tolist())
        for key in labels
        if key in frame.columns
    }


def write_table(
    book: Book,
    ws: Worksheet,
    frame: pd.DataFrame,
    labels: dict[str, str],
    first_row: int = 0,
    widths: dict[str, float] | None = None,
    formats: dict[str, object] | None = None,
    table: bool = True,
) -> int:
    """Write ``frame`` under a header row with an autofilter (``table``) and return the row
    after the last one. Columns are the keys of ``labels`` present in the frame.

    An autofilter rather than an Excel table: xlsxwriter's add_table records every cell of its
    range to refuse overlaps, seconds for a district's citizens (benchmarks/README.md)."""
    columns = [c for c in labels if c in frame.columns]
    formats = formats or {}
    sizes = table_widths(frame, labels, widths)
    ws.set_row(first_row, header_height([labels[k] for k in columns], list(sizes.values())))
    block_columns = []
    wrapped = []
    for j, key in enumerate(columns):
        values = frame[key].tolist()
        default = book.wrap if str(key) in ("reason", "message") else book.base
        if default is book.base and numbers(values):
            default = book.number
        fmt = formats.get(key, default)
        width = sizes[key]
        ws.set_column(j, j, width)
        block_columns.append(Column(values, fmt, book.date))
        if fmt is book.wrap:
            wrapped.append((values, width))
    if columns and len(frame):
        heights = row_heights(wrapped)
        book.add_rows(ws, Block(first_row + 1, 0, block_columns, len(frame), heights))
    last = first_row + max(len(frame), 1)
    for j, key in enumerate(columns):
        ws.write_string(first_row, j, labels[key], book.header)
    if table and columns:
        ws.autofilter(first_row, 0, last, len(columns) - 1)
    ws.freeze_panes(first_row + 1, 0)
    ws.repeat_rows(first_row)
    return last + 1
