"""`kieumau gui`: drafts Outlook opens ready to send, SMTP through aiosmtpd, a unit that cannot
be reached while the others go on, reminders, and headers nothing can be injected into."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.batch import run_batch
from processor.domain.catalogue import Catalogue
from processor.domain.periods import Period
from processor.mail.send import SmtpSession, send_period
from processor.mail.servers import parse_server
from tests.conftest import require_aiosmtpd

ROOT = Path(__file__).resolve().parent.parent
NOVEMBER = Period(2021, 11)
UNITS = ("TDP01", "TDP02", "CQ01")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory, catalogue: Catalogue) -> Path:
    """Three units' November forms run through the batch; the other units sent nothing."""
    root = tmp_path_factory.mktemp("thang")
    inbox = root / "hop_thu"
    inbox.mkdir()
    for code in UNITS:
        shutil.copy(ROOT / "samples" / "inbox" / f"{code}_2021-11.xlsx", inbox)
    run_batch(inbox, NOVEMBER, catalogue, root / "output", root / "kho" / "lich_su.sqlite",
              root / "kho", workers=1)  # fmt: skip
    return root


@pytest.fixture
def place(month: Path, tmp_path: Path) -> Path:
    """A copy of the month for one test: its sends must not be another test's."""
    shutil.copytree(month, tmp_path / "thang")
    return tmp_path / "thang"


def send(place: Path, catalogue: Catalogue, **options):
    return send_period(
        catalogue, NOVEMBER, place / "output", place / "kho" / "lich_su.sqlite", place / "kho",
        now=dt.datetime(2021, 11, 28, 8, 0, tzinfo=dt.UTC), **options,
    )  # fmt: skip


def read_eml(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_drafts_open_ready_to_send_with_the_two_files(place: Path, catalogue: Catalogue) -> None:
    report = send(place, catalogue)
    assert [d.unit_code for d in report.done] == ["TDP01", "TDP02", "CQ01"]
    assert len(report.not_due) == len(catalogue.units) - 3  # Chưa nộp: for --nhac-nop
    draft = read_eml(place / "output" / "2021-11" / "thu_gui" / "TDP01_phan_hoi_2021-11.eml")
    assert draft["X-Unsent"] == "1"
    assert draft["To"].addresses[0].addr_spec == catalogue.unit("TDP01").email
    assert draft["From"].addresses[0].addr_spec == catalogue.setting("email_nhan")
    subject = f"Phản hồi biểu mẫu tháng 11/2021 - TDP01 {catalogue.unit('TDP01').name}"
    assert draft["Subject"] == f"[Thị trấn Phong Sơn] {subject}"
    files = {p.get_filename(): p.get_content() for p in draft.iter_attachments()}
    out = place / "output" / "2021-11"
    assert files == {
        "TDP01_2021-11.xlsx": (out / "phan_hoi" / "TDP01_2021-11.xlsx").read_bytes(),
        "TDP01_2021-12.xlsx": (out / "bieu_mau" / "TDP01_2021-12.xlsx").read_bytes(),
    }
    body = draft.get_body(("plain",)).get_content()
    assert "Kính gửi Ban vận động" in body
    assert "TDP01_2021-11.xlsx" in body and "đọc" in body  # what was received
    assert "Công dân kiểu mẫu:" in body and "người đạt" in body  # how many reach each title
    assert "trước ngày 25 tháng 12/2021" in body  # the next deadline, from Cấu hình
    # Drafts are not sends: sending afterwards still sends.
    again = send(place, catalogue)
    assert len(again.done) == 3 and again.already == []


def test_a_refused_address_and_a_stalled_one_do_not_stop_the_others(
    place: Path, catalogue: Catalogue, smtp_server, trusted: Path
) -> None:
    smtp_server.handler.refuse.add(catalogue.unit("TDP02").email)
    smtp_server.handler.stall.add(catalogue.unit("TDP01").email)
    session = SmtpSession(parse_server(smtp_server.url, ("smtp",)), smtp_server.secret, timeout=2)
    try:
        report = send(place, catalogue, session=session)
    finally:
        session.close()
    assert [d.unit_code for d in report.done] == ["CQ01"]
    failed = dict(report.failed)
    assert set(failed) == {"TDP01", "TDP02"} and report.exit_code == 1
    assert "hết thời gian chờ" in failed["TDP01"]
    assert "từ chối địa chỉ" in failed["TDP02"] and "550" in failed["TDP02"]
    assert [r.recipients for r in smtp_server.handler.received] == [[catalogue.unit("CQ01").email]]
    # Once the addresses work, only the units not reached get their mail.
    smtp_server.handler.refuse.clear()
    smtp_server.handler.stall.clear()
    session = SmtpSession(parse_server(smtp_server.url, ("smtp",)), smtp_server.secret, timeout=5)
    try:
        second = send(place, catalogue, session=session)
    finally:
        session.close()
    assert sorted(d.unit_code for d in second.done) == ["TDP01", "TDP02"]
    assert [code for code, _, _ in second.already] == ["CQ01"]
    assert len(smtp_server.handler.received) == 3


def test_smtps_and_resend(place: Path, catalogue: Catalogue, mail_certificate, trusted) -> None:
    require_aiosmtpd()
    from tests.mailkit import start_smtp

    server = start_smtp(mail_certificate, implicit_tls=True)
    try:
        for resend in (False, False, True):
            session = SmtpSession(parse_server(server.url, ("smtps",)), server.secret)
            try:
                send(place, catalogue, session=session, resend=resend, unit_codes=("cq01",))
            finally:
                session.close()
        assert len(server.handler.received) == 2  # the second did nothing; --gui-lai did
    finally:
        server.stop()


def test_reminders_go_to_the_units_that_sent_nothing(place: Path, catalogue: Catalogue) -> None:
    report = send(place, catalogue, remind=True)
    codes = [d.unit_code for d in report.done]
    assert len(codes) == len(catalogue.units) - 3 and "TDP01" not in codes
    draft = read_eml(report.done[0].draft)
    assert draft["Subject"].startswith("[Thị trấn Phong Sơn] Nhắc nộp biểu mẫu tháng 11/2021")
    [form] = list(draft.iter_attachments())
    assert form.get_filename() == f"{codes[0]}_2021-11.xlsx"
    from processor.intake.reader import read_submission

    written = place / "form.xlsx"
    written.write_bytes(form.get_content())
    sub = read_submission(written, catalogue, "form.xlsx", NOVEMBER)
    assert sub.unit_code == codes[0] and sub.period == "2021-11"
    assert "trước ngày 25 tháng 11/2021" in draft.get_body(("plain",)).get_content()


def test_no_header_can_be_injected_and_units_without_address_are_listed(
    place: Path, catalogue: Catalogue
) -> None:
    units = list(catalogue.units)
    index = {u.code: i for i, u in enumerate(units)}
    units[index["TDP01"]] = dataclasses.replace(
        units[index["TDP01"]], name="Tổ 1\r\nBcc: ke.gian@example.com"
    )
    units[index["TDP02"]] = dataclasses.replace(
        units[index["TDP02"]], email="to2@example.com\r\nBcc: ke.gian@example.com"
    )
    units[index["CQ01"]] = dataclasses.replace(units[index["CQ01"]], email="")
    bad = dataclasses.replace(catalogue, units=tuple(units))
    report = send(place, bad)
    assert [d.unit_code for d in report.done] == ["TDP01"]
    head = report.done[0].draft.read_bytes().split(b"\n\n")[0]
    assert not any(line.lower().startswith(b"bcc") for line in head.split(b"\n"))
    draft = read_eml(report.done[0].draft)
    assert draft["Bcc"] is None and "Tổ 1 Bcc: ke.gian@example.com" in draft["Subject"]
    assert [a.addr_spec for a in draft["To"].addresses] == [catalogue.unit("TDP01").email]
    by_hand = {item.unit.code: item for item in report.by_hand}
    assert set(by_hand) == {"TDP02", "CQ01"}
    assert "địa chỉ không hợp lệ" in by_hand["TDP02"].reason
    assert "chưa có email" in by_hand["CQ01"].reason
    assert [p.name for p in by_hand["CQ01"].files] == ["CQ01_2021-11.xlsx", "CQ01_2021-12.xlsx"]


@given(name=st.text(max_size=80), subject=st.text(max_size=80))
@settings(max_examples=150, deadline=None)
def test_whatever_a_name_or_subject_holds_it_adds_no_header(
    catalogue: Catalogue, name: str, subject: str
) -> None:
    from processor.mail.compose import build_message

    unit = dataclasses.replace(catalogue.units[0], name=name)
    message = build_message(
        catalogue, "vhxh@example.vn", unit, ["to1@example.vn"], subject, "Nội dung", [],
        dt.datetime(2021, 11, 28, tzinfo=dt.UTC), draft=True,
    )  # fmt: skip
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert sorted(parsed.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "X-Unsent", "Content-Type",
         "Content-Transfer-Encoding", "MIME-Version"]
    )  # fmt: skip
    assert [a.addr_spec for a in parsed["To"].addresses] == ["to1@example.vn"]
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]


def test_the_cells_to_fix_are_in_the_letter(tmp_path: Path, catalogue: Catalogue) -> None:
    """A tổ trưởng typed 'Tốt' over a mark (openpyxl, as Excel would)."""
    import openpyxl

    inbox = tmp_path / "hop_thu"
    inbox.mkdir()
    book = openpyxl.load_workbook(ROOT / "samples" / "inbox" / "TDP01_2021-11.xlsx")
    sheet = book["Công dân"]
    header, column = next(
        (c.row, c.column)
        for row in sheet.iter_rows(max_row=10)
        for c in row
        if str(c.value).startswith("CD01")
    )
    sheet.cell(header + 2, column).value = "Tốt"
    name_column = next(c.column for c in sheet[header] if c.value == "Họ và tên")
    person = sheet.cell(header + 2, name_column).value
    book.save(inbox / "TDP01.xlsx")
    run_batch(inbox, NOVEMBER, catalogue, tmp_path / "output", tmp_path / "kho" / "lich_su.sqlite",
              tmp_path / "kho", workers=1)  # fmt: skip
    report = send(tmp_path, catalogue)
    body = read_eml(report.done[0].draft).get_body(("plain",)).get_content()
    cell = sheet.cell(header + 2, column).coordinate
    # The person is still counted; the cell is unknown until the unit fixes it.
    letter = f"[cảnh báo] {person}, Công dân!{cell}: Giá trị 'Tốt' không đọc được."
    assert "3. Cần sửa (1 mục):" in body and letter in body


def test_thu_and_gui_wait_for_a_run_that_holds_the_store(
    place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (a `run` of the month) holds the store: `thu` and `gui` each say who
    holds it and exit 2, and write nothing: no inbox, no draft, nothing in the store."""
    import subprocess
    import sys

    from click.testing import CliRunner

    from processor.cli import main
    from tests.mailkit import gmail

    monkeypatch.chdir(place)
    history = place / "kho" / "lich_su.sqlite"
    before = history.read_bytes()
    mails = place / "thu_da_luu"
    mails.mkdir()
    form = (ROOT / "samples" / "inbox" / "TDP04_2021-11.xlsx").read_bytes()
    sent = dt.datetime(2021, 11, 20, 9, 0, tzinfo=dt.UTC)
    (mails / "1.eml").write_bytes(bytes(gmail("to4@example.vn", "Tổ 4", [("4.xlsx", form)], sent)))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from processor.store.lock import StoreLock\n"
         "with StoreLock(Path(sys.argv[1]), 'kho', 'kieumau run hop_thu --ky 2021-11'):\n"
         "    print('giu-kho', flush=True); sys.stdin.read()",
         str(history.with_suffix(".khoa"))],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "giu-kho"
        for command in (
            ["thu", str(mails), "--ky", "2021-11", "--kho", "kho"],
            ["gui", "--ky", "2021-11", "--kho", "kho", "--out", "output"],
        ):
            result = CliRunner().invoke(main, command)
            assert result.exit_code == 2, result.output
            assert "đang được dùng" in result.output, result.output
            assert f"tiến trình {holder.pid}" in result.output
            assert "kieumau run hop_thu --ky 2021-11" in result.output
    finally:
        holder.communicate("", timeout=30)
    assert not (place / "hop_thu" / "2021-11").exists()
    assert not (place / "output" / "2021-11" / "thu_gui").exists()
    assert history.read_bytes() == before
