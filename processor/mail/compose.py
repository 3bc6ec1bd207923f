"""The mails `kieumau gui` writes: a unit's feedback with its next form, or a reminder.

The body is short Vietnamese a tổ trưởng reads on a phone: what the ward received, how many
people and households reach each title so far, the cells to fix (the attached feedback
workbook has them all), and the next deadline (Cấu hình `han_nop`). Every header is set
through the `email` package from one-line text (servers.one_line): a line break in a unit's
name, a subject or an address can never start a header of its own.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from processor.domain.catalogue import Catalogue, Unit
from processor.domain.periods import Period
from processor.domain.unit_report import deadline, received_line, thousands, title_lines
from processor.intake.reader import read_submission
from processor.intake.submission import sha256_of
from processor.mail.servers import one_line
from processor.scoring.consolidate import COUNTED
from processor.store.archive import find_archived
from processor.store.history import History

MAX_CELLS_IN_BODY = 15  # the rest are in the attached feedback workbook
FEEDBACK, REMINDER = "phan_hoi", "nhac_nop"


@dataclass(frozen=True)
class ReceivedFile:
    name: str
    status: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    received_at: dt.datetime | None


@dataclass
class UnitFacts:
    """What a unit's feedback mail says, taken from the store and the unit's own files."""

    received: list[ReceivedFile] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)  # "Công dân kiểu mẫu: 120/340 người đạt"
    cells: list[str] = field(default_factory=list)  # "[lỗi] Nguyễn Văn An, Công dân!H12: …"
    notes: int = 0  # warnings that only ask the unit to check: counted, not listed


def submissions_of(history: History, period: Period) -> dict[str, list[tuple]]:
    """Unit code -> (name, sha256, status, rows read, accepted, rejected) of each file the run
    of ``period`` recorded for it."""
    found: dict[str, list[tuple]] = {}
    rows = history.db.execute(
        "SELECT unit_code, name, sha256, status, rows_read, rows_accepted, rows_rejected "
        "FROM submissions WHERE period = ? ORDER BY name",
        (str(period),),
    )
    for unit, *rest in rows:
        if unit:
            found.setdefault(unit, []).append(tuple(rest))
    return found


def run_inbox(history: History, period: Period) -> Path | None:
    row = history.db.execute("SELECT inbox FROM runs WHERE period = ?", (str(period),)).fetchone()
    return Path(row[0]) if row and row[0] else None


def unit_facts(
    history: History,
    catalogue: Catalogue,
    unit: Unit,
    period: Period,
    files: list[tuple],
    inbox: Path | None,
    archive: Path,
    originals: dict[str, str],
) -> UnitFacts:
    """``originals``: the name a file had in the unit's mail, by SHA-256 (ledger.files)."""
    facts = UnitFacts()
    receipts = history.receipts([f[1] for f in files])
    for name, sha, status, read, accepted, rejected in files:
        shown = originals.get(sha) or name
        facts.received.append(
            ReceivedFile(shown, status, read or 0, accepted or 0, rejected or 0, receipts.get(sha))
        )
    facts.counts = _title_counts(history, catalogue, unit, period)
    for name, sha, status, *_ in files:
        if status not in COUNTED:
            continue
        path = _file_of(name, sha, inbox, archive)
        if path is None:
            continue
        sub = read_submission(path, catalogue, name, period)
        for issue in sub.issues:
            if not issue.needs_fix:
                facts.notes += 1
                continue
            text = issue.public_message or issue.message
            if not issue.who:  # a row's message already starts with whom and the cell
                text = f"{'!'.join(p for p in (issue.sheet, issue.cell) if p) or name}: {text}"
            # Marked as the feedback workbook's comments are, so the two read alike.
            facts.cells.append(f"[{issue.severity}] {text}")
    return facts


def _file_of(name: str, sha: str, inbox: Path | None, archive: Path) -> Path | None:
    """The unit's file: in the run's inbox if it is still there unchanged, else the archive's
    copy (kept by SHA-256)."""
    if inbox is not None and (inbox / name).is_file() and sha256_of(inbox / name) == sha:
        return inbox / name
    return find_archived(archive, sha)


def _title_counts(history: History, catalogue: Catalogue, unit: Unit, period: Period) -> list[str]:
    frames = [
        history.load(str(period), "result", level, unit.code)
        for level in ("citizens", "households", "units")
    ]
    return title_lines(catalogue, unit, *frames)


def _signature(catalogue: Catalogue) -> list[str]:
    return [
        "",
        "Trân trọng,",
        catalogue.setting("can_bo_tiep_nhan", "Cán bộ Văn hóa - Xã hội"),
        f"{catalogue.setting('co_quan_ban_hanh', 'Ủy ban nhân dân')} "
        f"{catalogue.setting('ten_xa', '')}".strip(),
    ]


def feedback_body(
    catalogue: Catalogue, unit: Unit, period: Period, facts: UnitFacts, attached: list[Path]
) -> str:
    following = period.next()
    lines = [
        f"Kính gửi Ban vận động {unit.name},",
        "",
        f"{catalogue.setting('can_bo_tiep_nhan', 'Cán bộ Văn hóa - Xã hội')} gửi phản hồi biểu "
        f"mẫu {period.label} và biểu mẫu {following.label} của đơn vị.",
        "",
        "1. Đã nhận:",
    ]
    lines += [
        "   - "
        + received_line(
            item.name,
            item.status,
            item.rows_read,
            item.rows_accepted,
            item.rows_rejected,
            item.received_at,
        )
        for item in facts.received
    ]
    lines += ["", f"2. Kết quả đến {period.label}:"]
    lines += [f"   - {line}" for line in facts.counts] or ["   - Chưa có kết quả."]
    lines += [""]
    if facts.cells:
        lines.append(f"3. Cần sửa ({len(facts.cells)} mục):")
        lines += [f"   - {cell}" for cell in facts.cells[:MAX_CELLS_IN_BODY]]
        if len(facts.cells) > MAX_CELLS_IN_BODY:
            lines.append(
                f"   … và {len(facts.cells) - MAX_CELLS_IN_BODY} mục khác: xem tệp phản hồi "
                "đính kèm (các ô cần sửa được tô màu)."
            )
    else:
        lines.append("3. Không có ô nào cần sửa.")
    if facts.notes:
        lines.append(
            f"   Ngoài ra có {thousands(facts.notes)} lưu ý cần kiểm tra: xem tệp phản hồi "
            "đính kèm."
        )
    lines += [
        "",
        f"4. Biểu mẫu {following.label} đính kèm đã điền sẵn số liệu kỳ này: chỉ sửa những gì "
        f"thay đổi rồi gửi lại trước {deadline(catalogue, following)} qua thư này.",
        "",
        "Tệp đính kèm:",
        *[f"   - {path.name}" for path in attached],
    ]
    return "\n".join(lines + _signature(catalogue)) + "\n"


def reminder_body(
    catalogue: Catalogue, unit: Unit, period: Period, form: Path, prefilled: bool
) -> str:
    lines = [
        f"Kính gửi Ban vận động {unit.name},",
        "",
        f"Đến nay {catalogue.setting('can_bo_tiep_nhan', 'Cán bộ Văn hóa - Xã hội')} chưa nhận "
        f"được biểu mẫu {period.label} của đơn vị.",
        f"Đề nghị đơn vị điền biểu mẫu đính kèm ({form.name}"
        f"{', đã điền sẵn số liệu kỳ trước' if prefilled else ''}) và gửi lại trước "
        f"{deadline(catalogue, period)} qua thư này.",
        "Giữ nguyên tên sheet và dòng tiêu đề; không đặt mật khẩu cho tệp.",
    ]
    return "\n".join(lines + _signature(catalogue)) + "\n"


def build_message(
    catalogue: Catalogue,
    sender: str,
    unit: Unit,
    recipients: list[str],
    subject: str,
    body: str,
    attachments: list[Path],
    now: dt.datetime,
    *,
    draft: bool,
) -> EmailMessage:
    """One mail; ``draft`` marks it X-Unsent so Outlook opens it ready to send."""
    message = EmailMessage()
    ward = one_line(catalogue.setting("ten_xa") or catalogue.setting("can_bo_tiep_nhan"))
    local, _, domain = sender.partition("@")
    message["From"] = Address(display_name=ward, username=local, domain=domain)
    message["To"] = [
        Address(display_name=one_line(unit.name), username=a.partition("@")[0],
                domain=a.partition("@")[2])
        for a in recipients
    ]  # fmt: skip
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=f"kieumau.{unit.code}", domain=domain or None)
    if draft:
        message["X-Unsent"] = "1"
    message.set_content(body)
    for path in attachments:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return message


def subject_of(catalogue: Catalogue, unit: Unit, period: Period, kind: str) -> str:
    ward = catalogue.setting("ten_xa")
    if kind == REMINDER:
        return f"[{ward}] Nhắc nộp biểu mẫu {period.label} - {unit.code} {unit.name}"
    return f"[{ward}] Phản hồi biểu mẫu {period.label} - {unit.code} {unit.name}"
