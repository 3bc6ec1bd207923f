"""`kieumau bao-cao`: the town's reports to the district, over a small town run for two years.

The town (tests/town.py; every criterion met unless said otherwise), by hand:

- 2020-01 and 2020-11: TDP01 (An, Bình in H001; Cường, Dung in H002), TDP02 (Khoa, Lan in
  H001), CQ01 (Phúc). In November Bình fails CD01 (mandatory): Chưa đạt. H001 has 1 of its 2
  members CDKM (50% < 80%): Chưa đạt; TDP01 has 1 of 2 households (50% < 70%): Chưa đạt.
  2020: citizens 7 registered, 6 achieved; households 3 and 2; tổ dân phố 2 and 1.
- 2021-01 and 2021-11: TDP03 (Minh, Ngọc) joins; TDP04 sends nothing; Dung writes Không in
  Đăng ký every month: Chưa đủ điều kiện, so H002 has 1 of 2 members CDKM: Chưa đạt, and TDP01
  1 of 2 households: Chưa đạt. January: citizens 9 listed, 8 registered; households 4 and 4;
  tổ dân phố 3 reported. November: citizens 8 registered, 8 achieved; households 4 and 3; tổ
  dân phố 3 and 2.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.cli import main
from processor.domain import schema as S
from processor.outputs.year_report import NO_DATA, RESULTS, ReportData, report_context
from processor.scoring.score import Results
from tests import docx_rules as rules
from tests.town import small_catalogue, unit_form

YEARS = {
    "2020-01": ("TDP01", "TDP02", "CQ01"),
    "2020-11": ("TDP01", "TDP02", "CQ01"),
    "2021-01": ("TDP01", "TDP02", "TDP03", "CQ01"),
    "2021-11": ("TDP01", "TDP02", "TDP03", "CQ01"),
}
UNITS = ["Tổ dân phố số 1", "Tổ dân phố số 2", "Tổ dân phố số 3", "Tổ dân phố số 4"]
SCHOOL = "Trường THCS Phong Sơn"


def _changed(period: str, code: str) -> dict:
    if code != "TDP01":
        return {}
    if period == "2020-11":
        return {"Trần Thị Bình": {"CD01": "Chưa đạt"}}
    if period.startswith("2021"):
        return {"Phạm Thị Dung": {"registered": "Không"}}
    return {}


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> list[str]:
    """The options of a command on the two-year town, after its four runs."""
    root = tmp_path_factory.mktemp("bao_cao")
    catalogue = small_catalogue(root / "bo_tieu_chi.xlsx")
    options = [
        *("--out", str(root / "out"), "--kho", str(root / "kho")),
        *("--bo-tieu-chi", str(catalogue.path)),
    ]
    with pytest.MonkeyPatch.context() as patch:  # module fixtures run before _own_settings
        patch.setenv("KIEUMAU_CAU_HINH", str(root / "cau_hinh"))
        for period, codes in YEARS.items():
            for code in codes:
                unit_form(catalogue, root / period, code, period, **_changed(period, code))
            args = ["run", str(root / period), "--ky", period, "--workers", "1", *options]
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, result.output
    return options


def _report(town: list[str], *args: str) -> tuple[str, Path]:
    result = CliRunner().invoke(main, ["bao-cao", *args, *town], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("  - "))
    folder = Path(result.output.split("Đã lập báo cáo trong ", 1)[1].split("/:", 1)[0])
    return result.output, folder / line[4:]


def _rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows[1:]]


def test_results_report_counts_per_title_and_unit_against_last_year(town):
    output, path = _report(town, "--nam", "2021")
    assert path.name == "bao_cao_ket_qua_2021.docx" and path.parent.name == "bao_cao"
    assert path.parent.parent.name == "2021-11"
    assert "TDP04" in output  # the unit without data is named
    doc = Document(path)
    summary, citizens, households, units = rules.annex_tables(doc)
    heading = " | ".join(c.text for c in summary.rows[0].cells)
    assert heading == "STT | Danh hiệu | Đăng ký | Đạt | Tỷ lệ đạt (%) | Đạt năm 2020 | Tăng, giảm"
    assert _rows(summary) == [
        ["1", "Công dân kiểu mẫu", "8", "8", "100,0", "6", "+2"],
        ["2", "Gia đình kiểu mẫu", "4", "3", "75,0", "2", "+1"],
        ["3", "Tổ dân phố kiểu mẫu", "3", "2", "66,7", "1", "+1"],
    ]
    assert _rows(citizens) == [
        ["1", UNITS[0], "3", "3", "100,0", "3", "0"],
        ["2", UNITS[1], "2", "2", "100,0", "2", "0"],
        ["3", UNITS[2], "2", "2", "100,0", "–", "–"],
        ["4", UNITS[3], "–", "–", "–", "–", "–"],
        ["5", SCHOOL, "1", "1", "100,0", "1", "0"],
        ["", "Cộng", "8", "8", "100,0", "6", "+2"],
    ]
    assert _rows(households) == [
        ["1", UNITS[0], "2", "1", "50,0", "1", "0"],
        ["2", UNITS[1], "1", "1", "100,0", "1", "0"],
        ["3", UNITS[2], "1", "1", "100,0", "–", "–"],
        ["4", UNITS[3], "–", "–", "–", "–", "–"],
        ["", "Cộng", "4", "3", "75,0", "2", "+1"],
    ]
    assert _rows(units) == [
        ["1", UNITS[0], "1", "0", "0,0", "0", "0"],
        ["2", UNITS[1], "1", "1", "100,0", "1", "0"],
        ["3", UNITS[2], "1", "1", "100,0", "–", "–"],
        ["4", UNITS[3], "–", "–", "–", "–", "–"],
        ["", "Cộng", "3", "2", "66,7", "1", "+1"],
    ]
    # The chart: one picture, a PNG as wide as the text less a margin.
    assert len(doc.inline_shapes) == 1
    assert 150 <= doc.inline_shapes[0].width.mm <= 165
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


def test_registration_report_counts_january_against_last_year(town):
    _, path = _report(town, "--nam", "2021", "--loai", "dang-ky")
    assert path.name == "bao_cao_dang_ky_2021.docx" and path.parent.parent.name == "2021-01"
    summary, citizens, households, units = rules.annex_tables(Document(path))
    heading = " | ".join(c.text for c in summary.rows[0].cells[2:])
    assert heading == (
        "Số trong danh sách | Đăng ký | Tỷ lệ đăng ký (%) | Đăng ký năm 2020 | Đạt năm 2020"
    )
    assert _rows(summary) == [
        ["1", "Công dân kiểu mẫu", "9", "8", "88,9", "7", "6"],
        ["2", "Gia đình kiểu mẫu", "4", "4", "100,0", "3", "2"],
        ["3", "Tổ dân phố kiểu mẫu", "3", "3", "100,0", "2", "1"],
    ]
    assert _rows(citizens)[0] == ["1", UNITS[0], "4", "3", "75,0", "4", "3"]
    assert _rows(citizens)[-1] == ["", "Cộng", "9", "8", "88,9", "7", "6"]
    assert _rows(households)[2] == ["3", UNITS[2], "1", "1", "100,0", "–", "–"]
    assert _rows(units)[-1] == ["", "Cộng", "3", "3", "100,0", "2", "1"]


def test_a_year_the_history_does_not_hold_reads_no_data(town):
    output, path = _report(town, "--nam", "2020")
    assert "Kết quả năm 2019" in output and NO_DATA in output
    summary = rules.annex_tables(Document(path))[0]
    assert _rows(summary)[0] == ["1", "Công dân kiểu mẫu", "7", "6", "85,7", NO_DATA, NO_DATA]


def test_a_month_not_run_is_named_with_what_to_run(town):
    result = CliRunner().invoke(main, ["bao-cao", "--nam", "2019", *town])
    assert result.exit_code == 2
    assert "chưa có kỳ 2019-11" in result.output and "kieumau run" in result.output


@pytest.mark.parametrize("kind", ["ket-qua", "dang-ky"])
def test_the_reports_follow_the_document_format(town, kind):
    _, path = _report(town, "--nam", "2021", "--loai", kind)
    doc = Document(path)
    problems = rules.page(doc) + rules.fonts(path) + rules.quotes_and_capitals(doc)
    problems += rules.body_style(doc) + rules.page_numbers(doc, annex=False)
    problems += rules.header(doc, symbol="BC-UBND") + rules.title(doc, "BÁO CÁO")
    problems += rules.recipients(doc)
    assert problems == []
    # Issued by the Ủy ban (a report of the body): signed for the collective.
    assert rules.offices(doc)[0] == "TM. ỦY BAN NHÂN DÂN"
    for table in rules.annex_tables(doc):
        assert table.rows[0]._tr.trPr is not None  # the header row repeats on each page
        assert sum(col.width.cm for col in table.columns) <= 16.5 + 0.01  # fits the page


UNIT_CODES = ("TDP01", "TDP02", "TDP03", "CQ01")
OUTCOMES = (S.ACHIEVED, S.NOT_ACHIEVED, S.NOT_ELIGIBLE)


@settings(max_examples=60, deadline=None)
@given(
    people=st.lists(
        st.tuples(st.sampled_from(UNIT_CODES), st.booleans(), st.sampled_from(OUTCOMES)),
        max_size=30,
    ),
    silent=st.sets(st.sampled_from(UNIT_CODES)),
)
def test_each_total_is_the_sum_of_its_unit_rows(catalogue, people, silent):
    """Whatever the results, a table's Cộng adds up its units, and a unit that sent nothing
    reads “–”, not 0."""
    sent = [p for p in people if p[0] not in silent]
    citizens = pd.DataFrame(
        {
            "unit_code": [p[0] for p in sent],
            "registered": [S.YES if p[1] else S.NO for p in sent],
            "outcome": [p[2] for p in sent],
        }
    )
    units = pd.DataFrame(
        {
            "unit_code": [u.code for u in catalogue.units],
            "kind": [u.kind for u in catalogue.units],
            "submitted": [u.code in UNIT_CODES and u.code not in silent for u in catalogue.units],
            "outcome": S.NOT_ACHIEVED,
        }
    )
    now = Results(citizens, pd.DataFrame(columns=["unit_code", "outcome"]), units)
    context = report_context(catalogue, RESULTS, 2021, ReportData(now, None, None), "2021-11")
    rows = context["nhom"][0]["danh_sach"]
    total, by_unit = rows[-1], {row["ten"]: row for row in rows[:-1]}
    for field, expected in (
        ("c1", sum(p[1] for p in sent)),
        ("c2", sum(p[2] == S.ACHIEVED for p in sent)),
    ):
        assert total[field] == str(expected)
        assert sum(int(r[field]) for r in by_unit.values() if r[field] != "–") == expected
    for unit in catalogue.units:
        silent_unit = unit.code not in UNIT_CODES or unit.code in silent
        assert (by_unit[unit.name]["c1"] == "–") == silent_unit
