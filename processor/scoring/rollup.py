"""Shares of the level below, with members whose result is not known (Đọc trước: "Tỷ lệ").

A `tong_hop` criterion compares a share (percent of the members counted that reach a title or a
criterion) with its threshold. A member on the form always counts; when their data is missing
the share is worked out both ways:

- the lowest it can be: every member not known counted, and counted as not reaching it;
- the highest it can be: a member whose result is not known counted as reaching it, a member who
  cannot reach it but may not be counted at all (age unknown) left out.

The criterion is met when both meet the threshold, not met when neither does, and not known
otherwise, or when no one might be left to count (a household with no adult on its form).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from processor.domain.catalogue import Criterion
from processor.domain.kinds import number_text

NAMED = 10  # members a Lý do names before "và N người khác"


@dataclass
class Share:
    """Per entity of the upper level: the least and greatest possible share (percent; NaN when
    no one could be counted), whether no one might be counted, and the members not known."""

    low: pd.Series
    high: pd.Series
    maybe_empty: pd.Series
    unknown: pd.Series  # text naming the members whose data is missing ('' when none)

    def passes(self, criterion: Criterion) -> pd.Series:
        """Met (True), not met (False) or not known (<NA>), per entity."""
        low, high = criterion.rules.passes(self.low), criterion.rules.passes(self.high)
        agreed = low.eq(high).fillna(False).astype(bool) & ~self.maybe_empty
        return low.where(agreed, pd.NA).astype("boolean")

    def value(self) -> pd.Series:
        """The share when it is known exactly (low equals high), else NaN; as shown, to two
        decimals."""
        return self.low.where(self.low.eq(self.high)).round(2)

    def unknown_text(self, criterion: Criterion, noun: str) -> pd.Series:
        """Lý do of a share left undecided: its bounds and the members it waits for."""
        need = criterion.rules.need_text()
        texts = []
        for low, high, members in zip(
            self.low.round(2).tolist(),
            self.high.round(2).tolist(),
            self.unknown.tolist(),
            strict=True,
        ):
            span = (
                f"từ {number_text(low, '%')} đến {number_text(high, '%')}, "
                if low == low and high == high
                else ""
            )
            text = f"{criterion.label}: chưa rõ ({span}{need})"
            texts.append(text + (f" vì chưa rõ {noun}: {members}" if members else ""))
        return pd.Series(texts, index=self.low.index, dtype=object)


def _waiting_members(
    groups: pd.Series, labels: pd.Series, waiting: pd.Series, noun: str
) -> dict[object, str]:
    """Per entity, its members left undecided, named in row order (the first NAMED of them)."""
    mask = waiting.to_numpy()
    texts: dict[object, str] = {}
    for key, names in labels[mask].groupby(groups[mask], sort=False):
        shown = names.tolist()
        text = ", ".join(shown[:NAMED])
        if len(shown) > NAMED:
            text += f" và {len(shown) - NAMED} {noun} khác"
        texts[key] = text
    return texts


def share(
    groups: pd.Series,
    among: pd.Series,
    flag: pd.Series,
    labels: pd.Series,
    keys: pd.Series,
    noun: str,
) -> Share:
    """The share per entity ``keys`` (the upper level's key of each of its rows) of the members
    (rows of ``groups``: their entity's key, <NA> for none) with ``flag`` among those ``among``.

    ``among`` and ``flag`` are nullable booleans (<NA>: not known); ``labels`` name each member
    for the Lý do (``noun``: "người", "hộ").
    """
    has = groups.notna().to_numpy()
    g = groups[has]
    a_in = among[has].astype("boolean")
    f_in = flag[has].astype("boolean")
    certain_in = a_in.eq(True).fillna(False).astype(bool)
    maybe_in = a_in.isna()
    yes, no, unsure = (
        f_in.eq(True).fillna(False).astype(bool),
        f_in.eq(False).fillna(False).astype(bool),
        f_in.isna(),
    )
    counts = pd.DataFrame(
        {
            "g": g,
            "a": certain_in & yes,
            "b": certain_in & no,
            "c": certain_in & unsure,
            "d": maybe_in & no,
            "e": maybe_in & unsure,
            "f": maybe_in & yes,
        }
    )
    sums = counts.groupby("g")[["a", "b", "c", "d", "e", "f"]].sum()
    a, b, c, d, e, f = (sums[k] for k in "abcdef")
    low_n = a + b + c + d + e
    high_n = a + b + c + e + f
    # Compared with the threshold as they are (Đọc trước: 94,996% is under 95%); rounded only
    # where shown. round(9) takes off the float noise of the division (29/100*100 is not 29).
    low = (a / low_n.where(low_n > 0) * 100).round(9)
    high = ((a + c + e + f) / high_n.where(high_n > 0) * 100).round(9)
    maybe_empty = (a + b + c) == 0
    texts = _waiting_members(g, labels[has], (certain_in & unsure) | maybe_in, noun)
    index = pd.Index(keys)

    def per_entity(values: pd.Series, fill: object) -> pd.Series:
        return pd.Series(values.reindex(index).to_numpy(), index=keys.index).fillna(fill)

    return Share(
        low=per_entity(low, np.nan).astype(float),
        high=per_entity(high, np.nan).astype(float),
        maybe_empty=per_entity(maybe_empty, True).astype(bool),
        unknown=pd.Series([texts.get(k, "") for k in keys], index=keys.index, dtype=object),
    )
