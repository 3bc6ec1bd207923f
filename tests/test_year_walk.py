"""A whole year walked through the commands, as a ward does it (issue 23, "Done means").

The town has two tổ dân phố. January's forms come from the commune's resident list
(`forms --danh-sach`); TDP01 sends January, TDP02 joins late, in February, from the same list.
Each month the forms the project wrote are filled as a person would (openpyxl edits) and run;
October's forms come from the history (`forms --ky 2021-10`), November's from October's run.
November is scored with a catalogue the Ban chỉ đạo edited; then `binh-xet`, `quyet-dinh`,
December's run and January 2022.

Every expected value is worked out by hand from the catalogue's rules (its `Đọc trước`),
in the comments beside it, never read back from the product.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.domain import schema as S
from processor.store.history import History
from tests.docx_rules import annex_rows, annex_tables
from tests.town import small_catalogue

YES, NO, PASS, FAIL = S.YES, S.NO, "Đạt", "Chưa đạt"
ACHIEVED, NOT_ACHIEVED, NOT_ELIGIBLE = S.ACHIEVED, S.NOT_ACHIEVED, S.NOT_ELIGIBLE

# The commune's list: name, birth date, CCCD, household number, relation, address, unit.
D = dt.datetime
RESIDENTS = [
    ("Nguyễn Văn An", D(1960, 3, 2), "038060000101", "1", "Chủ hộ", "Số 1 Lê Lợi", "TDP01"),
    ("Trần Thị Bình", D(1962, 5, 6), "038162000102", "1", "Vợ", "", "TDP01"),
    ("Lê Văn Cường", D(1970, 7, 8), "038070000103", "2", "Chủ hộ", "Số 2 Lê Lợi", "TDP01"),
    ("Phạm Thị Dung", D(1972, 9, 10), "038172000104", "2", "Vợ", "", "TDP01"),
    ("Đỗ Văn Khoa", D(1980, 1, 1), "038080000201", "1", "Chủ hộ", "Số 3 Trần Phú", "TDP02"),
    ("Vũ Thị Lan", D(1982, 2, 2), "038182000202", "1", "Vợ", "", "TDP02"),
    ("Bùi Văn Tư", D(1990, 4, 4), "038090000203", "2", "Chủ hộ", "Số 5 Trần Phú", "TDP02"),
]  # fmt: skip
TDP01_PEOPLE = [r[0] for r in RESIDENTS if r[6] == "TDP01"]
TDP02_PEOPLE = [r[0] for r in RESIDENTS if r[6] == "TDP02"]
CITIZEN_CRITERIA = [f"CD0{i}" for i in range(1, 9)]
HOUSEHOLD_MARKS = [f"GD0{i}" for i in range(4, 10)]  # GD01 is a number, GD02-03 computed


# The summary's Theo đơn vị columns checked at each month.
COUNTED = [
    "Số công dân",
    "Công dân đạt",
    "Số hộ",
    "Hộ đạt",
    "Số công dân không được xét vì đăng ký",
    "Số hộ không được xét vì đăng ký",
    "Kết quả Tổ dân phố kiểu mẫu",
]


@dataclass
class Town:
    """The ward's folder, its catalogue (and the one edited in November), and what each step
    printed or made, by name, for the tests of that step."""

    root: Path
    catalogue: Path
    edited: Path | None = None
    said: dict[str, Any] = field(default_factory=dict)

    def args(self, *extra: str) -> list[str]:
        out = [] if "--out" in extra else ["--out", str(self.root / "out")]
        return [*extra, *out, "--kho", str(self.root / "kho")]

    def invoke(self, *args: str, catalogue: Path | None = None):
        command = [*self.args(*args), "--bo-tieu-chi", str(catalogue or self.catalogue)]
        return CliRunner().invoke(main, command)

    def run(self, inbox: Path, period: str, *extra: str, catalogue: Path | None = None):
        return self.invoke("run", str(inbox), "--ky", period, "--workers", "1", *extra,
                           catalogue=catalogue)  # fmt: skip

    def out(self, period: str) -> Path:
        return self.root / "out" / period

    def inbox(self, period: str, forms: Path) -> dict[str, Path]:
        """The units' forms of ``period`` from the folder the project wrote them in, copied
        into the month's inbox as the units send them back, by unit code."""
        inbox = self.root / "hop_thu" / period
        inbox.mkdir(parents=True)
        sent = {}
        for code in ("TDP01", "TDP02"):
            sent[code] = inbox / f"{code}_{period}.xlsx"
            sent[code].write_bytes((forms / sent[code].name).read_bytes())
        return sent

    def results(self, period: str, level: str = "citizens") -> dict[str, dict]:
        """The scored rows of ``period``, by name (citizens), household code or unit code."""
        key = {"citizens": "full_name", "households": "household_code", "units": "unit_code"}
        with History(self.root / "kho" / "lich_su.sqlite") as history:
            frame = history.load(period, "result", level)
        return {row[key[level]]: row for row in frame.to_dict("records")}


def sheet(path: Path, name: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def by_unit(town: Town, period: str) -> dict[str, dict]:
    """The summary's Theo đơn vị sheet: each unit's row, by the column labels."""
    rows = sheet(town.out(period) / f"tong_hop_{period}.xlsx", S.OUT_BY_UNIT)
    header = next(r for r in rows if "Mã đơn vị" in r)
    return {r[header.index("Mã đơn vị")]: dict(zip(header, r, strict=False))
            for r in rows[rows.index(header) + 1 :] if r[header.index("Mã đơn vị")]}  # fmt: skip


def fill(path: Path, sheet_name: str, every: dict[str, object], **rows: dict[str, object]) -> None:
    """Type into a form as a person does: ``every`` in each listed row, then ``rows`` (a
    person's name, a household code, a task or criterion code) over it. Columns are found by
    their label, or by the code that starts it (``CD05`` for "CD05 - Vệ sinh môi trường")."""
    book = openpyxl.load_workbook(path)
    ws = book[sheet_name]
    header = next(r for r in ws.iter_rows(max_row=6) if r[0].value in ("STT", "Mã tiêu chí"))
    columns = {}
    for cell in header:
        if cell.value:
            columns[str(cell.value)] = cell.column
            columns[str(cell.value).split(" - ")[0]] = cell.column
    names = ("Họ và tên", "Mã hộ", "Mã phần việc", "Mã tiêu chí")
    keys = [columns[k] for k in names if k in columns]
    seen = set()
    for row in ws.iter_rows(min_row=header[0].row + 1):
        found = [ws.cell(row[0].row, k).value for k in keys]
        if not any(found):
            continue
        own = next((rows[n] for n in found if n in rows), {})
        seen.update(n for n in found if n in rows)
        for label, value in {**every, **own}.items():
            ws.cell(row[0].row, columns[label]).value = value
    assert seen == set(rows), f"{path.name}: {set(rows) - seen} not on {sheet_name}"
    book.save(path)


def fill_info(path: Path, **values: object) -> None:
    book = openpyxl.load_workbook(path)
    ws = book[S.FORM_INFO.name]
    for row in ws.iter_rows():
        if row[0].value in values:
            row[1].value = values[row[0].value]
    book.save(path)


def fill_unit_sheet(path: Path, **changed: dict[str, object]) -> None:
    """The Tổ dân phố sheet as a unit fills it: every task self-assessed Đạt and planned for
    June, measured values that pass (TDP02 six years ≥ 5, TDP08 1% poor < 2, TDP09 9 points ≥ 8),
    then ``changed`` (task or criterion code: cells)."""
    measured = {"TDP02": 6, "TDP08": 1, "TDP09": 9}
    rows = {c: {"Tự đánh giá": None, "Giá trị đo được": v} for c, v in measured.items()}
    for code, cells in changed.items():
        rows[code] = {**rows.get(code, {}), **cells}
    fill(path, S.FORM_UNIT.name,
         {"Tự đánh giá": PASS, "Tháng hoàn thành dự kiến": 6, "Người phụ trách": "Tổ trưởng"},
         **rows)  # fmt: skip


def commune_list(path: Path) -> Path:
    """The list as the commune's office exports it: a title above its own header."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Danh sách"
    ws.append(["DANH SÁCH NHÂN KHẨU THỊ TRẤN PHONG SƠN"])
    ws.append(["STT", "Họ và tên", "Ngày sinh", "Số định danh cá nhân", "Số hộ",
               "Quan hệ với chủ hộ", "Địa chỉ", "Tổ dân phố"])  # fmt: skip
    for i, row in enumerate(RESIDENTS, start=1):
        ws.append([i, *row])
    book.save(path)
    return path


# --- January: forms from the resident list; TDP01 registers, TDP02 sends nothing ------------


@pytest.fixture(scope="module")
def january(tmp_path_factory) -> Town:
    root = tmp_path_factory.mktemp("nam")
    town = Town(root, root / "bo_tieu_chi.xlsx")
    small_catalogue(town.catalogue, ("TDP01", "TDP02"))
    source = commune_list(root / "dan_cu.xlsx")
    made = CliRunner().invoke(main, ["forms", "--ky", "2021-01", "--danh-sach", str(source),
                                     "--out", str(root / "f01"), "--kho", str(root / "kho"),
                                     "--bo-tieu-chi", str(town.catalogue)])  # fmt: skip
    assert made.exit_code == 0, made.output
    town.said["made_january"] = made.output
    form = root / "f01" / "TDP01_2021-01.xlsx"
    inbox = root / "hop_thu" / "2021-01"
    inbox.mkdir(parents=True)
    sent = inbox / form.name
    sent.write_bytes(form.read_bytes())
    fill_info(sent, **{"Người báo cáo": "Lê Văn Hùng", "Ngày báo cáo": dt.date(2021, 1, 20)})
    # Everyone registers; Cường's CD05 is not assessed yet (left blank).
    fill(sent, S.FORM_CITIZENS.name, {"Đăng ký": YES, **dict.fromkeys(CITIZEN_CRITERIA, PASS)},
         **{"Lê Văn Cường": {"CD05": None}})  # fmt: skip
    fill(sent, S.FORM_HOUSEHOLDS.name, {"Đăng ký": YES, **dict.fromkeys(HOUSEHOLD_MARKS, PASS)},
         **{"TDP01-1": {"GD01": 5}, "TDP01-2": {"GD01": 3}})  # fmt: skip
    fill_unit_sheet(sent)
    town.said["january_run"] = town.run(inbox, "2021-01")
    return town


def test_january_forms_come_from_the_resident_list(january) -> None:
    assert "2 từ danh sách dân cư" in january.said["made_january"]
    assert "đọc 7 dòng, 7 người được đưa vào biểu mẫu của 2 đơn vị" in january.said["made_january"]
    for code, people in (("TDP01", TDP01_PEOPLE), ("TDP02", TDP02_PEOPLE)):
        rows = sheet(january.root / "f01" / f"{code}_2021-01.xlsx", S.FORM_CITIZENS.name)
        listed = [r[2] for r in rows[3:] if r[2]]
        assert listed == people, code
        # Registration is for the unit to ask: nothing pre-filled in Đăng ký.
        assert all(r[6] in ("", None) for r in rows[3:] if r[2]), code
    homes = sheet(january.root / "f01" / "TDP02_2021-01.xlsx", S.FORM_HOUSEHOLDS.name)
    assert [(r[1], r[2], r[3]) for r in homes[3:] if r[1]] == [
        ("TDP02-1", "Đỗ Văn Khoa", "Số 3 Trần Phú"),
        ("TDP02-2", "Bùi Văn Tư", "Số 5 Trần Phú"),
    ]


def test_january_scores_the_unit_that_sent_and_waits_for_the_other(january) -> None:
    result = january.said["january_run"]
    assert result.exit_code == 0, result.output
    assert "Không được xét vì" not in result.output  # TDP02 sent nothing: Chưa nộp, not this
    people = january.results("2021-01")
    assert sorted(people) == sorted(TDP01_PEOPLE)  # TDP02 sent nothing: nobody of it scored
    for name in ("Nguyễn Văn An", "Trần Thị Bình", "Phạm Thị Dung"):
        assert (people[name]["outcome"], people[name]["registration"]) == (ACHIEVED, "Đúng hạn")
    cuong = people["Lê Văn Cường"]  # 7 Đạt, CD05 blank: not assessed
    assert cuong["outcome"] == NOT_ELIGIBLE
    assert "CD05 - Vệ sinh môi trường: ô trống" in cuong["reason"]
    homes = january.results("2021-01", "households")
    assert homes["TDP01-1"]["outcome"] == ACHIEVED  # both members Đạt, GD01 5 ≥ 3
    # Cường unknown, Dung Đạt: GD02 between 50% and 100%, needs 80%: not known yet.
    assert homes["TDP01-2"]["outcome"] == NOT_ELIGIBLE
    assert "Lê Văn Cường" in homes["TDP01-2"]["reason"]
    units = january.results("2021-01", "units")
    # TDP01 (households GĐKM ≥ 70%): one Đạt, one unknown: 50% to 100%, undecided.
    assert units["TDP01"]["outcome"] == NOT_ELIGIBLE
    counts = by_unit(january, "2021-01")
    assert [counts["TDP01"][k] for k in COUNTED] == [4, 3, 2, 1, 0, 0, "Chưa đủ điều kiện"]
    assert [counts["TDP02"][k] for k in COUNTED] == [0, 0, 0, 0, 0, 0, ""]
    assert counts["TDP02"]["Nộp báo cáo"] == "Chưa nộp"
    missing = sheet(january.out("2021-01") / "tong_hop_2021-01.xlsx", S.OUT_MISSING)
    assert any("TDP02" in row for row in missing)


# --- February: TDP01 fills in what it left blank; TDP02 joins, late, from the list -----------


@pytest.fixture(scope="module")
def february(january) -> Town:
    town, root = january, january.root
    inbox = root / "hop_thu" / "2021-02"
    inbox.mkdir(parents=True)
    tdp01 = inbox / "TDP01_2021-02.xlsx"
    tdp01.write_bytes((town.out("2021-01") / "bieu_mau" / tdp01.name).read_bytes())
    fill(tdp01, S.FORM_CITIZENS.name, {}, **{"Lê Văn Cường": {"CD05": PASS}})
    made = town.invoke("forms", "--ky", "2021-02", "--danh-sach", str(root / "dan_cu.xlsx"),
                       "--don-vi", "TDP02", "--out", str(root / "f02"))  # fmt: skip
    assert made.exit_code == 0, made.output
    tdp02 = inbox / "TDP02_2021-02.xlsx"
    tdp02.write_bytes((root / "f02" / tdp02.name).read_bytes())
    fill_info(tdp02, **{"Người báo cáo": "Nguyễn Thị Hoa", "Ngày báo cáo": dt.date(2021, 2, 22)})
    # Khoa and Lan register; Tư and his household say Không.
    fill(tdp02, S.FORM_CITIZENS.name, {"Đăng ký": YES, **dict.fromkeys(CITIZEN_CRITERIA, PASS)},
         **{"Bùi Văn Tư": {"Đăng ký": NO}})  # fmt: skip
    fill(tdp02, S.FORM_HOUSEHOLDS.name,
         {"Đăng ký": YES, "GD01": 4, **dict.fromkeys(HOUSEHOLD_MARKS, PASS)},
         **{"TDP02-2": {"Đăng ký": NO}})  # fmt: skip
    fill_unit_sheet(tdp02, TDP02={"Giá trị đo được": 3})  # three years, the title needs 5
    town.said["february_run"] = town.run(inbox, "2021-02")
    return town


def test_february_counts_a_late_unit_by_its_own_forms(february) -> None:
    result = february.said["february_run"]
    assert result.exit_code == 0, result.output
    assert (
        "Không được xét vì chưa đăng ký thi đua (hoặc đăng ký muộn không được tính): 1 công dân "
        "và 1 hộ, ở TDP02 (sheet 'Theo đơn vị'; Lý do trong tệp phản hồi)."
    ) in result.output
    people = february.results("2021-02")
    assert sorted(people) == sorted(TDP01_PEOPLE + TDP02_PEOPLE)
    for name in TDP01_PEOPLE:  # January's Có holds; Cường's CD05 is now Đạt
        row = people[name]
        assert (row["outcome"], row["registration"], row["registered_in"]) == (
            ACHIEVED, "Đúng hạn", "2021-01"), name  # fmt: skip
    for name in ("Đỗ Văn Khoa", "Vũ Thị Lan"):  # Có in February: late, counted by default
        row = people[name]
        assert (row["outcome"], row["registration"], row["registered_in"]) == (
            ACHIEVED, "Muộn, được tính", "2021-02"), name  # fmt: skip
    tu = people["Bùi Văn Tư"]
    assert (tu["outcome"], tu["reason"]) == (NOT_ELIGIBLE, "Chưa đăng ký thi đua")
    homes = february.results("2021-02", "households")
    assert {code: h["outcome"] for code, h in homes.items()} == {
        "TDP01-1": ACHIEVED,
        "TDP01-2": ACHIEVED,  # Cường and Dung Đạt: 100%; GD01 3 ≥ 3
        "TDP02-1": ACHIEVED,  # Khoa and Lan Đạt; GD01 4
        "TDP02-2": NOT_ELIGIBLE,  # not registered
    }
    units = february.results("2021-02", "units")
    assert units["TDP01"]["outcome"] == ACHIEVED
    # TDP02: households GĐKM 1 of 2 = 50% < 70%, and 3 years < 5: two mandatory criteria failed.
    assert units["TDP02"]["outcome"] == NOT_ACHIEVED
    assert "TDP01 - Hộ đạt GĐKM" in units["TDP02"]["reason"]
    assert "TDP02 - Tổ dân phố văn hóa" in units["TDP02"]["reason"]
    counts = by_unit(february, "2021-02")
    assert [counts["TDP01"][k] for k in COUNTED] == [4, 4, 2, 2, 0, 0, ACHIEVED]
    assert [counts["TDP02"][k] for k in COUNTED] == [3, 2, 2, 1, 1, 1, NOT_ACHIEVED]


def test_february_tells_the_late_unit_who_is_left_out_and_why(february) -> None:
    path = february.out("2021-02") / "phan_hoi" / "TDP02_2021-02.xlsx"
    tu = next(r for r in sheet(path, "Kết quả công dân") if "Bùi Văn Tư" in r)
    assert tu[-2:] == [NOT_ELIGIBLE, "Chưa đăng ký thi đua"]
    # A form without errors, but not everyone counts: the first sheet says so.
    first = [str(r[0]).strip() for r in sheet(path, "Phản hồi")]
    assert "3. Không có ô nào cần sửa. Xin cảm ơn!" in first
    said = [line for line in first if "không được xét danh hiệu" in line]
    assert len(said) == 1 and said[0].startswith(
        "1 công dân và 1 hộ không được xét danh hiệu vì chưa đăng ký thi đua hoặc đăng ký muộn"
    )
    other = february.out("2021-02") / "phan_hoi" / "TDP01_2021-02.xlsx"
    assert not [r for r in sheet(other, "Phản hồi") if "không được xét" in str(r[0])]
    guide = openpyxl.load_workbook(february.root / "f02" / "TDP02_2021-02.xlsx")[S.FORM_GUIDE]
    lines = {r[0]: r[1] for r in guide.iter_rows(max_col=2, values_only=True) if r[0]}
    # The rule the scoring applies, from Cấu hình (han_dang_ky 1, dang_ky_muon tính).
    assert lines["Đăng ký"].endswith(
        "Hạn đăng ký: hết tháng 1; đăng ký sau đó là đăng ký muộn, vẫn được xét."
    )


# --- October: forms from the history; a lapse at TDP01, Tư registers late -----------------


@pytest.fixture(scope="module")
def october(february) -> Town:
    town, root = february, february.root
    made = town.invoke("forms", "--ky", "2021-10", "--out", str(root / "f10"))
    assert made.exit_code == 0, made.output
    town.said["made_october"] = made.output
    sent = town.inbox("2021-10", root / "f10")
    tdp01, tdp02 = sent["TDP01"], sent["TDP02"]
    # An's health insurance lapsed; the unit clears H1's GD01 (it has not changed since).
    fill(tdp01, S.FORM_CITIZENS.name, {}, **{"Nguyễn Văn An": {"CD04": FAIL}})
    fill(tdp01, S.FORM_HOUSEHOLDS.name, {}, **{"TDP01-1": {"GD01": None}})
    fill(tdp02, S.FORM_CITIZENS.name, {}, **{"Bùi Văn Tư": {"Đăng ký": YES}})
    fill(tdp02, S.FORM_HOUSEHOLDS.name, {}, **{"TDP02-2": {"Đăng ký": YES}})
    town.said["october_run"] = town.run(tdp01.parent, "2021-10")
    return town


def test_october_forms_come_from_februarys_rows(october) -> None:
    assert "2 điền sẵn từ lịch sử" in october.said["made_october"]
    rows = sheet(october.root / "f10" / "TDP02_2021-10.xlsx", S.FORM_CITIZENS.name)
    header = rows[2]
    got = {r[2]: (r[header.index("Đăng ký")], r[header.index("CD01 - Chấp hành pháp luật")])
           for r in rows[3:] if r[2]}  # fmt: skip
    assert got == {"Đỗ Văn Khoa": (YES, PASS), "Vũ Thị Lan": (YES, PASS), "Bùi Văn Tư": (NO, PASS)}
    guide = openpyxl.load_workbook(october.root / "f10" / "TDP01_2021-10.xlsx")[S.FORM_GUIDE]
    how = {r[0]: r[1] for r in guide.iter_rows(max_col=2, values_only=True) if r[0]}["Cách điền"]
    assert "biểu mẫu tháng 02/2021 đơn vị đã gửi" in how


def test_october_results(october) -> None:
    result = october.said["october_run"]
    assert result.exit_code == 0, result.output
    people = october.results("2021-10")
    an = people["Nguyễn Văn An"]
    assert an["outcome"] == NOT_ACHIEVED and "CD04 - Bảo hiểm y tế (bắt buộc)" in an["reason"]
    for name in ("Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Đỗ Văn Khoa", "Vũ Thị Lan"):
        assert people[name]["outcome"] == ACHIEVED, name
    tu = people["Bùi Văn Tư"]  # Có in October: late, counted
    assert (tu["outcome"], tu["registration"], tu["registered_in"]) == (
        ACHIEVED, "Muộn, được tính", "2021-10")  # fmt: skip
    assert people["Vũ Thị Lan"]["registered_in"] == "2021-02"  # still February's
    homes = october.results("2021-10", "households")
    h1 = homes["TDP01-1"]
    # An fails CD04: GD02 1 of 2 = 50% < 80%, GD03 50% < 100%. GD01 blank: February's 5.
    assert (h1["outcome"], h1["GD02"], h1["GD03"]) == (NOT_ACHIEVED, FAIL, FAIL)
    assert (h1["GD01_value"], h1["carried"]) == (
        5,
        "GD01 - Gia đình văn hóa: 5 (lấy từ kỳ 2021-02)",
    )
    assert [homes[c]["outcome"] for c in ("TDP01-2", "TDP02-1", "TDP02-2")] == [ACHIEVED] * 3
    units = october.results("2021-10", "units")
    # TDP01: households 1 of 2 = 50% < 70%; CD04 3 of 4 residents = 75% < 95%.
    assert units["TDP01"]["outcome"] == NOT_ACHIEVED
    assert "TDP03 - BHYT toàn dân" in units["TDP01"]["reason"]
    counts = by_unit(october, "2021-10")
    assert [counts["TDP01"][k] for k in COUNTED] == [4, 3, 2, 1, 0, 0, NOT_ACHIEVED]
    assert [counts["TDP02"][k] for k in COUNTED] == [3, 3, 2, 2, 0, 0, NOT_ACHIEVED]


# --- November: the Ban chỉ đạo lowers TDP02's threshold; the vote meeting ------------------


def edited_catalogue(town: Town) -> Path:
    """The catalogue as the Ban chỉ đạo edits it before November: Tổ dân phố văn hóa needs
    3 consecutive years instead of 5."""
    path = town.root / "bo_moi" / "bo_tieu_chi.xlsx"
    path.parent.mkdir()
    book = openpyxl.load_workbook(town.catalogue)
    ws = book["Tiêu chí"]
    header = [c.value for c in ws[1]]
    row = next(
        r for r in ws.iter_rows(min_row=2) if r[header.index("Mã tiêu chí")].value == "TDP02"
    )
    row[header.index("Ngưỡng")].value = 3
    book.save(path)
    return path


VOTES = {"Nguyễn Văn An": 40, "Trần Thị Bình": 30, "Lê Văn Cường": 45, "Phạm Thị Dung": 26,
         "Đỗ Văn Khoa": 40, "Vũ Thị Lan": 25, "Bùi Văn Tư": 35}  # fmt: skip
MEETING = {"Ngày họp bình xét": dt.date(2021, 11, 12), "Số người dự họp": 50,
           "Chủ trì cuộc họp": "Lê Văn Hùng", "Thư ký cuộc họp": "Mai Thị Thu"}  # fmt: skip


@pytest.fixture(scope="module")
def november(october) -> Town:
    town = october
    sent = town.inbox("2021-11", town.out("2021-10") / "bieu_mau")
    inbox = sent["TDP01"].parent
    for code, form in sent.items():
        fill_info(form, **MEETING)
        people = TDP01_PEOPLE if code == "TDP01" else TDP02_PEOPLE
        fill(form, S.FORM_CITIZENS.name, {},
             **{name: {"Số phiếu đồng ý": VOTES[name]} for name in people})  # fmt: skip
        fill(form, S.FORM_HOUSEHOLDS.name, {"Số phiếu đồng ý": 40})
    fill(sent["TDP01"], S.FORM_CITIZENS.name, {},
         **{"Nguyễn Văn An": {"CD04": PASS}})  # insured again  # fmt: skip
    town.edited = edited_catalogue(town)
    town.said["refused"] = town.run(inbox, "2021-11", catalogue=town.edited)
    town.said["refused_out"] = town.out("2021-11").exists()
    town.said["november_run"] = town.run(
        inbox, "2021-11", "--xac-nhan-bo-tieu-chi", catalogue=town.edited
    )
    return town


def test_a_catalogue_changed_in_november_waits_for_the_clerk(november) -> None:
    refused = november.said["refused"]
    assert refused.exit_code == 2, refused.output
    assert "Tiêu chí TDP02: Ngưỡng 5 → 3." in refused.output
    assert "--xac-nhan-bo-tieu-chi" in refused.output
    assert not november.said["refused_out"]  # nothing written
    confirmed = november.said["november_run"]
    assert confirmed.exit_code == 0, confirmed.output
    assert "Bộ tiêu chí khác với bộ đã chấm kỳ 2021-10 (đã xác nhận)" in confirmed.output
    assert "Tiêu chí TDP02: Ngưỡng 5 → 3." in confirmed.output
    overview = sheet(november.out("2021-11") / "tong_hop_2021-11.xlsx", S.OUT_OVERVIEW)
    assert any("Tiêu chí TDP02: Ngưỡng 5 → 3." in str(r[0]) for r in overview)


def test_november_scores_the_votes(november) -> None:
    people = november.results("2021-11")
    # Votes must be more than 50% of the 50 present: Dung's 26 (52%) pass, Lan's 25 (50%) not.
    assert {n: p["outcome"] for n, p in people.items()} == {
        **dict.fromkeys(TDP01_PEOPLE, ACHIEVED),
        "Đỗ Văn Khoa": ACHIEVED,
        "Vũ Thị Lan": NOT_ACHIEVED,
        "Bùi Văn Tư": ACHIEVED,
    }
    homes = november.results("2021-11", "households")
    # TDP02-1: Khoa Đạt, Lan Chưa đạt: GD02 50% < 80%.
    assert {c: h["outcome"] for c, h in homes.items()} == {
        "TDP01-1": ACHIEVED,
        "TDP01-2": ACHIEVED,
        "TDP02-1": NOT_ACHIEVED,
        "TDP02-2": ACHIEVED,
    }
    assert homes["TDP01-1"]["GD01_value"] == 5  # carried in October, written on the form
    units = november.results("2021-11", "units")
    assert units["TDP01"]["outcome"] == ACHIEVED
    # TDP02: 3 years now pass (≥ 3); households 1 of 2 = 50% < 70% still fails.
    tdp02 = units["TDP02"]
    assert tdp02["outcome"] == NOT_ACHIEVED and tdp02["TDP02"] == PASS
    assert "TDP01 - Hộ đạt GĐKM" in tdp02["reason"] and "TDP02 -" not in tdp02["reason"]
    counts = by_unit(november, "2021-11")
    assert [counts["TDP01"][k] for k in COUNTED] == [4, 4, 2, 2, 0, 0, ACHIEVED]
    assert [counts["TDP02"][k] for k in COUNTED] == [3, 2, 2, 1, 0, 0, NOT_ACHIEVED]


# --- The vote lists, the decisions, December and the turn of the year -----------------------


def annexes(town: Town) -> dict[str, list[str]]:
    """The names in the annex of each decision and of the Tờ trình to the district."""
    folder = town.out("2021-12") / "quyet_dinh"
    return {
        name: sorted(row[1] for row in annex_rows(Document(folder / f"{name}.docx")))
        for name in ("quyet_dinh_CD_2021", "quyet_dinh_GD_2021", "to_trinh_huyen_TDP_2021")
    }


@pytest.fixture(scope="module")
def december(november) -> Town:
    town = november
    town.said["lists"] = town.invoke("binh-xet", catalogue=town.edited)
    town.said["decisions"] = town.invoke("quyet-dinh", "--nam", "2021", catalogue=town.edited)
    town.said["annexes"] = annexes(town)
    sent = town.inbox("2021-12", town.out("2021-11") / "bieu_mau")
    for form in sent.values():
        fill_info(form, **{"Ngày báo cáo": dt.date(2021, 12, 20)})
    town.said["december_run"] = town.run(sent["TDP01"].parent, "2021-12", catalogue=town.edited)
    return town


def test_the_vote_lists_name_the_registered_candidates(december) -> None:
    assert december.said["lists"].exit_code == 0, december.said["lists"].output
    folder = december.out("2021-11") / "binh_xet"
    for code, people, heads in (
        ("TDP01", TDP01_PEOPLE, ["Lê Văn Cường", "Nguyễn Văn An"]),
        ("TDP02", TDP02_PEOPLE, ["Bùi Văn Tư", "Đỗ Văn Khoa"]),  # Tư's household: October
    ):
        citizens, households = annex_tables(Document(folder / f"binh_xet_{code}_2021-11.docx"))
        assert sorted(r.cells[1].text for r in citizens.rows[1:]) == sorted(people), code
        assert sorted(r.cells[1].text for r in households.rows[1:]) == sorted(heads), code


def test_the_decisions_name_exactly_those_who_reached_the_titles(december) -> None:
    assert december.said["decisions"].exit_code == 0, december.said["decisions"].output
    expected = {
        # November: everyone but Lan (25 votes of 50).
        "quyet_dinh_CD_2021": sorted([*TDP01_PEOPLE, "Đỗ Văn Khoa", "Bùi Văn Tư"]),
        # The heads of TDP01-1, TDP01-2 and TDP02-2 (TDP02-1: Lan is not a CDKM).
        "quyet_dinh_GD_2021": sorted(["Nguyễn Văn An", "Lê Văn Cường", "Bùi Văn Tư"]),
        "to_trinh_huyen_TDP_2021": ["Tổ dân phố số 1"],
    }
    assert december.said["annexes"] == expected
    # December's run drafts them again, from November's results: the same names.
    assert annexes(december) == expected
    made = sorted(p.name for p in (december.out("2021-12") / "quyet_dinh").iterdir())
    certificates = [n for n in made if n.startswith("giay_")]
    assert certificates == [f"giay_cong_nhan_{t}_{u}_2021.docx" for t in ("CD", "GD")
                            for u in ("TDP01", "TDP02")]  # fmt: skip


def test_december_without_votes_waits_for_them(december) -> None:
    """Votes count from November on (thang_binh_xet) and are not carried: December's forms
    have none, so nobody is decided in December; the decisions come from November."""
    result = december.said["december_run"]
    assert result.exit_code == 0, result.output
    people = december.results("2021-12")
    assert len(people) == 7
    for name, row in people.items():
        assert (row["outcome"], row["reason"]) == (
            NOT_ELIGIBLE, "Chưa đủ dữ liệu: Số phiếu đồng ý: ô trống"), name  # fmt: skip


# --- January 2022: registration afresh, people and households kept, year counts moved on ----


@pytest.fixture(scope="module")
def next_year(december) -> Town:
    town = december
    sent = town.inbox("2022-01", town.out("2021-12") / "bieu_mau")
    tdp01, tdp02 = sent["TDP01"], sent["TDP02"]
    # TDP01 registers everyone again; TDP02 assesses its people but registers nobody.
    fill(tdp01, S.FORM_CITIZENS.name, {"Đăng ký": YES, **dict.fromkeys(CITIZEN_CRITERIA, PASS)})
    fill(tdp01, S.FORM_HOUSEHOLDS.name, {"Đăng ký": YES, **dict.fromkeys(HOUSEHOLD_MARKS, PASS)})
    # The unit clears TDP02's 7: the scoring moves November's 6 on to 7 itself (rule 12).
    fill_unit_sheet(tdp01, TDP02={"Giá trị đo được": None})
    fill(tdp02, S.FORM_CITIZENS.name, dict.fromkeys(CITIZEN_CRITERIA, PASS))
    fill(tdp02, S.FORM_HOUSEHOLDS.name, dict.fromkeys(HOUSEHOLD_MARKS, PASS))
    town.said["next_run"] = town.run(tdp01.parent, "2022-01", catalogue=town.edited)
    return town


def _table(path: Path, sheet_name: str, key: str) -> dict[str, dict]:
    rows = sheet(path, sheet_name)
    header = next(r for r in rows if key in r)
    first = rows.index(header) + 1
    return {r[header.index(key)]: dict(zip(header, r, strict=False)) for r in rows[first:]
            if r[header.index(key)]}  # fmt: skip


def test_januarys_forms_of_the_new_year(december) -> None:
    folder = december.out("2021-12") / "bieu_mau"
    for code, people in (("TDP01", TDP01_PEOPLE), ("TDP02", TDP02_PEOPLE)):
        path = folder / f"{code}_2022-01.xlsx"
        citizens = _table(path, S.FORM_CITIZENS.name, "Họ và tên")
        assert list(citizens) == people, code  # the people, in their order
        for row in RESIDENTS:
            if row[6] == code:
                assert citizens[row[0]]["Số CCCD"] == row[2]
        for name, cells in citizens.items():  # registration and the year's marks cleared
            assert cells["Đăng ký"] == "" and cells["Số phiếu đồng ý"] == "", name
            assert all(cells[c] == "" for c in cells if c[:4] == "CD0"), name
    homes = {}
    for code in ("TDP01", "TDP02"):
        homes.update(_table(folder / f"{code}_2022-01.xlsx", S.FORM_HOUSEHOLDS.name, "Mã hộ"))
    gd01 = next(c for c in homes["TDP01-1"] if c.startswith("GD01"))
    # November's value + 1 where the household reached Gia đình kiểu mẫu; blank where not.
    assert {c: h[gd01] for c, h in homes.items()} == {
        "TDP01-1": 6, "TDP01-2": 4, "TDP02-1": "", "TDP02-2": 5}  # fmt: skip
    assert all(h["Đăng ký"] == "" for h in homes.values())
    assert homes["TDP02-2"]["Địa chỉ"] == "Số 5 Trần Phú"
    for code, years in (("TDP01", 7), ("TDP02", "")):  # TDP01 reached its title with 6
        tasks = sheet(folder / f"{code}_2022-01.xlsx", S.FORM_UNIT.name)
        header = tasks[2]
        rows = [dict(zip(header, r, strict=False)) for r in tasks[3:] if r[0]]
        (count,) = [r["Giá trị đo được"] for r in rows if r["Mã tiêu chí"] == "TDP02"]
        assert count == years, code
        assert all(r["Tự đánh giá"] == "" and r["Tháng hoàn thành dự kiến"] == "" for r in rows)
        assert all(r["Người phụ trách"] == "Tổ trưởng" for r in rows), code


def test_january_2022_registers_afresh(next_year) -> None:
    result = next_year.said["next_run"]
    assert result.exit_code == 0, result.output
    assert "(hoặc đăng ký muộn không được tính): 3 công dân và 2 hộ, ở TDP02 (" in result.output
    assert "Bộ tiêu chí khác" not in result.output  # a new year: nothing to confirm
    people = next_year.results("2022-01")
    for name in TDP01_PEOPLE:
        row = people[name]
        assert (row["outcome"], row["registration"], row["registered_in"]) == (
            ACHIEVED, "Đúng hạn", "2022-01"), name  # fmt: skip
    for name in TDP02_PEOPLE:  # 2021's Có does not carry into 2022
        assert (people[name]["outcome"], people[name]["reason"]) == (
            NOT_ELIGIBLE, "Chưa đăng ký thi đua"), name  # fmt: skip
    homes = next_year.results("2022-01", "households")
    assert [homes[c]["GD01_value"] for c in ("TDP01-1", "TDP01-2")] == [6, 4]
    assert {c: h["outcome"] for c, h in homes.items()} == {
        "TDP01-1": ACHIEVED,
        "TDP01-2": ACHIEVED,
        "TDP02-1": NOT_ELIGIBLE,
        "TDP02-2": NOT_ELIGIBLE,
    }
    units = next_year.results("2022-01", "units")
    assert (units["TDP01"]["outcome"], units["TDP01"]["TDP02_value"]) == (ACHIEVED, 7)
    # TDP02: no household registered: 0% < 70%.
    assert units["TDP02"]["outcome"] == NOT_ACHIEVED
    counts = by_unit(next_year, "2022-01")
    assert [counts["TDP01"][k] for k in COUNTED] == [4, 4, 2, 2, 0, 0, ACHIEVED]
    assert [counts["TDP02"][k] for k in COUNTED] == [3, 0, 2, 0, 3, 2, NOT_ACHIEVED]
