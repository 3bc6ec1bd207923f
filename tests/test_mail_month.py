"""A month walked through real mail servers (issue 19, "done means"): the units' forms arrive
in a Dovecot IMAP mailbox and in an .mbox export; `kieumau thu`, `kieumau run`, then
`kieumau gui` through aiosmtpd over STARTTLS. Every unit gets exactly one mail with its
feedback and its next form; a second `thu` and `gui` change nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from processor.cli import main
from processor.domain.catalogue import Catalogue
from tests.mailkit import gmail, mbox_bytes, outlook, webmail_nfd

ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "samples" / "inbox"
ICT = dt.timezone(dt.timedelta(hours=7))


KEPT = ("TDP01", "TDP02", "TDP03", "TDP04", "CQ01", "CQ02")


@pytest.fixture
def ward(tmp_path: Path) -> tuple[Path, Catalogue]:
    """The shipped catalogue with six units left in its Đơn vị sheet, edited in openpyxl as
    the clerk of a small ward would: the month stays short and every unit still counts."""
    import openpyxl

    from processor.domain import schema as S
    from processor.domain.catalogue import DEFAULT_CATALOGUE, load_catalogue

    book = openpyxl.load_workbook(DEFAULT_CATALOGUE)
    sheet = book[S.CAT_UNITS.name]
    for row in range(sheet.max_row, 1, -1):
        if sheet.cell(row, 1).value not in KEPT and sheet.cell(row, 1).value is not None:
            sheet.delete_rows(row)
    path = tmp_path / "bo_tieu_chi.xlsx"
    book.save(path)
    catalogue = load_catalogue(path)
    assert [u.code for u in catalogue.units] == list(KEPT)
    return path, catalogue


def _mail(catalogue: Catalogue, number: int, code: str):
    unit = catalogue.unit(code)
    assert unit is not None
    when = dt.datetime(2021, 11, 10 + number % 15, 8 + number % 9, 5, tzinfo=ICT)
    files = [(f"Biểu mẫu {unit.name} tháng 11.xlsx", (FORMS / f"{code}_2021-11.xlsx").read_bytes())]
    client = (gmail, outlook, webmail_nfd)[number % 3]
    return client(unit.email, f"{unit.name} gửi biểu mẫu tháng 11", files, when), when


@pytest.mark.usefixtures("trusted")
def test_a_month_through_imap_mbox_and_smtp(
    dovecot, smtp_server, ward, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    catalogue_path, catalogue = ward
    monkeypatch.setenv("KIEUMAU_BO_TIEU_CHI", str(catalogue_path))
    folder = "Biểu mẫu"
    dovecot.empty(folder)
    exported = []
    for number, unit in enumerate(catalogue.units):
        message, when = _mail(catalogue, number, unit.code)
        if number % 2:
            dovecot.deliver(message, when, folder)
        else:
            exported.append(message)
    Path("Thunderbird.mbox").write_bytes(mbox_bytes(exported))
    runner = CliRunner()
    imap_url = dovecot.url(folder, tls=number % 2 == 0)

    monkeypatch.setenv("KIEUMAU_MAT_KHAU", dovecot.secret)
    first = runner.invoke(main, ["thu", imap_url, "--ky", "2021-11"])
    assert first.exit_code == 0, first.output
    assert f"đọc {len(catalogue.units) // 2} thư" in first.output
    second = runner.invoke(main, ["thu", "Thunderbird.mbox", "--ky", "2021-11"])
    assert second.exit_code == 0, second.output
    assert "Mọi đơn vị đã có biểu mẫu kỳ này." in second.output
    inbox = tmp_path / "hop_thu" / "2021-11"
    saved = {p.name: p.stat().st_mtime_ns for p in inbox.iterdir()}
    assert sorted(name.split("_")[0] for name in saved) == sorted(u.code for u in catalogue.units)
    # The mailbox was read, not changed: no mail marked read.
    assert not any(b"\\Seen" in line for line in dovecot.flags(folder))

    run = runner.invoke(main, ["run", str(inbox), "--ky", "2021-11"])
    assert run.exit_code in (0, 1), run.output
    assert f"đã đọc {len(catalogue.units)} tệp" in run.output

    monkeypatch.setenv("KIEUMAU_MAT_KHAU", smtp_server.secret)
    sent = runner.invoke(main, ["gui", "--ky", "2021-11", "--smtp", smtp_server.url])
    assert sent.exit_code == 0, sent.output
    received = smtp_server.handler.received
    assert sorted(r.recipients[0] for r in received) == sorted(u.email for u in catalogue.units)
    for mail in received:
        code = next(u.code for u in catalogue.units if u.email == mail.recipients[0])
        names = [part.get_filename() for part in mail.message.iter_attachments()]
        assert names == [f"{code}_2021-11.xlsx", f"{code}_2021-12.xlsx"]
        contents = [part.get_content() for part in mail.message.iter_attachments()]
        assert contents[0] == (tmp_path / "output" / "2021-11" / "phan_hoi" / names[0]).read_bytes()
        assert contents[1] == (tmp_path / "output" / "2021-11" / "bieu_mau" / names[1]).read_bytes()
        body = mail.message.get_body(("plain",)).get_content()
        assert "1. Đã nhận:" in body and "hạn" not in mail.message["Subject"]
        assert "trước ngày 25 tháng 12/2021" in body
        assert mail.message["X-Unsent"] is None

    # A second collection and a second sending change nothing.
    monkeypatch.setenv("KIEUMAU_MAT_KHAU", dovecot.secret)
    again = runner.invoke(main, ["thu", imap_url, "--ky", "2021-11"])
    assert "0 mới" in again.output and again.exit_code == 0
    assert {p.name: p.stat().st_mtime_ns for p in inbox.iterdir()} == saved
    monkeypatch.setenv("KIEUMAU_MAT_KHAU", smtp_server.secret)
    twice = runner.invoke(main, ["gui", "--ky", "2021-11", "--smtp", smtp_server.url])
    assert twice.exit_code == 0, twice.output
    assert f"Đã gửi trước đây, không gửi lại ({len(KEPT)})" in twice.output
    assert len(smtp_server.handler.received) == len(catalogue.units)
