"""Language rules: NFC, name order, numbers in words, dates."""

from __future__ import annotations

import datetime as dt
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from processor.domain.vietnamese import (
    count_with_words,
    date_vi,
    fold,
    name_sort_key,
    nfc,
    number_in_words,
)


def test_nfc_joins_decomposed_text_and_spaces() -> None:
    decomposed = unicodedata.normalize("NFD", "  Công   dân ")
    assert nfc(decomposed) == "Công dân"
    assert fold("Chưa  ĐẠT") == "chua dat"


def test_name_order_given_name_first_tones_break_ties() -> None:
    names = [
        "Lê Văn Bá",
        "Trần Văn An",
        "Lê Thị Bình",
        "Lê Văn Ba",
        "Nguyễn Đức Đạt",
        "Phạm Dũng",
        "Vũ Thị Ánh",
    ]
    assert sorted(names, key=name_sort_key) == [
        "Trần Văn An",
        "Vũ Thị Ánh",
        "Lê Văn Ba",
        "Lê Văn Bá",
        "Lê Thị Bình",
        "Phạm Dũng",
        "Nguyễn Đức Đạt",
    ]


def test_alphabet_order_of_modified_letters() -> None:
    # a < ă < â, d < đ, o < ô < ơ, u < ư
    assert sorted(["Âu", "Ăn", "An"], key=name_sort_key) == ["An", "Ăn", "Âu"]
    assert sorted(["Đào", "Dao"], key=name_sort_key) == ["Dao", "Đào"]
    assert sorted(["Ơn", "Ôn", "On"], key=name_sort_key) == ["On", "Ôn", "Ơn"]


def test_numbers_in_words() -> None:
    assert number_in_words(123) == "một trăm hai mươi ba"
    assert number_in_words(15) == "mười lăm"
    assert number_in_words(21) == "hai mươi mốt"
    assert number_in_words(105) == "một trăm linh năm"
    assert number_in_words(1005) == "một nghìn không trăm linh năm"
    assert number_in_words(25000) == "hai mươi lăm nghìn"
    assert count_with_words(1234) == "1.234 (một nghìn hai trăm ba mươi bốn)"


def test_dates_take_leading_zeros() -> None:
    assert date_vi(dt.date(2021, 1, 5)) == "ngày 05 tháng 01 năm 2021"
    assert date_vi(dt.date(2021, 11, 25)) == "ngày 25 tháng 11 năm 2021"


@given(st.integers(min_value=0, max_value=10**9))
def test_number_words_are_never_empty_and_nfc(n: int) -> None:
    words = number_in_words(n)
    assert words and words == unicodedata.normalize("NFC", words)
    assert "  " not in words
