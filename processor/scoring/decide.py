"""From what is known about each row of a level to its outcome and Lý do (Đọc trước: "Kết quả").

Findings are gathered by meaning, each for the rows it concerns, then combined once:

- `exclude`: the row is not a candidate, for certain (too young, not registered, not a tổ dân
  phố). The first such reason is the Lý do: it is the first thing to put right.
- `unsure`: whether the row is a candidate is not known (no birth date, a CCCD in two units).
- `fail`: the title is failed for certain, whatever the blank cells turn out to be (a mandatory
  criterion not met, too few criteria even if every blank one passed, votes at or under the
  threshold).
- `lack`: data the title waits for (a blank criterion, no votes, a share not known).

Outcome: excluded -> Chưa đủ điều kiện; candidate status unsure -> Chưa đủ điều kiện (waiting for
data); failed -> Chưa đạt; data lacking -> Chưa đủ điều kiện (waiting for data); else Đạt.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from processor.domain.schema import Outcome

_EMPTY = np.array("", dtype=object)
_ROWS_AT_ONCE = 32_768  # rows whose pieces are joined together (see _joined)


def filled(n: int, value: object) -> np.ndarray:
    """An object array of ``n`` references to the one ``value``. np.full would convert a text to
    a new str in every row (and a StrEnum to a plain str): a district's 300,000 rows of a
    criterion's 'ô trống' were about 25 MB each."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _pieces(mask: np.ndarray, text: str | np.ndarray | pd.Series) -> np.ndarray:
    """``"; " + text`` where ``mask`` holds, else '': with one text, the same two string objects
    in every row (a district's 300,000 rows of new strings per criterion were 230 MB)."""
    if isinstance(text, str):
        return np.array(["", "; " + text], dtype=object)[mask.astype(np.intp)]
    values = np.asarray(text, dtype=object)
    pieces = filled(len(values), "")
    rows = np.flatnonzero(mask)  # only they need a piece
    # One string per distinct text: most rows that lack a value share its words ('ô trống').
    made: dict[object, str] = {"": ""}
    for t in values[rows].tolist():
        if t not in made:
            made[t] = "; " + str(t) if t else ""
    pieces[rows] = [made[t] for t in values[rows].tolist()]
    return pieces


def joined(parts: list[np.ndarray], length: int) -> np.ndarray:
    """Row by row, the pieces of ``parts`` one after another, without the leading '; '."""
    joined = filled(length, "")
    made: dict[tuple[str, ...], str] = {}
    # A slice of rows at a time: every piece of a district's 300,000 rows at once as lists
    # would add 40 MB to the run's peak.
    for start in range(0, length if parts else 0, _ROWS_AT_ONCE):
        rows = slice(start, start + _ROWS_AT_ONCE)
        columns = [part[rows].tolist() for part in parts]  # zip walks lists fastest
        joined[rows] = [
            made[key] if key in made else _join(made, key) for key in zip(*columns, strict=True)
        ]
    return joined


def _join(made: dict[tuple[str, ...], str], key: tuple[str, ...]) -> str:
    """A row's pieces joined, made once for every row with the same pieces (held in ``made``):
    rows that lack the same values share one Lý do object, not one each."""
    text = made[key] = "".join(key)[2:]
    return text


class Verdict:
    """The findings about one level's rows, combined by `result` into outcome and Lý do."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self._excluded: list[np.ndarray] = []
        self._unsure: list[np.ndarray] = []
        self._failed: list[np.ndarray] = []
        self._lacking: list[np.ndarray] = []

    @staticmethod
    def _mask(mask: pd.Series | np.ndarray) -> np.ndarray:
        if isinstance(mask, pd.Series):
            return mask.fillna(False).to_numpy(dtype=bool)
        return np.asarray(mask, dtype=bool)

    def exclude(self, mask: pd.Series | np.ndarray, text: str | np.ndarray | pd.Series) -> int:
        """Exclude the rows of ``mask``; returns the finding's number for `excluded_by`."""
        self._excluded.append(_pieces(self._mask(mask), text))
        return len(self._excluded) - 1

    def excluded_by(self, *findings: int) -> np.ndarray:
        """Rows whose Lý do is one of these exclusions (the first exclusion of a row wins), e.g.
        the people left out by registration rather than by age."""
        won = np.full(len(self.index), -1)
        for number in reversed(range(len(self._excluded))):
            won[self._excluded[number] != ""] = number
        return np.isin(won, findings)

    def unsure(self, mask: pd.Series | np.ndarray, text: str | np.ndarray | pd.Series) -> None:
        self._unsure.append(_pieces(self._mask(mask), text))

    def fail(self, mask: pd.Series | np.ndarray, text: str | np.ndarray | pd.Series) -> None:
        self._failed.append(_pieces(self._mask(mask), text))

    def lack(self, mask: pd.Series | np.ndarray, text: str | np.ndarray | pd.Series) -> None:
        self._lacking.append(_pieces(self._mask(mask), text))

    def result(self, achieved_note: np.ndarray | None = None) -> pd.DataFrame:
        """Columns `outcome`, `reason`, `achieved` (nullable: True Đạt, False cannot be,
        <NA> not known), `undecided` (the outcome waits for data) and `missing` (that data).

        ``achieved_note``: the Lý do of rows that reach the title ('' for none).
        """
        n = len(self.index)
        excluded = filled(n, "")
        for piece in reversed(self._excluded):  # the first reason wins
            excluded = np.where(piece != "", piece, excluded)
        excluded = np.array([text[2:] for text in excluded.tolist()], dtype=object)
        unsure = joined(self._unsure, n)
        failed = joined(self._failed, n)
        lacking = joined(self._lacking, n)
        is_excluded = excluded != ""
        is_unsure = (unsure != "") & ~is_excluded
        is_failed = (failed != "") & ~is_excluded & ~is_unsure
        is_lacking = (lacking != "") & ~is_excluded & ~is_unsure & ~is_failed
        missing = joined([_pieces(unsure != "", unsure), _pieces(lacking != "", lacking)], n)

        outcome = filled(n, Outcome.ACHIEVED.value)
        reason = (
            np.array(achieved_note, dtype=object).copy()
            if achieved_note is not None
            else filled(n, "")
        )
        outcome[is_excluded] = Outcome.NOT_ELIGIBLE
        reason[is_excluded] = excluded[is_excluded]
        outcome[is_unsure | is_lacking] = Outcome.NOT_ELIGIBLE
        outcome[is_failed] = Outcome.NOT_ACHIEVED
        rows = np.flatnonzero(is_unsure | is_failed | is_lacking)
        texts = []
        for i in rows.tolist():
            parts = []
            if failed[i]:
                parts.append("Không đạt: " + failed[i])
            if missing[i]:
                parts.append("Chưa đủ dữ liệu: " + missing[i])
            texts.append(". ".join(parts if not is_unsure[i] else parts[::-1]))
        reason[rows] = np.array(texts, dtype=object) if texts else reason[rows]

        achieved = pd.Series(True, index=self.index, dtype="boolean")
        achieved[is_excluded | (failed != "")] = False
        achieved[(is_unsure & (failed == "")) | is_lacking] = pd.NA
        undecided = is_unsure | is_lacking
        return pd.DataFrame(
            {
                "outcome": outcome,
                "reason": reason,
                "achieved": achieved,
                "undecided": undecided,
                "missing": np.where(undecided, missing, _EMPTY),
            },
            index=self.index,
        )
