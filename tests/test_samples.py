"""The committed sample town is what `kieumau demo` makes, compared by meaning.

Not byte for byte: a new xlsxwriter may order attributes or parts differently. What must be the
same is what a unit sees and what the reader reads: every cell's value and type on every sheet
of every file, and, on one form of each kind and period, the guards (validations, protection,
print setup, hidden sheets) and the styles that carry meaning (number format, locked, fill,
bold, borders, comments).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
# One form of each kind (tổ dân phố, agency) and period: their guards and styles are compared.
GUARDED = ("inbox/TDP01_2021-11.xlsx", "inbox/CQ01_2021-11.xlsx", "2021-10/TDP02_2021-10.xlsx")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mau")
    result = CliRunner().invoke(main, ["demo", "--chi-tao", "--samples", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def _values(path: Path) -> dict[str, list[list]]:
    """Every sheet's cells as calamine reads them (values with their types), blank rows and
    columns at the end dropped."""
    book = CalamineWorkbook.from_path(str(path))
    sheets = {}
    for name in book.sheet_names:
        rows = [
            [(type(v).__name__, v) for v in row] for row in book.get_sheet_by_name(name).to_python()
        ]
        sheets[name] = rows
    return sheets


def _style(cell) -> tuple:
    fill = cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type else None
    border = cell.border.left.style if cell.border else None
    return (cell.number_format, cell.protection.locked, fill, bool(cell.font.b), border)


def _guards(path: Path) -> dict:
    """What a unit's office suite enforces or shows, sheet by sheet."""
    book = openpyxl.load_workbook(path)
    out: dict = {"sheets": book.sheetnames}
    for ws in book.worksheets:
        protection = ws.protection
        out[ws.title] = {
            "state": ws.sheet_state,
            "protection": (
                protection.sheet,
                protection.password,
                protection.insertRows,
                protection.deleteRows,
                protection.autoFilter,
                protection.sort,
                protection.formatRows,
            ),
            "freeze": ws.freeze_panes,
            "print": (
                ws.print_title_rows,
                ws.page_setup.paperSize,
                ws.page_setup.orientation,
                ws.page_setup.fitToHeight,
            ),
            "filter": ws.auto_filter.ref,
            "validations": sorted(
                (str(dv.sqref), dv.type, dv.operator, dv.formula1, dv.formula2, dv.error, dv.prompt)
                for dv in ws.data_validations.dataValidation
            ),
            "columns": sorted(
                (key, dim.width, dim.protection.locked, dim.number_format)
                for key, dim in ws.column_dimensions.items()
            ),
            "rows": sorted(
                (key, dim.height) for key, dim in ws.row_dimensions.items() if dim.height
            ),
            "styles": [[_style(c) for c in row] for row in ws.iter_rows()],
            "comments": [
                (c.coordinate, c.comment.text) for row in ws.iter_rows() for c in row if c.comment
            ],
        }
    return out


def test_demo_makes_the_committed_files(made: Path) -> None:
    files = sorted(p.relative_to(made) for p in made.rglob("*.xlsx"))
    committed = sorted(p.relative_to(SAMPLES) for p in SAMPLES.rglob("*.xlsx"))
    assert files == committed
    assert len(files) == 56  # 28 units, October and November


def test_every_cell_of_the_samples_is_what_demo_writes(made: Path) -> None:
    for path in sorted(SAMPLES.rglob("*.xlsx")):
        relative = path.relative_to(SAMPLES)
        assert _values(made / relative) == _values(path), relative


@pytest.mark.parametrize("relative", GUARDED)
def test_guards_and_styles_of_the_samples_are_what_demo_writes(made: Path, relative) -> None:
    new, old = _guards(made / relative), _guards(SAMPLES / relative)
    assert new["sheets"] == old["sheets"]
    for sheet in old["sheets"]:
        for part, value in old[sheet].items():
            assert new[sheet][part] == value, (relative, sheet, part)


def test_sample_creation_date_is_fixed(made: Path) -> None:
    """The same inputs make the same workbook: its creation date is the period's first day."""
    book = openpyxl.load_workbook(made / GUARDED[0], read_only=True)
    assert book.properties.created == dt.datetime(2021, 11, 1)


def test_sample_town_has_the_real_size(catalogue) -> None:
    from processor.intake.reader import read_submission

    citizens = households = 0
    for path in sorted((SAMPLES / "inbox").glob("*.xlsx")):
        sub = read_submission(path, catalogue)
        assert sub.rows_rejected == 0, path
        citizens += len(sub.citizens)
        households += len(sub.households)
    assert 23_000 <= citizens <= 27_000
    assert 5_500 <= households <= 6_500
