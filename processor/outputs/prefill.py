"""Pre-filled forms from the history store: a unit only updates what changed (SPEC §3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from processor.domain.catalogue import Catalogue
from processor.domain.errors import KieumauError
from processor.domain.periods import Period
from processor.outputs.forms import Roster, write_form
from processor.store.history import History

# Values that belong to one meeting or one inspection, not carried to the next form.
NOT_CARRIED = ("votes", "inspection", "note")


def _dates(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if column in frame:
        frame[column] = frame[column].map(
            lambda v: dt.date.fromisoformat(str(v)[:10]) if isinstance(v, str) and v else None
        )
    return frame


def roster_from_history(history: History, unit_code: str, period: Period) -> Roster | None:
    """The unit's rows from its latest period before ``period``, or None if it has none."""
    last = history.latest_before(str(period), unit_code)
    if last is None:
        return None

    def load(level: str) -> pd.DataFrame:
        frame = history.load(last, "input", level, unit_code)
        frame = frame.drop(columns=[c for c in NOT_CARRIED if c in frame.columns])
        return _dates(frame, "birth_date")

    return Roster(load("citizens"), load("households"), load("tasks"))


def write_forms(
    catalogue: Catalogue,
    period: Period,
    out_dir: Path,
    unit_codes: tuple[str, ...] = (),
    history_path: Path | None = None,
) -> list[tuple[Path, bool]]:
    """Write one form per unit; return (path, pre-filled?) for each."""
    units = catalogue.units
    if unit_codes:
        wanted = {c.upper() for c in unit_codes}
        unknown = wanted - {u.code for u in units}
        if unknown:
            raise KieumauError(
                f"Không có đơn vị {', '.join(sorted(unknown))} trong Bộ tiêu chí. "
                f"Các mã hợp lệ: {', '.join(u.code for u in units)}."
            )
        units = tuple(u for u in units if u.code in wanted)
    history = History(history_path) if history_path and history_path.exists() else None
    written = []
    try:
        for unit in units:
            roster = roster_from_history(history, unit.code, period) if history else None
            path = write_form(
                catalogue, unit, period, out_dir / f"{unit.code}_{period}.xlsx", roster
            )
            written.append((path, roster is not None))
    finally:
        if history:
            history.db.close()
    return written
