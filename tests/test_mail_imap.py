"""`kieumau thu` against a real IMAP server (Dovecot on 127.0.0.1): SSL and STARTTLS, the
mailbox left unread unless asked, the server's receipt time, and the messages a clerk gets
for a wrong password, a missing folder or a certificate nobody trusts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from processor.cli import main
from processor.domain.catalogue import Catalogue
from processor.domain.periods import Period
from processor.intake.submission import sha256_of
from processor.mail.collect import collect_mail
from processor.mail.sources import open_source
from processor.store.history import History
from tests.mailkit import gmail

ROOT = Path(__file__).resolve().parent.parent
ICT = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture
def mailbox(dovecot, catalogue: Catalogue):
    """Two units' mails in the folder "Thu den"; the server received them a day after the
    Date their clients wrote."""
    dovecot.empty("Thu den")
    for day, code in ((20, "TDP10"), (21, "TDP11")):
        form = (ROOT / "samples" / "inbox" / f"{code}_2021-11.xlsx").read_bytes()
        written = dt.datetime(2021, 11, day, 9, 0, tzinfo=ICT)
        message = gmail(catalogue.unit(code).email, code, [(f"{code}.xlsx", form)], written)
        dovecot.deliver(message, written + dt.timedelta(days=1), "Thu den")
    return dovecot


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize("tls", [True, False], ids=["imaps", "starttls"])
def test_imap_read_only_with_the_server_receipt_time(
    mailbox, catalogue: Catalogue, tmp_path: Path, tls: bool
) -> None:
    store = tmp_path / "kho.sqlite"
    with open_source(
        mailbox.url("Thu den", tls), environ={"KIEUMAU_MAT_KHAU": mailbox.secret}
    ) as box:
        report = collect_mail(box, Period(2021, 11), catalogue, tmp_path / "hop", store)
    assert sorted(s.unit_code for s in report.saved) == ["TDP10", "TDP11"]
    assert not any(b"\\Seen" in line for line in mailbox.flags("Thu den"))
    with History(store) as history:
        receipts = history.receipts([sha256_of(s.path) for s in report.saved])
    # INTERNALDATE, when the ward's server received the mail, not the sender's clock.
    assert sorted(receipts.values()) == [
        dt.datetime(2021, 11, 21, 9, 0, tzinfo=ICT),
        dt.datetime(2021, 11, 22, 9, 0, tzinfo=ICT),
    ]


@pytest.mark.usefixtures("trusted")
def test_marking_read_only_when_asked(
    mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIEUMAU_MAT_KHAU", mailbox.secret)
    url = mailbox.url("Thu den")
    result = CliRunner().invoke(
        main, ["thu", url, "--ky", "2021-11", "--danh-dau-da-doc", "--kho", "kho"]
    )
    assert result.exit_code == 0, result.output
    assert "Đã đánh dấu đã đọc 2 thư." in result.output
    assert all(b"\\Seen" in line for line in mailbox.flags("Thu den"))


def test_what_the_clerk_is_told_when_imap_goes_wrong(
    mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail_certificate: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    monkeypatch.setenv("KIEUMAU_KHO", str(tmp_path / "kho"))
    # A certificate nobody said to trust.
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "khong_co.pem"))
    monkeypatch.setenv("KIEUMAU_MAT_KHAU", mailbox.secret)
    result = runner.invoke(main, ["thu", mailbox.url("Thu den"), "--ky", "2021-11"])
    assert result.exit_code == 2 and "không được tin cậy" in result.output
    assert "SSL_CERT_FILE" in result.output
    monkeypatch.setenv("SSL_CERT_FILE", str(mail_certificate))
    result = runner.invoke(main, ["thu", mailbox.url("Khong co"), "--ky", "2021-11"])
    assert result.exit_code == 2 and "Không có thư mục 'Khong co'" in result.output
    assert "INBOX" in result.output
    # The password asked at the prompt (never from a file), and wrong.
    monkeypatch.delenv("KIEUMAU_MAT_KHAU")
    result = runner.invoke(main, ["thu", mailbox.url("Thu den"), "--ky", "2021-11"], input="sai\n")
    assert "Mật khẩu thư của van_thu" in result.output
    assert result.exit_code == 2 and "từ chối đăng nhập" in result.output
    assert result.output.count("sai") == 0  # hidden input
