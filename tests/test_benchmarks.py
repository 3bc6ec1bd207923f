"""The benchmark runner still runs: its floor, its bound and its JSON, on the sample town."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_runner_times_the_floor_and_the_least_run(tmp_path: Path) -> None:
    skipped = ("floor-parallel", "inflate", "iterparse", "pandas+calamine", "pandas+openpyxl")
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "run.py"),
        "--inbox",
        str(ROOT / "samples" / "inbox"),
        "--catalogue",
        str(ROOT / "input_templates" / "bo_tieu_chi.xlsx"),
        *(f"--skip={stage}" for stage in (*skipped, "intake")),
        "--no-cli",
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
    assert set(stages) == {"floor", "calamine", "start-up", "least run"}
    assert stages["floor"]["ratio_to_floor"] == 1.0
    assert stages["floor"]["inflated_bytes"] > 0
    # The least run reads every cell of every sheet: as many as pandas finds in one process.
    import pandas as pd

    cells = sum(
        frame.size
        for path in sorted((ROOT / "samples" / "inbox").glob("*.xlsx"))
        for frame in pd.read_excel(path, sheet_name=None, header=None, engine="calamine").values()
    )
    assert stages["least run"]["cells"] == cells > 0
    assert "least run" in done.stdout and "x floor" in done.stdout
