"""Bad mail joins the intake corpus (issue 19): a mail bomb of attachments, a zip bomb inside
a zip, a 50 MB attachment, a malformed MIME structure, a header with an injected line break,
a sender spoofing a unit. Each gets a clear message, the mailbox keeps it, and every form that
could be read is saved."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from pathlib import Path

from processor.domain.catalogue import Catalogue
from processor.domain.periods import Period
from processor.mail.collect import collect_mail
from processor.mail.sources import open_source
from tests.mailkit import gmail, outlook

ROOT = Path(__file__).resolve().parent.parent
NOVEMBER = Period(2021, 11)
WHEN = dt.datetime(2021, 11, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def form(unit: str) -> bytes:
    return (ROOT / "samples" / "inbox" / f"{unit}_2021-11.xlsx").read_bytes()


def collect_one(tmp_path: Path, catalogue: Catalogue, raw: bytes):
    folder = tmp_path / "thu"
    folder.mkdir(exist_ok=True)
    (folder / "thu.eml").write_bytes(raw)
    with open_source(str(folder), environ={}) as source:
        report = collect_mail(
            source, NOVEMBER, catalogue, tmp_path / "hop_thu", tmp_path / "kho.sqlite"
        )
    assert (folder / "thu.eml").read_bytes() == raw  # the mailbox is never changed
    return report


def inbox(tmp_path: Path) -> list[str]:
    folder = tmp_path / "hop_thu"
    return sorted(p.name.split("_")[0] for p in folder.iterdir()) if folder.exists() else []


def test_a_mail_bomb_of_attachments_saves_nothing_and_says_so(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    files = [(f"tep_{i}.xlsx", b"PK\x03\x04" + bytes([i % 256])) for i in range(400)]
    raw = bytes(gmail(catalogue.unit("TDP01").email, "bom", [("to1.xlsx", form("TDP01")), *files],
                      WHEN))  # fmt: skip
    report = collect_one(tmp_path, catalogue, raw)
    assert inbox(tmp_path) == []
    assert any("hơn 200 tệp đính kèm (dấu hiệu bom thư)" in str(p) for p in report.problems)
    assert report.exit_code == 1


def test_a_zip_bomb_inside_a_zip_is_refused_and_the_real_form_beside_it_saved(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("to_lon.xlsx", b"\0" * (200 * 1024 * 1024))  # 200 MB of zeros, ~200 KB
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ben_trong.zip", bomb.getvalue())
        archive.writestr("to2.xlsx", form("TDP02"))
    raw = bytes(gmail(catalogue.unit("TDP02").email, "nén", [("bo.zip", outer.getvalue())], WHEN))
    report = collect_one(tmp_path, catalogue, raw)
    assert inbox(tmp_path) == ["TDP02"]
    [refused] = [str(x) for x in report.not_saved]
    assert "to_lon.xlsx (trong bo.zip, trong ben_trong.zip)" in refused
    assert "tệp quá lớn khi giải nén (200 MB)" in refused
    assert report.exit_code == 1


def test_a_50_mb_attachment_is_kept_and_named_for_what_it_is(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    big = b"\x89PNG" + bytes(range(256)) * (50 * 1024 * 4)  # 50 MB that is no spreadsheet
    small = outlook(catalogue.unit("TDP03").email, "ảnh", [("bieu_mau.xlsx", b"CHO")], WHEN)
    # The big body put in as Outlook encodes it (76-character base64 lines), without the
    # email package's slow encoder (the reading under test is the product's).
    raw = bytes(small).replace(base64.b64encode(b"CHO"), base64.encodebytes(big).rstrip())
    report = collect_one(tmp_path, catalogue, raw)
    assert inbox(tmp_path) == ["TDP03"]  # kept for the run, which tells the unit in its feedback
    assert any("tệp ảnh" in str(r) and "đã lưu nhưng tệp có lỗi" in str(r) for r in report.remarks)


def test_a_malformed_mime_structure_gives_what_can_be_read(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    good = gmail(catalogue.unit("TDP04").email, "hỏng", [("to4.xlsx", form("TDP04"))], WHEN)
    raw = bytes(good)
    boundary = good.get_boundary().encode()
    # The closing boundary lost, a part with a broken base64 body and no end.
    raw = raw.replace(b"--" + boundary + b"--", b"")
    raw += (
        b"--" + boundary + b"\nContent-Type: application/vnd.ms-excel\n"
        b'Content-Disposition: attachment; filename="hong.xls"\n'
        b"Content-Transfer-Encoding: base64\n\n%%%not base64%%%\n"
    )
    report = collect_one(tmp_path, catalogue, raw)
    assert "TDP04" in inbox(tmp_path)
    assert any("thư sai cấu trúc MIME" in str(r) for r in report.remarks + report.problems)


def test_an_injected_line_break_stays_inside_its_header(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    message = gmail(catalogue.unit("TDP05").email, "x", [("to5.xlsx", form("TDP05"))], WHEN)
    raw = bytes(message).replace(
        b"Subject: x",
        b"Subject: =?utf-8?q?Bi=E1=BB=83u_m=E1=BA=ABu=0D=0ABcc=3A_ke=40gian=2Evn?=",
    )
    raw = raw.replace(b'filename="to5.xlsx"', b"filename*=utf-8''to%0D%0AX-Evil%3A%201.xlsx")
    report = collect_one(tmp_path, catalogue, raw)
    assert inbox(tmp_path) == ["TDP05"]
    [saved] = report.saved
    assert saved.mail.subject == "Biểu mẫu Bcc: ke@gian.vn"
    assert saved.original == "to X-Evil: 1.xlsx"
    assert "\n" not in saved.original and "\r" not in saved.mail.subject
    assert saved.path.name.startswith("TDP05_2021-11_")


def test_a_sender_spoofing_a_unit_is_put_aside_not_into_the_inbox(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    # TDP07's form, claiming to come from TDP06's address; Gmail's own check says it did not.
    message = gmail(catalogue.unit("TDP06").email, "Tổ 6", [("to6.xlsx", form("TDP07"))], WHEN)
    raw = (
        b"Authentication-Results: mx.google.com; dkim=none; spf=fail (google.com: domain of "
        b"ke@gian.vn does not designate 203.0.113.9 as permitted sender) smtp.mailfrom=ke@gian.vn;"
        b" dmarc=fail (p=NONE) header.from=gmail.com\n"
        b"Return-Path: <ke@gian.vn>\n" + bytes(message)
    )
    report = collect_one(tmp_path, catalogue, raw)
    assert inbox(tmp_path) == []
    [aside] = report.put_aside
    assert aside.path.parent.name == "hop_thu_can_kiem_tra" and aside.path.exists()
    assert any("nghi giả mạo người gửi (máy chủ nhận thư ghi spf=fail)" in str(p)
               for p in report.problems)  # fmt: skip
    assert report.exit_code == 1
