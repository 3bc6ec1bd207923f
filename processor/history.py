"""The embedded SQLite history store (SPEC §4 step 6).

It keeps, by period, every accepted submission's rows and every result, written in one
transaction per run; re-running a period replaces that period's records. Rows are stored per
(period, level, unit) as JSON records, so a change of criteria in the catalogue never needs a
schema migration.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from processor.errors import HistoryError

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
CREATE INDEX IF NOT EXISTS submissions_period ON submissions(period);
CREATE INDEX IF NOT EXISTS progress_period ON progress(period);
"""


def _encode(frame: pd.DataFrame) -> str:
    # json.dumps over plain lists is faster here than DataFrame.to_json on object columns;
    # dates become ISO text, missing values null.
    plain = frame.astype(object).where(frame.notna(), None)
    return json.dumps(
        {"columns": [str(c) for c in frame.columns], "data": plain.to_numpy().tolist()},
        ensure_ascii=False,
        default=str,
    )


def _decode(payload: str) -> pd.DataFrame:
    data = json.loads(payload)
    return pd.DataFrame(data["data"], columns=data["columns"], dtype=object)


class History:
    """A history store file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path)
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"Không mở được kho lịch sử {path}: {exc}") from exc

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def save_period(
        self,
        period: str,
        run_time: dt.datetime,
        inbox: str,
        submissions: Iterable[dict],
        inputs: dict[str, pd.DataFrame],
        results: dict[str, pd.DataFrame],
        progress: pd.DataFrame,
    ) -> None:
        """Replace everything recorded for ``period`` in one transaction."""
        submissions = list(submissions)
        with self.db:
            for table in ("runs", "submissions", "records", "progress"):
                self.db.execute(f"DELETE FROM {table} WHERE period = ?", (period,))
            self.db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?)",
                (period, run_time.isoformat(), inbox, len(submissions)),
            )
            self.db.executemany(
                "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        period,
                        s["name"],
                        s["sha256"],
                        s["unit_code"],
                        s["status"],
                        s["rows_read"],
                        s["rows_accepted"],
                        s["rows_rejected"],
                    )
                    for s in submissions
                ],
            )
            for kind, frames in (("input", inputs), ("result", results)):
                for level, frame in frames.items():
                    if frame.empty or "unit_code" not in frame:
                        continue
                    self.db.executemany(
                        "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                        [
                            (period, kind, level, unit, _encode(group.drop(columns=["unit_code"])))
                            for unit, group in frame.groupby("unit_code", sort=True)
                        ],
                    )
            if not progress.empty:
                columns = [
                    "unit_code",
                    "unit_name",
                    "title",
                    "assessed",
                    "registered_share",
                    "achieved_share",
                ]
                self.db.executemany(
                    "INSERT INTO progress VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(period, *row) for row in progress[columns].itertuples(index=False)],
                )

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
        frames = [
            _decode(payload).assign(unit_code=unit)
            for unit, payload in self.db.execute(query + " ORDER BY unit_code", params)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

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
