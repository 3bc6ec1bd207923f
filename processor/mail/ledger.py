"""What mail was collected and sent, kept in the history store (issue 19).

Three tables beside the history's own, in the same SQLite file:
- ``mail_in``: each mail read for a month's inbox, by Message-ID: a second `thu` skips it;
- ``mail_files``: each form saved from mail into a month's inbox, by SHA-256: the same file
  sent twice (or in two mails) is saved once;
- ``mail_out``: each mail `gui` sent (or drafted): a second `gui` sends nothing already sent.
Every write commits at once: a mail sent is recorded even if the next one fails.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from processor.store.history import History

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mail_in (
    period TEXT NOT NULL, message_id TEXT NOT NULL, sender TEXT, mail_date TEXT, subject TEXT,
    source TEXT, collected_at TEXT NOT NULL, outcome TEXT,
    PRIMARY KEY (period, message_id)
);
CREATE TABLE IF NOT EXISTS mail_files (
    period TEXT NOT NULL, sha256 TEXT NOT NULL, message_id TEXT NOT NULL, unit_code TEXT,
    form_period TEXT, name TEXT NOT NULL, original_name TEXT, sender TEXT, received_at TEXT,
    PRIMARY KEY (period, sha256)
);
CREATE TABLE IF NOT EXISTS mail_out (
    period TEXT NOT NULL, unit_code TEXT NOT NULL, kind TEXT NOT NULL, mode TEXT NOT NULL,
    message_id TEXT NOT NULL, recipients TEXT NOT NULL, at TEXT NOT NULL, attachments TEXT
);
CREATE INDEX IF NOT EXISTS mail_out_unit ON mail_out(period, unit_code, kind);
"""

SENT, DRAFTED = "smtp", "eml"


@dataclass(frozen=True)
class SavedFile:
    """A form saved from mail into a month's inbox."""

    sha256: str
    message_id: str
    unit_code: str | None
    form_period: str | None
    name: str
    original_name: str
    sender: str
    received_at: dt.datetime | None


@dataclass(frozen=True)
class SentMail:
    unit_code: str
    kind: str
    mode: str
    message_id: str
    recipients: tuple[str, ...]
    at: dt.datetime
    attachments: dict[str, str]  # file name -> SHA-256


class Ledger:
    """The mail tables of a history store."""

    def __init__(self, history: History) -> None:
        self.db = history.db
        with self.db:
            self.db.executescript(_SCHEMA)

    def collected(self, period: str, message_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM mail_in WHERE period = ? AND message_id = ?", (period, message_id)
        ).fetchone()
        return row is not None

    def record_mail(
        self,
        period: str,
        message_id: str,
        sender: str,
        mail_date: dt.datetime | None,
        subject: str,
        source: str,
        outcome: str,
        now: dt.datetime,
    ) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO mail_in VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    period,
                    message_id,
                    sender,
                    mail_date.isoformat() if mail_date else None,
                    subject,
                    source,
                    now.isoformat(),
                    outcome,
                ),
            )

    def saved_file(self, period: str, sha256: str) -> SavedFile | None:
        row = self.db.execute(
            "SELECT sha256, message_id, unit_code, form_period, name, original_name, sender, "
            "received_at FROM mail_files WHERE period = ? AND sha256 = ?",
            (period, sha256),
        ).fetchone()
        return _saved(row) if row else None

    def record_file(self, period: str, saved: SavedFile) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO mail_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    period,
                    saved.sha256,
                    saved.message_id,
                    saved.unit_code,
                    saved.form_period,
                    saved.name,
                    saved.original_name,
                    saved.sender,
                    saved.received_at.isoformat() if saved.received_at else None,
                ),
            )

    def files(self, period: str) -> list[SavedFile]:
        rows = self.db.execute(
            "SELECT sha256, message_id, unit_code, form_period, name, original_name, sender, "
            "received_at FROM mail_files WHERE period = ? ORDER BY received_at, name",
            (period,),
        ).fetchall()
        return [_saved(row) for row in rows]

    def sent(self, period: str, unit_code: str, kind: str) -> SentMail | None:
        """The last mail of ``kind`` sent by SMTP to the unit for ``period``, if any."""
        row = self.db.execute(
            "SELECT unit_code, kind, mode, message_id, recipients, at, attachments FROM mail_out"
            " WHERE period = ? AND unit_code = ? AND kind = ? AND mode = ? ORDER BY at DESC",
            (period, unit_code, kind, SENT),
        ).fetchone()
        return _sent(row) if row else None

    def record_sent(self, period: str, mail: SentMail) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO mail_out VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    period,
                    mail.unit_code,
                    mail.kind,
                    mail.mode,
                    mail.message_id,
                    json.dumps(list(mail.recipients)),
                    mail.at.isoformat(),
                    json.dumps(mail.attachments, ensure_ascii=False),
                ),
            )


def _saved(row: tuple) -> SavedFile:
    return SavedFile(
        row[0], row[1], row[2], row[3], row[4], row[5] or "", row[6] or "",
        dt.datetime.fromisoformat(row[7]) if row[7] else None,
    )  # fmt: skip


def _sent(row: tuple) -> SentMail:
    return SentMail(
        row[0], row[1], row[2], row[3], tuple(json.loads(row[4])),
        dt.datetime.fromisoformat(row[5]), json.loads(row[6] or "{}"),
    )  # fmt: skip
