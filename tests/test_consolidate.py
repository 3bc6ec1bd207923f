"""Stacking the units' rows (consolidate._stack) against its plain definition."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from processor.scoring.consolidate import _stack


def _reference(subs: list[SimpleNamespace]) -> pd.DataFrame:
    """Each file's rows with its unit and file name, stacked."""
    frames = [
        s.citizens.assign(unit_code=s.unit_code, source_file=s.name)
        for s in subs
        if not s.citizens.empty
    ]
    return pd.concat(frames, ignore_index=True)


def _sub(name: str, unit: str | None, frame: pd.DataFrame) -> SimpleNamespace:
    return SimpleNamespace(name=name, unit_code=unit, citizens=frame)


@pytest.mark.parametrize("shapes", ["same", "different"])
def test_stacked_rows_are_each_files_rows_with_its_unit(shapes: str) -> None:
    first = pd.DataFrame({"full_name": ["An", "Bình"], "_row": [5, 6]}, dtype=object)
    second = pd.DataFrame({"full_name": ["Chi"], "_row": [5]}, dtype=object)
    if shapes == "different":  # a column only the second file has comes after the unit's
        second["note"] = ["ghi chú"]
    subs = [
        _sub("a.xlsx", "TDP01", first),
        _sub("trống.xlsx", "TDP02", first.iloc[0:0]),
        _sub("b.xlsx", "TDP03", second),
        _sub("c.xlsx", None, first),
    ]
    stacked = _stack(subs, "citizens")
    pd.testing.assert_frame_equal(stacked, _reference(subs), check_exact=True)
    assert stacked["unit_code"].tolist() == ["TDP01", "TDP01", "TDP03", None, None]
