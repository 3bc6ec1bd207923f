"""Conditions that come from history rather than from this month's form (SPEC §2, §4 step 6).

- Registration is made in January (seed §3.2): when the January period of the year is in the
  history store, a title that requires registration takes each entity's January answer, and an
  entity absent in January counts as not registered. Without a January record the form's
  `Đăng ký` column is used (a town that starts mid-year still gets results).
- Multi-year counts (years of Gia đình văn hóa, Tổ dân phố văn hóa: `so` criteria measured in
  years, `Đơn vị đo` = "năm"): a blank value is carried from the entity's latest known value,
  plus the years elapsed since it was recorded.
"""

from __future__ import annotations

import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue
from processor.domain.cells import is_blank
from processor.domain.periods import Period
from processor.store.history import History


def citizen_key(frame: pd.DataFrame) -> pd.Series:
    """Who a citizen is across months: the CCCD, else name, birth date and household."""
    if frame.empty:
        return pd.Series(dtype=object)
    parts = frame[["full_name", "birth_date", "household_code"]].map(
        lambda v: "" if is_blank(v) else str(v)[:10]
    )
    fallback = frame["unit_code"].astype(object) + "|" + parts.agg("|".join, axis=1)
    return frame["cccd"].where(frame["cccd"].map(lambda v: not is_blank(v)), "~" + fallback)


def household_key(frame: pd.DataFrame) -> pd.Series:
    if frame.empty:
        return pd.Series(dtype=object)
    return frame["unit_code"].astype(object) + "|" + frame["household_code"].astype(object)


_KEYS = {"citizens": citizen_key, "households": household_key}


def january_registration(
    frames: dict[str, pd.DataFrame], history: History, catalogue: Catalogue, period: Period
) -> dict[str, pd.DataFrame]:
    """Replace `registered` with the January answer where January is on record."""
    january = Period(period.year, 1)
    if period == january or str(january) not in history.periods():
        return frames
    titles = {"citizens": catalogue.citizen_title, "households": catalogue.household_title}
    out = dict(frames)
    for level, key_of in _KEYS.items():
        frame = frames[level]
        if frame.empty or not titles[level].registration_required:
            continue
        recorded = history.load(str(january), "input", level)
        answers = (
            pd.Series(recorded["registered"].to_numpy(), index=key_of(recorded))
            if not recorded.empty
            else pd.Series(dtype=object)
        )
        answers = answers[~answers.index.duplicated()]
        keys = key_of(frame)
        out[level] = frame.assign(registered=keys.map(answers).fillna(S.NO).to_numpy())
    return out


def carry_years(
    frames: dict[str, pd.DataFrame], history: History, catalogue: Catalogue, period: Period
) -> dict[str, pd.DataFrame]:
    """Fill blank year-count criteria from the latest value on record, aged to this year."""
    out = dict(frames)
    levels = {
        "households": catalogue.household_title,
        "tasks": catalogue.unit_title,
    }
    earlier = [p for p in history.periods() if p < str(period)]
    if not earlier:
        return out
    for level, title in levels.items():
        criteria = [c for c in catalogue.criteria_of(title.code) if c.rules.counts_years()]
        frame = frames[level]
        if not criteria or frame.empty:
            continue
        past = pd.concat(
            [history.load(p, "input", level).assign(_period=p) for p in earlier],
            ignore_index=True,
        )
        if past.empty:
            continue
        if level == "tasks":
            frame = frame.copy()
            for criterion in criteria:
                rows = frame["criterion"].eq(criterion.code) & frame["value"].map(is_blank)
                known = past[past["criterion"].eq(criterion.code) & ~past["value"].map(is_blank)]
                latest = known.sort_values("_period").groupby("unit_code").last()
                aged = latest["value"].astype(float) + (
                    period.year - latest["_period"].str[:4].astype(int)
                )
                frame.loc[rows, "value"] = frame.loc[rows, "unit_code"].map(aged)
            out[level] = frame
            continue
        keys = household_key(frame)
        past_keys = household_key(past)
        frame = frame.copy()
        for criterion in criteria:
            if criterion.code not in past:
                continue
            known = past.assign(_key=past_keys)[~past[criterion.code].map(is_blank)]
            latest = known.sort_values("_period").groupby("_key").last()
            aged = pd.to_numeric(latest[criterion.code], errors="coerce") + (
                period.year - latest["_period"].str[:4].astype(int)
            )
            blank = (
                frame[criterion.code].map(is_blank)
                if criterion.code in frame
                else pd.Series(True, index=frame.index)
            )
            frame.loc[blank, criterion.code] = keys[blank].map(aged)
        out[level] = frame
    return out
