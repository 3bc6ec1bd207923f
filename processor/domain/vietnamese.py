"""Vietnamese language rules: the one place for them.

Text normalisation (NFC, spaces, accent-free matching keys), Vietnamese name order for lists
(SPEC §6), numbers in words (DOCUMENT_FORMAT.md, Điều 1) and dates.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Return ``text`` in NFC with runs of whitespace collapsed and the ends stripped.

    Forms come back from Excel, LibreOffice and macOS mail clients; the last two may hand us
    decomposed Unicode (NFD), which looks identical but compares unequal.
    """
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Accent-free lower-case key to match labels and lenient values (`Chưa đạt` ~ `chua dat`)."""
    decomposed = unicodedata.normalize("NFD", nfc(text).replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


# Vietnamese alphabet (SPEC §6). Letters outside it (f, j, w, z, digits) sort after by code point.
_ALPHABET = [
    "a",
    "ă",
    "â",
    "b",
    "c",
    "d",
    "đ",
    "e",
    "ê",
    "g",
    "h",
    "i",
    "k",
    "l",
    "m",
    "n",
    "o",
    "ô",
    "ơ",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "ư",
    "v",
    "x",
    "y",
]
_LETTER_RANK = {letter: i for i, letter in enumerate(_ALPHABET)}
# Dictionary order of tones: ngang, huyền, hỏi, ngã, sắc, nặng.
_TONE_RANK = {"": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_LETTER_MARKS = {"\u0302", "\u0306", "\u031b"}  # circumflex, breve, horn: part of the letter


def _char_key(char: str) -> tuple[int, int]:
    """A lower-case character's (letter rank, tone rank): ``ế`` is ê with sắc."""
    decomposed = unicodedata.normalize("NFD", char)
    marks = decomposed[1:]
    letter_marks = "".join(m for m in marks if m in _LETTER_MARKS)
    tone_marks = "".join(m for m in marks if m not in _LETTER_MARKS)
    letter = unicodedata.normalize("NFC", decomposed[0] + letter_marks)
    rank = _LETTER_RANK.get(letter)
    return (rank if rank is not None else 100 + ord(letter)), _TONE_RANK.get(tone_marks, 9)


# Every letter of the alphabet with every tone, worked out once: a name's key is then looked up
# letter by letter (a decision sorts 150,000 names).
_CHAR_KEYS = {
    unicodedata.normalize("NFC", letter + tone): _char_key(
        unicodedata.normalize("NFC", letter + tone)
    )
    for letter in _ALPHABET
    for tone in _TONE_RANK
}


def _letter_keys(word: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A word's letter ranks and tone ranks; ``word`` is in NFC already (name_sort_key)."""
    keys = [_CHAR_KEYS.get(char) or _char_key(char) for char in word.lower()]
    return tuple(letter for letter, _ in keys), tuple(tone for _, tone in keys)


def name_sort_key(full_name: str) -> tuple:
    """Sort key for a Vietnamese full name: given name first, then the rest, tone marks last.

    ``sorted(names, key=name_sort_key)`` puts "Trần Văn An" before "Lê Thị Bình" (An < Bình),
    and "Lê Văn Ba" before "Lê Văn Bá" (the tone only breaks the tie).
    """
    words = nfc(full_name).split(" ")
    ordered = [words[-1], *words[:-1]] if words else []
    keys = [_letter_keys(word) for word in ordered]
    return (tuple(k[0] for k in keys), tuple(k[1] for k in keys), full_name)


_DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
_SCALES = ["", "nghìn", "triệu", "tỷ"]


def _three_digits(n: int, full: bool) -> list[str]:
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if full or hundreds:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units:
        if units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        else:
            words.append(_DIGITS[units])
    return words


def number_in_words(n: int) -> str:
    """Vietnamese words for a non-negative integer: 123 -> "một trăm hai mươi ba"."""
    if n < 0:
        raise ValueError("number_in_words expects n >= 0")
    if n == 0:
        return "không"
    groups: list[int] = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    words: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        words += _three_digits(group, full=bool(words))
        # Counts in decisions stay far below a thousand billion.
        scale = _SCALES[index] if index < len(_SCALES) else ""
        if scale:
            words.append(scale)
    return " ".join(words)


def count_with_words(n: int) -> str:
    """`123 (một trăm hai mươi ba)`, the form used in Điều 1 of a decision."""
    return f"{n:,}".replace(",", ".") + f" ({number_in_words(n)})"


def date_vi(day: dt.date) -> str:
    """`ngày 05 tháng 01 năm 2021`: days below 10 and months 1-2 take a leading zero."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def format_number(value: float, decimals: int = 1) -> str:
    """Vietnamese number format: `1.234,5` (dot for thousands, comma for decimals)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
