"""History across months: re-runs replace a period, progress spans months, January registration
and multi-year counts come from history."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main
from tests.conftest import all_tasks_done, citizen, household, make_form

RESULT_SHEETS = ("Công dân", "Hộ gia đình", "Tổ dân phố", "Theo tiêu chí", "Theo đơn vị")


def run(inbox: Path, period: str, root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["run", str(inbox), "--ky", period, "--out", str(root / "out"), "--kho", str(root / "kho")],
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def sheets(path: Path) -> dict[str, list]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in RESULT_SHEETS}


def month(
    catalogue,
    folder: Path,
    period: str,
    *,
    registered: str = "Có",
    gd01=5,
    extra: list | None = None,
) -> Path:
    tasks = all_tasks_done(catalogue)
    rows = [
        citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 1, 1), registered=registered),
        citizen("TDP01-H001", "Trần Thị Bình", dt.date(1972, 1, 1)),
        *(extra or []),
    ]
    make_form(
        catalogue,
        folder,
        "TDP01",
        period,
        rows,
        [household("TDP01-H001", "Nguyễn Văn An", GD01=gd01)],
        tasks,
    )
    make_form(
        catalogue, folder, "CQ01", period, [citizen(None, "Hoàng Văn Phúc", dt.date(1990, 1, 1))]
    )
    return folder


def test_rerun_and_reordered_inbox_give_identical_results(tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parent.parent / "samples" / "inbox"
    picked = sorted(samples.glob("*.xlsx"))[:4]
    first = tmp_path / "a" / "inbox"
    first.mkdir(parents=True)
    for path in picked:
        shutil.copy(path, first / path.name)
    # Same files, other names, other order, other times.
    second = tmp_path / "b" / "inbox"
    (second / "sub").mkdir(parents=True)
    for i, path in enumerate(reversed(picked)):
        target = second / ("sub" if i % 2 else "") / f"{i}_gui_lai.xlsx"
        shutil.copy(path, target)
        os.utime(target, (1_000_000 + i, 1_000_000 + i))
    run(first, "2021-11", tmp_path / "a")
    run(first, "2021-11", tmp_path / "a")  # a re-run of the same period replaces it
    run(second, "2021-11", tmp_path / "b")
    a = sheets(tmp_path / "a" / "out" / "2021-11" / "tong_hop_2021-11.xlsx")
    b = sheets(tmp_path / "b" / "out" / "2021-11" / "tong_hop_2021-11.xlsx")
    assert a == b
    db = sqlite3.connect(tmp_path / "a" / "kho" / "lich_su.sqlite")
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 4


def test_progress_spans_months(catalogue, tmp_path: Path) -> None:
    month(catalogue, tmp_path / "t10", "2021-10")
    month(catalogue, tmp_path / "t11", "2021-11")
    run(tmp_path / "t10", "2021-10", tmp_path)
    code, _ = run(tmp_path / "t11", "2021-11", tmp_path)
    assert code == 0
    rows = (
        CalamineWorkbook.from_path(str(tmp_path / "out" / "2021-11" / "tong_hop_2021-11.xlsx"))
        .get_sheet_by_name("Tiến độ")
        .to_python()
    )
    header = rows[1]
    assert "T10/2021" in header and "T11/2021" in header
    assert any(r[0] == "TDP01" and r[3] == "Đạt (%)" for r in rows)


def test_january_registration_is_the_one_that_counts(catalogue, tmp_path: Path) -> None:
    # An registers only in March: not registered in January, so not eligible in November.
    month(catalogue, tmp_path / "t01", "2021-01", registered="Không")
    month(
        catalogue,
        tmp_path / "t03",
        "2021-03",
        registered="Có",
        extra=[citizen("TDP01-H001", "Lê Văn Mới", dt.date(1990, 1, 1))],
    )
    run(tmp_path / "t01", "2021-01", tmp_path)
    run(tmp_path / "t03", "2021-03", tmp_path)
    rows = (
        CalamineWorkbook.from_path(str(tmp_path / "out" / "2021-03" / "tong_hop_2021-03.xlsx"))
        .get_sheet_by_name("Công dân")
        .to_python()
    )
    header = rows[0]
    by_name = {r[header.index("Họ và tên")]: r for r in rows[1:]}
    reason = header.index("Lý do")
    assert by_name["Nguyễn Văn An"][reason] == "Chưa đăng ký thi đua"
    assert by_name["Lê Văn Mới"][reason] == "Chưa đăng ký thi đua"  # not on January's list
    assert by_name["Trần Thị Bình"][header.index("Kết quả")] == "Đạt"


def test_years_of_gia_dinh_van_hoa_carry_from_history(catalogue, tmp_path: Path) -> None:
    month(catalogue, tmp_path / "t10", "2020-10", gd01=2)
    month(catalogue, tmp_path / "t11", "2021-10", gd01=None)
    run(tmp_path / "t10", "2020-10", tmp_path)
    run(tmp_path / "t11", "2021-10", tmp_path)
    rows = (
        CalamineWorkbook.from_path(str(tmp_path / "out" / "2021-10" / "tong_hop_2021-10.xlsx"))
        .get_sheet_by_name("Hộ gia đình")
        .to_python()
    )
    header = rows[0]
    # 2 years recorded in 2020, one more year on: 3 >= 3, the criterion passes.
    gd01 = next(h for h in header if str(h).startswith("GD01"))
    assert rows[1][header.index(gd01)] == "Đạt"
