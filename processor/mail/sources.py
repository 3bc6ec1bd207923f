"""Where mail is read from: a folder of .eml files, an .mbox, a Maildir or an IMAP folder.

Every source is read-only: nothing in the mailbox changes unless the clerk asks for mails to
be marked read (`--danh-dau-da-doc`), and then only the mails whose forms were saved. IMAP
mails are fetched with BODY.PEEK, which leaves their \\Seen flag alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import mailbox
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from processor.domain.errors import KieumauError
from processor.intake.safety import MAX_FILE_BYTES
from processor.mail.servers import (
    TIMEOUT_SECONDS,
    Server,
    connection_error,
    imap_utf7,
    parse_server,
    password,
    tls_context,
)

# A form of MAX_FILE_BYTES in base64 with a little text around it; a mail past this is not
# opened (its parts would be held in memory two or three times over).
MAX_MAIL_BYTES = MAX_FILE_BYTES * 4 // 3 + 4 * 1024 * 1024


@dataclass
class RawMail:
    """One mail as its source holds it. ``data`` is None for a mail too large to open."""

    key: str  # where it is: file name, position in the mbox, IMAP UID
    data: bytes | None
    size: int
    received: dt.datetime | None = None  # IMAP INTERNALDATE: when the server received it


class MailSource:
    """A source of mails; use as a context manager."""

    label = ""
    can_mark = False

    def mails(self, since: dt.date | None) -> Iterator[RawMail]:
        raise NotImplementedError

    def mark_read(self, keys: list[str]) -> int:
        return 0

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> MailSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_limited(path: Path, key: str) -> RawMail:
    size = path.stat().st_size
    return RawMail(key, path.read_bytes() if size <= MAX_MAIL_BYTES else None, size)


class EmlFolder(MailSource):
    """A folder of .eml files (what Outlook, Thunderbird and webmail save), read recursively."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.label = f"thư mục {folder}"

    def mails(self, since: dt.date | None) -> Iterator[RawMail]:
        files = sorted(
            p for p in self.folder.rglob("*") if p.is_file() and p.suffix.lower() == ".eml"
        )
        for path in files:
            yield _read_limited(path, str(path.relative_to(self.folder)))


class EmlFile(MailSource):
    """One saved mail."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = f"tệp {path}"

    def mails(self, since: dt.date | None) -> Iterator[RawMail]:
        yield _read_limited(self.path, self.path.name)


class MboxFile(MailSource):
    """An .mbox file (Thunderbird's and Gmail's export)."""

    def __init__(self, path: Path) -> None:
        self.label = f"tệp mbox {path}"
        self.box = mailbox.mbox(path, create=False)

    def mails(self, since: dt.date | None) -> Iterator[RawMail]:
        for number, key in enumerate(self.box.keys(), start=1):
            data = self.box.get_bytes(key)
            yield RawMail(
                f"thư thứ {number}", data if len(data) <= MAX_MAIL_BYTES else None, len(data)
            )

    def close(self) -> None:
        self.box.close()


class MaildirFolder(MailSource):
    """A Maildir (folders cur/, new/, tmp/); marking read moves a mail to cur/ with flag S."""

    can_mark = True

    def __init__(self, folder: Path) -> None:
        self.label = f"Maildir {folder}"
        self.box = mailbox.Maildir(folder, factory=None, create=False)

    def mails(self, since: dt.date | None) -> Iterator[RawMail]:
        for key in sorted(self.box.keys()):
            data = self.box.get_bytes(key)
            yield RawMail(key, data if len(data) <= MAX_MAIL_BYTES else None, len(data))

    def mark_read(self, keys: list[str]) -> int:
        for key in keys:
            message = self.box.get_message(key)
            message.set_subdir("cur")
            message.add_flag("S")
            self.box[key] = message
        return len(keys)


_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _internaldate(text: bytes) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text.decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


class ImapFolder(MailSource):
    """A folder of an IMAP mailbox, over SSL (imaps) or STARTTLS (imap).

    The folder is opened read-only (EXAMINE) unless mails are to be marked read.
    """

    def __init__(self, server: Server, secret: str, writable: bool = False) -> None:
        self.server, self.label = server, f"hộp thư {server}"
        self.can_mark = writable
        try:
            if server.implicit_tls:
                self.imap = imaplib.IMAP4_SSL(
                    server.host, server.port, ssl_context=tls_context(), timeout=TIMEOUT_SECONDS
                )
            else:
                self.imap = imaplib.IMAP4(server.host, server.port, timeout=TIMEOUT_SECONDS)
                if "STARTTLS" not in self.imap.capabilities:
                    self.imap.logout()
                    raise KieumauError(
                        f"Máy chủ {server.host} không hỗ trợ STARTTLS: mật khẩu không được gửi "
                        "qua kết nối không mã hóa. Hãy dùng imaps://."
                    )
                self.imap.starttls(tls_context())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise connection_error(server, exc) from exc
        try:
            self.imap.login(server.user, secret)
        except imaplib.IMAP4.error as exc:
            self.close()
            raise KieumauError(
                f"Máy chủ thư từ chối đăng nhập của '{server.user}' ({_text(exc)}): hãy kiểm tra "
                "tên và mật khẩu (Gmail cần mật khẩu ứng dụng)."
            ) from exc
        status, _ = self.imap.select(_quoted(imap_utf7(server.folder)), readonly=not writable)
        if status != "OK":
            folders = self._folders()
            self.close()
            raise KieumauError(
                f"Không có thư mục '{server.folder}' trong hộp thư. Các thư mục có: "
                + ", ".join(folders)
            )

    def _folders(self) -> list[str]:
        status, lines = self.imap.list()
        names = []
        for line in lines if status == "OK" else []:
            if isinstance(line, bytes) and (match := re.search(rb'"([^"]*)"\s*$|(\S+)$', line)):
                names.append((match[1] or match[2] or b"").decode("utf-8", "replace"))
        return names

    def mails(self, since: dt.date | None) -> Iterator[RawMail]:
        criteria = ["ALL"]
        if since is not None:
            criteria = ["SINCE", f"{since.day}-{_MONTHS[since.month - 1]}-{since.year}"]
        status, data = self.imap.uid("SEARCH", None, *criteria)
        uids = data[0].split() if status == "OK" and data and data[0] else []
        for uid in uids:
            uid_text = uid.decode()
            status, meta = self.imap.uid("FETCH", uid_text, "(RFC822.SIZE INTERNALDATE)")
            line = b" ".join(part if isinstance(part, bytes) else part[0] for part in meta if part)
            size_match, date_match = _SIZE.search(line), _INTERNALDATE.search(line)
            size = int(size_match[1]) if size_match else 0
            received = _internaldate(date_match[1]) if date_match else None
            if size > MAX_MAIL_BYTES:
                yield RawMail(uid_text, None, size, received)
                continue
            status, body = self.imap.uid("FETCH", uid_text, "(BODY.PEEK[])")
            data_bytes = next((part[1] for part in body if isinstance(part, tuple)), b"")
            yield RawMail(uid_text, data_bytes, len(data_bytes), received)

    def mark_read(self, keys: list[str]) -> int:
        if keys:
            self.imap.uid("STORE", ",".join(keys), "+FLAGS", "(\\Seen)")
        return len(keys)

    def close(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            if self.imap.state == "SELECTED":
                self.imap.close()
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self.imap.logout()


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(exc: BaseException) -> str:
    value = exc.args[0] if exc.args else exc
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def open_source(
    where: str,
    *,
    environ: dict[str, str],
    prompt: Callable[[str], str] | None = None,
    writable: bool = False,
) -> MailSource:
    """The mail source named on the command line: a folder of .eml files, an .mbox file, a
    Maildir, one .eml file, or an IMAP folder `imaps://user@host[:port]/FOLDER`."""
    if "://" in where:
        server = parse_server(where, ("imaps", "imap"))
        return ImapFolder(server, password(server, environ, prompt), writable)
    path = Path(where)
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            return MaildirFolder(path)
        return EmlFolder(path)
    if not path.is_file():
        raise KieumauError(
            f"Không thấy '{where}': hãy ghi một thư mục chứa tệp .eml, một tệp .mbox, một thư "
            "mục Maildir hoặc địa chỉ imaps://tên@máy-chủ/THƯ_MỤC."
        )
    if path.suffix.lower() == ".eml":
        return EmlFile(path)
    with path.open("rb") as handle:
        head = handle.read(5)
    if path.suffix.lower() == ".mbox" or head == b"From ":
        return MboxFile(path)
    raise KieumauError(
        f"Tệp '{where}' không phải hộp thư .mbox hay thư .eml: hãy xuất thư từ Thunderbird "
        "(ImportExportTools) hoặc Gmail (Google Takeout) dạng .mbox."
    )
