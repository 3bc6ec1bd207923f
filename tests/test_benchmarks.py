"""The benchmark runner still runs: its floor, its bounds, the run and its JSON, on the sample
town. Out of the unit suite: `pytest -m benchmark`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.benchmark


def test_runner_times_the_floor_and_the_least_run(tmp_path: Path) -> None:
    skipped = ("floor-parallel", "inflate", "iterparse", "pandas+calamine", "pandas+openpyxl")
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "run.py"),
        "--inbox",
        str(ROOT / "samples" / "inbox"),
        "--catalogue",
        str(ROOT / "input_templates" / "bo_tieu_chi.xlsx"),
        *(f"--skip={stage}" for stage in (*skipped, "intake", "quyet-dinh")),
        "--no-breakdown",
        "--results",
        str(tmp_path),
        "--tag",
        "test",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    [result_file] = tmp_path.glob("inbox-test-*.json")
    result = json.loads(result_file.read_text())
    assert result["files"] == 28
    assert result["data_rows"] > 25_000  # the sample town's citizens and households
    stages = {s["stage"]: s for s in result["stages"]}
    assert set(stages) == {
        "floor",
        "calamine",
        "start-up",
        "least run",
        "kieumau run",
        "write floor",
    }
    assert stages["floor"]["ratio_to_floor"] == 1.0
    assert stages["floor"]["inflated_bytes"] > 0
    # The least run reads every cell of every sheet, as calamine gives them in one process.
    from python_calamine import CalamineWorkbook

    cells = 0
    for path in sorted((ROOT / "samples" / "inbox").glob("*.xlsx")):
        book = CalamineWorkbook.from_path(path)
        cells += sum(
            len(row)
            for name in book.sheet_names
            for row in book.get_sheet_by_name(name).to_python()
        )
        book.close()
    assert stages["least run"]["cells"] == cells > 0
    # The run's outputs are counted: the sample town's 28 units get a form and a feedback each,
    # plus the summary and the steering committee's counts-only summary (issue 24).
    run = stages["kieumau run"]
    assert run["exit_code"] == 0
    assert run["read"]["workbooks"] == 28 and run["wrote"]["workbooks"] == 28 + 28 + 2
    assert run["wrote"]["cells"] > run["read"]["cells"] > cells / 2
    # Units with a marked cell get their own sheets back: those cells are carried, not made.
    assert 0 < run["wrote"]["carried_cells"] < run["read"]["cells"]
    # The write floor writes as many cells as the run did, to the column count's rounding.
    assert 0 <= run["wrote"]["cells"] - stages["write floor"]["cells"] < 18
    assert "least run + write floor / " in done.stdout
    least = result["least_a_run_can_take"]
    assert least["wall_seconds"] > stages["least run"]["seconds"]
    assert least["cpu_seconds"] > stages["write floor"]["seconds"]


def test_cells_are_counted_whole_across_chunks() -> None:
    """The runner counts a part's cells a megabyte at a time: a tag cut by a chunk's end is
    counted once, whatever the chunk's size."""
    import importlib.util
    import io

    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec and spec.loader
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    data = b'<row r="1"><c r="A1"/><c>x</c><c r="B1" s="2"><v>1</v></c></row>' * 500
    for size in (1, 2, 3, 5, 64, 1 << 20):

        class Chunks(io.BytesIO):
            def read(self, n: int | None = -1, size: int = size) -> bytes:
                return super().read(size)

        assert runner._count_cells(Chunks(data)) == (1500, len(data)), size
