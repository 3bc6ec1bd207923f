"""processor.domain.cells: checks made once over many texts agree with each text on its own."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.domain import schema as S
from processor.domain.cells import (
    _code,
    column,
    is_blank,
    nfc_unchanged,
    parse_cccd,
    parse_choice,
    parse_code,
    parse_dates,
    parse_number,
    parse_text,
)
from processor.domain.vietnamese import nfc

# Letters, a decomposed tone mark, and the whitespace forms come back with: spaces, tabs,
# line breaks, no-break and em spaces.
_TEXT = st.text(alphabet=st.sampled_from("aăêĐ \u0301\t\n\r\xa0\u2003\u3000x"), max_size=12)


@settings(max_examples=500)
@given(st.lists(_TEXT, max_size=6))
def test_nfc_unchanged_is_nfc_leaving_every_text_alone(texts: list[str]) -> None:
    assert nfc_unchanged(texts) == all(nfc(text) == text for text in texts)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["", " ", "tdp 01", "H001", "h 001", "Đ-2"]),
            st.floats(allow_nan=True, allow_infinity=False),
            st.integers(-5, 5),
            st.booleans(),
        ),
        max_size=12,
    )
)
def test_parse_code_is_every_row_mapped_by_pandas(values: list) -> None:
    """Codes made from distinct values are what Series.map made row by row, blanks included
    (NaN beside a text under pandas' string inference)."""
    raw = column(values)
    texts = pd.Series(parse_text(raw), dtype=object)
    expected = texts.map(_code).astype(object).tolist()
    got = parse_code(raw).tolist()
    assert [type(v) for v in got] == [type(v) for v in expected]
    assert [v for v in got if v == v] == [v for v in expected if v == v]


_CELL = st.one_of(
    st.none(),
    _TEXT,
    st.sampled_from(["", " ", "\u200b", "\x1c", "Đạt", "x", "001089012345", "05/01/1980", "1980"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 10**12),
    st.booleans(),
    st.dates(dt.date(1890, 1, 1), dt.date(2110, 1, 1)),
)


@settings(max_examples=300)
@given(st.lists(_CELL, max_size=10))
def test_no_parser_gives_a_blank_text_for_a_cell(values: list) -> None:
    """A blank cell comes back missing (None or NaN), never as a blank text: the intake's
    check for required values (intake._blank) is pandas' isna because of it."""
    raw, labels = column(values), list(range(len(values)))
    typed = [
        parse_cccd(raw, labels)[0],
        parse_dates(raw, labels)[0],
        parse_choice(raw, labels, S.PASS_FAIL)[0],
        parse_choice(raw, labels, S.YES_NO)[0],
        parse_number(raw, labels)[0],
        parse_number(raw, labels, integer=True)[0],
        parse_code(raw),
        parse_text(raw),
    ]
    for values_out in typed:
        assert isinstance(values_out, np.ndarray) and len(values_out) == len(values)
        for value in values_out.tolist():
            assert pd.isna(value) or not is_blank(value)
