"""January from a resident list (issue 23 item 2): `kieumau forms --danh-sach`.

The lists are made the way a commune's office makes them: an Excel sheet with a title above
the header, its own column order and names, a CCCD stored as a number, dates typed as text;
or a CSV saved by a Vietnamese Excel (';' separated, UTF-8 with a BOM, or Windows-1258).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.domain import schema as S
from processor.domain.form_layout import HEADER_ROW
from processor.intake.reader import read_submission
from processor.intake.residents import read_residents
from tests.conftest import sheet_rows

HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số định danh cá nhân", "Số hộ",
          "Quan hệ với chủ hộ", "Địa chỉ", "Tổ dân phố"]  # fmt: skip
ROWS = [
    [1, "Nguyễn Văn Hùng", dt.datetime(1970, 3, 2), "Nam", "038070001234", "12", "Chủ hộ",
     "Số 5, Phố Lê Lợi", "Tổ dân phố số 1"],
    [2, "Trần Thị Lan", "06/05/1972", "Nữ", 1172005678, "12", "Vợ", "", "Tổ dân phố số 1"],
    [3, "Nguyễn Minh Khôi", dt.datetime(2012, 9, 1), "Nam", None, "12", "Con", "", "TDP01"],
    [4, "'Lê Văn Dũng", "31/02/1960", "nam", "03806000011", "15", "Chủ hộ", "Ngõ 3", "TDP01"],
    [5, None, dt.datetime(1980, 1, 1), "Nữ", None, "15", "Vợ", "", "TDP01"],
    [6, "Lê Thị Trùng", dt.datetime(1985, 1, 1), "Nữ", "038070001234", "15", "Con", "", "TDP01"],
    [7, "Phạm Văn Xa", dt.datetime(1990, 4, 5), "Nam", "038090001122", "3", "Chủ hộ",
     "Phố Trần Phú", "TDP02"],
    [8, "Vũ Thị Lạc", dt.datetime(1991, 1, 1), "Nữ", "038191000001", "7", "Chủ hộ", "", "Tổ 99"],
]  # fmt: skip


def _commune_list(path: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Danh sách"
    ws.append(["DANH SÁCH NHÂN KHẨU THỊ TRẤN PHONG SƠN"])
    ws.append(["(trích từ cơ sở dữ liệu dân cư)"])
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def january(tmp_path_factory, catalogue) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("thang1")
    source = _commune_list(folder / "dan_cu.xlsx")
    forms = folder / "bieu_mau"
    args = ["forms", "--ky", "2022-01", "--danh-sach", str(source), "--out", str(forms)]
    args += ["--trong", "--bo-tieu-chi", str(catalogue.path)]
    return forms, CliRunner().invoke(main, args)


def test_a_january_form_from_a_resident_list_lists_its_people(january, catalogue) -> None:
    forms, result = january
    assert result.exit_code == 1, result.output  # the list has rows to fix
    assert "2 từ danh sách dân cư" in result.output and "26 biểu mẫu trắng" in result.output
    listed = CalamineWorkbook.from_path(str(forms / "TDP01_2022-01.xlsx")).get_sheet_by_name(
        S.FORM_CITIZENS.name
    )
    names = [row[2] for row in listed.to_python()[HEADER_ROW + 1 :] if row[2]]
    assert names == [
        "Nguyễn Văn Hùng",
        "Trần Thị Lan",
        "Nguyễn Minh Khôi",
        "Lê Văn Dũng",  # the apostrophe Excel shows as a text marker is not part of the name
    ]
    sub = read_submission(forms / "TDP01_2022-01.xlsx", catalogue)
    people = sub.citizens.set_index("full_name")
    assert people.at["Nguyễn Văn Hùng", "cccd"] == "038070001234"
    assert people.at["Trần Thị Lan", "cccd"] == "001172005678"  # a number that lost its 00
    assert people.at["Trần Thị Lan", "birth_date"] == dt.date(1972, 5, 6)  # day first
    assert people.at["Nguyễn Văn Hùng", "household_code"] == "TDP01-12"
    assert people["registered"].isna().all()  # January: the unit asks each person
    homes = sub.households.set_index("household_code")
    assert homes.at["TDP01-12", "head_name"] == "Nguyễn Văn Hùng"
    assert homes.at["TDP01-12", "address"] == "Số 5, Phố Lê Lợi"
    assert homes.at["TDP01-15", "head_name"] == "Lê Văn Dũng"
    tdp02 = read_submission(forms / "TDP02_2022-01.xlsx", catalogue)
    assert tdp02.citizens["full_name"].tolist() == ["Phạm Văn Xa"]


def test_bad_rows_of_the_list_are_named_by_file_cell_and_person(january, catalogue) -> None:
    forms, result = january
    out = result.output
    assert "dan_cu.xlsx: đọc 8 dòng, 5 người được đưa vào biểu mẫu của 2 đơn vị" in out
    assert "dan_cu.xlsx, sheet Danh sách, ô C7: Lê Văn Dũng: '31/02/1960' không phải ngày" in out
    assert "ô B8: Dòng không có họ tên" in out
    assert "ô E9: Lê Thị Trùng: Số CCCD '038070001234' đã có ở dòng 4" in out
    assert "ô I11: Vũ Thị Lạc: Tổ dân phố 'Tổ 99' không có trong Bộ tiêu chí" in out
    report = (forms / "danh_sach_can_sua_2022-01.txt").read_text(encoding="utf-8")
    assert report.count("\n") == 5  # the date and the 11-digit CCCD of the same row, then 3
    assert "ô E7: Lê Văn Dũng: Số CCCD '03806000011' không hợp lệ (có 11 chữ số)" in report
    # The date that could not be read is on the form as typed, marked for the unit to fix.
    book = openpyxl.load_workbook(forms / "TDP01_2022-01.xlsx")
    ws = book[S.FORM_CITIZENS.name]
    cell = next(c for c in ws["D"] if c.value == "31/02/1960")
    assert cell.comment.text.startswith("Cần sửa: danh sách dân cư ghi «31/02/1960»")
    sub = read_submission(forms / "TDP01_2022-01.xlsx", catalogue)
    (issue,) = [i for i in sub.issues if i.code == "DATE_INVALID"]
    assert issue.cell == cell.coordinate


def test_the_guide_says_the_form_comes_from_the_resident_list(january) -> None:
    forms, _ = january
    guide = {
        row["label"]: row["text"]
        for row in (
            {"label": r[0], "text": r[1]}
            for r in openpyxl.load_workbook(forms / "TDP01_2022-01.xlsx")[S.FORM_GUIDE].iter_rows(
                max_col=2, values_only=True
            )
        )
    }
    assert "danh sách dân cư (tệp dan_cu.xlsx)" in guide["Cách điền"]
    assert guide["Đăng ký"].startswith("Tháng 1 là tháng đăng ký thi đua năm 2022")
    blank = openpyxl.load_workbook(forms / "TDP05_2022-01.xlsx")[S.FORM_GUIDE]
    how = {r[0]: r[1] for r in blank.iter_rows(max_col=2, values_only=True)}["Cách điền"]
    assert how.startswith("Biểu mẫu trắng: chưa có danh sách.")


def _cp1258(text: str) -> bytes:
    """``text`` as a Vietnamese Windows saves it: tone marks as combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1258"])
def test_a_csv_list_of_one_unit(tmp_path, catalogue, encoding) -> None:
    lines = [
        "Họ tên;Ngày sinh;CCCD;Mã hộ",
        "Đặng Thị Ngọc Ánh;15/08/1988;038188004321;TDP03-H001",
        "Đặng Văn Ưng;1955;;TDP03-H001",
    ]
    text = "\r\n".join(lines) + "\r\n"
    path = tmp_path / "to3.csv"
    path.write_bytes(text.encode("utf-8-sig") if encoding == "utf-8-sig" else _cp1258(text))
    residents = read_residents(path, catalogue, "TDP03")
    part = residents.units["TDP03"]
    assert part.citizens["full_name"].tolist() == ["Đặng Thị Ngọc Ánh", "Đặng Văn Ưng"]
    assert part.citizens["cccd"].tolist()[0] == "038188004321"
    assert part.citizens["birth_date"].tolist()[0] == dt.date(1988, 8, 15)
    # A year alone is kept as typed for the unit to complete.
    assert part.citizens["_raw"].tolist()[1] == {"birth_date": "1955"}
    assert part.households.to_dict("records") == [
        {"household_code": "TDP03-H001", "head_name": "Đặng Thị Ngọc Ánh", "address": None}
    ]


def test_a_list_without_unit_column_needs_the_unit(tmp_path, catalogue) -> None:
    path = tmp_path / "ds.csv"
    path.write_text("Họ và tên,Ngày sinh,Số CCCD,Mã hộ\nA B,01/01/1990,,H1\n", encoding="utf-8")
    args = ["forms", "--ky", "2022-01", "--danh-sach", str(path), "--out", str(tmp_path / "f")]
    result = CliRunner().invoke(main, [*args, "--bo-tieu-chi", str(catalogue.path)])
    assert result.exit_code == 2
    assert "không có cột Tổ dân phố" in result.output and "--don-vi" in result.output
    result = CliRunner().invoke(
        main, [*args, "--don-vi", "TDP04", "--bo-tieu-chi", str(catalogue.path)]
    )
    assert result.exit_code == 0, result.output
    rows = sheet_rows(tmp_path / "f" / "TDP04_2022-01.xlsx", S.FORM_META)
    assert rows  # the form was written
    sub = read_submission(tmp_path / "f" / "TDP04_2022-01.xlsx", catalogue)
    assert sub.citizens["household_code"].tolist() == ["TDP04-H1"]


def test_a_list_missing_a_column_says_which(tmp_path, catalogue) -> None:
    path = tmp_path / "thieu.csv"
    path.write_text("Họ và tên;Ngày sinh;Địa chỉ\nA B;01/01/1990;x\n", encoding="utf-8")
    args = ["forms", "--ky", "2022-01", "--danh-sach", str(path), "--don-vi", "TDP01"]
    result = CliRunner().invoke(main, [*args, "--bo-tieu-chi", str(catalogue.path)])
    assert result.exit_code == 2
    assert "thiếu cột Số CCCD, Mã hộ" in result.output and "thieu.csv" in result.output
