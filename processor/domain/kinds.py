"""Criterion kinds: one class per word of the catalogue's `Loại` column (SPEC §2).

A kind owns everything that depends on it, in the manner of frictionless-py's field types: what
the catalogue row must give (`check`), how the criterion appears on a unit's form (`column`,
`bounds`, `how_to_fill`), how its cells are read (`read`), whether a value meets it (`passes`:
True, False or <NA> for "not known"), the points it earns, how a value is worded in a Lý do
(`fail_text`), whether it counts years (`counts_years`), and a plausible value for the sample
town (`sample`). An instance is bound to one criterion: ``criterion.rules``.

Adding a kind is one class here, registered in `KINDS`: the catalogue's `Loại` dropdown and its
check, the `Đọc trước` line, the forms, the reader and the scoring follow. Code elsewhere asks
``criterion.rules`` and never compares the kind's word.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from processor.domain import cells
from processor.domain import schema as S

if TYPE_CHECKING:
    from processor.domain.catalogue import Criterion

# (catalogue column key, message): a problem of one catalogue row, reported at that column's cell.
Problem = Callable[[str, str], None]

_COMPARE = {
    "≥": operator.ge,
    ">": operator.gt,
    "≤": operator.le,
    "<": operator.lt,
    "=": operator.eq,
}


def number_text(value: object, unit_of_measure: str = "") -> str:
    """A measured value as a Lý do shows it: `66,67%`, `2 năm`; '' when there is none."""
    if cells.is_missing(value):
        return ""
    number = f"{float(value):g}".replace(".", ",")  # type: ignore[arg-type]
    if unit_of_measure == "%":
        return number + "%"
    return f"{number} {unit_of_measure}" if unit_of_measure else number


class CriterionKind:
    """The behaviour every kind shares (a number compared with the criterion's threshold); a
    kind overrides what differs."""

    code: ClassVar[str]
    description: ClassVar[str]  # its line in the catalogue's Đọc trước sheet
    on_form: ClassVar[bool] = True  # False: computed from the level below, never typed
    numeric: ClassVar[bool] = True  # a number (on the unit sheet: Giá trị đo được), not Đạt
    earns_points: ClassVar[bool] = False  # counts towards a title's Số điểm tối thiểu

    def __init__(self, criterion: Criterion) -> None:
        self.criterion = criterion

    def check(self, problem: Problem) -> None:
        """Report what the catalogue row lacks for this kind (the loader collects them)."""

    def column(self) -> S.Column:
        """The criterion's column on the citizen or household sheet of a form."""
        c = self.criterion
        return S.Column(c.code, c.label, "number", False, (), 14)

    def bounds(self) -> tuple[float, float] | None:
        """Least and greatest value a unit may write (the form's validation and the reader's
        check), or None when any number from 0 up will do."""
        return None

    def how_to_fill(self) -> str:
        """How the form's Hướng dẫn sheet tells a unit to fill the criterion."""
        raise NotImplementedError

    def read(
        self, raw: np.ndarray, labels: Sequence[object]
    ) -> tuple[np.ndarray, list[cells.Problem]]:
        """The typed values of a column of cells, and the problems found (see `cells`)."""
        low, high = self.bounds() or (0, None)
        return cells.parse_number(raw, labels, minimum=low, maximum=high)

    def passes(self, values: pd.Series) -> pd.Series:
        """Whether each value meets the criterion: True, False, or <NA> when it is blank."""
        c = self.criterion
        numbers = pd.to_numeric(values, errors="coerce").astype("Float64")
        if c.comparator is None or c.threshold is None:
            return (numbers >= (c.points or 0)).astype("boolean")
        return _COMPARE[c.comparator](numbers, c.threshold).astype("boolean")

    def points(self, values: pd.Series) -> pd.Series | None:
        """The points each value earns towards a title's `Số điểm tối thiểu` (None: none)."""
        return None

    def measured(self, values: pd.Series) -> pd.Series | None:
        """The numbers a Lý do quotes (None for a kind without a measure)."""
        return pd.to_numeric(values, errors="coerce")

    def value_text(self, value: object) -> str:
        return number_text(value, self.criterion.unit_of_measure)

    def need_text(self) -> str:
        """What the criterion asks for, as a Lý do says it: `cần ≥ 3 năm`."""
        c = self.criterion
        if c.comparator is None or c.threshold is None:
            return f"cần {number_text(c.points or 0, c.unit_of_measure)}"
        return f"cần {c.comparator} {number_text(c.threshold, c.unit_of_measure)}"

    def fail_text(self, value: object = None) -> str:
        """A failed criterion in a Lý do: its label, and the value against what is needed."""
        c = self.criterion
        label = c.label + (" (bắt buộc)" if c.mandatory else "")
        shown = self.value_text(value)
        return f"{label}: {shown} ({self.need_text()})" if shown else label

    def counts_years(self) -> bool:
        """Whether the value counts consecutive years: it moves on at the turn of the year and
        is carried from earlier months when left blank (see scoring.conditions)."""
        return False

    def sample(self, rng: random.Random, chance: float) -> object:
        """A value for the sample town, meeting the criterion with probability ``chance``."""
        raise NotImplementedError


def _needs_comparison(criterion: Criterion, problem: Problem) -> None:
    if criterion.comparator is None:
        problem(
            "comparator",
            f"tiêu chí loại '{criterion.kind}' cần phép so sánh ({', '.join(S.COMPARATORS)}).",
        )
    if criterion.threshold is None:
        problem("threshold", f"tiêu chí loại '{criterion.kind}' cần ngưỡng.")


class Dat(CriterionKind):
    """A mark: met when the unit writes the first of ``words`` (Đạt), failed on the second."""

    code = "dat"
    description = "dat = Đạt/Chưa đạt"
    numeric = False
    words: ClassVar[tuple[str, str]] = S.PASS_FAIL

    def column(self) -> S.Column:
        c = self.criterion
        return S.Column(c.code, c.label, "choice", False, self.words, 14)

    def how_to_fill(self) -> str:
        return " / ".join(self.words)

    def read(
        self, raw: np.ndarray, labels: Sequence[object]
    ) -> tuple[np.ndarray, list[cells.Problem]]:
        return cells.parse_choice(raw, labels, self.words)

    def passes(self, values: pd.Series) -> pd.Series:
        met, failed = self.words
        result = pd.Series(pd.NA, index=values.index, dtype="boolean")
        result[values.eq(met).fillna(False).astype(bool)] = True
        result[values.eq(failed).fillna(False).astype(bool)] = False
        return result

    def measured(self, values: pd.Series) -> pd.Series | None:
        return None

    def value_text(self, value: object) -> str:
        return ""

    def sample(self, rng: random.Random, chance: float) -> object:
        met, failed = self.words
        return met if rng.random() < chance else failed


class Diem(CriterionKind):
    code = "diem"
    description = "diem = chấm điểm (0 đến Điểm tối đa)"
    earns_points = True

    def check(self, problem: Problem) -> None:
        points = self.criterion.points
        if points is None or points <= 0:
            problem("points", "tiêu chí loại 'diem' cần số điểm tối đa lớn hơn 0.")

    def column(self) -> S.Column:
        c = self.criterion
        return S.Column(c.code, c.label, "number", False, (), 14, note=f"0..{c.points:g}")

    def bounds(self) -> tuple[float, float] | None:
        points = self.criterion.points
        return (0, points) if points else None

    def how_to_fill(self) -> str:
        return f"điểm từ 0 đến {self.criterion.points:g}"

    def points(self, values: pd.Series) -> pd.Series | None:
        return pd.to_numeric(values, errors="coerce")

    def sample(self, rng: random.Random, chance: float) -> object:
        points = self.criterion.points or 10
        return float(round(points * min(1.0, chance + rng.uniform(-0.15, 0.1))))


class So(CriterionKind):
    code = "so"
    description = "so = một số (năm, %, số lượng) so với Ngưỡng"

    def check(self, problem: Problem) -> None:
        _needs_comparison(self.criterion, problem)

    def how_to_fill(self) -> str:
        c = self.criterion
        return f"nhập số ({c.unit_of_measure or 'số'}), đạt khi {c.comparator} {c.threshold:g}"

    def counts_years(self) -> bool:
        return self.criterion.unit_of_measure.strip().lower() == "năm"

    def sample(self, rng: random.Random, chance: float) -> object:
        # Values around the threshold.
        threshold = self.criterion.threshold or 0
        meets = rng.random() < chance
        if self.criterion.comparator in ("≥", ">"):
            return (
                float(threshold + rng.randint(1, 4))
                if meets
                else float(max(0, threshold - rng.randint(1, 2)))
            )
        return (
            round(threshold * rng.uniform(0.2, 0.9), 1)
            if meets
            else round(threshold * rng.uniform(1.05, 1.8), 1)
        )


class TongHop(CriterionKind):
    code = "tong_hop"
    description = (
        "tong_hop = tính tự động từ cấp dưới: Nguồn tổng hợp là mã danh hiệu cấp dưới (vd. CD: "
        "tỷ lệ thành viên đạt danh hiệu) hoặc mã tiêu chí cấp dưới (vd. CD04: tỷ lệ thành viên "
        "đạt tiêu chí đó), so với Ngưỡng (%)"
    )
    on_form = False

    def check(self, problem: Problem) -> None:
        _needs_comparison(self.criterion, problem)
        if not self.criterion.source:
            problem(
                "source",
                "tiêu chí loại 'tong_hop' cần nguồn tổng hợp: mã danh hiệu cấp dưới (vd. CD) "
                "hoặc mã tiêu chí cấp dưới (vd. CD04).",
            )

    def how_to_fill(self) -> str:
        return "tính tự động"


# The registry: the catalogue's Loại words, in the order its dropdown offers them.
KINDS: dict[str, type[CriterionKind]] = {kind.code: kind for kind in (Dat, Diem, So, TongHop)}
