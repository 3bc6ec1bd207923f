"""processor.cells: checks made once over many texts agree with each text on its own."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.cells import _code, column, nfc_unchanged, parse_code, parse_text
from processor.vietnamese import nfc

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
