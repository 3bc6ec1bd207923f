"""`kieumau thu` as a function: every form mailed to the ward saved into the month's inbox.

Each spreadsheet found in a mail (attached, inside a .zip, inside a forwarded mail) is read by
the intake to learn its unit and period, then saved as
``<unit>_<period>_<mail date>_<hash>.<ext>`` into the inbox of its month; the mail's date (the
server's INTERNALDATE for IMAP, else the Date header) is recorded in the store as the file's
receipt time, which decides which of a unit's versions is in force (SPEC §4 step 1).

Nothing is dropped silently: mails without a form, other attachments, unknown senders, a form
of another unit than its sender's, refused files are all listed. A mail whose sender looks
forged has its forms put aside in ``<inbox>_can_kiem_tra/`` for the clerk to check, never
into the inbox where they could replace the unit's real form.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from processor.domain.catalogue import Catalogue, Unit
from processor.domain.issues import ERROR
from processor.domain.periods import Period
from processor.intake.reader import read_submission
from processor.intake.submission import Submission
from processor.mail.attachments import FORM, Attachment, ParsedMail, parse_mail
from processor.mail.ledger import Ledger, SavedFile
from processor.mail.servers import units_by_address
from processor.mail.sources import MailSource, RawMail
from processor.store.history import History

RECEIPT_SOURCE = "thu"
UNKNOWN_UNIT = "CHUA_RO"


@dataclass(frozen=True)
class MailLine:
    """A mail as the clerk finds it in the mail client: who, when, what subject."""

    sender: str
    date: dt.datetime | None
    subject: str

    def __str__(self) -> str:
        when = self.date.astimezone().strftime("%d/%m/%Y %H:%M") if self.date else "không ngày"
        subject = self.subject if len(self.subject) <= 60 else self.subject[:57] + "…"
        return f"{self.sender or 'không rõ người gửi'} “{subject}” ({when})"


@dataclass(frozen=True)
class Listed:
    """Something of a mail not saved into the inbox, or saved with a remark, and why."""

    mail: MailLine
    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.mail}: {self.what + ' - ' if self.what else ''}{self.reason}"


@dataclass(frozen=True)
class SavedForm:
    unit_code: str | None
    path: Path
    original: str
    mail: MailLine
    received_at: dt.datetime


@dataclass
class CollectReport:
    """What one `thu` did: mails read, forms saved, everything listed for the clerk."""

    period: Period
    source: str
    inbox: Path
    aside: Path
    since: dt.date
    mails: int = 0
    new: int = 0
    seen_before: int = 0
    older: int = 0
    saved: list[SavedForm] = field(default_factory=list)
    put_aside: list[SavedForm] = field(default_factory=list)
    remarks: list[Listed] = field(default_factory=list)  # saved, but the clerk should know
    not_saved: list[Listed] = field(default_factory=list)  # other files, refused, other months
    problems: list[Listed] = field(default_factory=list)  # mails that could not be used
    forms_by_unit: dict[str, int] = field(default_factory=dict)  # this month, every `thu`
    missing_units: list[Unit] = field(default_factory=list)
    marked_read: int | None = None

    @property
    def exit_code(self) -> int:
        """1 when a mail or a form needs the clerk: put aside, refused, unreadable."""
        refused = any(item.reason.startswith(("bị từ chối", "tệp")) for item in self.not_saved)
        return 1 if self.problems or self.put_aside or refused else 0


def month_before(period: Period) -> Period:
    return (
        Period(period.year - 1, 12) if period.month == 1 else Period(period.year, period.month - 1)
    )


def receipt_window(period: Period) -> dt.date:
    """Mails dated before the first day of the month before ``period`` are not looked at: a
    month's form is made by the run of the month before it at the earliest."""
    previous = month_before(period)
    return dt.date(previous.year, previous.month, 1)


def collect_mail(
    source: MailSource,
    period: Period,
    catalogue: Catalogue,
    inbox: Path,
    history_path: Path,
    *,
    mark_read: bool = False,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> CollectReport:
    """Save every form of ``period`` mailed in ``source`` into ``inbox``; see the module."""
    now = now or dt.datetime.now().astimezone().replace(microsecond=0)
    since = receipt_window(period)
    aside = inbox.parent / f"{inbox.name}_can_kiem_tra"
    report = CollectReport(period, source.label, inbox, aside, since)
    staging = inbox.parent / f".dang-nhan-{inbox.name}"
    with History(history_path) as history:
        ledger = Ledger(history)
        collector = _Collector(catalogue, period, inbox, aside, staging, ledger, history, report)
        read: list[str] = []
        try:
            for number, raw in enumerate(source.mails(since), start=1):
                if collector.take(raw, now):
                    read.append(raw.key)
                if progress:
                    progress(number)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if mark_read and source.can_mark:
            report.marked_read = source.mark_read(read)
        for saved in ledger.files(str(period)):
            if saved.unit_code and saved.name and (inbox / saved.name).exists():
                code = saved.unit_code
                report.forms_by_unit[code] = report.forms_by_unit.get(code, 0) + 1
    report.missing_units = [u for u in catalogue.units if u.code not in report.forms_by_unit]
    return report


class _Collector:
    def __init__(
        self,
        catalogue: Catalogue,
        period: Period,
        inbox: Path,
        aside: Path,
        staging: Path,
        ledger: Ledger,
        history: History,
        report: CollectReport,
    ) -> None:
        self.catalogue, self.period = catalogue, period
        self.inbox, self.aside, self.staging = inbox, aside, staging
        self.ledger, self.history, self.report = ledger, history, report
        self.addresses = units_by_address(catalogue)

    def take(self, raw: RawMail, now: dt.datetime) -> bool:
        """Handle one mail; True when its forms were all saved (it may be marked read)."""
        report = self.report
        if raw.data is None:
            report.mails += 1
            line = MailLine("", raw.received, f"thư {raw.key}")
            size = f"{raw.size / 1024 / 1024:.0f} MB"
            report.problems.append(
                Listed(line, "", f"thư quá lớn ({size}): không mở; thư vẫn còn trong hộp thư")
            )
            return False
        mail = parse_mail(raw.data)
        received = raw.received or mail.date
        line = MailLine(mail.sender, received, mail.subject or "(không tiêu đề)")
        if received is not None and received.date() < report.since:
            report.older += 1
            return False
        report.mails += 1
        if self.ledger.collected(str(self.period), mail.message_id):
            report.seen_before += 1
            return True
        report.new += 1
        if received is None:
            received = now
            report.remarks.append(
                Listed(line, "", "thư không ghi ngày gửi: lấy giờ nhận là lúc chạy lệnh")
            )
        clean = self.read_mail(mail, line, received)
        self.ledger.record_mail(
            str(self.period), mail.message_id, mail.sender, received, mail.subject,
            self.report.source, "đã lưu" if clean else "cần xem", now,
        )  # fmt: skip
        return clean

    def read_mail(self, mail: ParsedMail, line: MailLine, received: dt.datetime) -> bool:
        report = self.report
        sender_unit = self.addresses.get(mail.sender)
        known = mail.sender in self.addresses
        for problem in mail.problems:
            (report.problems if mail.bomb or not mail.forms else report.remarks).append(
                Listed(line, "", problem)
            )
        suspicious = bool(mail.forged) and known
        if suspicious:
            report.problems.append(
                Listed(
                    line,
                    "",
                    f"nghi giả mạo người gửi ({mail.forged}): biểu mẫu để riêng trong "
                    f"{self.aside.name}/ để kiểm tra, không đưa vào hộp thư kỳ",
                )
            )
        elif not known and mail.sender:
            report.remarks.append(
                Listed(line, "", "người gửi không có trong danh sách email của sheet Đơn vị")
            )
        saved_any = False
        for attachment in mail.attachments:
            if attachment.kind != FORM:
                report.not_saved.append(Listed(line, attachment.shown, attachment.reason))
                continue
            saved_any |= self.save_form(mail, line, attachment, received, sender_unit, suspicious)
        if not mail.forms and not mail.bomb and not mail.problems:
            report.problems.append(Listed(line, "", "thư không có biểu mẫu (tệp bảng tính)"))
        return not suspicious and not mail.bomb and (saved_any or bool(mail.forms))

    def save_form(
        self,
        mail: ParsedMail,
        line: MailLine,
        attachment: Attachment,
        received: dt.datetime,
        sender_unit: Unit | None,
        suspicious: bool,
    ) -> bool:
        """Save one form of a mail into the month's inbox (or aside, when the sender looks
        forged); True when it was saved there. A copy already saved, or a form of another
        month, is listed and not saved."""
        report, period = self.report, str(self.period)
        sha = attachment.sha256
        if (earlier := self.ledger.saved_file(period, sha)) is not None:
            report.remarks.append(
                Listed(line, attachment.shown, f"trùng nội dung với {earlier.name} đã lưu")
            )
            return False
        self.staging.mkdir(parents=True, exist_ok=True)
        suffix = attachment.suffix
        staged = self.staging / f"{sha}{suffix}"
        staged.write_bytes(attachment.data or b"")
        sub = read_submission(staged, self.catalogue, attachment.name, None)
        if sub.period and sub.period != period:
            staged.unlink()
            report.not_saved.append(
                Listed(
                    line,
                    attachment.shown,
                    f"biểu mẫu kỳ {sub.period}, không phải kỳ {period}: lấy bằng "
                    f"kieumau thu … --ky {sub.period}",
                )
            )
            return False
        unit = sub.unit_code or (sender_unit.code if sender_unit else None)
        self._remark_on(sub, line, attachment, sender_unit)
        stamp = received.astimezone().strftime("%Y%m%d-%H%M%S")
        name = f"{unit or UNKNOWN_UNIT}_{period}_{stamp}_{sha[:8]}{suffix}"
        folder = self.aside if suspicious else self.inbox
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        os.replace(staged, target)
        saved = SavedForm(unit, target, attachment.shown, line, received)
        if suspicious:
            report.put_aside.append(saved)
            return False
        self.ledger.record_file(
            period,
            SavedFile(sha, mail.message_id, unit, sub.period, name, attachment.shown,
                      mail.sender, received),
        )  # fmt: skip
        self.history.record_receipt(
            sha, received, source=RECEIPT_SOURCE, message_id=mail.message_id, sender=mail.sender
        )
        report.saved.append(saved)
        return True

    def _remark_on(
        self, sub: Submission, line: MailLine, attachment: Attachment, sender_unit: Unit | None
    ) -> None:
        """What the clerk should know of a form saved: sent from another unit's address, or a
        file the batch will refuse."""
        remarks = self.report.remarks
        if sub.unit_code and sender_unit and sub.unit_code != sender_unit.code:
            remarks.append(
                Listed(
                    line,
                    attachment.shown,
                    f"biểu mẫu của {sub.unit_code} gửi từ địa chỉ của {sender_unit.code}: "
                    f"tính cho {sub.unit_code} theo mã trong biểu mẫu",
                )
            )
        errors = [i for i in sub.issues if i.severity == ERROR and i.code.startswith("FILE_")]
        if errors:
            remarks.append(
                Listed(line, attachment.shown, f"đã lưu nhưng tệp có lỗi: {errors[0].message}")
            )
