"""What an inbox holds that is not a unit's form (issue 24 items 11 and 14): kieumau's own
outputs put inside it, links leading out of it (to another folder's form, to a system file),
and names with no letter. Real files and real links, `kieumau run` twice as the clerk would."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.intake.inbox import SPREADSHEET_SUFFIXES
from tests.town import PEOPLE, small_catalogue, town_inbox, unit_form

NOV = "2021-11"
SYSTEM_FILE = Path("/etc/passwd")


def _run(place: Path, inbox: Path, out: Path) -> tuple[int, str, dict]:
    result = CliRunner().invoke(
        main,
        ["run", str(inbox), "--ky", NOV, "--out", str(out), "--kho", str(place / "kho"),
         "--bo-tieu-chi", str(place / "bo_tieu_chi.xlsx"), "--workers", "1"],
    )  # fmt: skip
    manifest = json.loads((out / NOV / "nhat_ky.json").read_text(encoding="utf-8"))
    return result.exit_code, result.output, manifest


def _rows(path: Path, sheet: str) -> list[str]:
    book = CalamineWorkbook.from_path(str(path))
    return [" | ".join(str(v) for v in row) for row in book.get_sheet_by_name(sheet).to_python()]


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> dict:
    """An inbox with three units' forms (TDP02 with two names that hold no letter), a link to a
    form kept in another folder, two links to a system file, and the output folder inside it;
    run twice."""
    place = tmp_path_factory.mktemp("hop_thu")
    catalogue = small_catalogue(place / "bo_tieu_chi.xlsx")
    inbox = town_inbox(catalogue, place / "inbox", NOV, ("TDP01", "CQ01"))
    unit_form(catalogue, inbox, "TDP02", NOV, [*PEOPLE["TDP02"], "=1+1", "12345"])
    elsewhere = unit_form(catalogue, place / "noi_khac", "TDP03", NOV)
    os.symlink(elsewhere, inbox / "lien_ket.xlsx")
    os.symlink(SYSTEM_FILE, inbox / "matkhau.xlsx")
    os.symlink(SYSTEM_FILE, inbox / "passwd")
    out = inbox / "ketqua"
    first = _run(place, inbox, out)
    second = _run(place, inbox, out)
    return {"place": place, "inbox": inbox, "out": out, "first": first, "second": second,
            "elsewhere": elsewhere}  # fmt: skip


def _entries(manifest: dict) -> dict[str, dict]:
    return {e["ten"]: e for e in manifest["tep_dau_vao"]}


def test_the_output_folder_inside_the_inbox_is_not_read_back(town) -> None:
    (code1, _, first), (code2, output, second) = town["first"], town["second"]
    assert code1 == code2 == 1, output  # the names without a letter are rejected rows
    entries = _entries(second)
    assert entries["ketqua"]["trang_thai"] == "bỏ qua" and entries["ketqua"]["so_dong_doc"] == 0
    # Nothing the first run wrote (summary, forms, feedback) became a submission of the second.
    assert not [n for n in entries if n.startswith("ketqua/")]
    assert second["tong"] == first["tong"]
    summary = town["out"] / NOV / f"tong_hop_{NOV}.xlsx"
    assert any("OUTPUT_FOLDER_SKIPPED" in r for r in _rows(summary, "Lỗi dữ liệu"))


def test_links_out_of_the_inbox_are_refused_listed_and_never_archived(town) -> None:
    _, _, manifest = town["second"]
    entries = _entries(manifest)
    for name in ("lien_ket.xlsx", "matkhau.xlsx", "passwd"):
        assert entries[name]["trang_thai"] == "bị từ chối" and entries[name]["so_dong_doc"] == 0
    summary = town["out"] / NOV / f"tong_hop_{NOV}.xlsx"
    listed = [r for r in _rows(summary, "Lỗi dữ liệu") if "FILE_LINK_OUTSIDE" in r]
    assert len(listed) == 3 and sum(str(SYSTEM_FILE) in r for r in listed) == 2
    assert any(str(town["elsewhere"]) in r for r in listed)
    # The archive holds the three forms read, only spreadsheets, never the linked files' bytes.
    archived = [p for p in (town["place"] / "kho" / "luu_tru").rglob("*") if p.is_file()]
    assert len(archived) == 3
    assert all(p.suffix in SPREADSHEET_SUFFIXES and not p.is_symlink() for p in archived)
    refused = {SYSTEM_FILE.read_bytes(), town["elsewhere"].read_bytes()}
    assert not [p for p in archived if p.read_bytes() in refused]
    assert not [p for p in town["place"].joinpath("kho").rglob("*") if p.is_symlink()]


def test_a_name_without_a_letter_is_refused_with_a_clear_message(town) -> None:
    """Item 14: `=1+1` (and a number) is no one's name: an error at its cell, the row not counted,
    so the name is on no result and no paper; a head of household so typed is a warning."""
    out = town["out"] / NOV
    feedback = _rows(out / "phan_hoi" / f"TDP02_{NOV}.xlsx", "Phản hồi")
    for name, cell in (("=1+1", "C6"), ("12345", "C7")):
        [row] = [
            r for r in feedback if f"'{name}'" in r and "NAME_INVALID" in r and "Chủ hộ" not in r
        ]
        assert f"Dòng {cell[1:]} | Công dân, ô {cell} | Cần sửa" in row
        assert "không có chữ cái nào" in row
    assert any("HEAD_NAME_INVALID" in r and "Chủ hộ '=1+1'" in r for r in feedback)
    summary = out / f"tong_hop_{NOV}.xlsx"
    people = _rows(summary, "Công dân")
    assert not [r for r in people if "=1+1" in r.split(" | ") or "12345" in r.split(" | ")]
    assert any("Đỗ Văn Khoa" in r for r in people)
