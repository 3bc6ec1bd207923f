"""Mail addresses, server addresses (`imaps://user@host:993/INBOX`), passwords, header text.

The password is never read from a file of the project or the catalogue (issue 19): it comes
from the environment variable KIEUMAU_MAT_KHAU or from a prompt the command line shows.
A server's certificate is checked against the system's trusted authorities (or the file named
by SSL_CERT_FILE, for a ward server with its own certificate).
"""

from __future__ import annotations

import base64
import re
import ssl
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from processor.domain.catalogue import Catalogue, Unit
from processor.domain.errors import KieumauError

PASSWORD_VARIABLE = "KIEUMAU_MAT_KHAU"
TIMEOUT_SECONDS = 60

# RFC 5321's mailbox, without quoted local parts or address literals: what a unit's register
# holds. Nothing that could end a header line or start another one fits.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_SEPARATORS = re.compile(r"[,; ]+")
# Every character that ends a line somewhere: CR, LF, VT, FF, the file/group/record separators,
# NEL, and Unicode's line and paragraph separators.
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029\t]+")


def one_line(text: object) -> str:
    """``text`` as one line of NFC text: every line break a header could be split at becomes a
    space, so nothing taken from a catalogue or a mail can add a header (issue 19)."""
    value = unicodedata.normalize("NFC", "" if text is None else str(text))
    value = "".join(ch if unicodedata.category(ch) != "Cc" else " " for ch in value)
    return " ".join(_LINE_BREAKS.sub(" ", value).split())


def is_address(text: str) -> bool:
    return bool(_ADDRESS.match(text))


def split_addresses(cell: str) -> tuple[list[str], list[str]]:
    """(valid addresses, invalid entries) of a catalogue cell: one address or several separated
    by commas, semicolons or spaces; addresses in lower case."""
    if _LINE_BREAKS.search((cell or "").strip()):
        # A line break inside the cell: never read addresses out of what may be a header.
        return [], [one_line(cell)]
    good, bad = [], []
    for entry in _SEPARATORS.split(cell or ""):
        entry = entry.strip().strip("<>").lower()
        if entry:
            (good if is_address(entry) else bad).append(entry)
    return good, bad


def unit_addresses(unit: Unit) -> list[str]:
    return split_addresses(unit.email)[0]


def units_by_address(catalogue: Catalogue) -> dict[str, Unit | None]:
    """Each address of the units register -> its unit; None for an address two units share
    (a mail from it cannot say which unit sent it)."""
    found: dict[str, Unit | None] = {}
    for unit in catalogue.units:
        for address in unit_addresses(unit):
            known = found.get(address, unit)
            found[address] = unit if known is unit or known == unit else None
    return found


def ward_address(catalogue: Catalogue) -> str | None:
    """The ward's address (Cấu hình `email_nhan`), when it is a valid one."""
    addresses = split_addresses(catalogue.setting("email_nhan"))[0]
    return addresses[0] if addresses else None


@dataclass(frozen=True)
class Server:
    """A mail server given as a URL: `imaps://user@host:993/INBOX`, `smtp://user@host:587`."""

    scheme: str
    host: str
    port: int
    user: str
    folder: str

    @property
    def implicit_tls(self) -> bool:
        """SSL from the first byte (imaps, smtps); otherwise STARTTLS is required."""
        return self.scheme.endswith("s")

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        folder = f"/{self.folder}" if self.folder else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}{folder}"


_PORTS = {"imaps": 993, "imap": 143, "smtps": 465, "smtp": 587}


def parse_server(url: str, kinds: tuple[str, ...]) -> Server:
    """Parse a server URL of one of ``kinds`` ('imaps', 'imap', 'smtps', 'smtp')."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    hint = " hoặc ".join(f"{k}://tên@máy-chủ[:cổng]" for k in kinds)
    if scheme not in kinds or not parts.hostname:
        raise KieumauError(f"Địa chỉ máy chủ thư '{url}' không hợp lệ: hãy ghi dạng {hint}.")
    try:
        port = parts.port or _PORTS[scheme]
    except ValueError:
        raise KieumauError(
            f"Cổng trong '{url}' không hợp lệ: hãy ghi một số, ví dụ :993."
        ) from None
    user = unquote(parts.username or "")
    folder = unquote(parts.path.lstrip("/")) if scheme.startswith("imap") else ""
    if scheme.startswith("imap") and not folder:
        folder = "INBOX"
    return Server(scheme, parts.hostname, port, user, folder)


def password(server: Server, environ: dict[str, str], prompt: Callable[[str], str] | None) -> str:
    """The server's password: KIEUMAU_MAT_KHAU, or else asked through ``prompt``."""
    if value := environ.get(PASSWORD_VARIABLE):
        return value
    if prompt is None:
        raise KieumauError(
            f"Chưa có mật khẩu cho {server.user or server.host}: hãy đặt biến môi trường "
            f"{PASSWORD_VARIABLE} hoặc chạy lệnh ở cửa sổ dòng lệnh để nhập mật khẩu."
        )
    return prompt(f"Mật khẩu thư của {server.user or server.host}")


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the trusted authorities (SSL_CERT_FILE is honoured)."""
    return ssl.create_default_context()


def connection_error(server: Server, exc: BaseException) -> KieumauError:
    """A Vietnamese message for a server that cannot be reached or refuses the connection."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return KieumauError(
            f"Chứng chỉ của máy chủ {server.host} không được tin cậy ({exc.verify_message}): "
            "hãy kiểm tra địa chỉ máy chủ; máy chủ riêng của phường dùng chứng chỉ tự cấp thì "
            "đặt biến SSL_CERT_FILE trỏ tới tệp chứng chỉ đó."
        )
    return KieumauError(
        f"Không kết nối được máy chủ thư {server.host}:{server.port} ({exc}): hãy kiểm tra "
        "mạng, tên máy chủ và cổng."
    )


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3), for names like `Biểu mẫu`."""
    out, pending = [], []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)
