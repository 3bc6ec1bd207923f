"""Turning raw cell values into typed values, leniently, column by column (SPEC §2, §7).

Each parser takes a column's raw cell values as an object array (whatever calamine returned:
str, float, int, bool, date, datetime or None) with each value's row label, and returns the
typed values as an object array plus the problems found, as (row label, code, value, detail).
Arrays rather than Series: a file's columns are short, and pandas' cost per Series was a
tenth of reading one. Parsing works on the distinct values of a column and maps
them back, so a 25,000-row column of Đạt/Chưa đạt costs a handful of Python calls.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from processor.domain import schema as S
from processor.domain.vietnamese import fold, nfc

Problem = tuple[Any, str, object, object]  # (row label, issue code, raw value, detail)
_MISSING = object()

# What a unit may type in a Đạt/Chưa đạt or Có/Không cell besides the words themselves: the
# ticks people type most, and short forms. Each is read only where its meaning is not in doubt;
# anything else (`Tốt`, `?`, `-`, `✗`) is not read: the cell is unknown and flagged. These lists
# are written into the catalogue's `Đọc trước` (default_catalogue.README_LINES), so the Ban chỉ
# đạo reads the same rule the code applies.
TICKS = ("x", "X", "v", "V", "✓", "✔", "√", "☑", "+")
MARKS: dict[str, tuple[str, ...]] = {
    S.PASS: ("Đ", *TICKS, "Có", "OK", "1"),
    S.FAIL: ("Không", "Không đạt", "Chưa", "Ko", "0"),
    S.YES: (*TICKS, "Đã đăng ký", "Đăng ký", "Yes", "1"),
    S.NO: ("Chưa", "Chưa đăng ký", "Ko", "No", "0"),
}
# Lenient spellings (SPEC §2 "Input leniency"), compared after fold().
_ALIASES: dict[str, set[str]] = {
    S.PASS: {"true", *(fold(mark) for mark in MARKS[S.PASS])},
    S.FAIL: {"false", *(fold(mark) for mark in MARKS[S.FAIL])},
    S.YES: {"co", "true", *(fold(mark) for mark in MARKS[S.YES])},
    S.NO: {"khong", "false", *(fold(mark) for mark in MARKS[S.NO])},
    S.MALE: {"nam", "m", "male"},
    S.FEMALE: {"nu", "f", "female"},
}
# The words LibreOffice's Vietnamese locale reads as booleans when typed (SPEC §9).
_BOOLEAN_WORDS = {True: "Đúng", False: "Sai"}
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Excel stores a year typed into a date cell (1989) as that many days after its epoch: a date
# in 1905. Birth dates in these years are read as such a year, or refused (a small number typed).
_TYPED_YEAR_DATES = (1900, 1910)
# The apostrophe a user types before a value to keep it as text (Excel hides it, other editors
# keep it), and its typographic forms: never part of a name, a code or a number.
_TEXT_PREFIXES = "'‘’`"
_DATE_TEXT = re.compile(r"^(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_YEAR = re.compile(r"^(\d{4})$")


def is_missing(value: object) -> bool:
    """pandas' isna for one value (None, NaN, NA, NaT), without its call for the usual text and
    whole numbers: the intake asks it of every row's household code and votes."""
    if value is None:
        return True
    kind = value.__class__
    if kind is str or kind is int:
        return False
    if kind is float:
        return value != value
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like value is not one missing value
        return False


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and value.strip() == ""


def _map_unique(
    raw: np.ndarray,
    labels: Sequence[object],
    parse: Callable[[object], tuple[object, str | None, object]],
    bulk: Callable[[list], list[object] | None] | None = None,
) -> tuple[np.ndarray, list[Problem]]:
    """Apply ``parse`` once per distinct value and report problems per row."""
    lookup, codes, problems = _parse_distinct(raw, labels, parse, bulk)
    return lookup[codes], problems


def column(values: Sequence[object]) -> np.ndarray:
    """``values`` as the object array the parsers take."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


# Types whose equal values parse alike (1 and 1.0, or a date and the same date), so a column of
# them can be factorized in C. A bool equals 1 yet parses differently: such a column goes the
# slow way, keyed by type.
_FACTORIZABLE = {str, float, int, type(None), dt.date, dt.datetime, dt.time, dt.timedelta}


def _parse_distinct(
    raw: np.ndarray,
    labels: Sequence[object],
    parse: Callable[[object], tuple[object, str | None, object]],
    bulk: Callable[[list], list[object] | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """(parsed value of each distinct raw value, index into it per row, problems per row).

    ``bulk`` may answer for all the distinct values at once when none of them has a problem
    (None when it cannot tell): the common case of a clean column costs little Python per value.
    """
    if not set(map(type, raw)) <= _FACTORIZABLE:
        return _parse_keyed(raw, labels, parse)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    distinct = uniques.tolist()
    parsed: list[tuple[object, str | None, object]] | None = None
    if bulk is not None and distinct:
        values = bulk(distinct)
        if values is not None:
            parsed = [(v, None, None) for v in values]
    if parsed is None:
        parsed = [parse(u) for u in distinct]
    parsed.append(parse(None))  # the last one answers NA (-1)
    lookup = np.empty(len(parsed), dtype=object)
    lookup[:] = [p[0] for p in parsed]
    problems: list[Problem] = []
    bad = [i for i, p in enumerate(parsed[:-1]) if p[1]]
    if bad:
        for position in np.flatnonzero(np.isin(codes, bad)):
            _, code, detail = parsed[codes[position]]
            problems.append((labels[position], code, raw[position], detail))
    return lookup, codes, problems


def _parse_keyed(
    raw: np.ndarray,
    labels: Sequence[object],
    parse: Callable[[object], tuple[object, str | None, object]],
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    cache: dict[tuple[type, object], int] = {}
    parsed: list[tuple[object, str | None, object]] = []
    codes = np.empty(len(raw), dtype=np.intp)
    problems: list[Problem] = []
    for position, (label, value) in enumerate(zip(labels, raw, strict=True)):
        try:
            key = (type(value), value)
            hash(key)
        except TypeError:
            key = (type(value), repr(value))
        index = cache.get(key)
        if index is None:
            index = cache[key] = len(parsed)
            parsed.append(parse(value))
        codes[position] = index
        _, code, detail = parsed[index]
        if code:
            problems.append((label, code, value, detail))
    lookup = np.empty(len(parsed), dtype=object)
    lookup[:] = [p[0] for p in parsed]
    return lookup, codes, problems


def nfc_unchanged(texts: list[str]) -> bool:
    """True when nfc() leaves every one of ``texts`` as it is, checked in one pass over all of
    them (NUL, a starter that composes with nothing, keeps NFC from crossing between them)."""
    joined = "\x00".join(texts)
    return unicodedata.is_normalized("NFC", joined) and _tidy_spaces(joined)


def _tidy_spaces(joined: str) -> bool:
    """True when no value of the NUL-joined ``joined`` has whitespace nfc() would change: at
    either end, a run, or any whitespace but a plain space. str.split() knows the same
    whitespace as the regular expression `\\s`, and is faster than one searching for these
    cases (benchmarks/README.md, "Figures behind")."""
    return " ".join(joined.split()) == joined and "\x00 " not in joined and " \x00" not in joined


def _tidy_texts(texts: list) -> list[object] | None:
    """parse_text of clean strings: themselves, or None when empty."""
    if not all(type(text) is str for text in texts) or not nfc_unchanged(texts):
        return None
    joined = "\x00".join(texts)
    first = joined[:1]
    if (first and first in _TEXT_PREFIXES) or any(f"\x00{m}" in joined for m in _TEXT_PREFIXES):
        return None
    return [text or None for text in texts]


def typed_text(text: str) -> str:
    """A typed text as it is read: NFC, spaces tidied, without the apostrophe typed before it to
    keep it as text (`'Hoàng Đức Yến`, `'038089012345`)."""
    text = nfc(text)
    if text[:1] in _TEXT_PREFIXES:
        text = nfc(text.lstrip(_TEXT_PREFIXES))
    return text


def as_typed(value: object) -> str:
    """A raw cell value as the unit sees it in the cell, for messages and for the next form:
    `40` not `40.0`, `05/01/1980` not `1980-01-05 00:00:00`, `Đúng` for LibreOffice's TRUE."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return _BOOLEAN_WORDS[value]
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return unicodedata.normalize("NFC", str(value))


def is_name(text: object) -> bool:
    """A person's name holds at least one letter: `=1+1` or `123` is no one's name."""
    return isinstance(text, str) and any(ch.isalpha() for ch in text)


def parse_choice(
    array: np.ndarray, labels: Sequence[object], choices: tuple[str, ...]
) -> tuple[np.ndarray, list[Problem]]:
    folded = {fold(c): c for c in choices}
    aliases = {alias: c for c in choices for alias in _ALIASES.get(c, ())}

    def parse(raw: object):
        if is_blank(raw):
            return None, None, None
        if isinstance(raw, bool):
            # LibreOffice's Vietnamese locale turns some typed words into booleans (SPEC §9):
            # they mean yes/no only in a yes/no column, not as Nam/Nữ.
            if choices in (S.PASS_FAIL, S.YES_NO):
                return choices[0 if raw else 1], None, None
            return None, "VALUE_NOT_ALLOWED", ", ".join(choices)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        key = fold(typed_text(str(raw)))
        if key in folded:
            return folded[key], None, None
        if key in aliases:
            return aliases[key], None, None
        return None, "VALUE_NOT_ALLOWED", ", ".join(choices)

    return _map_unique(array, labels, parse)


def _to_number(raw: object) -> tuple[float | None, bool]:
    """(number, was_text). Accepts `3,5` and `3.5` (a Vietnamese decimal comma)."""
    if isinstance(raw, bool):
        return None, False
    if isinstance(raw, int | float):
        return float(raw), False
    text = typed_text(str(raw)).replace(" ", "").replace("%", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text), True
    except ValueError:
        return None, True


def range_text(minimum: float | None, maximum: float | None) -> str:
    """'từ 0 đến 10', as the messages about a number's bounds say it."""
    span = []
    if minimum is not None:
        span.append(f"từ {minimum:g}")
    if maximum is not None:
        span.append(f"đến {maximum:g}")
    return " ".join(span)


def parse_number(
    array: np.ndarray,
    labels: Sequence[object],
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> tuple[np.ndarray, list[Problem]]:
    detail_range = range_text(minimum, maximum)

    def parse(raw: object):
        if is_blank(raw):
            return None, None, None
        number, was_text = _to_number(raw)
        if number is None or not math.isfinite(number):  # NaN, or 'inf' / 1e999 typed
            return None, "NUMBER_INVALID", f" {detail_range}" if detail_range else ""
        if integer and not float(number).is_integer():
            return None, "NUMBER_INVALID", " nguyên"
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            return None, "NUMBER_OUT_OF_RANGE", detail_range
        value = int(number) if integer else number
        if was_text:
            return value, "NUMBER_AS_TEXT", f"{number:g}"
        return value, None, None

    def bulk(values: list) -> list[object] | None:
        """Numbers typed as numbers, all in range, and empty cells."""
        numbers = [v for v in values if type(v) is float]
        if len(numbers) + values.count("") != len(values):
            return None
        array = np.array(numbers, dtype=float)
        if not np.isfinite(array).all() or (np.abs(array) > 2.0**53).any():
            return None
        if integer and not (array == np.trunc(array)).all():
            return None
        if (minimum is not None and (array < minimum).any()) or (
            maximum is not None and (array > maximum).any()
        ):
            return None
        typed = iter(array.astype(np.int64).tolist() if integer else numbers)
        return [None if type(v) is str else next(typed) for v in values]

    return _map_unique(array, labels, parse, bulk)


def parse_text(raw: np.ndarray) -> np.ndarray:
    def one(value: object) -> tuple[object, None, None]:
        return _text(value), None, None

    return _map_unique(raw, range(len(raw)), one, _tidy_texts)[0]


def _text(raw: object) -> object:
    if is_blank(raw):
        return None
    if isinstance(raw, bool):
        # A typed `Đúng` / `Sai` that LibreOffice's Vietnamese locale made TRUE / FALSE.
        return _BOOLEAN_WORDS[raw]
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime | dt.date):
        return raw.strftime("%d/%m/%Y")
    return typed_text(str(raw)) or None


def parse_code(raw: np.ndarray) -> np.ndarray:
    """Codes (household, task, unit): text, upper-cased, with the `.0` of a number removed."""

    def one(value: object) -> tuple[object, None, None]:
        return _text(value), None, None

    lookup, codes, _ = _parse_distinct(raw, range(len(raw)), one, _tidy_texts)
    # Codes were once mapped row by row with Series.map, which gives a blank beside a text
    # back as whatever pandas makes of it (_BLANK_BESIDE_TEXT); the distinct values present
    # (texts and None alone, from _text) get the same here without pandas' cost per call.
    present = np.unique(codes)
    mapped = [_code(value) for value in lookup[present]]
    if None in mapped and any(type(value) is str for value in mapped):
        mapped = [_BLANK_BESIDE_TEXT if value is None else value for value in mapped]
    coded = np.empty(len(lookup), dtype=object)
    coded[present] = mapped
    return coded[codes]


def _code(text: object) -> object:
    return text.upper().replace(" ", "") if isinstance(text, str) else text


# NaN where pandas infers a string dtype from texts and a blank (pandas 3), None before.
_BLANK_BESIDE_TEXT = pd.Series(["A", None], dtype=object).map(_code).astype(object).iloc[1]


def _date_from_text(text: str) -> tuple[dt.date | None, int | None, bool]:
    """(date, year, read month first) of a typed date: day first, as Vietnamese write it; month
    first only when day first is impossible and month first is not (`12/25/1980`)."""
    if match := _DATE_TEXT.match(text):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        try:
            return dt.date(year, second, first), year, False
        except ValueError:
            pass
        if second > 12:
            try:
                return dt.date(year, first, second), year, True
            except ValueError:
                pass
        return None, None, False
    if match := _ISO_DATE.match(text):
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3])), int(match[1]), False
        except ValueError:
            return None, None, False
    if match := _YEAR.match(text):
        return None, int(match[1]), False
    return None, None, False


def _one_order_only(text: str) -> bool:
    """A typed date that is a date one way only, day first or month first (`25/12/1980`)."""
    match = _DATE_TEXT.match(text)
    if match is None:
        return False
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    return _is_date(year, second, first) != _is_date(year, first, second)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _either_order(day: dt.date) -> bool:
    return day.day <= 12 and day.day != day.month


def parse_dates(
    array: np.ndarray,
    labels: Sequence[object],
    earliest: int = 1900,
    latest: int = 2100,
    birth: bool = False,
) -> tuple[np.ndarray, pd.arrays.IntegerArray, list[Problem]]:
    """Birth dates and the like: returns (dates, years, problems).

    Accepts real dates, Excel serial numbers, `05/01/1980` (5 January), `5-1-1980`, ISO text,
    `12/25/1980` (month first, the only way it reads) and a bare year (kept as the year alone,
    with a warning). For ``birth`` dates, also:

    - a date in 1900-1910 is a year typed into a date cell (Excel stores 1989 as 11/06/1905):
      read as that year, or refused when it is no year (a small number typed);
    - when a typed date in the column reads one way only (`25/12/1980`), the cells were typed
      in an Excel whose order of day and month may not be ours: a real date that reads both
      ways (02/06/1966) is not trusted, and flagged (DATE_AMBIGUOUS).
    """
    lookup, codes, problems = _parse_distinct(
        array,
        labels,
        partial(_date_cell, earliest=earliest, latest=latest, birth=birth),
        partial(_real_dates, birth=birth),
    )
    day_of = np.empty(len(lookup), dtype=object)
    day_of[:] = [pair[0] for pair in lookup]
    year_of = pd.array([pair[1] for pair in lookup], dtype="Int64")
    days, years = day_of[codes], year_of[codes]
    if birth and any(type(v) is str and _one_order_only(typed_text(v)) for v in array):
        _distrust_either_order(array, labels, days, years, problems)
    return days, years, problems


def _date_cell(raw: object, earliest: int, latest: int, birth: bool):
    """One distinct cell of a date column: ((date, year), problem code, detail)."""
    if is_blank(raw):
        return (None, None), None, None
    if isinstance(raw, dt.datetime | dt.date):
        day = raw.date() if isinstance(raw, dt.datetime) else raw
        if birth and _TYPED_YEAR_DATES[0] <= day.year <= _TYPED_YEAR_DATES[1]:
            serial = (day - _EXCEL_EPOCH.date()).days
            if earliest <= serial <= latest:
                return (None, serial), "DATE_TYPED_YEAR", serial
            return (None, None), "DATE_IMPLAUSIBLE", "có lẽ là một số gõ vào ô định dạng Ngày"
        return (day, day.year), None, None
    if isinstance(raw, bool):
        return (None, None), "DATE_INVALID", None
    if isinstance(raw, int | float):
        number = float(raw)
        if number.is_integer() and earliest <= number <= latest:
            return (None, int(number)), "DATE_YEAR_ONLY", None
        if 1 <= number < 2958466:
            day = (_EXCEL_EPOCH + dt.timedelta(days=int(number))).date()
            if earliest <= day.year <= latest:
                # A date cell reads back as a date; a bare serial means the cell lost its
                # date format, so say how it was read (SPEC §7).
                return (day, day.year), "DATE_SERIAL", day.strftime("%d/%m/%Y")
        return (None, None), "DATE_INVALID", None
    text = typed_text(str(raw))
    day, year, month_first = _date_from_text(text)
    if year is None or not earliest <= year <= latest:
        return (None, None), "DATE_INVALID", None
    if day is None:
        return (None, year), "DATE_YEAR_ONLY", None
    code = "DATE_MONTH_FIRST" if month_first else "DATE_AS_TEXT"
    return (day, year), code, day.strftime("%d/%m/%Y")


def _real_dates(values: list, birth: bool) -> list[object] | None:
    """The fast path: a column of real dates and empty cells, else None."""
    if not all(type(v) is dt.date or v == "" for v in values):
        return None
    if birth and any(
        type(v) is dt.date and _TYPED_YEAR_DATES[0] <= v.year <= _TYPED_YEAR_DATES[1]
        for v in values
    ):
        return None
    return [(v, v.year) if type(v) is dt.date else (None, None) for v in values]


def _distrust_either_order(
    array: np.ndarray,
    labels: Sequence[object],
    days: np.ndarray,
    years: pd.arrays.IntegerArray,
    problems: list[Problem],
) -> None:
    """In a column where someone typed day and month in the other order, a real date that reads
    both ways is unknown, and flagged."""
    for position, value in enumerate(array):
        if isinstance(value, dt.date) and days[position] is not None:
            day = days[position]
            if _either_order(day):
                swapped = dt.date(day.year, day.day, day.month)
                shown = f"{day:%d/%m/%Y} hoặc {swapped:%d/%m/%Y}"
                problems.append((labels[position], "DATE_AMBIGUOUS", value, shown))
                days[position] = None
                years[position] = pd.NA


def parse_cccd(array: np.ndarray, labels: Sequence[object]) -> tuple[np.ndarray, list[Problem]]:
    """12-digit citizen ID, always as text; an 11-digit number lost its leading zero in a
    General-formatted cell, which is restored with a warning."""

    def parse(raw: object):
        if is_blank(raw):
            return None, None, None
        was_number = isinstance(raw, int | float) and not isinstance(raw, bool)
        if was_number:
            if not math.isfinite(raw) or float(raw) != int(raw):
                return None, "CCCD_LENGTH", "không phải số nguyên"
            digits = str(int(raw))
        else:
            digits = re.sub(r"[\s.\-]", "", typed_text(str(raw)))
        if not digits.isdigit():
            return None, "CCCD_LENGTH", "có ký tự không phải chữ số"
        if was_number and len(digits) in (10, 11):
            fixed = digits.zfill(12)
            return fixed, "CCCD_LEADING_ZERO", fixed
        if len(digits) != 12:
            return None, "CCCD_LENGTH", f"có {len(digits)} chữ số"
        return digits, None, None

    def bulk(texts: list) -> list[object] | None:
        if not all(type(text) is str for text in texts):
            return None
        return [t or None for t in texts] if _CCCD_ALL.fullmatch("\x00".join(texts)) else None

    return _map_unique(array, labels, parse, bulk)


# Twelve ASCII digits or nothing each, NUL-joined: nothing for parse_cccd to change or report.
_CCCD_ALL = re.compile(r"(?:[0-9]{12})?(?:\x00(?:[0-9]{12})?)*")
