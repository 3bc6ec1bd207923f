"""`kieumau thu`: forms collected from mail as clients send them (issue 19).

The forms are the sample town's (written by the project); the mails are built with the `email`
package the way Outlook, Gmail, a webmail on a Mac and a forward build them.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from processor.cli import main
from processor.domain.catalogue import Catalogue
from processor.domain.periods import Period
from processor.intake.reader import read_submission
from processor.intake.submission import sha256_of
from processor.mail.collect import collect_mail
from processor.mail.sources import open_source
from processor.store.history import History
from tests.mailkit import forwarded, gmail, mbox_bytes, outlook, webmail_nfd

ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "samples" / "inbox"
NOVEMBER = Period(2021, 11)
ICT = dt.timezone(dt.timedelta(hours=7))


def form(unit: str) -> bytes:
    return (FORMS / f"{unit}_2021-11.xlsx").read_bytes()


def address(catalogue: Catalogue, unit: str) -> str:
    found = catalogue.unit(unit)
    assert found is not None
    return found.email


def day(n: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2021, 11, n, hour, 30, tzinfo=ICT)


def write_eml(folder: Path, name: str, message) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(bytes(message))
    return path


def collect(where: Path | str, inbox: Path, store: Path, catalogue: Catalogue, **options):
    with open_source(str(where), environ={}) as source:
        return collect_mail(source, NOVEMBER, catalogue, inbox, store, **options)


@pytest.fixture
def mails(tmp_path: Path, catalogue: Catalogue) -> Path:
    """A folder of .eml as a clerk saves them: one mail per kind of client."""
    folder = tmp_path / "thu_da_luu"
    write_eml(
        folder,
        "1.eml",
        outlook(
            address(catalogue, "TDP01"),
            "Biểu mẫu tháng 11 - Tổ 1",
            [("Biểu mẫu TDP01 tháng 11.xlsx", form("TDP01"))],
            day(20),
        ),
    )
    write_eml(
        folder,
        "2.eml",
        gmail(
            address(catalogue, "TDP02"),
            "Tổ 2 gửi biểu mẫu",
            [("Báo cáo tổ 2 (bản cuối).xlsx", form("TDP02")), ("ảnh họp tổ.pdf", b"%PDF-1.4")],
            day(21),
        ),
    )
    write_eml(
        folder,
        "3.eml",
        webmail_nfd(
            address(catalogue, "TDP03"), "Tổ 3", [("Biểu mẫu tổ 3.xlsx", form("TDP03"))], day(22)
        ),
    )
    original = gmail(
        "totruong.to4@yahoo.com", "Biểu mẫu tổ 4", [("to4.xlsx", form("TDP04"))], day(18)
    )
    write_eml(folder, "4.eml", forwarded(address(catalogue, "CQ01"), original, day(23)))
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Tổ 5/biểu mẫu tháng 11.xlsx", form("TDP05"))
        archive.writestr("Tổ 5/ghi chú.txt", "Chị xem giúp em.")
    write_eml(
        folder,
        "5.eml",
        gmail(address(catalogue, "TDP05"), "Tổ 5", [("to5.zip", packed.getvalue())], day(24)),
    )
    write_eml(
        folder,
        "6.eml",
        gmail(address(catalogue, "TDP06"), "Hỏi về hạn nộp", [], day(24), body="Khi nào hết hạn?"),
    )
    return folder


def test_every_form_is_saved_under_its_unit_period_date_and_hash(
    mails: Path, tmp_path: Path, catalogue: Catalogue
) -> None:
    inbox, store = tmp_path / "hop_thu" / "2021-11", tmp_path / "kho" / "lich_su.sqlite"
    report = collect(mails, inbox, store, catalogue)

    saved = {p.name.split("_")[0]: p for p in inbox.iterdir()}
    assert sorted(saved) == ["TDP01", "TDP02", "TDP03", "TDP04", "TDP05"]
    for unit, path in saved.items():
        assert path.read_bytes() == form(unit)  # byte for byte what the unit sent
        sub = read_submission(path, catalogue, path.name, NOVEMBER)
        assert sub.unit_code == unit and sub.period == "2021-11"
    # unit, period, the mail's date (local time) and a short hash
    tdp01 = saved["TDP01"].name
    assert tdp01.startswith("TDP01_2021-11_20211120-") and tdp01.endswith(".xlsx")
    assert report.mails == 6 and report.new == 6 and len(report.saved) == 5
    # The Outlook, RFC 2231 and NFD names are decoded, NFC.
    originals = {s.unit_code: s.original for s in report.saved}
    assert originals["TDP01"] == "Biểu mẫu TDP01 tháng 11.xlsx"
    assert originals["TDP02"] == "Báo cáo tổ 2 (bản cuối).xlsx"
    assert originals["TDP03"] == "Biểu mẫu tổ 3.xlsx"
    assert originals["TDP04"].startswith("to4.xlsx (trong thư chuyển tiếp")
    assert originals["TDP05"] == "biểu mẫu tháng 11.xlsx (trong to5.zip)"
    # Nothing silently dropped: the photo, the note in the zip, the mail without a form.
    not_saved = [str(item) for item in report.not_saved]
    assert any("ảnh họp tổ.pdf - không phải bảng tính" in line for line in not_saved)
    assert any("ghi chú.txt (trong to5.zip)" in line for line in not_saved)
    assert any("thư không có biểu mẫu" in str(p) for p in report.problems)
    # The forwarded form of TDP04 came from CQ01's address: the form's own code wins, said.
    assert any("biểu mẫu của TDP04 gửi từ địa chỉ của CQ01" in str(r) for r in report.remarks)
    assert [u.code for u in report.missing_units][:3] == ["TDP06", "TDP07", "TDP08"]
    assert report.forms_by_unit == {f"TDP0{i}": 1 for i in range(1, 6)}


def test_the_mail_date_is_the_receipt_time_in_the_store(
    mails: Path, tmp_path: Path, catalogue: Catalogue
) -> None:
    inbox, store = tmp_path / "hop_thu", tmp_path / "lich_su.sqlite"
    report = collect(mails, inbox, store, catalogue)
    by_unit = {s.unit_code: s for s in report.saved}
    with History(store) as history:
        receipts = history.receipts([sha256_of(s.path) for s in report.saved])
    assert receipts[sha256_of(by_unit["TDP01"].path)] == day(20)
    # The forwarded mail counts from when the ward received it, not the original's date.
    assert receipts[sha256_of(by_unit["TDP04"].path)] == day(23)


def test_a_second_collection_changes_nothing(
    mails: Path, tmp_path: Path, catalogue: Catalogue
) -> None:
    inbox, store = tmp_path / "hop_thu", tmp_path / "lich_su.sqlite"
    collect(mails, inbox, store, catalogue)
    before = {p.name: p.stat().st_mtime_ns for p in inbox.iterdir()}
    again = collect(mails, inbox, store, catalogue)
    assert again.new == 0 and again.seen_before == 6 and again.saved == []
    assert {p.name: p.stat().st_mtime_ns for p in inbox.iterdir()} == before
    assert again.forms_by_unit == {f"TDP0{i}": 1 for i in range(1, 6)}
    # The same file in a new mail (a unit sending twice) is not saved twice either.
    write_eml(
        mails,
        "7.eml",
        gmail(address(catalogue, "TDP01"), "gửi lại", [("lai.xlsx", form("TDP01"))], day(25)),
    )
    third = collect(mails, inbox, store, catalogue)
    assert third.new == 1 and third.saved == []
    assert any("trùng nội dung" in str(r) for r in third.remarks)
    assert len(list(inbox.iterdir())) == 5


def test_an_mbox_export_and_a_maildir_are_read_the_same(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    messages = [
        gmail(address(catalogue, "TDP07"), "Tổ 7", [("to7.xlsx", form("TDP07"))], day(19)),
        outlook(address(catalogue, "TDP08"), "Tổ 8", [("Tổ 8.xlsx", form("TDP08"))], day(20)),
    ]
    box = tmp_path / "Thunderbird.mbox"
    box.write_bytes(mbox_bytes(messages))
    report = collect(box, tmp_path / "a", tmp_path / "a.sqlite", catalogue)
    assert sorted(s.unit_code for s in report.saved) == ["TDP07", "TDP08"]

    import mailbox

    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for message in messages:
        maildir.add(bytes(message))
    report = collect(tmp_path / "Maildir", tmp_path / "b", tmp_path / "b.sqlite", catalogue)
    assert sorted(s.unit_code for s in report.saved) == ["TDP07", "TDP08"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        p.name for p in (tmp_path / "b").iterdir()
    )


def test_a_form_of_another_month_is_listed_not_saved(tmp_path: Path, catalogue: Catalogue) -> None:
    october = (ROOT / "samples" / "2021-10" / "TDP09_2021-10.xlsx").read_bytes()
    write_eml(
        tmp_path / "m",
        "1.eml",
        gmail(address(catalogue, "TDP09"), "Tổ 9", [("to9.xlsx", october)], day(2)),
    )
    report = collect(tmp_path / "m", tmp_path / "hop", tmp_path / "s.sqlite", catalogue)
    assert report.saved == [] and not (tmp_path / "hop").exists()
    assert "biểu mẫu kỳ 2021-10, không phải kỳ 2021-11" in str(report.not_saved[0])


def test_thu_command_prints_one_screen_and_never_asks_a_file_for_the_password(
    mails: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["thu", str(mails), "--ky", "2021-11", "--kho", "kho"])
    assert result.exit_code == 1, result.output  # a mail without any form needs the clerk
    lines = result.output.splitlines()
    assert lines[0].startswith("THU THƯ kỳ 2021-11 từ thư mục")
    assert "đọc 6 thư (6 mới, 0 đã lấy trước đây)" in lines[0]
    assert "Đã lưu 5 biểu mẫu vào hop_thu/2021-11/." in result.output
    assert "TDP01: 1" in result.output
    assert "Đơn vị chưa có biểu mẫu kỳ này qua thư (23/28): TDP06, TDP07" in result.output
    assert len(lines) <= 40
    assert len(list((tmp_path / "hop_thu" / "2021-11").iterdir())) == 5


def test_a_maildir_is_marked_read_only_when_asked(tmp_path: Path, catalogue: Catalogue) -> None:
    import mailbox

    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(bytes(gmail(address(catalogue, "TDP09"), "9", [("9.xlsx", form("TDP09"))], day(9))))
    before = sorted(
        p.relative_to(tmp_path) for p in (tmp_path / "Maildir").rglob("*") if p.is_file()
    )
    collect(tmp_path / "Maildir", tmp_path / "a", tmp_path / "s.sqlite", catalogue)
    after = sorted(
        p.relative_to(tmp_path) for p in (tmp_path / "Maildir").rglob("*") if p.is_file()
    )
    assert after == before and before[0].parts[1] == "new"
    with open_source(str(tmp_path / "Maildir"), environ={}, writable=True) as source:
        report = collect_mail(
            source, NOVEMBER, catalogue, tmp_path / "b", tmp_path / "t.sqlite", mark_read=True
        )
    assert report.marked_read == 1
    [marked] = [p for p in (tmp_path / "Maildir").rglob("*") if p.is_file()]
    assert marked.parent.name == "cur" and marked.name.endswith(":2,S")


def test_the_later_mail_is_in_force_whatever_order_it_was_collected_in(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """A unit sends its form, then a correction; the clerk's mail client exported the
    correction first and the first version later (two `thu` runs). The run takes the mail
    dates, so the correction is in force."""
    import openpyxl

    from processor.batch import run_batch
    from processor.intake.submission import FileStatus

    first = tmp_path / "first.xlsx"
    first.write_bytes(form("TDP12"))
    book = openpyxl.load_workbook(first)
    book["Thông tin"]["B5"] = "Nguyễn Văn Sửa"  # the tổ trưởng types the reporter again
    corrected = tmp_path / "corrected.xlsx"
    book.save(corrected)
    email_ = address(catalogue, "TDP12")
    write_eml(
        tmp_path / "a",
        "2.eml",
        gmail(email_, "sửa", [("to12.xlsx", corrected.read_bytes())], day(22)),
    )
    write_eml(
        tmp_path / "b", "1.eml", gmail(email_, "gửi", [("to12.xlsx", first.read_bytes())], day(15))
    )
    inbox, store = tmp_path / "hop_thu", tmp_path / "kho" / "lich_su.sqlite"
    collect(tmp_path / "a", inbox, store, catalogue)
    collect(tmp_path / "b", inbox, store, catalogue)
    report = run_batch(inbox, NOVEMBER, catalogue, tmp_path / "out", store, tmp_path / "kho",
                       workers=1)  # fmt: skip
    status = {sub.sha256: sub.status for sub in report.submissions}
    assert status[sha256_of(corrected)] != FileStatus.SUPERSEDED
    assert status[sha256_of(first)] == FileStatus.SUPERSEDED
