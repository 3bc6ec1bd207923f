"""Next forms pre-filled from the rows a unit last sent: it only updates what changed (SPEC §3).

One path for both: `kieumau run` pre-fills the next month's forms from the files it has just
read, `kieumau forms` from the history store. What a form takes from the last one is decided
here, in `next_roster`:

- a month's own values are not carried (NOT_CARRIED: the meeting's votes, the BCĐ's
  inspection); everything else is, Ghi chú included (the unit's own remark on a person);
- what the unit typed in a cell that could not be read stays, marked (form_layout.RAW), until
  the unit fixes it or deletes the row;
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from processor.domain.catalogue import Catalogue, Unit
from processor.domain.errors import KieumauError
from processor.domain.form_layout import CARRIED, RAW
from processor.domain.periods import Period
from processor.intake.residents import Residents
from processor.outputs.forms import Origin, Roster, write_form
from processor.store.history import History

LEVELS = ("citizens", "households", "tasks")
# Values that belong to one month's meeting or inspection: never carried to the next form.
NOT_CARRIED = ("votes", "inspection")


def next_roster(frames: dict[str, pd.DataFrame], last: Period, *, source: str = "") -> Roster:
    """The roster of a unit's next form from the rows it sent for ``last`` (``frames``:
    citizens, households, tasks, as read or as recorded)."""
    out = {level: _without(frames.get(level), NOT_CARRIED) for level in LEVELS}
    return Roster(*(out[level] for level in LEVELS), origin=Origin.HISTORY, source=source)


def _without(frame: pd.DataFrame | None, keys: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` without the columns ``keys``, and its marks of them dropped too."""
    if frame is None or frame.empty:
        return pd.DataFrame()
    frame = frame.drop(columns=[k for k in keys if k in frame.columns])
    for mark in (RAW, CARRIED):
        if mark in frame.columns:
            frame = frame.assign(**{mark: frame[mark].map(lambda m: _kept(m, keys))})
    return frame


def _kept(marks: object, dropped: tuple[str, ...]) -> dict | None:
    if not isinstance(marks, dict):
        return None
    kept = {k: v for k, v in marks.items() if k not in dropped}
    return kept or None


def _dates(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if column in frame:
        frame[column] = frame[column].map(
            lambda v: dt.date.fromisoformat(str(v)[:10]) if isinstance(v, str) and v else None
        )
    return frame


def roster_from_history(history: History, unit_code: str, period: Period) -> Roster | None:
    """The roster of the unit's form for ``period`` from the rows of its latest period before
    it on record, or None if it has none."""
    last = history.latest_before(str(period), unit_code)
    if last is None:
        return None
    frames = {
        level: _dates(history.load(last, "input", level, unit_code), "birth_date")
        for level in LEVELS
    }
    previous = Period.parse(last)
    return next_roster(frames, previous, source=source_of(previous))


def source_of(last: Period) -> str:
    """Where a pre-filled form's rows came from, as its guide says it."""
    return f"biểu mẫu {last.label} đơn vị đã gửi"


def write_forms(
    catalogue: Catalogue,
    period: Period,
    out_dir: Path,
    unit_codes: tuple[str, ...] = (),
    history_path: Path | None = None,
    residents: Residents | None = None,
) -> list[tuple[Path, Origin]]:
    """Write one form per unit; return (path, what it was pre-filled from) for each. A unit of
    ``residents`` starts from its part of the list, another from its latest rows in the
    history at ``history_path``, or blank."""
    units = _units(catalogue, unit_codes)
    history = History(history_path) if history_path and history_path.exists() else None
    written = []
    try:
        for unit in units:
            roster = None
            if residents is not None and unit.code in residents.units:
                part = residents.units[unit.code]
                roster = Roster(
                    part.citizens,
                    part.households,
                    origin=Origin.RESIDENTS,
                    source=f"tệp {residents.path.name}",
                )
            elif history is not None:
                roster = roster_from_history(history, unit.code, period)
            path = write_form(
                catalogue, unit, period, out_dir / f"{unit.code}_{period}.xlsx", roster
            )
            written.append((path, roster.resolved_origin() if roster else Origin.BLANK))
    finally:
        if history:
            history.db.close()
    return written


def _units(catalogue: Catalogue, unit_codes: tuple[str, ...]) -> tuple[Unit, ...]:
    """The catalogue's units, or those of ``unit_codes``; an unknown code stops the command."""
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
    return units
