"""Conditions that come from history rather than from this month's form (SPEC §2, §4 step 6;
the rules as the catalogue's Đọc trước states them).

- Registration (`registration_periods`): an entity's registration is the first period of the year
  in which its unit's form said `Có` in `Đăng ký`, this month's form included. Each unit's forms
  decide for its own people: a unit's January form says nothing of another unit's. Whether that
  period is on time and what a late one means is the scoring's (score.registration, from
  Cấu hình han_dang_ky and dang_ky_muon).
- Counts of consecutive years (`carry_years`: the `so` criteria whose kind counts years, GD01 and
  TDP02 in the default catalogue): a blank value is taken from the latest value written earlier
  in the same year, unchanged; failing that (at the turn of the year), from the value the
  entity's result of last year's voting month (thang_binh_xet, the result titles are recognised
  from) was scored with, plus one when it reached its title there, else left blank (not known).
  Every value taken is marked in `_carried` {column key: the period it came from, or for a count
  moved on the words saying so: `lấy từ kỳ 2021-11, cộng 1 năm vì năm 2021 đạt Gia đình kiểu
  mẫu`}, which the results show (`carried`) and the next form writes beside the value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Criterion
from processor.domain.cells import is_blank
from processor.domain.form_layout import CARRIED
from processor.domain.periods import Period
from processor.store.history import History


def citizen_key(frame: pd.DataFrame) -> pd.Series:
    """Who a citizen of a unit is across months: the unit and the CCCD, else the unit, name,
    birth date and household. The unit is part of it: a unit's forms decide for its own rows
    only, so a CCCD registered in TDP03's January form is not registered on TDP04's form.

    Each row's text made in one pass over the columns' values: a row-wise join took a second
    per 25,000 citizens, and text Series added to one another (an array per step) most of a
    second per district month."""
    if frame.empty:
        return pd.Series(dtype=object)
    name, birth, household = (
        _key_part(frame[column]) for column in ("full_name", "birth_date", "household_code")
    )
    cccd = frame["cccd"]
    rows = zip(
        frame["unit_code"].astype(str).tolist(),
        cccd.astype(str).tolist(),
        _blanks(cccd).tolist(),
        name,
        birth,
        household,
        strict=True,
    )
    keys = [f"~{u}|{n}|{b}|{h}" if blank else f"{u}|{i}" for u, i, blank, n, b, h in rows]
    return pd.Series(keys, index=frame.index)


def _blanks(series: pd.Series) -> np.ndarray:
    """True where a value is missing or only spaces (cells.is_blank, and pandas' NA too)."""
    values = series.to_numpy(dtype=object)
    spaces = np.fromiter(
        (isinstance(v, str) and not v.strip() for v in values), dtype=bool, count=len(values)
    )
    return pd.isna(values) | spaces


def _key_part(series: pd.Series) -> list[str]:
    """Each value as a key holds it: its text cut to a date's 10 characters, '' when blank."""
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) == "date":
        # A district's 300,000 birth dates fall on some 25,000 days: each made text once.
        codes, days = pd.factorize(values)  # missing: code -1, the ''
        return np.array([*(str(day)[:10] for day in days), ""], dtype=object)[codes].tolist()
    texts = series.astype(str).tolist()
    return ["" if blank else text[:10] for text, blank in zip(texts, _blanks(series), strict=True)]


def household_key(frame: pd.DataFrame) -> pd.Series:
    if frame.empty:
        return pd.Series(dtype=object)
    return frame["unit_code"].astype(object) + "|" + frame["household_code"].astype(object)


_KEYS = {"citizens": citizen_key, "households": household_key}


def _earlier(history: History | None, period: Period, year: int) -> list[str]:
    """Periods of ``year`` on record before ``period``, oldest first."""
    if history is None:
        return []
    return [p for p in history.periods() if p.startswith(f"{year:04d}-") and p < str(period)]


def registration_periods(
    frames: dict[str, pd.DataFrame],
    history: History | None,
    catalogue: Catalogue,
    period: Period,
) -> dict[str, pd.DataFrame]:
    """Add `registered_in` to the citizens and households: the first period of the year whose
    form said `Có` for them (None: never yet), for titles that require registration."""
    titles = {"citizens": catalogue.citizen_title, "households": catalogue.household_title}
    earlier = _earlier(history, period, period.year)
    out = dict(frames)
    for level, key_of in _KEYS.items():
        frame = frames.get(level)
        if frame is None or frame.empty or not titles[level].registration_required:
            continue
        first: dict[object, str] = {}
        for past in earlier:  # oldest first: the first `Có` stays
            recorded = history.load(past, "input", level) if history is not None else pd.DataFrame()
            if recorded.empty or "registered" not in recorded:
                continue
            said_yes = recorded[recorded["registered"].eq(S.YES)]
            for key in key_of(said_yes).tolist():
                first.setdefault(key, past)
        now = pd.Series(str(period), index=frame.index).where(frame["registered"].eq(S.YES))
        # The keys are built only to look up an earlier `Có`: a district's first month has none.
        before = (
            key_of(frame).map(first) if first else pd.Series(None, index=frame.index, dtype=object)
        )
        out[level] = frame.assign(registered_in=before.where(before.notna(), now).astype(object))
    return out


def _year_criteria(catalogue: Catalogue) -> dict[str, list[Criterion]]:
    """The year-count criteria of the household and unit levels, by level."""
    found = {
        "households": catalogue.criteria_of(catalogue.household_title.code),
        "tasks": catalogue.criteria_of(catalogue.unit_title.code),
    }
    return {
        level: [c for c in criteria if c.rules.counts_years()] for level, criteria in found.items()
    }


def _long_form(frame: pd.DataFrame, level: str, criteria: list[Criterion]) -> pd.DataFrame:
    """(key, criterion, value) of the year counts written in ``frame``."""
    if frame.empty:
        return pd.DataFrame(columns=["key", "criterion", "value"])
    if level == "tasks":
        rows = frame[frame["criterion"].isin([c.code for c in criteria])]
        return pd.DataFrame(
            {"key": rows["unit_code"], "criterion": rows["criterion"], "value": rows["value"]}
        )
    keys = household_key(frame)
    parts = [
        pd.DataFrame({"key": keys, "criterion": c.code, "value": frame[c.code]})
        for c in criteria
        if c.code in frame
    ]
    return pd.concat(parts, ignore_index=True) if parts else _long_form(pd.DataFrame(), level, [])


def _latest_values(
    history: History, periods: list[str], level: str, criteria: list[Criterion]
) -> pd.DataFrame:
    """The latest value written for each (key, criterion) in ``periods``, with its period."""
    found = [
        _long_form(history.load(p, "input", level), level, criteria).assign(period=p)
        for p in periods
    ]
    found = [f for f in found if not f.empty]
    if not found:
        return pd.DataFrame(columns=["key", "criterion", "value", "period"])
    stacked = pd.concat(found, ignore_index=True)
    stacked["value"] = pd.to_numeric(stacked["value"], errors="coerce")
    stacked = stacked[stacked["value"].notna()].sort_values("period", kind="stable")
    return stacked.groupby(["key", "criterion"], as_index=False).last()


def _last_results(
    history: History, periods: list[str], level: str, criteria: list[Criterion]
) -> pd.DataFrame:
    """(key, criterion, value, period, reached) from the latest of ``periods`` with a result for
    each entity: the value its year count was scored with, and whether it reached its title."""
    results_level = "units" if level == "tasks" else level
    found = []
    for p in periods:
        results = history.load(p, "result", results_level)
        if results.empty or "outcome" not in results:
            continue
        keys = results["unit_code"] if level == "tasks" else household_key(results)
        for criterion in criteria:
            column = criterion.code + "_value"
            if column not in results:
                continue
            found.append(
                pd.DataFrame(
                    {
                        "key": keys.to_numpy(),
                        "criterion": criterion.code,
                        "value": pd.to_numeric(results[column], errors="coerce").to_numpy(),
                        "period": p,
                        "reached": results["outcome"].eq(S.ACHIEVED).to_numpy(),
                    }
                )
            )
    if not found:
        return pd.DataFrame(columns=["key", "criterion", "value", "period", "reached"])
    stacked = pd.concat(found, ignore_index=True).sort_values("period", kind="stable")
    return stacked.groupby(["key", "criterion"], as_index=False).last()


def carry_years(
    frames: dict[str, pd.DataFrame],
    history: History | None,
    catalogue: Catalogue,
    period: Period,
) -> dict[str, pd.DataFrame]:
    """Fill blank year counts of the households and the Tổ dân phố sheet (``frames`` may hold
    either) as the module's docstring says, marking each value taken in `_carried`."""
    out = dict(frames)
    if history is None:
        return out
    for level, criteria in _year_criteria(catalogue).items():
        frame = frames.get(level)
        if frame is None or frame.empty or not criteria:
            continue
        wanted = _blank_counts(frame, level, criteria)
        if wanted.empty:
            continue
        this_year = _latest_values(history, _earlier(history, period, period.year), level, criteria)
        taken = wanted.merge(this_year, on=["key", "criterion"], how="left")
        taken["source"] = taken["period"].astype(str)
        left = taken["value"].isna()
        if left.any():
            # Last year's result is its voting month's, the one titles are recognised from.
            judged = str(Period(period.year - 1, catalogue.rules.voting_month))
            last_year = [judged] if judged in history.periods() else []
            moved = taken.loc[left, ["key", "criterion"]].merge(
                _last_results(history, last_year, level, criteria),
                on=["key", "criterion"],
                how="left",
            )
            reached = moved["reached"].eq(True).to_numpy()
            moved["value"] = moved["value"].where(reached) + 1
            title = catalogue.unit_title if level == "tasks" else catalogue.household_title
            moved["source"] = (
                "lấy từ kỳ "
                + moved["period"].astype(str)
                + f", cộng 1 năm vì năm {period.year - 1} đạt {title.name}"
            )
            taken.loc[left, ["value", "source"]] = moved[["value", "source"]].to_numpy()
        taken = taken[taken["value"].notna()]
        out[level] = _fill(frame, level, taken)
    return out


def _blank_counts(frame: pd.DataFrame, level: str, criteria: list[Criterion]) -> pd.DataFrame:
    """(row, key, criterion) of each blank year count in ``frame``."""
    if level == "tasks":
        codes = [c.code for c in criteria]
        blank = frame["criterion"].isin(codes) & frame["value"].map(is_blank)
        return pd.DataFrame(
            {
                "row": frame.index[blank],
                "key": frame.loc[blank, "unit_code"].to_numpy(),
                "criterion": frame.loc[blank, "criterion"].to_numpy(),
            }
        )
    keys = household_key(frame)
    parts = []
    for criterion in criteria:
        blank = (
            frame[criterion.code].map(is_blank)
            if criterion.code in frame
            else pd.Series(True, index=frame.index)
        )
        parts.append(
            pd.DataFrame(
                {
                    "row": frame.index[blank],
                    "key": keys[blank].to_numpy(),
                    "criterion": criterion.code,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _fill(frame: pd.DataFrame, level: str, taken: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the values ``taken`` (row, criterion, value, source) in place."""
    frame = frame.copy(deep=False)
    column_of = taken["criterion"] if level != "tasks" else pd.Series("value", index=taken.index)
    for column, rows in taken.groupby(column_of.to_numpy(), sort=False):
        if column not in frame:
            frame[column] = pd.Series(None, index=frame.index, dtype=object)
        frame[column] = frame[column].astype(object)
        frame.loc[rows["row"].to_numpy(), column] = rows["value"].astype(float).to_numpy()
    marks: dict[object, dict[str, str]] = {}
    for row, column, source in zip(taken["row"], column_of, taken["source"], strict=True):
        marks.setdefault(row, {})[column] = source
    before = (
        frame[CARRIED] if CARRIED in frame else pd.Series(None, index=frame.index, dtype=object)
    )
    frame[CARRIED] = [
        {**(old if isinstance(old, dict) else {}), **marks[row]} if row in marks else old
        for row, old in zip(frame.index, before.tolist(), strict=True)
    ]
    return frame
