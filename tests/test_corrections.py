"""Corrections, re-runs and the months of a year never change a result silently (issues 17,
23 and 24): the month's inputs are everything received for it, the version received last is
in force whatever the files' times on disk, a unit leaves a month only when the clerk says so,
later months are marked stale when an earlier one changes, and a catalogue changed mid-year is
shown and confirmed."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.domain import schema as S
from processor.domain.form_layout import HEADER_ROW
from processor.store.history import History
from tests.town import PEOPLE, small_catalogue, town_inbox, unit_form

OCT, NOV = "2021-10", "2021-11"
FOUR = ("TDP01", "TDP02", "TDP03", "CQ01")


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    root = tmp_path_factory.mktemp("town")
    return root, small_catalogue(root / "bo_tieu_chi.xlsx")


def run(town, inbox: Path, period: str, place: Path, *extra: str) -> tuple[int, str]:
    _, catalogue = town
    result = CliRunner().invoke(
        main,
        ["run", str(inbox), "--ky", period, "--out", str(place / "out"),
         "--kho", str(place / "kho"), "--bo-tieu-chi", str(catalogue.path), "--workers", "1",
         *extra],
    )  # fmt: skip
    return result.exit_code, result.output


def manifest(place: Path, period: str) -> dict:
    return json.loads((place / "out" / period / "nhat_ky.json").read_text(encoding="utf-8"))


def files_by_status(place: Path, period: str) -> dict[str, str]:
    return {e["ten"]: e["trang_thai"] for e in manifest(place, period)["tep_dau_vao"]}


def rows(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def results(place: Path, period: str, level: str = "citizens"):
    with History(place / "kho" / "lich_su.sqlite") as history:
        return history.load(period, "result", level)


def feedback_text(place: Path, period: str, unit: str) -> str:
    path = place / "out" / period / "phan_hoi" / f"{unit}_{period}.xlsx"
    return "\n".join(" ".join(str(v) for v in r) for r in rows(path, "Phản hồi"))


def test_rerunning_a_month_with_only_a_correction_keeps_every_other_unit(town, tmp_path) -> None:
    """Seen: a re-run with only TDP02's corrected file wiped the other units (history 28 files
    to 1, next forms empty). The month's inputs are what the store received plus the new file."""
    _, catalogue = town
    first = town_inbox(catalogue, tmp_path / "first", NOV, FOUR)
    place = tmp_path / "place"
    assert run(town, first, NOV, place)[0] == 0
    correction = tmp_path / "correction"
    unit_form(catalogue, correction, "TDP02", NOV, name=f"TDP02_{NOV}_sua.xlsx",
              **{"Đỗ Văn Khoa": {"CD01": "Chưa đạt"}})  # fmt: skip
    code, output = run(town, correction, NOV, place)
    assert code == 0, output
    statuses = files_by_status(place, NOV)
    assert statuses == {
        f"TDP01_{NOV}.xlsx": "đã nhận",
        f"TDP02_{NOV}.xlsx": "bị thay thế",
        f"TDP02_{NOV}_sua.xlsx": "đã nhận",
        f"TDP03_{NOV}.xlsx": "đã nhận",
        f"CQ01_{NOV}.xlsx": "đã nhận",
    }
    scored = results(place, NOV)
    assert sorted(scored["full_name"]) == sorted(n for u in FOUR for n in PEOPLE[u])
    khoa = scored[scored["full_name"] == "Đỗ Văn Khoa"].iloc[0]
    assert khoa["outcome"] == S.NOT_ACHIEVED
    out = place / "out" / NOV
    assert sorted(p.name for p in (out / "phan_hoi").iterdir()) == sorted(
        f"{u}_{NOV}.xlsx" for u in FOUR
    )
    next_form = rows(out / "bieu_mau" / "TDP01_2021-12.xlsx", S.FORM_CITIZENS.name)
    listed = {c for r in next_form for c in r}
    assert all(name in listed for name in PEOPLE["TDP01"])
    assert "không tính" in output  # the replaced version's rows, not "loại"


def test_a_unit_leaves_a_month_only_when_the_clerk_says_so(town, tmp_path) -> None:
    _, catalogue = town
    first = town_inbox(catalogue, tmp_path / "first", NOV, FOUR)
    place = tmp_path / "place"
    assert run(town, first, NOV, place)[0] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    code, output = run(town, empty, NOV, place, "--bo-don-vi", "tdp03")
    assert code == 0, output
    assert files_by_status(place, NOV)[f"TDP03_{NOV}.xlsx"] == "bỏ khỏi kỳ"
    missing = rows(place / "out" / NOV / f"tong_hop_{NOV}.xlsx", S.OUT_MISSING)
    assert any("TDP03" in r for r in missing)
    assert not (place / "out" / NOV / "phan_hoi" / f"TDP03_{NOV}.xlsx").exists()
    assert "Hoàng Văn Minh" not in set(results(place, NOV)["full_name"])
    # A later re-run without the option keeps it out ...
    code, _ = run(town, first, NOV, place)
    assert files_by_status(place, NOV)[f"TDP03_{NOV}.xlsx"] == "bỏ khỏi kỳ"
    # ... until the unit sends a new version, which counts.
    again = tmp_path / "again"
    unit_form(catalogue, again, "TDP03", NOV, name="TDP03_gui_lai.xlsx",
              **{"Bùi Thị Ngọc": {"CD02": "Chưa đạt"}})  # fmt: skip
    code, output = run(town, again, NOV, place)
    assert code == 0, output
    assert files_by_status(place, NOV)["TDP03_gui_lai.xlsx"] == "đã nhận"
    assert "Hoàng Văn Minh" in set(results(place, NOV)["full_name"])
    code, output = run(town, empty, NOV, place, "--bo-don-vi", "TDP99")
    assert code == 2 and "TDP99" in output


def test_the_version_received_last_is_in_force_whatever_the_disk_says(town, tmp_path) -> None:
    """Seen: after `touch` on the old file, the old file replaced the correction. A correction
    clears the old file's errors from the feedback, the summary, the console and the manifest,
    and the replaced file's rows are counted apart, not as rejected."""
    _, catalogue = town
    inbox = tmp_path / "inbox"
    town_inbox(catalogue, inbox, NOV, ("TDP01", "CQ01"))
    # TDP02's first version: a mark nobody can read and a birth date in the future.
    unit_form(catalogue, inbox, "TDP02", NOV,
              **{"Đỗ Văn Khoa": {"gender": "abc"}, "Vũ Thị Lan": {"CD03": "???"}})  # fmt: skip
    place = tmp_path / "place"
    code, output = run(town, inbox, NOV, place)
    assert code == 1, output
    first_feedback = feedback_text(place, NOV, "TDP02")
    assert "???" in first_feedback or "abc" in first_feedback
    # The correction arrives later (a later run); then the clerk opens and saves the old
    # attachment, so its file time is the newest.
    later = tmp_path / "later"
    shutil.copytree(inbox, later)
    corrected = unit_form(catalogue, later, "TDP02", NOV, name=f"TDP02_{NOV}_sua.xlsx")
    old = later / f"TDP02_{NOV}.xlsx"
    newest = corrected.stat().st_mtime + 3600
    os.utime(old, (newest, newest))
    code, output = run(town, later, NOV, place)
    assert code == 0, output
    statuses = files_by_status(place, NOV)
    assert statuses[f"TDP02_{NOV}.xlsx"] == "bị thay thế"
    assert statuses[f"TDP02_{NOV}_sua.xlsx"] == "đã nhận"
    text = feedback_text(place, NOV, "TDP02")
    assert "???" not in text and "abc" not in text and f"TDP02_{NOV}.xlsx" not in text
    entries = {e["ten"]: e for e in manifest(place, NOV)["tep_dau_vao"]}
    old_entry = entries[f"TDP02_{NOV}.xlsx"]
    assert old_entry["so_dong_loai"] == 0 and old_entry["so_dong_nhan"] == 0
    assert old_entry["so_dong_khong_tinh"] == old_entry["so_dong_doc"] > 0
    assert old_entry["thay_the_boi"] == f"TDP02_{NOV}_sua.xlsx"
    assert old_entry["nhan_luc"] < entries[f"TDP02_{NOV}_sua.xlsx"]["nhan_luc"]
    listed = rows(place / "out" / NOV / f"tong_hop_{NOV}.xlsx", S.OUT_ISSUES)
    assert not [r for r in listed[1:] if r[0] == f"TDP02_{NOV}.xlsx" and r[4] != "FILE_SUPERSEDED"]
    sources = rows(place / "out" / NOV / f"tong_hop_{NOV}.xlsx", S.OUT_SOURCES)
    assert "bản nhận sau cùng" in sources[0][0]  # the rule, above the table
    assert "Nhận lúc" in sources[1]
    lan = results(place, NOV).set_index("full_name").loc["Vũ Thị Lan"]
    assert lan["outcome"] == S.ACHIEVED


@pytest.mark.parametrize("content", ["nothing", "mail", "other_month"])
def test_a_month_without_forms_says_so_and_still_writes_the_summary(
    town, tmp_path, content: str
) -> None:
    """Seen: KeyError 'birth_year'. Now: a message, the summary with every unit in Chưa nộp,
    exit 1."""
    _, catalogue = town
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    if content == "mail":
        (inbox / "thu.eml").write_text("From: tdp01@example.vn\n\nĐã gửi.\n", encoding="utf-8")
        (inbox / "ghi_chu.txt").write_text("TDP02 gửi sau", encoding="utf-8")
    elif content == "other_month":
        town_inbox(catalogue, inbox, OCT, ("TDP01", "TDP02"))
    place = tmp_path / "place"
    code, output = run(town, inbox, NOV, place)
    assert code == 1, output
    assert f"Không nhận được biểu mẫu nào của kỳ {NOV}" in output
    summary = place / "out" / NOV / f"tong_hop_{NOV}.xlsx"
    missing = {r[0] for r in rows(summary, S.OUT_MISSING)[1:]}
    assert missing == {u.code for u in catalogue.units}
    assert "Không nhận được biểu mẫu nào" in rows(summary, S.OUT_OVERVIEW)[3][0]


def test_an_earlier_month_run_again_marks_the_later_ones_stale(town, tmp_path) -> None:
    _, catalogue = town
    place = tmp_path / "place"
    october = town_inbox(catalogue, tmp_path / "oct", OCT, FOUR)
    november = town_inbox(catalogue, tmp_path / "nov", NOV, FOUR)
    assert run(town, october, OCT, place)[0] == 0
    assert run(town, november, NOV, place)[0] == 0
    # October again with the same files: nothing changed, nothing stale.
    code, output = run(town, october, OCT, place)
    assert code == 0 and "cần chạy lại" not in output
    # October again with a correction: November was scored on the old October.
    fix = tmp_path / "fix"
    unit_form(catalogue, fix, "TDP01", OCT, name="TDP01_sua.xlsx",
              **{"Trần Thị Bình": {"CD01": "Chưa đạt"}})  # fmt: skip
    code, output = run(town, fix, OCT, place)
    assert code == 0, output
    assert f"nay cần chạy lại, theo thứ tự: {NOV}" in output
    summary = place / "out" / OCT / f"tong_hop_{OCT}.xlsx"
    assert NOV in rows(summary, S.OUT_OVERVIEW)[3][0]
    with History(place / "kho" / "lich_su.sqlite") as history:
        assert history.stale() == {NOV: OCT}
    info = CliRunner().invoke(main, ["kho", "thong-tin", "--kho", str(place / "kho")])
    assert f"{NOV}: Bộ tiêu chí" in info.output and f"cần chạy lại: kỳ {OCT}" in info.output
    drafts = CliRunner().invoke(
        main,
        ["quyet-dinh", "--nam", "2021", "--out", str(place / "out"), "--kho", str(place / "kho"),
         "--bo-tieu-chi", str(catalogue.path)],
    )  # fmt: skip
    assert f"Kết quả kỳ {NOV} đã cũ" in drafts.output
    # December run before November is run again: it says November must be run first.
    december = town_inbox(catalogue, tmp_path / "dec", "2021-12", ("TDP01",))
    code, output = run(town, december, "2021-12", place)
    assert f"Kỳ {NOV} cần chạy lại trước" in output
    # November run again comes out as it was (October's change does not reach it): it is no
    # longer stale, and December, made from it, is not made stale either.
    assert run(town, november, NOV, place)[0] == 0
    with History(place / "kho" / "lich_su.sqlite") as history:
        assert history.stale() == {}


def test_months_run_out_of_order_mark_the_later_one_stale(town, tmp_path) -> None:
    _, catalogue = town
    place = tmp_path / "place"
    assert run(town, town_inbox(catalogue, tmp_path / "nov", NOV, FOUR), NOV, place)[0] == 0
    _, output = run(town, town_inbox(catalogue, tmp_path / "oct", OCT, FOUR), OCT, place)
    assert f"nay cần chạy lại, theo thứ tự: {NOV}" in output
    with History(place / "kho" / "lich_su.sqlite") as history:
        assert history.stale() == {NOV: OCT}


def _edited_catalogue(town, folder: Path) -> Path:
    """The town's catalogue as the Ban chỉ đạo edits it in November: a new citizen criterion
    CD09, GD01's threshold lowered, the CD title needing one criterion less."""
    _, catalogue = town
    path = folder / "bo_tieu_chi.xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(catalogue.path, path)
    book = openpyxl.load_workbook(path)
    criteria = book["Tiêu chí"]
    header = [c.value for c in criteria[1]]
    cd08 = next(r for r in criteria.iter_rows(min_row=2) if r[1].value == "CD08")
    values = {header[i]: c.value for i, c in enumerate(cd08)}
    values.update({"Mã tiêu chí": "CD09", "Tên ngắn": "Tham gia bảo vệ môi trường",
                   "Nội dung tiêu chí": "Tham gia giữ gìn vệ sinh môi trường nơi ở"})  # fmt: skip
    criteria.insert_rows(cd08[0].row + 1)
    for i, key in enumerate(header, start=1):
        criteria.cell(cd08[0].row + 1, i, values[key])
    gd01 = next(r for r in criteria.iter_rows(min_row=2) if r[1].value == "GD01")
    gd01[header.index("Ngưỡng")].value = 2
    titles = book["Danh hiệu"]
    titles["E2"] = 6
    book.save(path)
    return path


def test_a_catalogue_changed_mid_year_is_shown_and_confirmed(town, tmp_path) -> None:
    """Seen: CD09 added in November turned every Đạt into Chưa đạt with warnings only."""
    from processor.domain.catalogue import load_catalogue

    _, catalogue = town
    place = tmp_path / "place"
    assert run(town, town_inbox(catalogue, tmp_path / "oct", OCT, FOUR), OCT, place)[0] == 0
    edited = load_catalogue(_edited_catalogue(town, tmp_path / "bo_moi"))
    november = town_inbox(edited, tmp_path / "nov", NOV, FOUR)
    args = ["run", str(november), "--ky", NOV, "--out", str(place / "out"),
            "--kho", str(place / "kho"), "--bo-tieu-chi", str(edited.path),
            "--workers", "1"]  # fmt: skip
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2
    for line in (
        "Thêm tiêu chí CD09.",
        "Tiêu chí GD01: Ngưỡng 3 → 2.",
        "Danh hiệu CD: Số tiêu chí đạt tối thiểu 7 → 6.",
        "--xac-nhan-bo-tieu-chi",
    ):
        assert line in refused.output, refused.output
    assert not (place / "out" / NOV).exists()
    confirmed = CliRunner().invoke(main, [*args, "--xac-nhan-bo-tieu-chi"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "Bộ tiêu chí khác với bộ đã chấm kỳ 2021-10 (đã xác nhận)" in confirmed.output
    overview = rows(place / "out" / NOV / f"tong_hop_{NOV}.xlsx", S.OUT_OVERVIEW)
    assert "Thêm tiêu chí CD09." in overview[3][0]
    with History(place / "kho" / "lich_su.sqlite") as history:
        used = {c.period: c for c in history.catalogues()}
    assert used[OCT].rules != used[NOV].rules
    assert used[OCT].fingerprint != used[NOV].fingerprint  # a new column on the forms
    assert "CD09" in used[NOV].snapshot["tieu_chi"] and "CD09" not in used[OCT].snapshot["tieu_chi"]
    # December goes on with November's catalogue without asking again.
    december = town_inbox(edited, tmp_path / "dec", "2021-12", ("TDP01",))
    code = CliRunner().invoke(main, [*args[:1], str(december), "--ky", "2021-12", *args[4:]])
    assert code.exit_code == 0, code.output


# --- months walked: a unit's mistakes, its feedback, its correction, its next form ----------

SEP = "2021-09"


def _cell(sheet, person: str, header: str):
    """The cell of ``person``'s row under the column whose header starts with ``header``."""
    headers = next(r for r in sheet.iter_rows(max_row=10) if r[0].value == "STT")
    column = next(c.column for c in headers if str(c.value or "").startswith(header))
    row = next(r[0].row for r in sheet.iter_rows() if any(c.value == person for c in r))
    return sheet.cell(row, column)


def _typed(path: Path, edits: dict[tuple[str, str], object], saved_as: Path | None = None) -> Path:
    """``path`` opened, the cells (person, column header) typed over, saved (as ``saved_as``)."""
    book = openpyxl.load_workbook(path)
    sheet = book[S.FORM_CITIZENS.name]
    for (person, header), value in edits.items():
        _cell(sheet, person, header).value = value
    book.save(saved_as or path)
    return saved_as or path


def _saved_on(path: Path, when: dt.datetime) -> None:
    """``path`` as Excel leaves it when saved at ``when`` (UTC): its core properties say so.
    openpyxl stamps every save with the present moment."""
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    core = parts["docProps/core.xml"].decode("utf-8")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    parts["docProps/core.xml"] = re.sub(
        r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{stamp}", core
    ).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)


def _citizen(place: Path, period: str, name: str):
    return results(place, period).set_index("full_name").loc[name]


@pytest.mark.parametrize("order", ["old_saved_last", "correction_saved_last", "together"])
def test_months_walked_mistakes_feedback_correction_next_form(town, tmp_path, order) -> None:
    """A unit sends a form with mistakes typed in Excel (a year in a date cell, a mark nobody
    can read), gets its feedback with each cell marked, fixes the cells in the feedback
    workbook and sends it back; the clerk saves the attachments in any order (the old one
    re-saved last, or both arriving in one run). At each step the results, the feedback and the
    next form are right; then the next month goes on from the next form."""
    _, catalogue = town
    place = tmp_path / "place"
    first = town_inbox(catalogue, tmp_path / "sep", SEP, ("TDP01", "CQ01"))
    sent = _typed(
        unit_form(catalogue, tmp_path / "sent", "TDP02", SEP),
        {("Đỗ Văn Khoa", "Ngày sinh"): 1989, ("Vũ Thị Lan", "CD03"): "???"},
    )
    out = place / "out" / SEP
    feedback = out / "phan_hoi" / f"TDP02_{SEP}.xlsx"
    correction = tmp_path / f"TDP02_{SEP}_sua.xlsx"
    if order != "together":
        shutil.copy(sent, first)
        code, output = run(town, first, SEP, place)
        # Step 1: the person kept, the unreadable mark unknown, the year read as a year.
        assert code == 1, output
        assert "nhận nhưng có ô hoặc dòng cần sửa" in output and "loại 0" in output
        lan, khoa = _citizen(place, SEP, "Vũ Thị Lan"), _citizen(place, SEP, "Đỗ Văn Khoa")
        assert lan["outcome"] == S.NOT_ELIGIBLE and khoa["birth_year"] == 1989
        text = feedback_text(place, SEP, "TDP02")
        assert "Vũ Thị Lan (dòng 5) Công dân, ô J5 Cần sửa" in text and "'???'" in text
        assert "Đỗ Văn Khoa (dòng 4) Công dân, ô D4" in text and "năm 1989" in text
        marked = openpyxl.load_workbook(feedback)[S.FORM_CITIZENS.name]
        assert "Vũ Thị Lan" in marked["J5"].comment.text
        following = openpyxl.load_workbook(out / "bieu_mau" / "TDP02_2021-10.xlsx")
        cell = _cell(following[S.FORM_CITIZENS.name], "Vũ Thị Lan", "CD03")
        assert cell.value == "???" and "Cần sửa" in cell.comment.text
        # The year the unit typed stays (a blank would make him Chưa đủ điều kiện next month).
        assert _cell(following[S.FORM_CITIZENS.name], "Đỗ Văn Khoa", "Ngày sinh").value == "1989"
        # The unit fixes both cells in its feedback workbook and sends it back.
        _typed(
            feedback,
            {("Đỗ Văn Khoa", "Ngày sinh"): dt.datetime(1989, 5, 2),
             ("Vũ Thị Lan", "CD03"): "Đạt"},
            correction,
        )  # fmt: skip
        second = tmp_path / "second"
        second.mkdir()
        shutil.copy(correction, second)
        shutil.copy(sent, second)  # the old attachment, saved again
        last, other = (
            (second / sent.name, second / correction.name)
            if order == "old_saved_last"
            else (second / correction.name, second / sent.name)
        )
        newest = other.stat().st_mtime + 3600
        os.utime(last, (newest, newest))
    else:
        # Both versions arrive in one run: the same receipt time; the workbook saved last
        # in Excel (its own properties) is in force, whatever the disk's times say.
        second = first
        _saved_on(sent, dt.datetime(2021, 9, 20, 8, 0))  # the unit's first save, in Excel
        shutil.copy(sent, second)
        _typed(
            sent,
            {("Đỗ Văn Khoa", "Ngày sinh"): dt.datetime(1989, 5, 2),
             ("Vũ Thị Lan", "CD03"): "Đạt"},
            second / correction.name,
        )  # fmt: skip
        newest = (second / correction.name).stat().st_mtime + 3600
        os.utime(second / sent.name, (newest, newest))
    code, output = run(town, second, SEP, place)
    # Step 2: only the correction describes the month.
    assert code == 0, output
    assert "loại 0" in output and "không tính 18" in output
    assert files_by_status(place, SEP) == {
        f"TDP01_{SEP}.xlsx": "đã nhận",
        f"CQ01_{SEP}.xlsx": "đã nhận",
        sent.name: "bị thay thế",
        correction.name: "đã nhận",
    }
    lan, khoa = _citizen(place, SEP, "Vũ Thị Lan"), _citizen(place, SEP, "Đỗ Văn Khoa")
    assert lan["outcome"] == S.ACHIEVED and str(khoa["birth_date"])[:10] == "1989-05-02"
    text = feedback_text(place, SEP, "TDP02")
    assert "Không có ô nào cần sửa" in text and "???" not in text and "1905" not in text
    following = openpyxl.load_workbook(out / "bieu_mau" / "TDP02_2021-10.xlsx")
    sheet = following[S.FORM_CITIZENS.name]
    assert _cell(sheet, "Vũ Thị Lan", "CD03").value == "Đạt"
    assert _cell(sheet, "Vũ Thị Lan", "CD03").comment is None
    assert _cell(sheet, "Đỗ Văn Khoa", "Ngày sinh").value == dt.datetime(1989, 5, 2)
    # Step 3: October from the next forms, TDP02 adding a person in an empty row.
    october = tmp_path / "oct"
    october.mkdir()
    for unit in ("TDP01", "TDP02", "CQ01"):
        shutil.copy(out / "bieu_mau" / f"{unit}_{OCT}.xlsx", october)
    book = openpyxl.load_workbook(october / f"TDP02_{OCT}.xlsx")
    sheet = book[S.FORM_CITIZENS.name]
    row = _cell(sheet, "Vũ Thị Lan", "CD03").row + 1
    typed = ["3", "TDP02-H001", "Trịnh Văn Sơn", dt.datetime(1990, 3, 4), "Nam", None, "Có"]
    for column, value in enumerate([*typed, *["Đạt"] * 8], start=1):
        sheet.cell(row, column, value)
    book.save(october / f"TDP02_{OCT}.xlsx")
    code, output = run(town, october, OCT, place)
    assert code == 0, output
    scored = results(place, OCT).set_index("full_name")
    assert set(scored.index) == {n for u in ("TDP01", "TDP02", "CQ01") for n in PEOPLE[u]} | {
        "Trịnh Văn Sơn"
    }
    assert (scored["outcome"] == S.ACHIEVED).all()
    assert "Không có ô nào cần sửa" in feedback_text(place, OCT, "TDP02")


def test_an_apostrophe_typed_before_a_name_is_not_part_of_it(town, tmp_path) -> None:
    """`'Hoàng Đức Yến`, typed with the apostrophe that keeps a cell as text (an editor other
    than Excel stores it in the cell), reaches the summary and the next form without it."""
    _, catalogue = town
    place = tmp_path / "place"
    inbox = town_inbox(catalogue, tmp_path / "sep", SEP, ("TDP01", "CQ01"))
    _typed(
        unit_form(catalogue, inbox, "TDP02", SEP),
        {("Vũ Thị Lan", "Họ và tên"): "'Hoàng Đức Yến"},
    )
    code, output = run(town, inbox, SEP, place)
    assert code == 0, output
    out = place / "out" / SEP
    summary = CalamineWorkbook.from_path(str(out / f"tong_hop_{SEP}.xlsx"))
    names = [
        str(v)
        for sheet in summary.sheet_names
        if sheet.startswith("Công dân")
        for row in summary.get_sheet_by_name(sheet).to_python()
        for v in row
        if "Yến" in str(v)
    ]
    assert names and all(n == "Hoàng Đức Yến" for n in names), names
    following = openpyxl.load_workbook(out / "bieu_mau" / f"TDP02_{OCT}.xlsx")
    assert _cell(following[S.FORM_CITIZENS.name], "Hoàng Đức Yến", "Họ và tên").value == (
        "Hoàng Đức Yến"
    )
    assert "Hoàng Đức Yến" in set(results(place, SEP)["full_name"])


@pytest.mark.parametrize("typed_name", [None, "123"])
def test_a_rejected_row_stays_on_the_next_form_as_typed_with_its_cell_marked(
    town, tmp_path, typed_name
) -> None:
    """A row whose name was deleted or typed without a letter (VALUE_REQUIRED, NAME_INVALID:
    nobody knows whose it is, so it is not counted) is on the unit's next form with everything
    the unit typed, the name cell marked, until the unit deletes the row. When the unit sends
    nothing the next month, the form after is made from the history and still keeps it."""
    _, catalogue = town
    place = tmp_path / "place"
    inbox = town_inbox(catalogue, tmp_path / "sep", SEP, ("TDP01", "CQ01"))
    form = unit_form(catalogue, inbox, "TDP02", SEP)
    book = openpyxl.load_workbook(form)
    sheet = book[S.FORM_CITIZENS.name]
    name = _cell(sheet, "Vũ Thị Lan", "Họ và tên")
    typed = {c.column: c.value for c in sheet[name.row] if c.column != name.column}
    name.value = typed_name
    book.save(form)
    code, output = run(town, inbox, SEP, place)
    assert code == 1, output
    assert "Vũ Thị Lan" not in set(results(place, SEP)["full_name"])
    october = town_inbox(catalogue, tmp_path / "oct", OCT, ("TDP01", "CQ01"))  # TDP02 silent
    code, output = run(town, october, OCT, place)
    assert code == 0, output
    for made in (
        place / "out" / SEP / "bieu_mau" / f"TDP02_{OCT}.xlsx",  # from September's file
        place / "out" / OCT / "bieu_mau" / f"TDP02_{NOV}.xlsx",  # from the history
    ):
        sheet = openpyxl.load_workbook(made)[S.FORM_CITIZENS.name]
        kept = [
            row
            for row in sheet.iter_rows(min_row=name.row - 2)
            if row[1].value == typed[2] and row[3].value == typed[4]
        ]
        assert len(kept) == 1, (made.name, [[c.value for c in r][:8] for r in sheet.iter_rows()])
        row = kept[0]
        empty = row[name.column - 1]
        assert (empty.value or None) == typed_name, made.name
        assert "Cần sửa" in empty.comment.text and "Họ và tên" in empty.comment.text
        for cell in row:
            if cell.column in typed and cell.column not in (1, name.column):
                assert cell.value == typed[cell.column], (made.name, cell.coordinate, cell.value)


def _first_blank_row(sheet, column: int) -> int:
    row = HEADER_ROW + 2  # the first data row
    while sheet.cell(row, column).value not in (None, ""):
        row += 1
    return row


def test_a_row_sent_twice_stays_on_the_next_form_marked_until_the_unit_deletes_it(
    town, tmp_path
) -> None:
    """A citizen or a household typed twice (a row pasted again): the copy is not counted
    (CITIZEN_DUPLICATE, HOUSEHOLD_DUPLICATE), and the next form keeps it where the unit put
    it, its name or household code marked with what to do, so nobody vanishes unsaid."""
    _, catalogue = town
    place = tmp_path / "place"
    inbox = town_inbox(catalogue, tmp_path / "sep", SEP, ("TDP01", "CQ01"))
    form = unit_form(catalogue, inbox, "TDP02", SEP)
    book = openpyxl.load_workbook(form)
    pasted = {}
    for sheet_name, key_header in (
        (S.FORM_CITIZENS.name, "Họ và tên"),
        (S.FORM_HOUSEHOLDS.name, "Mã hộ"),
    ):
        sheet = book[sheet_name]
        key = next(c for c in sheet[HEADER_ROW + 1] if str(c.value).startswith(key_header))
        source = next(r for r in sheet.iter_rows(min_row=HEADER_ROW + 2) if r[key.column - 1].value)
        target = _first_blank_row(sheet, key.column)
        for cell in source:
            sheet.cell(target, cell.column).value = cell.value
        pasted[sheet_name] = (key.column, [c.value for c in source])
    book.save(form)
    code, output = run(town, inbox, SEP, place)
    assert code == 1, output
    listed = rows(place / "out" / SEP / f"tong_hop_{SEP}.xlsx", S.OUT_ISSUES)
    issues = {r[listed[0].index("Mã lỗi")] for r in listed[1:]}
    assert {"CITIZEN_DUPLICATE", "HOUSEHOLD_DUPLICATE"} <= issues
    following = openpyxl.load_workbook(place / "out" / SEP / "bieu_mau" / f"TDP02_{OCT}.xlsx")
    for sheet_name, (column, values) in pasted.items():
        sheet = following[sheet_name]
        same = [
            row
            for row in sheet.iter_rows(min_row=HEADER_ROW + 2)
            if [c.value for c in row][1:4] == values[1:4]
        ]
        assert len(same) == 2, (sheet_name, values)
        first, copy = (row[column - 1] for row in same)
        assert first.comment is None
        assert copy.comment is not None and "hai dòng" in copy.comment.text, sheet_name
    guide = "\n".join(
        str(c.value) for row in following[S.FORM_GUIDE].iter_rows() for c in row if c.value
    )
    assert "2 dòng có ô tô màu cam" in guide
