"""The catalogue loads, and a broken one is rejected with cell-level Vietnamese messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from processor.cli import main
from processor.domain import schema as S
from processor.domain.catalogue import CAT_CRITERIA, DEFAULT_CATALOGUE, load_catalogue
from processor.domain.errors import CatalogueError
from processor.domain.kinds import KINDS


def test_default_catalogue_has_three_titles_and_the_town(catalogue) -> None:
    assert [t.code for t in catalogue.titles] == ["CD", "GD", "TDP"]
    assert len(catalogue.criteria_of("CD")) == 8
    assert len(catalogue.criteria_of("GD")) == 9
    assert len(catalogue.criteria_of("TDP")) == 10
    assert sum(u.is_tdp for u in catalogue.units) == 25
    assert sum(not u.is_tdp for u in catalogue.units) == 3
    kinds = {c.kind for c in catalogue.criteria}
    assert kinds == {"dat", "diem", "so", "tong_hop"}
    assert catalogue.tasks and all(t.criterion.startswith("TDP") for t in catalogue.tasks)
    assert catalogue.setting("nguoi_ky") == "Nguyễn Công Hoan"
    assert len(catalogue.setting_list("can_cu")) >= 4


def _broken(tmp_path: Path, edits: dict[tuple[str, str], object]) -> Path:
    path = tmp_path / "bo_tieu_chi.xlsx"
    shutil.copy(DEFAULT_CATALOGUE, path)
    book = openpyxl.load_workbook(path)
    for (sheet, cell), value in edits.items():
        book[sheet][cell] = value
    book.save(path)
    return path


@pytest.mark.parametrize("content", [b"ma,ten\nCD01,x\n", b"PK\x03\x04 cut short"])
def test_a_file_that_is_not_a_workbook_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    """A CSV saved as .xlsx, or a copy cut short: the clerk is told which file, in Vietnamese
    (calamine's own errors are the ones expected; anything else would be a fault)."""
    path = tmp_path / "bo_tieu_chi.xlsx"
    path.write_bytes(content)
    with pytest.raises(CatalogueError, match=r"Không đọc được Bộ tiêu chí bo_tieu_chi\.xlsx"):
        load_catalogue(path)


def test_broken_catalogue_lists_every_problem_by_cell(tmp_path: Path) -> None:
    path = _broken(
        tmp_path,
        {
            ("Tiêu chí", "F2"): "abc",  # kind of CD01
            ("Tiêu chí", "J10"): None,  # threshold of GD01 (a `so` criterion)
            ("Tiêu chí", "A3"): "XX",  # title code that does not exist
            ("Đơn vị", "A3"): "TDP01",  # duplicate unit code
        },
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    problems = caught.value.problems
    assert any(p.startswith("Tiêu chí!F2:") and "dat, diem, so, tong_hop" in p for p in problems)
    assert any(p.startswith("Tiêu chí!J10:") and "ngưỡng" in p for p in problems)
    assert any(p.startswith("Tiêu chí!A3:") and "XX" in p for p in problems)
    assert any(p.startswith("Đơn vị!A3:") and "bị lặp" in p for p in problems)


def test_catalogue_check_command(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["catalogue", "check"])
    assert ok.exit_code == 0 and "Bộ tiêu chí hợp lệ" in ok.output
    bad = _broken(tmp_path, {("Danh hiệu", "C2"): "Xã"})
    result = runner.invoke(main, ["catalogue", "check", "--bo-tieu-chi", str(bad)])
    assert result.exit_code == 2
    assert "Danh hiệu!C2" in result.output


def test_missing_sheet_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bo_tieu_chi.xlsx"
    shutil.copy(DEFAULT_CATALOGUE, path)
    book = openpyxl.load_workbook(path)
    book["Phần việc"].title = "Cong viec"
    book.save(path)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert any("thiếu sheet 'Phần việc'" in p for p in caught.value.problems)


def test_the_shipped_catalogue_is_written_from_the_default_tables(tmp_path: Path) -> None:
    """input_templates/bo_tieu_chi.xlsx is what processor.outputs.catalogue_book writes: a change
    to the default tables must be followed by `python -m processor.outputs.catalogue_book`."""
    from processor.domain import default_catalogue
    from processor.domain.sheets import read_workbook
    from processor.outputs.catalogue_book import write_catalogue

    built = load_catalogue(write_catalogue(tmp_path / "bo_tieu_chi.xlsx"))
    shipped = load_catalogue(DEFAULT_CATALOGUE)
    assert shipped == built
    assert shipped.settings == built.settings
    readme = [row[0] or "" for row in read_workbook(DEFAULT_CATALOGUE)[S.CAT_README]]
    assert readme == list(default_catalogue.README_LINES)


def test_the_catalogue_dropdowns_offer_what_the_loader_accepts(tmp_path: Path) -> None:
    import openpyxl

    from processor.outputs.catalogue_book import write_catalogue

    book = openpyxl.load_workbook(write_catalogue(tmp_path / "c.xlsx"))
    lists = {v.formula1.strip('"') for v in book[CAT_CRITERIA.name].data_validations.dataValidation}
    assert ",".join(KINDS) in lists


def test_catalogue_check_refuses_unit_and_title_codes_that_lead_out_of_a_folder(
    tmp_path: Path,
) -> None:
    """Unit codes `../../evil` and `CQ/../../x2` passed before, and `run` and `forms` wrote
    files above --out: codes follow one pattern (letter, then letters, digits, - or _)."""
    bad = _broken(
        tmp_path,
        {
            ("Đơn vị", "A2"): "../../evil",
            ("Đơn vị", "A3"): "CQ/../../x2",
            ("Đơn vị", "A4"): "TDP 04",
            ("Đơn vị", "A5"): "CON",
            ("Danh hiệu", "A2"): "C/D",
        },
    )
    result = CliRunner().invoke(main, ["catalogue", "check", "--bo-tieu-chi", str(bad)])
    assert result.exit_code == 2
    for cell, code in (("A2", "../../EVIL"), ("A3", "CQ/../../X2"), ("A4", "TDP 04")):
        assert f"Đơn vị!{cell}: mã '{code}' không hợp lệ" in result.output
    assert "Đơn vị!A5: mã 'CON' trùng tên thiết bị" in result.output
    assert "Danh hiệu!A2: mã 'C/D' không hợp lệ" in result.output
    assert not list(tmp_path.parent.glob("evil*"))


def test_a_path_made_from_a_code_stays_in_its_folder(tmp_path: Path) -> None:
    from processor.domain.errors import KieumauError
    from processor.outputs.publish import path_under

    assert path_under(tmp_path, "TDP01_2021-12.xlsx") == tmp_path / "TDP01_2021-12.xlsx"
    for name in ("../../evil_2021-12.xlsx", "CQ/../../x2.xlsx", "..", "/etc/passwd"):
        with pytest.raises(KieumauError, match="ra ngoài thư mục"):
            path_under(tmp_path, name)


def test_a_title_that_needs_more_criteria_than_it_has_is_reported(tmp_path: Path) -> None:
    bad = _broken(tmp_path, {("Danh hiệu", "E2"): 99})  # CD: 99 criteria to pass, of 8
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(bad)
    assert any(
        p.startswith("Danh hiệu!E2:") and "cần 99 tiêu chí đạt nhưng chỉ có 8" in p
        for p in caught.value.problems
    )


def test_a_threshold_that_is_a_formula_without_a_saved_value_says_so(tmp_path: Path) -> None:
    """openpyxl (like any program that is not a spreadsheet) writes a formula without its
    value: every reader sees the cell empty. The message says it is a formula."""
    bad = _broken(tmp_path, {("Tiêu chí", "J10"): "=70+10"})  # GD01's threshold
    result = CliRunner().invoke(main, ["catalogue", "check", "--bo-tieu-chi", str(bad)])
    assert result.exit_code == 2
    line = next(x for x in result.output.splitlines() if "Tiêu chí!J10" in x)
    assert "công thức =70+10" in line and "chưa có giá trị đã lưu" in line


def test_catalogue_check_shows_what_the_year_depends_on(tmp_path: Path, monkeypatch) -> None:
    """Issue 23: the registration deadline, what a late registration means (Cấu hình) and
    where the history lives (KIEUMAU_KHO, else beside input_templates/) in one place."""
    path = _broken(tmp_path, {})
    book = openpyxl.load_workbook(path)
    settings = book[S.CAT_SETTINGS.name]
    for row in settings.iter_rows(min_row=2):
        row[2].value = {"han_dang_ky": 2, "dang_ky_muon": "không tính"}.get(
            row[0].value, row[2].value
        )
    book.save(path)
    result = CliRunner().invoke(main, ["catalogue", "check", "--bo-tieu-chi", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "Năm thi đua: đăng ký đúng hạn đến hết tháng 2 (han_dang_ky), đăng ký muộn: không tính "
        "(dang_ky_muon), bình xét từ tháng 11 (thang_binh_xet), tuổi tính đến ngày 31/12"
    ) in result.output
    default = tmp_path / "output" / "kho" / "lich_su.sqlite"
    assert f"Kho lịch sử: {default} (mặc định: output/kho trong thư mục dự án" in result.output
    monkeypatch.setenv("KIEUMAU_KHO", str(tmp_path / "kho_chung"))
    result = CliRunner().invoke(main, ["catalogue", "check", "--bo-tieu-chi", str(path)])
    shared = tmp_path / "kho_chung" / "lich_su.sqlite"
    assert f"Kho lịch sử: {shared} (biến môi trường KIEUMAU_KHO, chưa có kỳ nào" in result.output
