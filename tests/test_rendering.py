"""The summaries and a unit's feedback as they come out of a printer (issue 21).

A small town is run once; its two summaries (the clerk's and the Ban chỉ đạo's) and TDP01's
feedback go through LibreOffice to PDF in one soffice call. Every printed page names its sheet
in the footer ("Công dân – trang 4/12"), so the PDF's text is read sheet by sheet: each text a
table holds must be there whole (LibreOffice prints only what shows of a cell cut by its
neighbour, so a cut value is missing), each word of a wrapped cell must be there (a row too low
hides its last lines), every page is A4 and its words legible.

The widths themselves are checked without LibreOffice: each column is at least as wide as its
longest value, and not much wider than it or its header needs.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from processor.cli import main
from tests import libreoffice
from tests.town import small_catalogue, town_inbox, unit_form

NOV = "2021-11"
# The footer every page of the summary and of the feedback's own sheets carries.
FOOTER = re.compile(r"^(.+) – trang (\d+)/(\d+)$")
# A column may be this many characters wider than what it must show: its longest value, or
# half its header (a header wraps onto two lines).
SLACK = 12
# The smallest words a page may print (points, a word's box in the PDF: 14.3 for 11 pt at full
# size), 11 pt shrunk to no less than about 60 % to fit the page's width.
SMALLEST_TEXT = 8.5


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    """November in a town of five units: TDP01 (a gender typed wrong, a cell to fix), TDP02 and
    CQ01 (a long name: Trường THCS Phong Sơn) sent, TDP03 and TDP04 did not."""
    root = tmp_path_factory.mktemp("rendering")
    catalogue = small_catalogue(root / "bo_tieu_chi.xlsx")
    inbox = town_inbox(catalogue, root / "inbox", NOV, ("TDP02", "CQ01"))
    unit_form(catalogue, inbox, "TDP01", NOV, **{"Trần Thị Bình": {"gender": "không rõ"}})
    out = root / "out"
    result = CliRunner().invoke(
        main,
        ["run", str(inbox), "--ky", NOV, "--out", str(out), "--kho", str(root / "kho"),
         "--bo-tieu-chi", str(catalogue.path), "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # the cell to fix
    return {
        "summary": out / NOV / f"tong_hop_{NOV}.xlsx",
        "board": out / NOV / f"tong_hop_ban_chi_dao_{NOV}.xlsx",
        "feedback": out / NOV / "phan_hoi" / f"TDP01_{NOV}.xlsx",
    }


@pytest.fixture(scope="module")
def printed(run, tmp_path_factory) -> dict[str, Path]:
    libreoffice.require_soffice()
    root = tmp_path_factory.mktemp("pdf")
    files = list(run.values())
    pdfs = libreoffice.convert(files, "pdf", root / "pdf", root / "profile")
    return dict(zip(run, pdfs, strict=True))


def _text(value: object) -> str:
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _pages(pdf: Path) -> list[tuple[str, str]]:
    """(sheet named in the footer or '', text) of each printed page."""
    done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True)
    pages = []
    for page in done.stdout.decode().split("\f")[:-1]:  # a form feed ends each page
        lines = [_text(line) for line in page.splitlines() if line.strip()]
        footers = [m for line in lines if (m := FOOTER.match(line))]
        pages.append((footers[-1].group(1) if footers else "", " ".join(lines)))
    return pages


def _pages_by_sheet(pdf: Path) -> dict[str, str]:
    """Sheet name -> the text of its printed pages."""
    found: dict[str, list[str]] = {}
    for name, text in _pages(pdf):
        found.setdefault(name, []).append(text)
    return {name: " ".join(texts) for name, texts in found.items()}


def _sheet_of_page(pdf: Path) -> dict[int, str]:
    return {number: name for number, (name, _) in enumerate(_pages(pdf), start=1)}


def _table_cells(ws) -> list[tuple[str, int, str, bool]]:
    """(column letter, row, text, wrapped) of each text cell in a row of two or more values:
    a lone text (a title, a note) may run on over the empty cells to its right. A header
    (bold) wraps onto two lines."""
    cells = []
    for row in ws.iter_rows():
        filled = [c for c in row if c.value is not None and c.value != ""]
        if len(filled) < 2:
            continue
        cells += [
            (c.column_letter, c.row, _text(c.value), bool(c.alignment.wrap_text))
            for c in filled
            if isinstance(c.value, str)
        ]
    return cells


def _shown_sheets(path: Path) -> list:
    book = openpyxl.load_workbook(path)
    return [ws for ws in book.worksheets if ws.sheet_state == "visible"]


# The sheets each printed workbook must show whole: the summaries' all (the clerk's and the Ban
# chỉ đạo's), the feedback's own.
def _checked(kind: str, title: str) -> bool:
    return kind != "feedback" or title in (
        "Phản hồi",
        "Kết quả công dân",
        "Kết quả hộ",
        "Kết quả tổ dân phố",
    )


@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", ["summary", "board", "feedback"])
def test_every_sheet_prints_whole_on_a4(kind: str, run, printed) -> None:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(printed[kind])],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+(.*)", info)
    assert sizes and all(size.endswith("(A4)") for size in sizes), sizes
    pages = _pages_by_sheet(printed[kind])
    sheets = [ws for ws in _shown_sheets(run[kind]) if _checked(kind, ws.title)]
    assert [ws.title for ws in sheets if ws.title not in pages] == []
    cut = []
    for ws in sheets:
        text = pages[ws.title]
        words = set(text.split())
        for column, row, value, wrapped in _table_cells(ws):
            if wrapped:
                missing = [w for w in value.split() if w not in words]
                if missing:
                    cut.append(f"{ws.title}!{column}{row}: {missing} of {value!r}")
            elif value not in text:
                cut.append(f"{ws.title}!{column}{row}: {value!r}")
        # Lone lines (titles, the feedback's summary) print whole too.
        for row in ws.iter_rows():
            filled = [c for c in row if c.value not in (None, "")]
            lone = filled[0].value if len(filled) == 1 else None
            if isinstance(lone, str) and _text(lone) not in text:
                cut.append(f"{ws.title}!{filled[0].coordinate}: {lone!r}")
    assert cut == []


@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", ["summary", "board", "feedback"])
def test_every_page_prints_text_a_clerk_can_read(kind: str, printed) -> None:
    """A sheet too wide for its page is shrunk to fit: its words must stay legible."""
    done = subprocess.run(
        ["pdftotext", "-bbox", str(printed[kind]), "-"], capture_output=True, check=True
    )
    small = {}
    sheets = _sheet_of_page(printed[kind])
    for number, page in enumerate(done.stdout.decode().split("<page ")[1:], start=1):
        if not _checked(kind, sheets.get(number, "")):
            continue  # the unit's own form, sent back inside its feedback
        heights = sorted(
            float(y1) - float(y0)
            for y0, y1 in re.findall(r'yMin="([^"]+)" xMax="[^"]+" yMax="([^"]+)"', page)
        )
        if heights and heights[len(heights) // 2] < SMALLEST_TEXT:
            small[number] = round(heights[len(heights) // 2], 1)
    assert small == {}


@pytest.mark.parametrize("kind", ["summary", "board", "feedback"])
def test_columns_are_as_wide_as_their_longest_value(kind: str, run) -> None:
    """In characters, each column is at least as wide as the longest text of its table rows
    (of a wrapped cell, its longest word) and as the longest word of its header (bold, wraps).
    A column with values that do not wrap is at most SLACK wider than its longest value or
    than half its header (a header wraps onto two lines)."""
    wrong = []
    for ws in _shown_sheets(run[kind]):
        if not _checked(kind, ws.title):
            continue
        need: dict[str, int] = {}
        allowed: dict[str, int] = {}
        wrapped: set[str] = set()
        valued: set[str] = set()  # columns with a value under their header
        for column, row, value, wraps in _table_cells(ws):
            longest_word = max((len(w) for w in value.split()), default=0)
            if ws[f"{column}{row}"].font.b:  # a header
                need[column] = max(need.get(column, 0), longest_word)
                allowed[column] = max(allowed.get(column, 0), -(-len(value) // 2))
                continue
            if wraps:
                wrapped.add(column)
            valued.add(column)
            size = longest_word if wraps else len(value)
            need[column] = max(need.get(column, 0), size)
            allowed[column] = max(allowed.get(column, 0), size)
        for column, size in need.items():
            width = ws.column_dimensions[column].width
            if width < size:
                wrong.append(f"{ws.title}!{column}: {width} < {size}")
            elif column in valued - wrapped and width > allowed[column] + SLACK:
                wrong.append(f"{ws.title}!{column}: {width} > {allowed[column]} + {SLACK}")
    assert wrong == []
