"""Low-level spreadsheet reading through calamine, with names normalised to NFC.

calamine reads .xlsx, .xlsm, .xls and .ods alike, faster than openpyxl (benchmarks/README.md).
It returns each cell with its own type, so a text ID `001089012345` stays text (pandas'
read_excel would infer an integer column and drop the zero).
"""

from __future__ import annotations

from pathlib import Path

from python_calamine import CalamineWorkbook

from processor.domain.vietnamese import nfc


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26 (the inverse of column_letter)."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def cell_name(row: int, col: int) -> str:
    """Excel name of a 0-based (row, column): (11, 7) -> 'H12'."""
    return f"{column_letter(col)}{row + 1}"


def open_workbook(path: Path | str) -> CalamineWorkbook:
    return CalamineWorkbook.from_path(str(path))


def sheet_map(book: CalamineWorkbook) -> dict[str, str]:
    """NFC-normalised sheet name -> the name as stored (which may be NFD or carry spaces)."""
    return {nfc(name): name for name in book.sheet_names}


def read_rows(book: CalamineWorkbook, stored_name: str, limit: int | None = None) -> list[list]:
    sheet = book.get_sheet_by_name(stored_name)
    return (
        sheet.to_python(skip_empty_area=False, nrows=limit)
        if limit
        else sheet.to_python(skip_empty_area=False)
    )


def read_workbook(path: Path | str) -> dict[str, list[list]]:
    """Every sheet of a small workbook (the catalogue) as rows, keyed by NFC sheet name."""
    book = open_workbook(path)
    try:
        return {
            name: _blank_to_none(read_rows(book, stored))
            for name, stored in sheet_map(book).items()
        }
    finally:
        book.close()


def _blank_to_none(rows: list[list]) -> list[list]:
    return [[None if v == "" else v for v in row] for row in rows]
