"""History across months: re-runs replace a period, progress spans months (registration and
multi-year counts from history: tests/test_rules.py)."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.domain.errors import HistoryError
from processor.store.history import History
from tests.conftest import all_tasks_done, citizen, household, make_form

RESULT_SHEETS = ("Công dân", "Hộ gia đình", "Tổ dân phố", "Theo tiêu chí", "Theo đơn vị")


def run(inbox: Path, period: str, root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["run", str(inbox), "--ky", period, "--out", str(root / "out"), "--kho", str(root / "kho")],
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def sheets(path: Path) -> dict[str, list]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in RESULT_SHEETS}


def month(
    catalogue,
    folder: Path,
    period: str,
    *,
    registered: str = "Có",
    gd01=5,
    extra: list | None = None,
) -> Path:
    tasks = all_tasks_done(catalogue)
    rows = [
        citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 1, 1), registered=registered),
        citizen("TDP01-H001", "Trần Thị Bình", dt.date(1972, 1, 1)),
        *(extra or []),
    ]
    make_form(
        catalogue,
        folder,
        "TDP01",
        period,
        rows,
        [household("TDP01-H001", "Nguyễn Văn An", GD01=gd01)],
        tasks,
    )
    make_form(
        catalogue, folder, "CQ01", period, [citizen(None, "Hoàng Văn Phúc", dt.date(1990, 1, 1))]
    )
    return folder


def test_rerun_and_reordered_inbox_give_identical_results(tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parent.parent / "samples" / "inbox"
    picked = sorted(samples.glob("*.xlsx"))[:4]
    first = tmp_path / "a" / "inbox"
    first.mkdir(parents=True)
    for path in picked:
        shutil.copy(path, first / path.name)
    # Same files, other names, other order, other times.
    second = tmp_path / "b" / "inbox"
    (second / "sub").mkdir(parents=True)
    for i, path in enumerate(reversed(picked)):
        target = second / ("sub" if i % 2 else "") / f"{i}_gui_lai.xlsx"
        shutil.copy(path, target)
        os.utime(target, (1_000_000 + i, 1_000_000 + i))
    run(first, "2021-11", tmp_path / "a")
    run(first, "2021-11", tmp_path / "a")  # a re-run of the same period replaces it
    run(second, "2021-11", tmp_path / "b")
    a = sheets(tmp_path / "a" / "out" / "2021-11" / "tong_hop_2021-11.xlsx")
    b = sheets(tmp_path / "b" / "out" / "2021-11" / "tong_hop_2021-11.xlsx")
    assert a == b
    db = sqlite3.connect(tmp_path / "a" / "kho" / "lich_su.sqlite")
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 4


def test_progress_spans_months(catalogue, tmp_path: Path) -> None:
    month(catalogue, tmp_path / "t10", "2021-10")
    month(catalogue, tmp_path / "t11", "2021-11")
    run(tmp_path / "t10", "2021-10", tmp_path)
    code, _ = run(tmp_path / "t11", "2021-11", tmp_path)
    assert code == 0
    rows = (
        CalamineWorkbook.from_path(str(tmp_path / "out" / "2021-11" / "tong_hop_2021-11.xlsx"))
        .get_sheet_by_name("Tiến độ")
        .to_python()
    )
    header = rows[1]
    assert "T10/2021" in header and "T11/2021" in header
    assert any(r[0] == "TDP01" and r[3] == "Đạt (%)" for r in rows)


# --- the store's payloads: format 2 holds what format 1 held ------------------------------------


def _format_1(frame: pd.DataFrame) -> str:
    """How stores written before format 2 encoded one unit's rows (kept to test against)."""
    plain = frame.astype(object).where(frame.notna(), None)
    return json.dumps(
        {"columns": [str(c) for c in frame.columns], "data": plain.to_numpy().tolist()},
        ensure_ascii=False,
        default=str,
    )


def _load_format_1(payloads: list[tuple[str, str]]) -> pd.DataFrame:
    """What History.load returned for format 1 payloads: a frame per unit, concatenated."""
    frames = [
        pd.DataFrame(json.loads(p)["data"], columns=json.loads(p)["columns"], dtype=object).assign(
            unit_code=unit
        )
        for unit, p in payloads
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _cells(frame: pd.DataFrame) -> list:
    """Every cell with its exact type (1, 1.0 and True differ; NaN equals NaN)."""
    return [
        [(type(v), "nan" if isinstance(v, float) and math.isnan(v) else v) for v in column]
        for column in (frame.iloc[:, i].tolist() for i in range(frame.shape[1]))
    ]


def assert_same_load(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got.columns.dtype == expected.columns.dtype
    assert got.dtypes.to_dict() == expected.dtypes.to_dict()
    assert got.index.equals(expected.index)
    assert _cells(got) == _cells(expected)


def _save(path: Path, frame: pd.DataFrame, period: str = "2021-11") -> None:
    with History(path) as history:
        history.save_period(
            period,
            dt.datetime(2021, 11, 30),
            "inbox",
            [],
            {"citizens": frame},
            {},
            pd.DataFrame(),
        )


def _expected(frame: pd.DataFrame, unit_code: str | None = None) -> pd.DataFrame:
    groups = [
        (unit, _format_1(group.drop(columns=["unit_code"])))
        for unit, group in frame.groupby("unit_code", sort=True)
        if unit_code is None or unit == unit_code
    ]
    return _load_format_1(groups)


def _mixed_frame(rows: int) -> pd.DataFrame:
    """Columns of every kind the batch hands over, with repeats, gaps and odd values."""
    units = np.array(["TDP02", "TDP01", None, "CQ01"], dtype=object)[np.arange(rows) % 4]
    frame = pd.DataFrame(
        {
            "row_no": pd.Series([i + 1 for i in range(rows)], dtype=object),
            "full_name": [f"Nguyễn Văn {i}" for i in range(rows)],
            # blank in the first rows, all different after: looks repeated, is not
            "cccd": [None if i < rows // 3 else f"0370{i:08d}" for i in range(rows)],
            "birth_year": pd.array([1950 + i % 60 for i in range(rows)], dtype="Int64"),
            "age": pd.array([None if i % 7 == 0 else i for i in range(rows)], dtype="Int64"),
            "birth_date": [dt.date(1950 + i % 60, 1 + i % 12, 1) for i in range(rows)],
            "meeting": [
                dt.datetime(2021, 11, 1, 8) if i % 3 == 0 else dt.date(2021, 11, 2)
                for i in range(rows)
            ],
            "CD01": [("Đạt", "Chưa đạt", None, float("nan"))[i % 4] for i in range(rows)],
            "votes": [(56, None, 3.5, True, np.int64(7))[i % 5] for i in range(rows)],
            "_row": np.arange(rows, dtype=np.int64) + 4,
            "big": [2**70 if i == 1 else i for i in range(rows)],
            "share": [0.5 if i % 2 else float("nan") for i in range(rows)],
            # json writes Infinity; orjson would write null, a missing value (in a unit
            # without "big", which orjson refuses whatever else its rows hold)
            "ratio": [float("-inf") if i == 3 else 0.25 for i in range(rows)],
            "flag": [bool(i % 2) for i in range(rows)],
            "note": [None] * rows,
            "source_file": pd.array([f"{u}_2021-11.xlsx" for u in units], dtype="str"),
            "unit_code": pd.array(units, dtype="str"),
        }
    )
    return frame


def test_store_loads_what_format_1_loaded(tmp_path: Path) -> None:
    frame = _mixed_frame(3000)  # more rows than the text sample, so both text paths run
    path = tmp_path / "lich_su.sqlite"
    _save(path, frame)
    with History(path) as history:
        assert_same_load(history.load("2021-11", "input", "citizens"), _expected(frame))
        assert_same_load(
            history.load("2021-11", "input", "citizens", "TDP01"), _expected(frame, "TDP01")
        )
        assert history.load("2021-11", "input", "citizens", "TDP99").empty
        stored = history.db.execute("SELECT payload FROM records").fetchone()[0]
    assert json.loads(stored)["format"] == 2


def test_old_store_still_loads(tmp_path: Path) -> None:
    """A store of an earlier month, written in format 1, reads as before."""
    frame = _mixed_frame(200)
    path = tmp_path / "lich_su.sqlite"
    with History(path) as history, history.db:
        history.db.executemany(
            "INSERT INTO records VALUES ('2021-10', 'input', 'citizens', ?, ?)",
            [
                (unit, _format_1(group.drop(columns=["unit_code"])))
                for unit, group in frame.groupby("unit_code", sort=True)
            ],
        )
    with History(path) as history:
        assert_same_load(history.load("2021-10", "input", "citizens"), _expected(frame))
        assert history.latest_before("2021-11", "TDP01") == "2021-10"


def test_newer_payload_format_is_refused_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "lich_su.sqlite"
    with History(path) as history, history.db:
        history.db.execute(
            "INSERT INTO records VALUES ('2021-10', 'input', 'citizens', 'TDP01', ?)",
            (json.dumps({"format": 99, "columns": []}),),
        )
    with History(path) as history, pytest.raises(HistoryError, match="định dạng 99"):
        history.load("2021-10", "input", "citizens")


_CELLS = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.sampled_from(["Đạt", "Chưa đạt", "", "Có"]),
    st.text(max_size=6),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(0, 3).flatmap(
        lambda n_columns: st.lists(
            st.tuples(
                st.sampled_from(["TDP01", "TDP02", "CQ01", None]),
                st.lists(st.one_of(_CELLS), min_size=n_columns, max_size=n_columns),
            ),
            min_size=1,
            max_size=30,
        )
    ),
    shape=st.sampled_from(["same", "ints", "texts", "dates"]),
)
def test_save_then_load_round_trips(tmp_path_factory, rows, shape) -> None:
    """Whatever a column holds, the store gives back what format 1 gave back."""
    width = len(rows[0][1])
    data: dict[str, object] = {f"c{i}": [r[1][i] for r in rows] for i in range(width)}
    if shape == "ints":  # a whole-number column, for the packed form
        data["n"] = [len(rows) - i for i in range(len(rows))]
    elif shape == "texts":  # text that repeats within units, for the levels form
        data["t"] = [("Đạt", "Chưa đạt")[i % 2] for i in range(len(rows))]
    elif shape == "dates":
        data["d"] = [dt.date(2000, 1, 1 + i % 28) for i in range(len(rows))]
    frame = pd.DataFrame(data).assign(unit_code=[r[0] for r in rows])
    path = tmp_path_factory.mktemp("kho") / "lich_su.sqlite"
    _save(path, frame)
    with History(path) as history, history.db:
        history.db.executemany(  # the same rows in format 1, as a month before format 2
            "INSERT INTO records VALUES ('2021-10', 'input', 'citizens', ?, ?)",
            [
                (unit, _format_1(group.drop(columns=["unit_code"])))
                for unit, group in frame.groupby("unit_code", sort=True)
            ],
        )
    with History(path) as history:
        assert_same_load(history.load("2021-11", "input", "citizens"), _expected(frame))
        assert_same_load(history.load("2021-10", "input", "citizens"), _expected(frame))
