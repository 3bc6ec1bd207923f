"""The embedded SQLite history store (SPEC §4 step 6).

It keeps, by period, every accepted submission's rows and every result, written in one
transaction per run; re-running a period replaces that period's records. Rows are stored per
(period, level, unit) as one JSON document of the unit's columns (see "Payload formats" below),
so a change of criteria in the catalogue never needs a schema migration. The store keeps SQLite's
defaults, a rollback journal and synchronous=FULL: a committed run survives a power cut.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from processor.domain import schema as S
from processor.domain.errors import HistoryError

LEVELS = ("citizens", "households", "units", "tasks")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    period TEXT PRIMARY KEY, run_time TEXT NOT NULL, inbox TEXT, files INTEGER
);
CREATE TABLE IF NOT EXISTS submissions (
    period TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, unit_code TEXT,
    status TEXT NOT NULL, rows_read INTEGER, rows_accepted INTEGER, rows_rejected INTEGER
);
CREATE TABLE IF NOT EXISTS records (
    period TEXT NOT NULL, kind TEXT NOT NULL, level TEXT NOT NULL, unit_code TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (period, kind, level, unit_code)
);
CREATE TABLE IF NOT EXISTS progress (
    period TEXT NOT NULL, unit_code TEXT NOT NULL, unit_name TEXT, title TEXT NOT NULL,
    assessed INTEGER, registered_share REAL, achieved_share REAL
);
CREATE TABLE IF NOT EXISTS receipts (
    sha256 TEXT NOT NULL, received_at TEXT NOT NULL, source TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '', sender TEXT, recorded_at TEXT NOT NULL,
    PRIMARY KEY (sha256, source, message_id)
);
CREATE INDEX IF NOT EXISTS submissions_period ON submissions(period);
CREATE INDEX IF NOT EXISTS progress_period ON progress(period);
"""


# Payload formats. Format 1 (stores written before 2026-11) is row-oriented:
#   {"columns": [...], "data": [[row 1 values], ...]}
# Format 2 is column-oriented; each entry of "values" is one column, in one of three forms:
#   {"format": 2, "rows": n, "columns": [...], "values": [
#       [...],                                   the column's values, or
#       {"integers": PACKED},                    whole numbers, none missing, or
#       {"levels": [...], "codes": PACKED},      text that repeats within the unit
#   ]}
# where PACKED is {"type": "<u1", "base64": "..."}, an integer array of that numpy little-endian
# type; "levels" are the unit's distinct values of the column (Đạt/Chưa đạt, reasons, file and
# unit names, null for missing) and "codes" each row's index into them. Both formats hold the
# same values: JSON scalars, dates and other non-JSON values as their str() (ISO text for dates),
# missing values null. Format 2 writes and reads faster (benchmarks/README.md); both are read.
_FORMAT = 2
_SAMPLE = 2048  # rows looked at to guess whether a text column repeats (a speed choice only)
_TYPES = [(t, np.iinfo(t).min, np.iinfo(t).max) for t in ("<u1", "<i1", "<u2", "<i2", "<u4")]
_TYPES += [(t, np.iinfo(t).min, np.iinfo(t).max) for t in ("<i4", "<i8")]

_ColumnEntry = Callable[[int, np.ndarray], object]  # (unit number, its rows) -> JSON entry


def _column_entry(
    column: pd.Series, unit_of_row: np.ndarray, units: int
) -> tuple[_ColumnEntry, bool]:
    """How one column of a level is written for each unit, worked out once for all units, and
    whether it holds an infinite number (see _dumps).

    The values are those of format 1's ``frame.astype(object).where(frame.notna(), None)``,
    which json.dumps(default=str) then wrote: dates (and anything else not JSON) as str().
    """
    dtype = column.dtype
    fits = dtype.kind in "iu" and dtype.itemsize <= (8 if dtype.kind == "i" else 4)
    if fits and not column.hasnans:  # int64, Int64 columns: astype(object) gives Python ints
        return _integer_entry(column.to_numpy(dtype=np.int64)), False
    values = np.array(column.astype(object).to_numpy(), dtype=object, copy=True)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "date":
        codes, levels = pd.factorize(values)  # every kind of missing value gets code -1
        if all(type(v) is dt.date for v in levels):
            levels = np.array([v.isoformat() for v in levels], dtype=object)
            return _text_entry(codes, levels, unit_of_row, units), False
    elif kind in ("string", "empty"):
        sample = values[:_SAMPLE]
        if 2 * len(pd.unique(sample)) <= len(sample):
            return _text_entry(*pd.factorize(values), unit_of_row, units), False
    missing = column.isna().to_numpy()
    values[missing] = None
    if kind == "date":  # datetimes among the dates
        values[~missing] = [str(v) for v in values[~missing]]
    elif kind == "integer" and not missing.any() and set(map(type, values)) == {int}:
        # Python ints only: numpy integers in an object column were stored as text by format 1.
        try:
            return _integer_entry(np.array(values, dtype=np.int64)), False
        except OverflowError:
            pass
    return (lambda _, rows: values[rows].tolist()), _infinite(values, kind)


def _infinite(values: np.ndarray, kind: str) -> bool:
    """Whether ``values`` (None where missing; ``kind`` from infer_dtype) hold an infinity."""
    # infer_dtype names every column holding a float (NaN is missing, so skipped) one of these.
    if kind not in ("floating", "mixed-integer-float", "mixed"):
        return False
    if kind != "mixed":  # numbers only: in C, not one by one (benchmarks/README.md)
        with contextlib.suppress(OverflowError, TypeError, ValueError):
            return bool(np.isinf(np.array(values, dtype=float)).any())  # None becomes NaN
    return any(isinstance(v, float) and math.isinf(v) for v in values)


def _integer_entry(integers: np.ndarray) -> _ColumnEntry:
    width = _narrowest(int(integers.min()), int(integers.max())) if len(integers) else "<u1"
    return lambda _, rows: {"integers": _packed(integers[rows], width)}


def _text_entry(
    codes: np.ndarray, levels: np.ndarray, unit_of_row: np.ndarray, units: int
) -> _ColumnEntry:
    """Text by each unit's own levels and each row's index into them (worked out for all units
    at once), or as plain values when they seldom repeat within a unit. Missing: code -1."""
    width = len(levels) + 1  # in keys, missing is 0 and level i is i + 1
    keys = unit_of_row * width + (codes + 1)
    first_seen, distinct = pd.factorize(keys)
    if 2 * len(distinct) > len(keys):
        values = np.append(levels.astype(object), None)[codes]
        return lambda _, rows: values[rows].tolist()
    order = np.argsort(distinct)  # by unit, then level
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    distinct = distinct[order]
    starts = np.searchsorted(distinct // width, np.arange(units + 1))
    level_values = np.append(None, levels.astype(object))[distinct % width]
    unit_levels = [level_values[starts[u] : starts[u + 1]].tolist() for u in range(units)]
    # Rows without a unit (unit_of_row -1) get nonsense here; they are never stored.
    local_codes = rank[first_seen] - starts[unit_of_row]

    def entry(number: int, rows: np.ndarray) -> object:
        levels = unit_levels[number]
        width = _narrowest(0, len(levels) - 1)
        return {"levels": levels, "codes": _packed(local_codes[rows], width)}

    return entry


def _narrowest(low: int, high: int) -> str:
    return next(kind for kind, least, most in _TYPES if least <= low and high <= most)


def _packed(array: np.ndarray, kind: str) -> dict[str, str]:
    """An integer array as little-endian ``kind``, in base64."""
    return {"type": kind, "base64": base64.b64encode(array.astype(kind).tobytes()).decode()}


def _unpacked(packed: dict[str, str]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed["base64"]), dtype=packed["type"])


def _encode_groups(frame: pd.DataFrame) -> list[tuple[object, str]]:
    """(unit_code, format 2 payload) for each unit of a level; rows keep the frame's order."""
    body = frame.drop(columns=["unit_code"])
    units = sorted(frame.groupby("unit_code", sort=True).indices.items())
    unit_of_row = np.full(len(frame), -1, dtype=np.int64)  # rows without a unit are not stored
    for number, (_, rows) in enumerate(units):
        unit_of_row[rows] = number
    entries, infinite = [], False
    for position in range(body.shape[1]):
        entry, has_infinity = _column_entry(body.iloc[:, position], unit_of_row, len(units))
        entries.append(entry)
        infinite |= has_infinity
    names = [str(c) for c in body.columns]
    return [
        (
            unit,
            _dumps(
                {
                    "format": _FORMAT,
                    "rows": len(rows),
                    "columns": names,
                    "values": [entry(number, rows) for entry in entries],
                },
                exact=infinite,
            ),
        )
        for number, (unit, rows) in enumerate(units)
    ]


def _dumps(document: dict, *, exact: bool = False) -> str:
    """``json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)``, made
    by orjson, a third of json's time on a district's 72 MB of payloads.

    It gives the same values back: a float subclass (numpy's float64) as a number, dates and
    datetimes through str(). json is left to what orjson writes otherwise: an integer past 64
    bits (orjson refuses it) and, with ``exact``, infinite numbers (orjson writes null, which
    would read back as a missing value).
    """
    if not exact:
        try:
            return orjson.dumps(
                document, default=_not_json, option=orjson.OPT_PASSTHROUGH_DATETIME
            ).decode()
        except orjson.JSONEncodeError:
            pass
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)


def _not_json(value: object) -> object:
    return float(value) if isinstance(value, float) else str(value)


def _decode_columns(payload: str) -> tuple[int, list[str], list[list | np.ndarray]]:
    """The row count, column names and each column's values, from a payload of either format."""
    data = json.loads(payload)
    columns = data["columns"]
    version = data.get("format", 1)
    if version == 1:
        rows = pd.DataFrame(data["data"], columns=columns, dtype=object).to_numpy()
        return len(rows), columns, [rows[:, i] for i in range(len(columns))]
    if version != _FORMAT:
        raise HistoryError(
            f"Kho lịch sử ghi theo định dạng {version}, mới hơn định dạng {_FORMAT} mà phiên "
            "bản này đọc được: hãy cập nhật chương trình."
        )
    return data["rows"], columns, [_column(values) for values in data["values"]]


def _column(values: list | dict) -> list | np.ndarray:
    """One column of a format 2 payload as its values."""
    if isinstance(values, list):
        return values
    if "integers" in values:
        return _unpacked(values["integers"]).astype(object)  # Python ints
    return _objects(values["levels"])[_unpacked(values["codes"])]


def _objects(values: list | np.ndarray) -> np.ndarray:
    """A 1-d object array, even of values that are lists themselves."""
    if isinstance(values, np.ndarray):
        return values
    return np.fromiter(values, dtype=object, count=len(values))


def _frame(rows: int, columns: list[str], values: list[list | np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {i: _objects(v) for i, v in enumerate(values)}, index=pd.RangeIndex(rows), dtype=object
    )
    frame.columns = columns
    return frame


# Columns added to `runs` after the first stores were written: added on open, NULL for old runs.
_RUN_COLUMNS = {
    "run_id": "TEXT",
    "catalogue_fingerprint": "TEXT",  # Catalogue.fingerprint: what the forms depend on
    "catalogue_rules": "TEXT",  # hash of the catalogue's snapshot: what the scoring depends on
    "catalogue_version": "TEXT",
    "catalogue_snapshot": "TEXT",  # JSON, see processor.domain.catalogue.snapshot
    "digest": "TEXT",  # hash of everything recorded for the period (rows, results, files)
    "stale_because": "TEXT",  # the earlier period whose change made this one stale
    "stale_since": "TEXT",
}
_EXTRA_SCHEMA = """
CREATE TABLE IF NOT EXISTS withdrawn (
    period TEXT NOT NULL, sha256 TEXT NOT NULL, unit_code TEXT, since TEXT NOT NULL,
    PRIMARY KEY (period, sha256)
);
"""


@dataclass(frozen=True)
class CatalogueUsed:
    """Which catalogue scored a period: its fingerprints, version and snapshot (a dict)."""

    period: str
    fingerprint: str | None
    rules: str | None
    version: str | None
    snapshot: dict | None


@dataclass(frozen=True)
class MonthFile:
    """A file recorded for a period: its name as the unit sent it, hash, unit and status."""

    name: str
    sha256: str
    unit_code: str | None
    status: str


def private_folder(path: Path) -> None:
    """Create ``path`` (and its parents) for the store; a folder created here is readable by its
    owner only (the history and the archive hold CCCD numbers and birth dates)."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not the owner, or a file system without modes
        os.chmod(path, 0o700)


def _private_file(path: Path) -> None:
    """Create ``path`` empty if missing, readable by its owner only; an existing one is narrowed
    to its owner too (stores made before this rule were world-readable)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


def _utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC time; a naive one is the machine's local time (as datetime.now() gives)."""
    return moment.astimezone(dt.UTC)


# The kind of the records of rows a unit sent that were not counted (a blank name, a row typed
# twice): kept so that a form pre-filled from the history still lists them, marked.
REFUSED = "refused"


class History:
    """The history store (one SQLite file): what every period recorded (its files, rows and
    results, the catalogue that scored it), when each file was first received, and which
    periods must be run again because an earlier one changed. Use as a context manager.

    ``save_period`` leaves its transaction open: the run commits it (``commit``) only once its
    outputs are in place, and a failure before that rolls it back (``rollback``, or closing).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            private_folder(path.parent)
            _private_file(path)
            self.db = sqlite3.connect(path)
            self.db.executescript(_SCHEMA + _EXTRA_SCHEMA)
            have = {row[1] for row in self.db.execute("PRAGMA table_info(runs)")}
            for column, kind in _RUN_COLUMNS.items():
                if column not in have:
                    self.db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
            self.db.commit()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"Không mở được kho lịch sử {path}: {exc}") from exc

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store; a transaction not committed is rolled back."""
        self.db.close()

    def commit(self) -> None:
        self.db.commit()

    def rollback(self) -> None:
        self.db.rollback()

    # Receipts: when the store first received each file (SPEC §4 step 1).

    def record_receipt(
        self,
        sha256: str,
        received_at: dt.datetime,
        *,
        source: str,
        message_id: str | None = None,
        sender: str | None = None,
    ) -> None:
        """Record that the file ``sha256`` was received at ``received_at`` from ``source``
        ("hop_thu": first seen in an inbox by a run; "thu": collected from mail, at the mail's
        date). Recording the same receipt again changes nothing; ``receipts`` gives the earliest
        time per file. Committed at once unless a period is being saved."""
        self.record_receipts([sha256], received_at, source=source, message_id=message_id,
                             sender=sender)  # fmt: skip

    def record_receipts(
        self,
        sha256s: Iterable[str],
        received_at: dt.datetime,
        *,
        source: str,
        message_id: str | None = None,
        sender: str | None = None,
    ) -> None:
        """record_receipt for many files received together, in one commit: a district's 400
        files were 400 commits, each waiting for the disk (synchronous=FULL)."""
        commit = not self.db.in_transaction
        recorded = _utc(dt.datetime.now()).isoformat()
        self.db.executemany(
            "INSERT INTO receipts VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256, source, message_id)"
            " DO UPDATE SET received_at = MIN(received_at, excluded.received_at)",
            [
                (sha, _utc(received_at).isoformat(), source, message_id or "", sender, recorded)
                for sha in sha256s
            ],
        )
        if commit:
            self.db.commit()

    def receipts(self, sha256s: Iterable[str]) -> dict[str, dt.datetime]:
        """The earliest receipt time (aware, UTC) of each of ``sha256s`` the store has seen."""
        wanted = list(dict.fromkeys(sha256s))
        found: dict[str, dt.datetime] = {}
        for start in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for sha, when in self.db.execute(
                f"SELECT sha256, MIN(received_at) FROM receipts WHERE sha256 IN ({marks}) "
                "GROUP BY sha256",
                chunk,
            ):
                found[sha] = dt.datetime.fromisoformat(when)
        return found

    # Periods.

    def save_period(
        self,
        period: str,
        run_time: dt.datetime,
        inbox: str,
        submissions: Iterable[dict],
        inputs: dict[str, pd.DataFrame],
        results: dict[str, pd.DataFrame],
        progress: pd.DataFrame,
        *,
        refused: dict[str, pd.DataFrame] | None = None,
        run_id: str | None = None,
        catalogue: CatalogueUsed | None = None,
        commit: bool = True,
    ) -> list[str]:
        """Replace everything recorded for ``period`` in one transaction, and mark every later
        period stale when what is recorded for ``period`` changed. Returns the periods marked.
        ``refused`` holds, per level, the rows read but not counted (kind REFUSED): only a
        unit's next form reads them back.

        With ``commit`` false the transaction stays open for the caller to commit."""
        submissions = list(submissions)
        digest = hashlib.sha256()
        try:
            before = self.db.execute(
                "SELECT digest FROM runs WHERE period = ?", (period,)
            ).fetchone()
            for table in ("runs", "submissions", "records", "progress"):
                self.db.execute(f"DELETE FROM {table} WHERE period = ?", (period,))
            self._insert_submissions(period, submissions, digest)
            self._insert_records(period, inputs, results, refused or {}, digest)
            self._insert_progress(period, progress)
            used = catalogue or CatalogueUsed(period, None, None, None, None)
            self._insert_run(period, run_time, inbox, len(submissions), run_id, used, digest)
            changed = before is None or before[0] != digest.hexdigest()
            marked = self._mark_later_stale(period, run_time) if changed else []
        except BaseException:
            self.db.rollback()
            raise
        if commit:
            self.db.commit()
        return marked

    def _insert_submissions(self, period: str, submissions: list[dict], digest) -> None:
        """The period's files and their counts; the digest takes each file's hash and status."""
        self.db.executemany(
            "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    period,
                    s["name"],
                    s["sha256"],
                    s["unit_code"],
                    str(s["status"]),
                    s["rows_read"],
                    s["rows_accepted"],
                    s["rows_rejected"],
                )
                for s in submissions
            ],
        )
        for s in sorted(submissions, key=lambda s: (s["sha256"], s["name"])):
            digest.update(f"{s['sha256']}:{s['status']}\n".encode())

    def _insert_records(
        self,
        period: str,
        inputs: dict[str, pd.DataFrame],
        results: dict[str, pd.DataFrame],
        refused: dict[str, pd.DataFrame],
        digest,
    ) -> None:
        """One payload per (input, result or refused, level, unit); the digest takes each one.
        ``refused``: rows not counted that the unit's next form keeps (see Submission)."""
        for kind, frames in (("input", inputs), ("result", results), (REFUSED, refused)):
            for level, frame in frames.items():
                if frame.empty or "unit_code" not in frame:
                    continue
                rows = [
                    (period, kind, level, unit, payload) for unit, payload in _encode_groups(frame)
                ]
                for row in rows:
                    digest.update("\0".join(map(str, row[1:])).encode())
                self.db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?)", rows)

    def _insert_progress(self, period: str, progress: pd.DataFrame) -> None:
        if progress.empty:
            return
        columns = list(S.PROGRESS_COLUMNS)
        self.db.executemany(
            "INSERT INTO progress VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(period, *row) for row in progress[columns].itertuples(index=False)],
        )

    def _insert_run(
        self,
        period: str,
        run_time: dt.datetime,
        inbox: str,
        files: int,
        run_id: str | None,
        used: CatalogueUsed,
        digest,
    ) -> None:
        self.db.execute(
            "INSERT INTO runs (period, run_time, inbox, files, run_id, catalogue_fingerprint,"
            " catalogue_rules, catalogue_version, catalogue_snapshot, digest)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                period,
                run_time.isoformat(),
                inbox,
                files,
                run_id,
                used.fingerprint,
                used.rules,
                used.version,
                None if used.snapshot is None else _dumps(used.snapshot),
                digest.hexdigest(),
            ),
        )

    def _mark_later_stale(self, period: str, when: dt.datetime) -> list[str]:
        later = [
            row[0]
            for row in self.db.execute(
                "SELECT period FROM runs WHERE period > ? ORDER BY period", (period,)
            )
        ]
        self.db.execute(
            "UPDATE runs SET stale_because = ?, stale_since = ? WHERE period > ?"
            " AND (stale_because IS NULL OR stale_because > ?)",
            (period, when.isoformat(), period, period),
        )
        return later

    def stale(self) -> dict[str, str]:
        """Periods whose results were made before an earlier period changed, each with the
        earliest changed period: they must be run again, in order, before they are used."""
        return dict(
            self.db.execute(
                "SELECT period, stale_because FROM runs WHERE stale_because IS NOT NULL"
                " ORDER BY period"
            ).fetchall()
        )

    def has_run(self, run_id: str) -> bool:
        """Whether the run ``run_id`` committed its period."""
        row = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row is not None

    def run_id(self, period: str) -> str | None:
        row = self.db.execute("SELECT run_id FROM runs WHERE period = ?", (period,)).fetchone()
        return row[0] if row else None

    def catalogues(self) -> list[CatalogueUsed]:
        """The catalogue each recorded period was scored with, by period (None for periods
        recorded before the store kept it)."""
        return [
            CatalogueUsed(period, fingerprint, rules, version, json.loads(snap) if snap else None)
            for period, fingerprint, rules, version, snap in self.db.execute(
                "SELECT period, catalogue_fingerprint, catalogue_rules, catalogue_version,"
                " catalogue_snapshot FROM runs ORDER BY period"
            )
        ]

    def month_files(self, period: str) -> list[MonthFile]:
        """Every file recorded for ``period``, in name order."""
        return [
            MonthFile(*row)
            for row in self.db.execute(
                "SELECT name, sha256, unit_code, status FROM submissions WHERE period = ?"
                " AND sha256 != '' ORDER BY name, sha256",
                (period,),
            )
        ]

    def withdraw(self, period: str, unit_code: str, since: dt.datetime) -> list[str]:
        """Take the files ``unit_code`` sent for ``period`` so far out of the period (the clerk's
        --bo-don-vi); a file it sends later counts again. Returns their hashes. Part of the
        period's transaction (committed with it)."""
        shas = [f.sha256 for f in self.month_files(period) if f.unit_code == unit_code and f.sha256]
        self.db.executemany(
            "INSERT OR IGNORE INTO withdrawn VALUES (?, ?, ?, ?)",
            [(period, sha, unit_code, since.isoformat()) for sha in shas],
        )
        return shas

    def withdrawn(self, period: str) -> dict[str, str | None]:
        """The hashes taken out of ``period`` by --bo-don-vi, with their unit."""
        return dict(
            self.db.execute(
                "SELECT sha256, unit_code FROM withdrawn WHERE period = ?", (period,)
            ).fetchall()
        )

    def delete_year(self, year: int) -> list[str]:
        """Delete everything recorded for the periods of ``year``, and the receipts of files no
        other period holds; return those files' hashes (their archive copies can go). The freed
        pages are wiped (VACUUM), so the personal data does not linger in the file."""
        low, high = f"{year:04d}-01", f"{year:04d}-12"
        with self.db:
            gone = [
                row[0]
                for row in self.db.execute(
                    "SELECT DISTINCT sha256 FROM submissions WHERE period BETWEEN ? AND ?"
                    " AND sha256 NOT IN (SELECT sha256 FROM submissions"
                    " WHERE period NOT BETWEEN ? AND ?)",
                    (low, high, low, high),
                )
            ]
            for table in ("runs", "submissions", "records", "progress", "withdrawn"):
                self.db.execute(f"DELETE FROM {table} WHERE period BETWEEN ? AND ?", (low, high))
            self.db.executemany("DELETE FROM receipts WHERE sha256 = ?", [(s,) for s in gone])
        self.db.execute("VACUUM")
        return gone

    def periods(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT period FROM runs ORDER BY period")]

    def load(
        self, period: str, kind: str, level: str, unit_code: str | None = None
    ) -> pd.DataFrame:
        """Rows of one level recorded for ``period`` (all units, or one)."""
        query = "SELECT unit_code, payload FROM records WHERE period = ? AND kind = ? AND level = ?"
        params: list[object] = [period, kind, level]
        if unit_code:
            query += " AND unit_code = ?"
            params.append(unit_code)
        decoded = [
            (unit, *_decode_columns(payload))
            for unit, payload in self.db.execute(query + " ORDER BY unit_code", params)
        ]
        if not decoded:
            return pd.DataFrame()
        columns = decoded[0][2]
        if any(c != columns for _, _, c, _ in decoded):
            # Not written by one save_period: align the columns as pd.concat does.
            return pd.concat(
                [_frame(n, c, v).assign(unit_code=unit) for unit, n, c, v in decoded],
                ignore_index=True,
            )
        # One frame from whole columns: much cheaper than a frame per unit and a concat.
        values = [
            np.concatenate([_objects(unit_values[i]) for _, _, _, unit_values in decoded])
            for i in range(len(columns))
        ]
        units = np.repeat(
            np.array([unit for unit, *_ in decoded], dtype=object),
            [rows for _, rows, _, _ in decoded],
        )
        return _frame(len(units), columns, values).assign(unit_code=units)

    def latest_before(self, period: str, unit_code: str) -> str | None:
        """The last period before ``period`` for which ``unit_code`` has input rows."""
        row = self.db.execute(
            "SELECT MAX(period) FROM records WHERE period < ? AND kind = 'input' AND unit_code = ?",
            (period, unit_code),
        ).fetchone()
        return row[0] if row and row[0] else None

    def progress(self, year: int, up_to: str) -> pd.DataFrame:
        """Progress rows of the campaign year, January up to ``up_to`` included."""
        return pd.read_sql_query(
            "SELECT period, unit_code, unit_name, title, assessed, registered_share, achieved_share"
            " FROM progress WHERE period >= ? AND period <= ? ORDER BY unit_code, title, period",
            self.db,
            params=(f"{year:04d}-01", up_to),
        )
