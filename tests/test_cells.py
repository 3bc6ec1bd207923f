"""processor.cells: checks made once over many texts agree with each text on its own."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from processor.cells import nfc_unchanged
from processor.vietnamese import nfc

# Letters, a decomposed tone mark, and the whitespace forms come back with: spaces, tabs,
# line breaks, no-break and em spaces.
_TEXT = st.text(alphabet=st.sampled_from("aăêĐ \u0301\t\n\r\xa0\u2003\u3000x"), max_size=12)


@settings(max_examples=500)
@given(st.lists(_TEXT, max_size=6))
def test_nfc_unchanged_is_nfc_leaving_every_text_alone(texts: list[str]) -> None:
    assert nfc_unchanged(texts) == all(nfc(text) == text for text in texts)
