"""The forms inside one mail: attachments, spreadsheets inside a .zip, a forwarded mail's own
attachments (issue 19), with the intake's limits (processor/intake/safety.py) on sizes and zip
bombs, and limits of its own on a mail's parts.

Names are decoded (RFC 2047 encoded words, RFC 2231 parameters, zip entries in UTF-8 or the
DOS code page) and made NFC and one line; they are shown to the clerk, never used as paths.
A mail that cannot be read whole still gives what could be read, with the reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from email.message import Message
from pathlib import PurePosixPath

from processor.intake.inbox import SPREADSHEET_SUFFIXES
from processor.intake.safety import MAX_FILE_BYTES, MAX_INFLATED_BYTES, MAX_RATIO, MAX_ZIP_ENTRIES
from processor.mail.servers import one_line

# A unit sends one form, a clerk forwarding a few dozen; past these a mail is a bomb.
MAX_ATTACHMENTS = 200
MAX_PARTS = 1_000
MAX_DEPTH = 3  # a forwarded mail inside a forwarded mail; zips inside zips
_ZIP_SUFFIXES = (".zip",)
_MAIL_SUFFIXES = (".eml",)
_SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
# Errors the email package raises on a malformed header it parses lazily (CPython's header
# parser has raised each of these on crafted input).
_HEADER_ERRORS = (ValueError, TypeError, IndexError, LookupError, AttributeError)

FORM, OTHER, REFUSED = "biểu mẫu", "tệp khác", "bị từ chối"


@dataclass
class Attachment:
    """One file found in a mail: a form to save, another file, or one refused (and why)."""

    name: str
    kind: str
    data: bytes | None = None
    where: str = ""  # "trong bieu_mau.zip", "trong thư chuyển tiếp ..."
    reason: str = ""

    @property
    def shown(self) -> str:
        return f"{self.name} ({self.where})" if self.where else self.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data or b"").hexdigest()

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name.lower()).suffix


@dataclass
class ParsedMail:
    """What one mail says about itself and the files it carries."""

    message_id: str
    sender: str  # address, lower case; "" when the From header gives none
    sender_name: str
    subject: str
    date: dt.datetime | None
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the mail as a whole
    forged: str = ""  # why the sender looks forged, when it does
    bomb: bool = False  # too many parts: nothing of it is saved

    @property
    def forms(self) -> list[Attachment]:
        return [a for a in self.attachments if a.kind == FORM]


def parse_mail(data: bytes) -> ParsedMail:
    """Read one mail; never raises for bad input (problems are listed in the result)."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except RecursionError:
        mail = ParsedMail(_fallback_id(data), "", "", "", None)
        mail.problems.append("cấu trúc MIME lồng nhau quá sâu: không đọc được thư")
        return mail
    sender_name, sender = _sender(message)
    mail = ParsedMail(
        _message_id(message, data),
        sender,
        sender_name,
        _header(message, "Subject"),
        _date(message),
    )
    if message.defects:
        mail.problems.append("thư sai cấu trúc MIME (" + _defects(message.defects) + ")")
    mail.forged = _forged(message, sender)
    walker = _Walker(mail)
    try:
        walker.walk(message, "", 0)
    except RecursionError:
        mail.problems.append("cấu trúc MIME lồng nhau quá sâu: chỉ đọc được một phần thư")
    if walker.bomb:
        mail.bomb = True
        mail.problems.append(walker.bomb)
        mail.attachments = [a for a in mail.attachments if a.kind != FORM]
        for attachment in mail.attachments:
            attachment.data = None
    return mail


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except _HEADER_ERRORS:
        value = None
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:  # an encoded word the parser left alone (malformed, or in a quoted string)
        try:
            text = str(email.header.make_header(email.header.decode_header(text)))
        except (*_HEADER_ERRORS, email.errors.HeaderParseError, UnicodeError):
            pass
    return one_line(text)


def _sender(message: Message) -> tuple[str, str]:
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        if addresses:
            return one_line(addresses[0].display_name), addresses[0].addr_spec.lower()
    except _HEADER_ERRORS:
        pass
    name, address = email.utils.parseaddr(_header(message, "From"))
    return one_line(name), address.lower() if "@" in address else ""


def _date(message: Message) -> dt.datetime | None:
    try:
        header = message.get("Date")
        value = getattr(header, "datetime", None) if header is not None else None
    except _HEADER_ERRORS:
        value = None
    if value is None:
        try:
            value = email.utils.parsedate_to_datetime(_header(message, "Date"))
        except (*_HEADER_ERRORS, OverflowError):
            return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _message_id(message: Message, data: bytes) -> str:
    value = _header(message, "Message-ID").strip()
    return value if value else _fallback_id(data)


def _fallback_id(data: bytes) -> str:
    """A mail without a Message-ID is known by its bytes."""
    return f"<{hashlib.sha256(data).hexdigest()[:32]}@khong-co-message-id>"


def _defects(defects: list) -> str:
    names = sorted({type(d).__name__ for d in defects})
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


_RESULT = re.compile(r"\b(dmarc|spf|dkim)\s*=\s*(fail|permerror)\b", re.I)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _forged(message: Message, sender: str) -> str:
    """Why the sender looks forged: the receiving server's own verdict (the topmost
    Authentication-Results header, the one it added) failed, or the bounce address (envelope
    sender) is of another domain than the From address."""
    if not sender:
        return ""
    try:
        results = message.get_all("Authentication-Results") or []
    except _HEADER_ERRORS:
        results = []
    if results and (match := _RESULT.search(one_line(results[0]))):
        return f"máy chủ nhận thư ghi {match[1].lower()}={match[2].lower()}"
    _, bounce = email.utils.parseaddr(_header(message, "Return-Path"))
    if bounce and "@" in bounce and _domain(bounce) != _domain(sender):
        return f"địa chỉ trả về {bounce.lower()} khác tên miền người gửi {sender}"
    return ""


class _Walker:
    """Walks a mail's parts, with the limits on their number, depth and inflated size."""

    def __init__(self, mail: ParsedMail) -> None:
        self.mail = mail
        self.parts = 0
        self.files = 0
        self.inflated = 0
        self.bomb = ""

    def add(self, attachment: Attachment) -> None:
        self.files += 1
        if self.files > MAX_ATTACHMENTS and not self.bomb:
            self.bomb = (
                f"thư có hơn {MAX_ATTACHMENTS} tệp đính kèm (dấu hiệu bom thư): không lưu tệp "
                "nào của thư này; thư vẫn còn nguyên trong hộp thư."
            )
        if not self.bomb or attachment.kind != FORM:
            self.mail.attachments.append(attachment)

    def walk(self, part: Message, where: str, depth: int) -> None:
        if self.bomb:
            return
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.bomb = (
                f"thư có hơn {MAX_PARTS} phần MIME (dấu hiệu bom thư): không lưu tệp nào của "
                "thư này; thư vẫn còn nguyên trong hộp thư."
            )
            return
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                self.forwarded(inner, where, depth)
            return
        if part.is_multipart():
            payload = part.get_payload()
            for sub in payload if isinstance(payload, list) else []:
                if isinstance(sub, Message):
                    self.walk(sub, where, depth)
            return
        name = _filename(part)
        suffix = PurePosixPath(name.lower()).suffix if name else ""
        if not name and content_type in _SPREADSHEET_TYPES:
            name = f"tep_khong_ten{_SPREADSHEET_TYPES[content_type]}"
            suffix = _SPREADSHEET_TYPES[content_type]
        if not name:
            return  # the mail's text
        data = _payload(part)
        if data is None:
            self.add(Attachment(name, REFUSED, where=where, reason="không giải mã được tệp"))
        elif suffix in _MAIL_SUFFIXES:
            self.saved_mail(name, data, where, depth)
        else:
            self.file(name, data, where, depth)

    def forwarded(self, inner: Message, where: str, depth: int) -> None:
        subject = _header(inner, "Subject") or "không tiêu đề"
        here = _join(where, f"trong thư chuyển tiếp “{subject}”")
        if depth + 1 > MAX_DEPTH:
            self.add(Attachment(subject, REFUSED, where=where, reason="thư lồng nhau quá sâu"))
            return
        self.walk(inner, here, depth + 1)

    def saved_mail(self, name: str, data: bytes, where: str, depth: int) -> None:
        try:
            inner = email.message_from_bytes(data, policy=email.policy.default)
        except RecursionError:
            self.add(Attachment(name, REFUSED, where=where, reason="thư đính kèm lồng quá sâu"))
            return
        self.forwarded(inner, _join(where, f"tệp {name}"), depth)

    def file(self, name: str, data: bytes, where: str, depth: int) -> None:
        suffix = PurePosixPath(name.lower()).suffix
        if len(data) > MAX_FILE_BYTES:
            size = f"{len(data) / 1024 / 1024:.0f} MB"
            self.add(
                Attachment(name, REFUSED, where=where, reason=f"tệp quá lớn ({size}), không lưu")
            )
        elif suffix in SPREADSHEET_SUFFIXES:
            self.add(Attachment(name, FORM, data, where))
        elif suffix in _ZIP_SUFFIXES:
            self.archive(name, data, where, depth)
        else:
            self.add(Attachment(name, OTHER, where=where, reason="không phải bảng tính"))

    def archive(self, name: str, data: bytes, where: str, depth: int) -> None:
        """A .zip: its spreadsheets, checked against the intake's limits before inflating."""
        here = _join(where, f"trong {name}")
        if depth + 1 > MAX_DEPTH:
            self.add(Attachment(name, REFUSED, where=where, reason="tệp nén lồng nhau quá sâu"))
            return
        entries = _declared_entries(data)
        if entries is not None and entries > MAX_ZIP_ENTRIES:
            self.add(Attachment(name, REFUSED, where=where, reason=f"tệp nén có {entries} tệp"))
            return
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            infos = archive.infolist()
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error):
            self.add(Attachment(name, REFUSED, where=where, reason="tệp nén hỏng"))
            return
        for info in infos:
            if info.is_dir():
                continue
            entry = one_line(_entry_name(info))
            refusal = self.refusal(info)
            if refusal:
                self.add(Attachment(entry, REFUSED, where=here, reason=refusal))
                continue
            suffix = PurePosixPath(entry.lower()).suffix
            if suffix not in (*SPREADSHEET_SUFFIXES, *_ZIP_SUFFIXES, *_MAIL_SUFFIXES):
                self.add(Attachment(entry, OTHER, where=here, reason="không phải bảng tính"))
                continue
            try:
                inner = archive.read(info)  # stops at the declared size, then checks the CRC
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                self.add(Attachment(entry, REFUSED, where=here, reason=f"tệp nén hỏng: {exc}"))
                continue
            self.inflated += len(inner)
            if suffix in _MAIL_SUFFIXES:
                self.saved_mail(entry, inner, here, depth + 1)
            else:
                self.file(entry, inner, here, depth + 1)

    def refusal(self, info: zipfile.ZipInfo) -> str:
        """Why an entry of a zip is not inflated (the intake's limits), or ''."""
        if info.flag_bits & 0x1:
            return "tệp nén có mật khẩu: hãy gửi tệp không đặt mật khẩu"
        if info.file_size > MAX_FILE_BYTES:
            return f"tệp quá lớn khi giải nén ({info.file_size / 1024 / 1024:.0f} MB)"
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 10 * 1024 * 1024 and ratio > MAX_RATIO:
            return f"dấu hiệu bom nén (nén {ratio:.0f} lần): không giải nén"
        if self.inflated + info.file_size > MAX_INFLATED_BYTES:
            return "tổng dung lượng giải nén của thư vượt giới hạn: không giải nén"
        return ""


def _join(where: str, more: str) -> str:
    return f"{where}, {more}" if where else more


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except _HEADER_ERRORS:
        name = None
    if not name:
        try:
            name = part.get_param("name", header="content-type")
            name = email.utils.collapse_rfc2231_value(name) if name else None
        except _HEADER_ERRORS:
            name = None
    if not name:
        return ""
    name = str(name)
    if "=?" in name:
        try:
            name = str(email.header.make_header(email.header.decode_header(name)))
        except (*_HEADER_ERRORS, email.errors.HeaderParseError, UnicodeError):
            pass
    # A name is shown, never used as a path: only its last component, on one line.
    return one_line(re.split(r"[\\/]", name)[-1])


def _payload(part: Message) -> bytes | None:
    try:
        data = part.get_payload(decode=True)
    except _HEADER_ERRORS:
        return None
    if isinstance(data, str):
        return data.encode("utf-8", "surrogateescape")
    return data if isinstance(data, bytes) else None


def _entry_name(info: zipfile.ZipInfo) -> str:
    """A zip entry's name: UTF-8 when flagged, else the DOS code page zipfile assumed, which
    Vietnamese names saved by tools that write UTF-8 without the flag are tried as first."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeError):
            name = name.encode("cp437").decode("utf-8")
    return name.rsplit("/", 1)[-1]


_EOCD = b"PK\x05\x06"


def _declared_entries(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record, before zipfile builds an object
    per entry (the intake reads it the same way from a file: safety._declared_entries)."""
    at = data.rfind(_EOCD, max(0, len(data) - 22 - 65535))
    if at < 0 or at + 12 > len(data):
        return None
    return struct.unpack_from("<H", data, at + 10)[0]
