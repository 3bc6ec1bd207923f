"""Reporting periods (kỳ): `YYYY-MM`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from processor.domain.errors import KieumauError

_PATTERN = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})\s*$")
_PATTERN_MY = re.compile(r"^\s*(\d{1,2})[-/.](\d{4})\s*$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: object) -> Period:
        """`2021-11`, `2021/11` or `11/2021` (as a clerk may type it); raise on anything else."""
        value = str(text)
        if match := _PATTERN.match(value):
            year, month = int(match[1]), int(match[2])
        elif match := _PATTERN_MY.match(value):
            month, year = int(match[1]), int(match[2])
        else:
            raise KieumauError(f"Kỳ '{value}' không hợp lệ: hãy ghi dạng NĂM-THÁNG, ví dụ 2021-11.")
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise KieumauError(f"Kỳ '{value}' không hợp lệ: tháng phải từ 1 đến 12.")
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    @property
    def label(self) -> str:
        return f"tháng {self.month:02d}/{self.year}"
