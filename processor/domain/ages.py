"""Ages on the day the catalogue counts them (Cấu hình `ngay_tinh_tuoi`, Đọc trước).

An age is the number of whole years from the birth date to that day. With a full birth date it
is known; with only the birth year (a form may carry just `1989`) it is known when the day is
31/12 and otherwise lies between two numbers; without either it is unknown. Scoring, the
results' `Tuổi` column and the documents' annexes all count ages here, so they agree.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def _dates(values: pd.Series) -> pd.Series:
    """Birth dates as datetimes (NaT where blank or not a date): date objects from a form, ISO
    text from the history store."""
    if values.empty:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    # Once per distinct date: a district's 300,000 people share far fewer birth dates.
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    texts = [v.isoformat()[:10] if isinstance(v, dt.date) else str(v)[:10] for v in uniques]
    parsed = pd.to_datetime(pd.Series(texts, dtype=object), errors="coerce", format="%Y-%m-%d")
    looked_up = np.append(parsed.to_numpy(), np.datetime64("NaT"))[codes]
    return pd.Series(looked_up, index=values.index, dtype="datetime64[ns]")


def age_bounds(
    birth_dates: pd.Series, birth_years: pd.Series | None, on: dt.date
) -> tuple[pd.Series, pd.Series]:
    """(least, greatest) age in whole years on ``on`` of each person, as nullable integers.

    Equal when the age is known; <NA> in both when neither the date nor the year is known.
    """
    born = _dates(birth_dates)
    later_in_year = (born.dt.month > on.month) | (
        (born.dt.month == on.month) & (born.dt.day > on.day)
    )
    exact = on.year - born.dt.year - later_in_year.astype(int)
    years = (
        pd.to_numeric(birth_years, errors="coerce")
        if birth_years is not None
        else pd.Series(np.nan, index=birth_dates.index)
    )
    years = years.where(born.isna(), born.dt.year)
    whole_year = on.month == 12 and on.day == 31  # everyone born that year is a year older
    high = (on.year - years).where(born.isna(), exact)
    low = (high - (0 if whole_year else 1)).where(born.isna(), exact)
    return low.round().astype("Int64"), high.round().astype("Int64")
