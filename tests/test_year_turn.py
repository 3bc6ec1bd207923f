"""The turn of the year on the forms (issue 23 item 3): `run --ky 2021-12` writes January 2022's
forms, and `forms --ky 2022-01` makes the same from the history.

A new year's form keeps the people, the households and what lasts (names, birth dates, CCCD,
addresses, notes, who is responsible for a task), starts registration afresh, clears the year's
values (criteria, roadmap months, self-assessments, votes, inspection) and writes the
consecutive-year counts moved on from last year's results.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from processor.cli import main
from processor.domain import schema as S
from processor.domain.form_layout import HEADER_ROW
from processor.intake.reader import read_submission
from tests.conftest import all_tasks_done, citizen, household, make_form

NOV = {"attendees": 50, "meeting_date": dt.date(2021, 11, 12), "chair": "A", "secretary": "B"}
PEOPLE = [
    citizen("TDP02-H001", "Hoàng Văn Minh", dt.date(1975, 4, 4), cccd="038075000111", votes=45,
            note="Trưởng chi hội"),
    citizen("TDP02-H001", "Vũ Thị Nga", dt.date(1978, 8, 8), cccd="038178000222", votes=44),
    citizen("TDP02-H002", "Đỗ Văn Phú", dt.date(1950, 5, 5), votes=46),
]  # fmt: skip
HOMES = [
    household("TDP02-H001", "Hoàng Văn Minh", GD01=5, votes=45),
    household("TDP02-H002", "Đỗ Văn Phú", GD01=4, votes=46),
]


def _without_votes(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "votes"} for row in rows]


@pytest.fixture(scope="module")
def year(tmp_path_factory, catalogue) -> dict[str, Path]:
    """November and December 2021 of one strong tổ dân phố, run in turn."""
    root = tmp_path_factory.mktemp("nam")
    tasks = all_tasks_done(catalogue)
    tasks["responsible"] = "Trần Văn Tổ"
    november = root / "thang11"
    make_form(catalogue, november, "TDP02", "2021-11", PEOPLE, HOMES, tasks.assign(
        inspection=tasks["self_assessment"]), NOV)  # fmt: skip
    december = root / "thang12"
    make_form(catalogue, december, "TDP02", "2021-12", _without_votes(PEOPLE),
              _without_votes(HOMES), tasks)  # fmt: skip
    out, kho = root / "out", root / "kho"
    runner = CliRunner()
    for inbox, period in ((november, "2021-11"), (december, "2021-12")):
        args = ["run", str(inbox), "--ky", period, "--out", str(out), "--kho", str(kho)]
        result = runner.invoke(main, [*args, "--workers", "1"])
        assert result.exit_code == 0, result.output
    made = runner.invoke(
        main, ["forms", "--ky", "2022-01", "--out", str(root / "forms"), "--kho", str(kho)]
    )
    assert made.exit_code == 0, made.output
    return {
        "run": out / "2021-12" / "bieu_mau" / "TDP02_2022-01.xlsx",
        "forms": root / "forms" / "TDP02_2022-01.xlsx",
        "output": made.output,
    }


@pytest.mark.parametrize("made_by", ["run", "forms"])
def test_a_new_years_form_keeps_the_people_and_clears_the_year(year, made_by, catalogue) -> None:
    sub = read_submission(year[made_by], catalogue)
    assert (sub.period, sub.rows_rejected) == ("2022-01", 0)
    people = sub.citizens.set_index("full_name")
    assert list(people.index) == [p["full_name"] for p in PEOPLE]
    assert people.at["Hoàng Văn Minh", "cccd"] == "038075000111"
    assert people.at["Vũ Thị Nga", "birth_date"] == dt.date(1978, 8, 8)
    assert people.at["Hoàng Văn Minh", "note"] == "Trưởng chi hội"
    criteria = [c.code for c in catalogue.form_criteria(catalogue.citizen_title.code)]
    for column in ["registered", "votes", *criteria]:
        assert people[column].isna().all(), column
    homes = sub.households.set_index("household_code")
    assert homes.at["TDP02-H001", "head_name"] == "Hoàng Văn Minh"
    assert homes["registered"].isna().all() and homes["votes"].isna().all()
    tasks = sub.tasks
    for column in ("planned_month", "self_assessment", "inspection", "current_state"):
        assert tasks[column].isna().all(), column
    assert (tasks["responsible"] == "Trần Văn Tổ").all()


def test_the_year_counts_move_on_from_last_years_results(year, catalogue) -> None:
    """GD01 (years of Gia đình văn hóa) of a household that reached its title in 2021 is one
    more on January's form; TDP02 of the unit likewise."""
    for made_by in ("run", "forms"):
        sub = read_submission(year[made_by], catalogue)
        homes = sub.households.set_index("household_code")
        assert homes.at["TDP02-H001", "GD01"] == 6, made_by
        (count,) = sub.tasks.loc[sub.tasks["criterion"] == "TDP02", "value"].tolist()
        assert count == 7, made_by  # 6 in 2021 (all_tasks_done: threshold 5 + 1)
        ws = openpyxl.load_workbook(year[made_by])[S.FORM_HOUSEHOLDS.name]
        header = next(c for c in ws[HEADER_ROW + 1] if str(c.value).startswith("GD01"))
        cell = ws.cell(HEADER_ROW + 2, header.column)
        assert cell.value == 6, made_by
        moved = "Giá trị này lấy từ kỳ 2021-11, cộng 1 năm vì năm 2021 đạt"
        assert cell.comment.text.startswith(moved), made_by


def test_the_guide_of_a_new_years_form_says_so(year) -> None:
    ws = openpyxl.load_workbook(year["run"])[S.FORM_GUIDE]
    guide = {row[0]: row[1] for row in ws.iter_rows(max_col=2, values_only=True) if row[0]}
    assert guide["Cách điền"].startswith("Biểu mẫu năm 2022 ghi sẵn danh sách công dân và hộ")
    assert "năm 2021" in guide["Cách điền"] and "đã được xóa" in guide["Cách điền"]
    assert guide["Giá trị mang sang"].startswith("3 ô tô màu xanh: số năm liên tục tính tiếp")
    assert guide["Đăng ký"].startswith("Tháng 1 là tháng đăng ký thi đua năm 2022 lại từ đầu")
