"""Who a citizen row is, and where the person counts (Đọc trước: "Một người, một kết quả" and
"Cán bộ cơ quan").

- One person, one result: a CCCD on the forms of two units is one person. When exactly one of
  those units is a tổ dân phố (where the person lives), that row is scored and the rows of the
  agencies take its result; otherwise (two tổ dân phố, or only agencies) no unit can be chosen
  and every row of that CCCD is undecided until the units agree.
- Households: a citizen of a tổ dân phố belongs to the household of that tổ with the row's Mã
  hộ. A citizen listed by an agency (cơ quan) belongs to the household where they live: the one
  household of any tổ dân phố whose Mã hộ is the row's (SPEC §3); none when no tổ, or more than
  one, has that code.
- Residence: a tổ dân phố's residents are its own citizens and the agency staff who belong to one
  of its households; roll-ups of a tổ over citizens count its residents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from processor.domain.cells import is_blank

# Columns this module adds to the citizens frame.
SCORED_IN = "scored_in"  # the unit whose row gives the person's result
SAME_PERSON = "same_person"  # for an undecided CCCD: where else it is, as Lý do says it
MEMBER_OF = "_member_of"  # household key "unit|code", or <NA>
RESIDENT_OF = "_resident_of"  # tổ dân phố of residence, or <NA>


def household_key(unit_codes: pd.Series, household_codes: pd.Series) -> pd.Series:
    """`TDP01|TDP01-H005`: a household is its unit and its code."""
    return unit_codes.astype(object) + "|" + household_codes.astype(object)


def _row_place(row: pd.Series) -> str:
    name = row.get("full_name")
    line = row.get("_row")
    where = f"dòng {int(line)}" if not is_blank(line) and line == line else ""
    parts = [p for p in (str(name) if not is_blank(name) else "", where) if p]
    return f"{row['unit_code']} ({', '.join(parts)})" if parts else str(row["unit_code"])


def identify(citizens: pd.DataFrame, tdp_units: set[str]) -> pd.DataFrame:
    """``citizens`` with `scored_in` and `same_person` (one person, one result)."""
    frame = citizens.copy(deep=False)
    frame[SCORED_IN] = frame["unit_code"].astype(object)
    frame[SAME_PERSON] = pd.Series("", index=frame.index, dtype=object)
    if frame.empty or "cccd" not in frame:
        return frame
    ids = frame["cccd"].where(~frame["cccd"].map(is_blank))
    shared = ids.notna() & ids.duplicated(keep=False)
    for cccd, group in frame[shared].groupby(ids[shared], sort=True):
        in_tdp = group[group["unit_code"].isin(tdp_units)]
        if len(in_tdp) == 1 and group["unit_code"].nunique() == len(group):
            frame.loc[group.index, SCORED_IN] = in_tdp["unit_code"].iloc[0]
            continue
        places = {index: _row_place(row) for index, row in group.iterrows()}
        for index in group.index:
            others = ", ".join(place for other, place in places.items() if other != index)
            frame.at[index, SAME_PERSON] = (
                f"Số CCCD {cccd} cũng có ở {others}: các đơn vị cần thống nhất người này "
                "thuộc đơn vị nào"
            )
    return frame


def is_copy(citizens: pd.DataFrame) -> pd.Series:
    """Rows whose result is another unit's row's (the person is scored where they live)."""
    if SCORED_IN not in citizens:
        return pd.Series(False, index=citizens.index)
    return citizens[SCORED_IN].ne(citizens["unit_code"]).fillna(False).astype(bool)


def place(citizens: pd.DataFrame, households: pd.DataFrame, tdp_units: set[str]) -> pd.DataFrame:
    """``citizens`` with the household each person belongs to and the tổ they reside in."""
    frame = citizens.copy(deep=False)
    none = pd.Series(pd.NA, index=frame.index, dtype=object)
    frame[MEMBER_OF], frame[RESIDENT_OF] = none, none.copy()
    if frame.empty:
        return frame
    codes = frame["household_code"].where(~frame["household_code"].map(is_blank))
    known = (
        set(household_key(households["unit_code"], households["household_code"]))
        if not households.empty
        else set()
    )
    own = household_key(frame["unit_code"], codes.fillna(""))
    in_tdp = frame["unit_code"].isin(tdp_units).to_numpy()
    copies = is_copy(frame).to_numpy()
    own_home = own.where(own.isin(known) & codes.notna())
    # An agency's staff: the household with that code in whichever tổ holds it, if only one.
    if households.empty:
        staff_home = none
    else:
        by_code = households.loc[households["unit_code"].isin(tdp_units)]
        by_code = by_code.assign(
            _key=household_key(by_code["unit_code"], by_code["household_code"])
        )
        unique = by_code.drop_duplicates("household_code", keep=False)
        staff_home = codes.map(unique.set_index("household_code")["_key"])
    member_of = np.where(in_tdp, own_home.to_numpy(dtype=object), staff_home.to_numpy(dtype=object))
    member_of = pd.Series(member_of, index=frame.index, dtype=object).where(~copies)
    home_unit = member_of.map(lambda key: key.split("|", 1)[0] if isinstance(key, str) else pd.NA)
    resident_of = pd.Series(
        np.where(in_tdp, frame["unit_code"].to_numpy(dtype=object), home_unit.to_numpy()),
        index=frame.index,
        dtype=object,
    ).where(~copies)
    frame[MEMBER_OF], frame[RESIDENT_OF] = member_of, resident_of
    return frame
