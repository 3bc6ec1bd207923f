"""Issue 18: the product's citizen results agree with tests/reference_scorer.py, a scorer
written from the catalogue and its `Đọc trước` sheet alone, on planted citizens of one tổ dân
phố's November form (every rule of a citizen: age and its date, registration, blanks, a word
typed over a mark, certain failure despite blanks, votes)."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main
from tests.conftest import all_tasks_done, citizen, household, make_form
from tests.reference_scorer import read_title, score
from tests.town import MEETING, small_catalogue

NOV = "2021-11"
BORN = dt.date(1980, 5, 5)
PLANTED: dict[str, dict] = {
    "Ân Văn Đủ": {},
    "Bạch Văn Luật": {"CD01": "Chưa đạt"},
    "Cao Thị Trống": {"CD05": None},
    "Diệp Văn Hai": {"CD01": "Chưa đạt", "CD05": None},
    "Đàm Thị Sáu": {"CD02": "Chưa đạt", "CD03": "Chưa đạt", "CD05": None},
    "Giang Văn Bảy": {"CD02": "Chưa đạt", "CD05": None},
    "Hà Thị Một": {"CD02": "Chưa đạt"},
    "Kha Văn Cuối": {"birth_date": dt.date(2003, 12, 22)},
    "Khổng Thị Nhỏ": {"birth_date": dt.date(2004, 1, 1)},
    "Lạc Văn Nhỏ": {"birth_date": dt.date(2004, 1, 1), "CD01": "Chưa đạt"},
    "Mạc Thị Sinh": {"birth_date": None},
    "Ninh Văn Năm": {"birth_date": None, "CD01": "Chưa đạt"},
    "Ông Thị Không": {"registered": "Không"},
    "Phí Văn Trống": {"registered": None},
    "Quách Thị Nửa": {"votes": 25},
    "Tạ Văn Hơn": {"votes": 26},
    "Thái Thị Phiếu": {"votes": None},
    "Ung Văn Tốt": {"CD08": "Tốt"},
    "Văn Thị Lỗi": {"CD04": "Tốt", "CD06": "Chưa đạt"},
}


def test_the_product_agrees_with_the_written_rules(tmp_path) -> None:
    catalogue = small_catalogue(tmp_path / "bo_tieu_chi.xlsx")
    rows = []
    for i, (name, changed) in enumerate(PLANTED.items()):
        values = {"votes": 40, **changed}
        born = values.pop("birth_date", BORN)
        rows.append(citizen(f"TDP01-H{i + 1:03d}", name, born, **values))
    houses = [household(r["household_code"], r["full_name"], votes=40) for r in rows]
    inbox = tmp_path / "inbox"
    make_form(catalogue, inbox, "TDP01", NOV, rows, houses, all_tasks_done(catalogue), MEETING)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["run", str(inbox), "--ky", NOV, "--out", str(out), "--kho", str(tmp_path / "kho"),
         "--bo-tieu-chi", str(tmp_path / "bo_tieu_chi.xlsx"), "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    book = CalamineWorkbook.from_path(str(out / NOV / f"tong_hop_{NOV}.xlsx"))
    table = book.get_sheet_by_name("Công dân").to_python()
    at = next(i for i, r in enumerate(table) if "Lý do" in r)
    header = table[at]
    product = {
        r[header.index("Họ và tên")]: r[header.index("Kết quả")] for r in table[at + 1 :] if any(r)
    }
    title = read_title(tmp_path / "bo_tieu_chi.xlsx")
    written = {r["full_name"]: score(title, r, 2021, 11, MEETING["attendees"]) for r in rows}
    assert set(product) == set(written)
    differ = {n: (product[n], written[n]) for n in written if product[n] != written[n]}
    assert differ == {}
    assert set(written.values()) == {"Đạt", "Chưa đạt", "Chưa đủ điều kiện"}  # not vacuous
