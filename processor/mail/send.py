"""`kieumau gui` as a function: each unit's mail, as .eml drafts or sent through SMTP.

- Feedback (default): every unit that sent something this month gets one mail with its
  feedback workbook (``output/<kỳ>/phan_hoi/``) and next month's form (``bieu_mau/``).
- Reminder (``remind``): every unit in Chưa nộp gets its form of the month, pre-filled
  from the history when it has one, with the deadline.

Without a server the mails are written as drafts into ``output/<kỳ>/thu_gui/`` (X-Unsent: 1:
Outlook and Thunderbird open them ready to send). With one, each mail sent is recorded in the
store at once; a second `gui` sends nothing already sent unless ``resend``. A unit that
cannot be reached (refused address, timeout) is reported and the others go on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from processor.domain.catalogue import Catalogue, Unit
from processor.domain.errors import KieumauError
from processor.domain.periods import Period
from processor.intake.submission import sha256_of
from processor.mail.collect import month_before
from processor.mail.compose import (
    FEEDBACK,
    REMINDER,
    build_message,
    feedback_body,
    reminder_body,
    run_inbox,
    subject_of,
    submissions_of,
    unit_facts,
)
from processor.mail.ledger import DRAFTED, SENT, Ledger, SentMail
from processor.mail.servers import (
    TIMEOUT_SECONDS,
    Server,
    connection_error,
    split_addresses,
    tls_context,
    ward_address,
)
from processor.outputs.prefill import write_forms
from processor.scoring.consolidate import COUNTED
from processor.store.history import History

DRAFTS = "thu_gui"


@dataclass(frozen=True)
class Done:
    unit_code: str
    recipients: tuple[str, ...]
    draft: Path | None  # the .eml written, for drafts
    note: str = ""


@dataclass(frozen=True)
class ByHand:
    """A unit without a usable address, and what to hand it."""

    unit: Unit
    files: tuple[Path, ...]
    reason: str


@dataclass
class SendReport:
    period: Period
    kind: str
    server: str  # "" for drafts
    folder: Path  # where drafts (and reminder forms) go
    done: list[Done] = field(default_factory=list)
    already: list[tuple[str, dt.datetime, bool]] = field(default_factory=list)  # changed since?
    failed: list[tuple[str, str]] = field(default_factory=list)
    by_hand: list[ByHand] = field(default_factory=list)
    not_due: list[str] = field(default_factory=list)  # units this kind of mail is not for

    @property
    def exit_code(self) -> int:
        """1 when a unit was not reached (SPEC §4's codes: ran, but something needs fixing)."""
        return 1 if self.failed else 0


class _Failed(Exception):
    """One mail could not be sent; its message says why, in Vietnamese."""


class SmtpSession:
    """One connection to the SMTP server, opened when first needed and again after a failure
    broke it (a timeout leaves the connection unusable; the next unit gets a new one)."""

    def __init__(self, server: Server, secret: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.server, self.secret, self.timeout = server, secret, timeout
        self.smtp: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        server = self.server
        try:
            if server.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self.timeout, context=tls_context()
                )
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    smtp.quit()
                    raise KieumauError(
                        f"Máy chủ {server.host} không hỗ trợ STARTTLS: mật khẩu không được gửi "
                        "qua kết nối không mã hóa. Hãy dùng smtps://."
                    )
                smtp.starttls(context=tls_context())
                smtp.ehlo()
        except (OSError, smtplib.SMTPException) as exc:
            raise connection_error(server, exc) from exc
        if server.user:
            try:
                smtp.login(server.user, self.secret)
            except smtplib.SMTPException as exc:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    smtp.quit()
                raise KieumauError(
                    f"Máy chủ gửi thư từ chối đăng nhập của '{server.user}' ({exc}): hãy kiểm "
                    "tra tên và mật khẩu (Gmail cần mật khẩu ứng dụng)."
                ) from exc
        return smtp

    def send(self, message: EmailMessage, sender: str, recipients: list[str]) -> dict:
        if self.smtp is None:
            self.smtp = self.connect()
        try:
            return self.smtp.send_message(message, sender, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = "; ".join(
                f"{address}: {code} {_text(text)}"
                for address, (code, text) in exc.recipients.items()
            )
            raise _Failed(f"máy chủ từ chối địa chỉ ({refused})") from exc
        except smtplib.SMTPResponseException as exc:
            self.reset()
            raise _Failed(f"máy chủ từ chối thư ({exc.smtp_code} {_text(exc.smtp_error)})") from exc
        except TimeoutError as exc:
            self.reset()
            raise _Failed("máy chủ không trả lời (hết thời gian chờ)") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.reset()
            # smtplib reports a read that timed out as a closed connection (over TLS).
            if isinstance(exc.__context__, TimeoutError) or "timed out" in str(exc):
                raise _Failed("máy chủ không trả lời (hết thời gian chờ)") from exc
            raise _Failed(f"mất kết nối với máy chủ ({exc})") from exc

    def reset(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException, ssl.SSLError):
                self.smtp.close()
        self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException, ssl.SSLError):
                self.smtp.quit()
        self.reset()


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass
class _Plan:
    unit: Unit
    attachments: list[Path]
    body: str
    prefilled: bool = False


def send_period(
    catalogue: Catalogue,
    period: Period,
    output_root: Path,
    history_path: Path,
    workspace: Path,
    *,
    session: SmtpSession | None = None,
    remind: bool = False,
    resend: bool = False,
    unit_codes: tuple[str, ...] = (),
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Write or send the month's mails; see the module. ``session`` None writes drafts."""
    now = now or dt.datetime.now().astimezone().replace(microsecond=0)
    kind = REMINDER if remind else FEEDBACK
    out_dir = output_root / str(period)
    folder = out_dir / DRAFTS
    report = SendReport(period, kind, str(session.server) if session else "", folder)
    sender = ward_address(catalogue) or (
        session.server.user if session and "@" in session.server.user else None
    )
    if sender is None:
        raise KieumauError(
            "Chưa có địa chỉ thư của phường: hãy ghi email_nhan trong sheet Cấu hình của Bộ "
            "tiêu chí (địa chỉ các đơn vị gửi biểu mẫu về)."
        )
    units = _chosen(catalogue, unit_codes)
    if not history_path.exists() and not remind:
        raise KieumauError(
            f"Chưa có kho lịch sử {history_path}: hãy chạy kieumau run cho kỳ {period} trước."
        )
    with History(history_path) as history:
        ledger = Ledger(history)
        plans = (
            _reminders(catalogue, period, units, history, ledger, out_dir, history_path, report)
            if remind
            else _feedback(catalogue, period, units, history, ledger, out_dir, workspace, report)
        )
        for number, plan in enumerate(plans, start=1):
            _deliver(catalogue, period, plan, ledger, session, sender, now, resend, report)
            if progress:
                progress(number, len(plans))
    return report


def _chosen(catalogue: Catalogue, unit_codes: tuple[str, ...]) -> list[Unit]:
    if not unit_codes:
        return list(catalogue.units)
    wanted = {code.upper() for code in unit_codes}
    unknown = wanted - {u.code for u in catalogue.units}
    if unknown:
        raise KieumauError(
            f"Không có đơn vị {', '.join(sorted(unknown))} trong Bộ tiêu chí. "
            f"Các mã hợp lệ: {', '.join(u.code for u in catalogue.units)}."
        )
    return [u for u in catalogue.units if u.code in wanted]


def _feedback(
    catalogue: Catalogue,
    period: Period,
    units: list[Unit],
    history: History,
    ledger: Ledger,
    out_dir: Path,
    workspace: Path,
    report: SendReport,
) -> list[_Plan]:
    if str(period) not in history.periods():
        raise KieumauError(
            f"Kỳ {period} chưa được tổng hợp: hãy chạy kieumau run HOP_THU --ky {period} trước "
            "khi gửi phản hồi."
        )
    files = submissions_of(history, period)
    inbox = run_inbox(history, period)
    originals = {f.sha256: f.original_name for f in ledger.files(str(period))}
    following = period.next()
    plans = []
    for unit in units:
        feedback = out_dir / "phan_hoi" / f"{unit.code}_{period}.xlsx"
        form = out_dir / "bieu_mau" / f"{unit.code}_{following}.xlsx"
        if not feedback.exists():
            report.not_due.append(unit.code)
            continue
        attachments = [feedback, form] if form.exists() else [feedback]
        facts = unit_facts(
            history,
            catalogue,
            unit,
            period,
            files.get(unit.code, []),
            inbox,
            workspace,
            originals,
        )
        plans.append(
            _Plan(unit, attachments, feedback_body(catalogue, unit, period, facts, attachments))
        )
    return plans


def _reminders(
    catalogue: Catalogue,
    period: Period,
    units: list[Unit],
    history: History,
    ledger: Ledger,
    out_dir: Path,
    history_path: Path,
    report: SendReport,
) -> list[_Plan]:
    """Units in Chưa nộp: none of their files counted in the month's run or, before the
    run, none of their forms collected from mail."""
    if str(period) in history.periods():
        sent = {
            unit
            for unit, files in submissions_of(history, period).items()
            if any(f[2] in COUNTED for f in files)
        }
    else:
        sent = {f.unit_code for f in ledger.files(str(period)) if f.unit_code}
    missing = [u for u in units if u.code not in sent]
    report.not_due = [u.code for u in units if u.code in sent]
    if not missing:
        return []
    previous = month_before(period)
    plans, fresh = [], []
    for unit in missing:
        made = output_root_form(out_dir.parent, previous, unit, period)
        if made is None:
            fresh.append(unit)
        else:
            plans.append(_Plan(unit, [made], "", prefilled=True))
    if fresh:
        written = write_forms(
            catalogue,
            period,
            report.folder / "bieu_mau",
            tuple(u.code for u in fresh),
            history_path,
        )
        for unit, (path, prefilled) in zip(fresh, written, strict=True):
            plans.append(_Plan(unit, [path], "", prefilled))
    order = {u.code: i for i, u in enumerate(units)}
    plans.sort(key=lambda plan: order[plan.unit.code])
    for plan in plans:
        plan.body = reminder_body(catalogue, plan.unit, period, plan.attachments[0], plan.prefilled)
    return plans


def output_root_form(
    output_root: Path, previous: Period, unit: Unit, period: Period
) -> Path | None:
    """The pre-filled form of ``period`` the run of the month before wrote, if any."""
    path = output_root / str(previous) / "bieu_mau" / f"{unit.code}_{period}.xlsx"
    return path if path.exists() else None


def _deliver(
    catalogue: Catalogue,
    period: Period,
    plan: _Plan,
    ledger: Ledger,
    session: SmtpSession | None,
    sender: str,
    now: dt.datetime,
    resend: bool,
    report: SendReport,
) -> None:
    unit = plan.unit
    recipients, bad = split_addresses(unit.email)
    if not recipients:
        reason = (
            f"địa chỉ không hợp lệ trong sheet Đơn vị: {', '.join(bad)}"
            if bad
            else "chưa có email trong sheet Đơn vị"
        )
        report.by_hand.append(ByHand(unit, tuple(plan.attachments), reason))
        return
    hashes = {path.name: sha256_of(path) for path in plan.attachments}
    earlier = ledger.sent(str(period), unit.code, report.kind)
    if earlier is not None and not resend:
        report.already.append((unit.code, earlier.at, earlier.attachments != hashes))
        return
    subject = subject_of(catalogue, unit, period, report.kind)
    message = build_message(
        catalogue, sender, unit, recipients, subject, plan.body, plan.attachments, now,
        draft=session is None,
    )  # fmt: skip
    note = f"địa chỉ sai bị bỏ qua: {', '.join(bad)}" if bad else ""
    if session is None:
        report.folder.mkdir(parents=True, exist_ok=True)
        path = report.folder / f"{unit.code}_{report.kind}_{period}.eml"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(message.as_bytes())
        os.replace(tmp, path)
        ledger.record_sent(
            str(period),
            SentMail(unit.code, report.kind, DRAFTED, message["Message-ID"], tuple(recipients),
                     now, hashes),
        )  # fmt: skip
        report.done.append(Done(unit.code, tuple(recipients), path, note))
        return
    try:
        refused = session.send(message, sender, recipients)
    except _Failed as failure:
        report.failed.append((unit.code, str(failure)))
        return
    reached = tuple(r for r in recipients if r not in refused)
    if refused:
        note = "; ".join(filter(None, [note, f"máy chủ từ chối: {', '.join(refused)}"]))
    ledger.record_sent(
        str(period),
        SentMail(unit.code, report.kind, SENT, message["Message-ID"], reached, now, hashes),
    )
    report.done.append(Done(unit.code, reached, None, note))
