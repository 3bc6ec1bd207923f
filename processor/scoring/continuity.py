"""This month's people against what the history already holds of them (issue 17 items 6, 7).

A form is a list the unit sent last month, updated: what changed from the history is looked at.

- **A birth date that changed** is said (the person, the old date and its month). A real date
  that is last month's with day and month swapped is what an Excel set to the US order makes of
  a date typed day first (`02/06/1966` stored as 6 February): last month's date is kept, and
  the unit is asked to check. A date typed as text is read day first whatever the editor, so it
  is what the unit means: it is taken, as a change. A date the reader could not tell the order
  of (DATE_AMBIGUOUS) is last month's when it is one of its two readings.
- **Rows of another unit**: a person whose CCCD the history holds in another unit of the same
  kind (two tổ dân phố, two cơ quan), with the household code that unit gave them, is that
  unit's row pasted in (a resident who moved gets a household of the new unit). Such rows are
  rejected like those the reader finds by their household code's prefix, with their household
  when no one else of the file lives in it, and counted for neither unit.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue
from processor.domain.periods import Period
from processor.intake.reader import misplaced_detail, who
from processor.intake.submission import Submission
from processor.store.history import History

_SHEET = S.FORM_CITIZENS.name
_DAY = "%d/%m/%Y"


def compare_with_history(
    submissions: list[Submission], catalogue: Catalogue, history: History, period: Period
) -> None:
    """Check the citizens of the submissions that count against the history's latest rows
    before ``period`` (module docstring); submissions and their issues are updated in place."""
    counted = [s for s in submissions if s.status.counts and not s.citizens.empty]
    if not counted:
        return
    known = _known_people(history, str(period), {s.unit_code for s in counted})
    if known.empty:
        return
    for sub in counted:
        _other_units(sub, catalogue, known)
        _birth_dates(sub, known)
        sub.settle_status()


def _known_people(history: History, period: str, units: set[str | None]) -> pd.DataFrame:
    """Citizens of the latest month before ``period`` (every unit's), and of each unit of
    ``units`` absent from it, its own latest month; with the month in `_period`."""
    earlier = [p for p in history.periods() if p < period]
    frames = []
    if earlier:
        last = history.load(earlier[-1], "input", "citizens")
        if not last.empty:
            frames.append(last.assign(_period=earlier[-1]))
    present = set(frames[0]["unit_code"]) if frames else set()
    for unit in sorted(u for u in units if u and u not in present):
        before = history.latest_before(period, unit)
        if before is not None:
            own = history.load(before, "input", "citizens", unit)
            frames.append(own.assign(_period=before))
    columns = ["unit_code", "cccd", "full_name", "household_code", "birth_date", "birth_year"]
    frames = [f.reindex(columns=[*columns, "_period"]) for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _stored_date(value: object) -> dt.date | None:
    """A birth date as the history stores it (ISO text), or None."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _stored_year(value: object) -> int | None:
    try:
        return None if pd.isna(value) else int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _match(sub: Submission, known: pd.DataFrame) -> list[int | None]:
    """For each citizen of ``sub``, the position in ``known`` of the same person: by CCCD, or
    without one by the unit, name and household (when that names one person only)."""
    by_id: dict[str, int] = {}
    by_name: dict[tuple, int | None] = {}
    columns = ("unit_code", "cccd", "full_name", "household_code")
    for position, (unit, cccd, name, home) in enumerate(
        zip(*(known[c].tolist() for c in columns), strict=True)
    ):
        if isinstance(cccd, str) and cccd:
            by_id.setdefault(cccd, position)
        key = (unit, name, home)
        by_name[key] = None if key in by_name else position
    found: list[int | None] = []
    frame = sub.citizens
    for cccd, name, home in zip(
        *(frame[c].tolist() for c in ("cccd", "full_name", "household_code")), strict=True
    ):
        if isinstance(cccd, str) and cccd:
            found.append(by_id.get(cccd))
        else:
            found.append(by_name.get((sub.unit_code, name, home)))
    return found


def _birth_dates(sub: Submission, known: pd.DataFrame) -> None:
    frame = sub.citizens
    matches = _match(sub, known)
    dates, years = known["birth_date"].tolist(), known["birth_year"].tolist()
    months = known["_period"].tolist()
    ambiguous = {
        i.cell: i for i in sub.issues if i.code == "DATE_AMBIGUOUS" and i.sheet == _shown(sub)
    }
    for position, found in enumerate(matches):
        if found is None:
            continue
        before, before_year = _stored_date(dates[found]), _stored_year(years[found])
        if before_year is None and before is not None:
            before_year = before.year
        if before_year is None:
            continue
        row = int(frame["_row"].iat[position])
        now = frame["birth_date"].iat[position]
        now = now if isinstance(now, dt.date) else None
        now_year = _stored_year(frame["birth_year"].iat[position])
        cell = sub.cell(_SHEET, "birth_date", row)
        month = months[found]
        if now is None and now_year is None:
            issue = ambiguous.get(cell)
            if issue is not None and before is not None and _one_of(issue, before):
                _set_birth(frame, position, before)
                _forget(frame, position, "birth_date")
                sub.issues.remove(issue)
            continue
        shown_before = f"{before:{_DAY}}" if before else f"năm {before_year}"
        person = _person(sub, position)
        swapped = now is not None and before is not None and _swapped(now, before)
        if swapped and row not in sub.text_dates:
            sub.issue(
                "BIRTH_DATE_SWAPPED", _SHEET, cell, f"{now:{_DAY}}",
                f"{shown_before} (kỳ {month})", person,
            )  # fmt: skip
            _remember(frame, position, "birth_date", f"{now:{_DAY}}")
            _set_birth(frame, position, before)
            continue
        changed = (now is not None and before is not None and now != before) or (
            now_year != before_year
        )
        if changed:
            shown_now = f"{now:{_DAY}}" if now else f"năm {now_year}"
            detail = f"{shown_before} (kỳ {month})"
            sub.issue("BIRTH_DATE_CHANGED", _SHEET, cell, shown_now, detail, person)


def _shown(sub: Submission) -> str:
    return sub.sheet_titles.get(_SHEET, _SHEET)


def _person(sub: Submission, position: int) -> str:
    frame = sub.citizens
    return who(
        _SHEET,
        lambda key: frame[key].iat[position] if key in frame else None,
        int(frame["_row"].iat[position]),
    )


def _swapped(now: dt.date, before: dt.date) -> bool:
    """``now`` is ``before`` with its day and month exchanged (and differs from it)."""
    return now != before and (now.year, now.month, now.day) == (
        before.year,
        before.day,
        before.month,
    )


def _one_of(issue: object, day: dt.date) -> bool:
    """Whether ``day`` is one of the two readings an ambiguous date's message gives."""
    return f"{day:{_DAY}}" in getattr(issue, "message", "")


def _set_birth(frame: pd.DataFrame, position: int, day: dt.date) -> None:
    frame.iat[position, frame.columns.get_loc("birth_date")] = day
    frame.iat[position, frame.columns.get_loc("birth_year")] = day.year


def _remember(frame: pd.DataFrame, position: int, key: str, typed: str) -> None:
    at = frame.columns.get_loc("_raw")
    frame.iat[position, at] = {**(frame.iat[position, at] or {}), key: typed}


def _forget(frame: pd.DataFrame, position: int, key: str) -> None:
    at = frame.columns.get_loc("_raw")
    left = {k: v for k, v in (frame.iat[position, at] or {}).items() if k != key}
    frame.iat[position, at] = left or None


def _other_units(sub: Submission, catalogue: Catalogue, known: pd.DataFrame) -> None:
    """Rows the history shows to be another unit's (module docstring): rejected and named."""
    unit = catalogue.unit(sub.unit_code or "")
    if unit is None:
        return
    kinds = {u.code: u.kind for u in catalogue.units}
    homes: dict[str, set[tuple[str, object]]] = {}
    for owner, cccd, home in zip(
        *(known[c].tolist() for c in ("unit_code", "cccd", "household_code")), strict=True
    ):
        if isinstance(cccd, str) and owner != unit.code and kinds.get(owner) == unit.kind:
            homes.setdefault(cccd, set()).add((owner, home))
    if not homes:
        return
    frame = sub.citizens
    found: dict[str, list[int]] = {}
    for position, (cccd, home) in enumerate(
        zip(frame["cccd"].tolist(), frame["household_code"].tolist(), strict=True)
    ):
        if not isinstance(home, str):
            continue
        owner = next((o for o, h in homes.get(cccd, ()) if h == home), None)
        if owner is not None:
            found.setdefault(owner, []).append(position)
    if not found:
        return
    staying = {
        home
        for position, home in enumerate(frame["household_code"].tolist())
        if not any(position in rows for rows in found.values())
    }
    month = known["_period"].max()
    for owner, rows in sorted(found.items()):
        places = [(_SHEET, int(frame["_row"].iat[p])) for p in rows]
        codes = {frame["household_code"].iat[p] for p in rows} - staying
        homes_frame = sub.households
        moved = (
            [p for p, c in enumerate(homes_frame["household_code"].tolist()) if c in codes]
            if not homes_frame.empty
            else []
        )
        places += [(S.FORM_HOUSEHOLDS.name, int(homes_frame["_row"].iat[p])) for p in moved]
        sub.misplaced.setdefault(owner, []).extend(places)
        detail = misplaced_detail(catalogue, owner, places)
        detail += f", nhận ra theo số CCCD và mã hộ đơn vị đó đã báo ở kỳ {month}"
        sub.issue("ROWS_OF_OTHER_UNIT", value=len(places), detail=detail)
        sub.reject_rows("households", moved)
    sub.reject_rows("citizens", [p for rows in found.values() for p in rows])
