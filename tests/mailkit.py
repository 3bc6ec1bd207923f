"""Real mail servers for the tests, started on 127.0.0.1 (issue 19), and mails built with the
`email` package the way mail clients build them.

- Dovecot (IMAP; Debian's `dovecot-imapd`) with a throwaway configuration in a tmp folder:
  users from a passwd-file, a self-signed certificate made here with `cryptography`, Maildirs
  in the tmp folder. Mails are put in with IMAP APPEND, as a mail client saving a message does,
  with the INTERNALDATE a server would have given them.
- aiosmtpd's SMTP server, over STARTTLS or SSL, with a login, keeping every mail it received;
  it can refuse an address or stall like a server that stops answering.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import imaplib
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unicodedata
from base64 import b64encode
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path

from processor.mail.servers import imap_utf7

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WARD = "vhxh.phongson@gmail.com"


# --- mails as clients build them -------------------------------------------------------------


def gmail(
    sender: str,
    subject: str,
    files: list[tuple[str, bytes]],
    date: dt.datetime,
    body: str = "Gửi chị biểu mẫu tháng này.",
) -> EmailMessage:
    """Gmail's web client: multipart/mixed, text and HTML, names as RFC 2231 parameters."""
    message = EmailMessage()
    message["From"] = f"Ban vận động <{sender}>"
    message["To"] = WARD
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = make_msgid(domain="mail.gmail.com")
    message.set_content(body)
    message.add_alternative(f'<div dir="ltr">{body}</div>', subtype="html")
    for name, data in files:
        maintype, subtype = _type(name)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def outlook(
    sender: str, subject: str, files: list[tuple[str, bytes]], date: dt.datetime
) -> MIMEMultipart:
    """Outlook: names as RFC 2047 encoded words inside quoted parameters, base64 bodies."""
    message = MIMEMultipart("mixed")
    message["From"] = f"=?utf-8?B?{b64encode('Tổ trưởng'.encode()).decode()}?= <{sender}>"
    message["To"] = WARD
    message["Subject"] = f"=?utf-8?B?{b64encode(subject.encode()).decode()}?="
    message["Date"] = format_datetime(date)
    message["Message-ID"] = make_msgid(domain="PS2PR01MB1234.apcprd01.prod.exchangelabs.com")
    message["X-Mailer"] = "Microsoft Outlook 16.0"
    message.attach(MIMEText("Kính gửi chị, em gửi biểu mẫu.", "plain", "utf-8"))
    for name, data in files:
        part = MIMEApplication(data, _subtype=_type(name)[1])
        encoded = f"=?utf-8?B?{b64encode(name.encode()).decode()}?="
        del part["Content-Type"]
        part["Content-Type"] = f'{XLSX}; name="{encoded}"'
        part["Content-Disposition"] = f'attachment; filename="{encoded}"'
        message.attach(part)
    return message


def webmail_nfd(
    sender: str, subject: str, files: list[tuple[str, bytes]], date: dt.datetime
) -> EmailMessage:
    """A webmail on a Mac: the names in decomposed Unicode (NFD)."""
    nfd = [(unicodedata.normalize("NFD", name), data) for name, data in files]
    return gmail(sender, unicodedata.normalize("NFD", subject), nfd, date)


def forwarded(
    sender: str, original: EmailMessage | MIMEMultipart, date: dt.datetime
) -> EmailMessage:
    """A mail forwarded as an attachment (Thunderbird, Outlook): the original as message/rfc822."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = WARD
    message["Subject"] = f"Fwd: {original['Subject']}"
    message["Date"] = format_datetime(date)
    message["Message-ID"] = make_msgid(domain="thunderbird.example")
    message.set_content("Chuyển tiếp thư của tổ.")
    inner = email.message_from_bytes(original.as_bytes(), policy=email.policy.default)
    message.add_attachment(inner)
    return message


def _type(name: str) -> tuple[str, str]:
    if name.lower().endswith(".xlsx"):
        return "application", XLSX.split("/")[1]
    if name.lower().endswith(".zip"):
        return "application", "zip"
    if name.lower().endswith(".pdf"):
        return "application", "pdf"
    return "application", "octet-stream"


def mbox_bytes(messages: list) -> bytes:
    """An .mbox as Thunderbird exports it: each mail after a From_ line, '>From' escaped."""
    out = []
    for message in messages:
        raw = message.as_bytes().replace(b"\r\n", b"\n")
        lines = [b">" + line if line.startswith(b"From ") else line for line in raw.split(b"\n")]
        out.append(b"From - Thu Nov 25 09:00:00 2021\n" + b"\n".join(lines).rstrip(b"\n") + b"\n\n")
    return b"".join(out)


# --- certificates ----------------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Dovecot ---------------------------------------------------------------------------------


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if Path(p).exists()), None
    )


_DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
first_valid_uid = 1
mail_location = maildir:~/Maildir
default_internal_user = {internal}
default_login_user = {login}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
  {chroot}
}}
service anvil {{
  chroot =
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    """A Dovecot started for the test session; ``user`` / ``secret`` log in."""

    root: Path
    cert: Path
    imap: int
    imaps: int
    user: str = "van_thu"
    secret: str = "mat-khau-thu-1"
    process: subprocess.Popen | None = None

    def url(self, folder: str = "INBOX", tls: bool = True) -> str:
        return (
            f"imaps://{self.user}@127.0.0.1:{self.imaps}/{folder}"
            if tls
            else f"imap://{self.user}@127.0.0.1:{self.imap}/{folder}"
        )

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.cert))
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.imaps, ssl_context=context, timeout=10)
        imap.login(self.user, self.secret)
        return imap

    def deliver(self, message, received: dt.datetime, folder: str = "INBOX") -> None:
        """Put a mail in the folder as the server would have, received at ``received``."""
        imap = self.client()
        folder = f'"{imap_utf7(folder)}"'
        try:
            imap.create(folder)
            when = imaplib.Time2Internaldate(received)
            status, _ = imap.append(folder, None, when, bytes(message))
            assert status == "OK"
        finally:
            imap.logout()

    def empty(self, folder: str = "INBOX") -> None:
        imap = self.client()
        folder = f'"{imap_utf7(folder)}"'
        try:
            if imap.select(folder)[0] == "OK":
                imap.store("1:*", "+FLAGS", "(\\Deleted)")
                imap.expunge()
        finally:
            imap.logout()

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        imap = self.client()
        folder = f'"{imap_utf7(folder)}"'
        try:
            imap.select(folder, readonly=True)
            _, data = imap.fetch("1:*", "(FLAGS)")
            return [line for line in data if isinstance(line, bytes)]
        finally:
            imap.logout()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(cert: Path) -> Dovecot:
    """Dovecot with ``cert`` (and key.pem beside it), its folders and users in a new tmp folder
    its own users can enter (pytest's are closed to everyone but their owner)."""
    binary = dovecot_binary()
    assert binary
    root = Path(tempfile.mkdtemp(prefix="kieumau-dovecot-"))
    root.chmod(0o755)
    served = root / "tls"
    served.mkdir()
    shutil.copy(cert, served / "cert.pem")
    shutil.copy(cert.with_name("key.pem"), served / "key.pem")
    cert = served / "cert.pem"
    for sub in ("run", "state", "home"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    server = Dovecot(root, cert, free_port(), free_port())
    (root / "passwd").write_text(f"{server.user}:{{PLAIN}}{server.secret}\n", encoding="utf-8")
    if os.geteuid() == 0:
        # Dovecot runs mail processes as a user other than root, and its own helpers as the
        # users Debian's package made.
        nobody = pwd.getpwnam("nobody")
        uid, gid, internal, login, chroot = nobody.pw_uid, nobody.pw_gid, "dovecot", "dovenull", ""
        shutil.chown(root / "home", nobody.pw_uid, nobody.pw_gid)
    else:
        me = pwd.getpwuid(os.geteuid())
        uid, gid, internal, login = me.pw_uid, me.pw_gid, me.pw_name, me.pw_name
        chroot = "chroot ="
    config = root / "dovecot.conf"
    config.write_text(
        _DOVECOT_CONF.format(
            root=root, cert=cert, key=cert.with_name("key.pem"), uid=uid, gid=gid,
            internal=internal, login=login, imap=server.imap, imaps=server.imaps, chroot=chroot,
        ),
        encoding="utf-8",
    )  # fmt: skip
    server.process = subprocess.Popen(
        [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            server.client().logout()
            return server
        except (OSError, imaplib.IMAP4.error):
            if server.process.poll() is not None:
                break
            time.sleep(0.2)
    server.stop()
    log_file = root / "dovecot.log"
    log = log_file.read_text(errors="replace") if log_file.exists() else ""
    raise RuntimeError(f"Dovecot did not start: {log[-2000:]}")


# --- aiosmtpd --------------------------------------------------------------------------------


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpHandler:
    """Keeps what arrived; refuses the addresses in ``refuse``; stalls on those in ``stall``."""

    refuse: set[str] = field(default_factory=set)
    stall: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        if address.lower() in self.stall:
            await asyncio.sleep(30)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    handler: SmtpHandler
    port: int
    implicit_tls: bool
    user: str
    secret: str
    controller: object = None

    @property
    def url(self) -> str:
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.user}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.controller.stop()


def start_smtp(cert: Path, implicit_tls: bool = False) -> SmtpServer:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, cert.with_name("key.pem"))
    server = SmtpServer(SmtpHandler(), free_port(), implicit_tls, "van_thu", "mat-khau-gui-2")

    def login(smtp, session, envelope, mechanism, data) -> AuthResult:
        ok = data.login.decode() == server.user and data.password.decode() == server.secret
        return AuthResult(success=ok)

    options: dict = {"authenticator": login, "auth_require_tls": True}
    if implicit_tls:
        # aiosmtpd does not count SSL from the first byte as TLS for AUTH: it is, here.
        options.update(ssl_context=context, auth_require_tls=False)
    else:
        options.update(tls_context=context, require_starttls=True)
    controller = Controller(server.handler, hostname="127.0.0.1", port=server.port, **options)
    controller.start()
    server.controller = controller
    return server
