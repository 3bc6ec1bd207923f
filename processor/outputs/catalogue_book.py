"""The criteria catalogue workbook written from the default tables (SPEC §2).

`python -m processor.outputs.catalogue_book [PATH]` rebuilds `input_templates/bo_tieu_chi.xlsx`
(or PATH) from `processor.domain.default_catalogue`. Its dropdowns come from the same column
definitions the loader checks against (`schema.CAT_*`, and `catalogue.CAT_CRITERIA` whose Loại
offers the registered kinds of `processor.domain.kinds`), so a new criterion kind or level shows
in the workbook as soon as it is declared.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter

from processor.domain import default_catalogue as D
from processor.domain import schema as S
from processor.domain.catalogue import CAT_CRITERIA, DEFAULT_CATALOGUE
from processor.outputs.files import atomic_path

# Rows a dropdown covers: far more than any ward's catalogue holds.
INPUT_ROWS = 500
_TABLES: tuple[tuple[S.Sheet, Sequence[dict[str, object]]], ...] = (
    (S.CAT_TITLES, D.TITLES),
    (CAT_CRITERIA, D.CRITERIA),
    (S.CAT_TASKS, D.TASKS),
    (S.CAT_UNITS, D.UNITS),
    (S.CAT_SETTINGS, D.SETTINGS),
)


def write_catalogue(path: Path) -> Path:
    """Write the default catalogue to ``path`` (atomically) and return it."""
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(
            str(tmp), {"strings_to_formulas": False, "strings_to_urls": False}
        )
        _readme(book)
        header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        for sheet, rows in _TABLES:
            _table(book, header, sheet, rows)
        book.close()
    return path


def _readme(book: xlsxwriter.Workbook) -> None:
    ws = book.add_worksheet(S.CAT_README)
    bold = book.add_format({"bold": True, "font_size": 14})
    ws.set_column(0, 0, 150)
    for row, line in enumerate(D.README_LINES):
        ws.write_string(row, 0, line, bold if row == 0 else None)


def _table(
    book: xlsxwriter.Workbook,
    header: xlsxwriter.format.Format,
    sheet: S.Sheet,
    rows: Sequence[dict[str, object]],
) -> None:
    ws = book.add_worksheet(sheet.name)
    for col, column in enumerate(sheet.columns):
        ws.set_column(col, col, column.width)
        ws.write_string(0, col, column.label, header)
        if column.choices:
            ws.data_validation(
                1, col, INPUT_ROWS, col, {"validate": "list", "source": list(column.choices)}
            )
        for row, record in enumerate(rows, start=1):
            value = record.get(column.key)
            if isinstance(value, str):
                ws.write_string(row, col, value)
            elif value is not None:
                ws.write_number(row, col, value)
    unknown = {key for record in rows for key in record} - {c.key for c in sheet.columns}
    if unknown:  # a typo in the tables would silently vanish from the workbook
        raise ValueError(f"{sheet.name}: unknown columns {sorted(unknown)}")
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(rows), len(sheet.columns) - 1)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CATALOGUE
    print(write_catalogue(target))
