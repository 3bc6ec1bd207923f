"""A criterion kind that kieumau does not ship, added as the kinds module says a kind is added
(one class, registered in KINDS before anything else reads the registry), then walked through
the catalogue, a unit's form, the reader and the scoring. Run by tests/test_kinds.py in its own
process, since the registry is read once when the catalogue module is imported:
``python tests/new_kind.py FOLDER`` prints the results as JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from processor.domain import kinds
from processor.domain import schema as S


class CoKhong(kinds.Dat):
    """Có / Không: met when the unit writes Có (a mark like dat, with other words)."""

    code = "co_khong"
    description = "co_khong = Có/Không (đạt khi ghi Có)"
    words = S.YES_NO


kinds.KINDS[CoKhong.code] = CoKhong  # the one line that registers it


def main(folder: Path) -> None:
    import openpyxl

    from processor.domain.catalogue import CAT_CRITERIA, load_catalogue
    from processor.outputs.catalogue_book import write_catalogue
    from tests.conftest import all_tasks_done, citizen, household, make_form
    from tests.test_rules import run_month

    # The ward's committee makes CD08 a mandatory Có/Không criterion in its catalogue.
    path = write_catalogue(folder / "bo_tieu_chi.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book[CAT_CRITERIA.name]
    header = [c.value for c in ws[1]]
    dropdown = [v.formula1 for v in ws.data_validations.dataValidation]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("Mã tiêu chí")].value == "CD08":
            row[header.index("Loại")].value = "co_khong"
            row[header.index("Bắt buộc")].value = "Có"
    book.save(path)
    catalogue = load_catalogue(path)

    inbox = folder / "in"
    people = [
        citizen("TDP01-H001", "Hà Văn Có", dt.date(1970, 1, 1), CD08="Có"),
        citizen("TDP01-H001", "Hà Thị Không", dt.date(1972, 1, 1), CD08="Không"),
        citizen("TDP01-H002", "Hà Văn Trống", dt.date(1975, 1, 1), CD08=None),
    ]
    homes = [household("TDP01-H001", "Hà Văn Có"), household("TDP01-H002", "Hà Văn Trống")]
    form = make_form(catalogue, inbox, "TDP01", "2021-10", people, homes, all_tasks_done(catalogue))
    validations = [
        v.formula1
        for v in openpyxl.load_workbook(form)[S.FORM_CITIZENS.name].data_validations.dataValidation
    ]
    results, issues = run_month(inbox, "2021-10", folder, catalogue)
    citizens = results.citizens.set_index("full_name")
    print(
        json.dumps(
            {
                "catalogue_dropdown": dropdown,
                "form_validations": validations,
                "outcomes": {
                    name: [str(r["outcome"]), str(r["CD08"]), str(r["reason"])]
                    for name, r in citizens.iterrows()
                },
                "issues": [str(i) for i in issues],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
