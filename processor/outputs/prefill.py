"""Next forms pre-filled from the rows a unit last sent: it only updates what changed (SPEC §3).

One path for both: `kieumau run` pre-fills the next month's forms from the files it has just
read, `kieumau forms` from the history store. What a form takes from the last one is decided
here, in `next_rosters`:

- a month's own values are not carried (NOT_CARRIED: the meeting's votes, the BCĐ's
  inspection); everything else is, Ghi chú included (the unit's own remark on a person);
- what the unit typed in a cell that could not be read stays, marked (form_layout.RAW), until
  the unit fixes it or deletes the row;
- a birth date known by its year alone stays as that year (_year_as_typed);
- a year count left blank is shown as the scoring fills it, marked with where the value came
  from (form_layout.CARRIED);
- at the turn of the year (a January form from an earlier year's rows) people, households and
  what lasts are kept, the year's values cleared (NEW_YEAR_CLEARED) and the consecutive-year
  counts moved on from last year's results (processor.scoring.conditions.carry_years).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from processor.domain.catalogue import Catalogue, Unit
from processor.domain.errors import KieumauError
from processor.domain.form_layout import CARRIED, FLAGGED, RAW
from processor.domain.periods import Period
from processor.intake.residents import Residents
from processor.outputs.forms import Origin, Roster, write_form
from processor.scoring.conditions import carry_years
from processor.store.history import REFUSED, History

LEVELS = ("citizens", "households", "tasks")
# Values that belong to one month's meeting or inspection: never carried to the next form.
NOT_CARRIED = ("votes", "inspection")
# What a new year's form also leaves blank: the year's registration (made again in January),
# and on the Tổ dân phố sheet the year's roadmap (current state, planned month,
# self-assessment). Every criterion's value is cleared too but the consecutive-year counts,
# which are moved on (carry_years). People, households, addresses, notes and who is
# responsible for a task last.
NEW_YEAR_CLEARED = ("registered", "current_state", "planned_month", "self_assessment")


@dataclass
class LastRows:
    """What a unit last sent: its rows (citizens, households, tasks) and their period."""

    period: Period
    frames: dict[str, pd.DataFrame]
    source: str = ""  # for the guide: where the rows came from


def next_rosters(
    last: dict[str, LastRows],
    following: Period,
    catalogue: Catalogue,
    history: History | None,
) -> dict[str, Roster]:
    """The roster of each unit's form for ``following`` from the rows it last sent (``last``,
    by unit code). A January form after an earlier year's rows is a new year's: see
    NEW_YEAR_CLEARED. A year count left blank is filled as the scoring fills it (carry_years,
    once for every unit), its cell marked with where the value came from."""
    frames: dict[str, dict[str, pd.DataFrame]] = {}
    for code, rows in last.items():
        kept = {level: _without(rows.frames.get(level), NOT_CARRIED) for level in LEVELS}
        kept["citizens"] = _year_as_typed(kept["citizens"])
        if following.year > rows.period.year:
            kept = _new_year(kept, catalogue)
        frames[code] = kept
    counted = _carried(frames, following, catalogue, history)
    return {
        code: Roster(
            *(counted[code][level] for level in LEVELS),
            origin=Origin.NEW_YEAR if following.year > rows.period.year else Origin.HISTORY,
            source=rows.source,
        )
        for code, rows in last.items()
    }


def _new_year(frames: dict[str, pd.DataFrame], catalogue: Catalogue) -> dict[str, pd.DataFrame]:
    """A unit's rows for a new year's form: the year's values cleared, year counts too (they
    are moved on from last year's results by _carried)."""
    criteria = tuple(c.code for c in catalogue.criteria)
    out = {
        level: _without(frames[level], (*NEW_YEAR_CLEARED, *criteria))
        for level in ("citizens", "households")
    }
    tasks = _without(frames["tasks"], (*NEW_YEAR_CLEARED, "value"))
    out["tasks"] = tasks if tasks.empty else tasks.assign(value=None)
    return out


def _carried(
    frames: dict[str, dict[str, pd.DataFrame]],
    following: Period,
    catalogue: Catalogue,
    history: History | None,
) -> dict[str, dict[str, pd.DataFrame]]:
    """``frames`` (by unit) with blank year counts filled by carry_years, called once for all
    units: it reads the history's earlier periods whole."""
    if history is None or not frames or not any(p < str(following) for p in history.periods()):
        return frames
    levels = ("households", "tasks")
    stacked = {
        level: pd.concat(
            [f[level].assign(unit_code=code) for code, f in frames.items() if not f[level].empty]
            or [pd.DataFrame()],
            ignore_index=True,
        )
        for level in levels
    }
    filled = carry_years(stacked, history, catalogue, following)
    out = {code: dict(f) for code, f in frames.items()}
    for level in levels:
        if filled[level].empty:
            continue
        for code, rows in filled[level].groupby("unit_code", sort=False):
            original = frames[code][level]
            rows = rows.reset_index(drop=True)
            if "unit_code" not in original.columns:
                rows = rows.drop(columns=["unit_code"])
            out[code][level] = rows
    return out


def _year_as_typed(citizens: pd.DataFrame) -> pd.DataFrame:
    """A birth date known by its year alone (the unit typed 1989, or a year into a date cell)
    is carried as that year, as text: a blank cell would lose it, and the next month's person
    would come out Chưa đủ điều kiện for a date the unit never left out."""
    if citizens.empty or not {"birth_date", "birth_year"} <= set(citizens.columns):
        return citizens
    raw = citizens[RAW] if RAW in citizens.columns else pd.Series(None, index=citizens.index)
    year_only = (
        citizens["birth_date"].isna()
        & citizens["birth_year"].notna()
        & ~raw.map(lambda marks: isinstance(marks, dict) and "birth_date" in marks)
    )
    if not year_only.any():
        return citizens
    citizens = citizens.copy()
    citizens["birth_date"] = citizens["birth_date"].astype(object)
    citizens.loc[year_only, "birth_date"] = citizens.loc[year_only, "birth_year"].map(
        lambda year: str(int(year))
    )
    return citizens


def _without(frame: pd.DataFrame | None, keys: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` without the columns ``keys``, and its marks of them dropped too."""
    if frame is None or frame.empty:
        return pd.DataFrame()
    frame = frame.drop(columns=[k for k in keys if k in frame.columns])
    for mark in (RAW, CARRIED, FLAGGED):
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


def last_rows_from_history(
    history: History, unit_codes: list[str], period: Period
) -> dict[str, LastRows]:
    """The rows each unit last sent before ``period``, as recorded; units with none left out."""
    found = {}
    for code in unit_codes:
        last = history.latest_before(str(period), code)
        if last is None:
            continue
        frames = {
            level: _dates(_with_refused(history, last, level, code), "birth_date")
            for level in LEVELS
        }
        previous = Period.parse(last)
        found[code] = LastRows(previous, frames, source_of(previous))
    return found


def _with_refused(history: History, period: str, level: str, code: str) -> pd.DataFrame:
    """The unit's rows of ``period`` as it sent them: those counted, and those refused (kept
    marked, see Submission.rejected_rows) back in their place."""
    counted = history.load(period, "input", level, code)
    refused = history.load(period, REFUSED, level, code)
    if refused.empty:
        return counted
    return pd.concat([counted, refused], ignore_index=True).sort_values(
        "_row", kind="stable", ignore_index=True
    )


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
    rosters: dict[str, Roster] = {}
    try:
        if history is not None:
            listed = set(residents.units) if residents is not None else set()
            codes = [u.code for u in units if u.code not in listed]
            last = last_rows_from_history(history, codes, period)
            rosters = next_rosters(last, period, catalogue, history)
    finally:
        if history:
            history.db.close()
    if residents is not None:
        for code, part in residents.units.items():
            rosters[code] = Roster(
                part.citizens,
                part.households,
                origin=Origin.RESIDENTS,
                source=f"tệp {residents.path.name}",
            )
    written = []
    for unit in units:
        roster = rosters.get(unit.code)
        path = write_form(catalogue, unit, period, out_dir / f"{unit.code}_{period}.xlsx", roster)
        written.append((path, roster.resolved_origin() if roster else Origin.BLANK))
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
