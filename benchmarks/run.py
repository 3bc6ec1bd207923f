"""Time `kieumau run` against a raw-read floor measured in the same run (SPEC §8).

    /work/venv/bin/python benchmarks/run.py --scale town
    /work/venv/bin/python benchmarks/run.py --scale district --skip-openpyxl
    /work/venv/bin/python benchmarks/run.py --inbox DIR --catalogue bo_tieu_chi.xlsx

Stages, each in a fresh child process so its peak RSS is its own (os.wait4):

    floor             unzip every worksheet and sharedStrings part, expat over the bytes, no
                      handlers: the least any reader must do. Every ratio is to this line.
    floor, N procs    the same split over N processes (what the batch's parallel read could get)
    inflate only      the zip part of the floor
    iterparse         the same parts through xml.etree iterparse, elements built and cleared
    calamine          python-calamine directly: CalamineWorkbook.from_path(..).to_python()
    pandas+calamine   pandas.read_excel(sheet_name=None, engine="calamine")
    pandas+openpyxl   pandas.read_excel(sheet_name=None, engine="openpyxl")
    intake, serial    processor.intake.reader.read_submission on each file, one process
    start-up          a fresh Python importing pandas, python-calamine and xlsxwriter: what a run
                      loads before it opens the first file
    least run         start-up, then calamine (the fastest reader here) over the files in N
                      processes, nothing checked, scored or written
    kieumau run       the whole `kieumau run INBOX --ky 2021-11`, fresh --out/--kho
    write floor       as many cells as that run made (not those a feedback carries from the
                      unit's own sheets), as rows of ready-made bodies, deflated: the least
                      making them costs in Python (one process)

The least run and the write floor together are the least a run can take here: printed under
the table as wall time starting up first, and as their CPU-seconds spread over the cores.
    kieumau quyet-dinh   `kieumau quyet-dinh --nam 2021` on that run's history (Word drafts)
    breakdown         run_batch in one process with its stage functions timed
                      (with --breakdown-decisions: decisions_for_year too)

The machine is shared and noisy: compare ratios within one run, not seconds across runs.
Results go to ``benchmarks/results/<scale>-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import IO

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
DATA_DIR = BENCH / "_data"  # where generate.py writes
PAGE = os.sysconf("SC_PAGE_SIZE")
DATA_SHEETS = (
    "Công dân",
    "Hộ gia đình",
    "Tổ dân phố",
)  # processor.domain.schema FORM_* sheet names
HEADER_ROWS = 3  # title, hint, header (processor.outputs.forms.HEADER_ROW + 1)


# --- what a child process runs -----------------------------------------------------------------


def _xml_parts(book: zipfile.ZipFile) -> list[str]:
    """Every worksheet and the shared strings: the parts that hold cell values."""
    return [
        n
        for n in book.namelist()
        if n == "xl/sharedStrings.xml" or (n.startswith("xl/worksheets/") and n.endswith(".xml"))
    ]


def _floor(files: list[str]) -> dict:
    from xml.parsers import expat

    inflated = 0
    for path in files:
        with zipfile.ZipFile(path) as book:
            for name in _xml_parts(book):
                data = book.read(name)
                inflated += len(data)
                expat.ParserCreate().Parse(data, True)
    return {"inflated_bytes": inflated}


def sheet_cells(files: list[Path], carried: frozenset[str] = frozenset()) -> dict:
    """Workbooks, cells (``<c`` elements) and inflated worksheet bytes: what was read or written.

    Sheets named in ``carried`` (a unit's own sheets, kept in its feedback as it sent them, a
    cell marked here and there) are counted apart: the run copies them, it does not make them.
    """
    # The intake's own reading of a workbook's sheets (no pandas: this process stays small).
    from processor.intake.safety import xlsx_sheet_parts

    cells = size = kept = 0
    for path in files:
        with zipfile.ZipFile(path) as book:
            for name, part in xlsx_sheet_parts(book).items():
                with book.open(part) as stream:
                    count, length = _count_cells(stream)
                if name in carried:
                    kept += count
                    continue
                cells += count
                size += length
    return {"workbooks": len(files), "cells": cells, "sheet_bytes": size, "carried_cells": kept}


def _count_cells(stream: IO[bytes]) -> tuple[int, int]:
    """``<c`` elements and bytes of a part, read a megabyte at a time: this process stays small,
    and so do the children it starts afterwards, which inherit its peak RSS through fork."""
    count = size = 0
    tail = b""
    while chunk := stream.read(1 << 20):
        size += len(chunk)
        data = tail + chunk
        count += data.count(b"<c ") + data.count(b"<c>")
        tail = data[-2:]  # a tag cut by the chunk's end is whole in the next: counted once
    return count, size


def _floor_one(path: str) -> int:
    return _floor([path])["inflated_bytes"]


def _floor_parallel(files: list[str]) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(workers) as pool:
        inflated = sum(pool.map(_floor_one, files, chunksize=1))
    return {"inflated_bytes": inflated, "workers": workers}


def _inflate(files: list[str]) -> dict:
    inflated = 0
    for path in files:
        with zipfile.ZipFile(path) as book:
            for name in _xml_parts(book):
                inflated += len(book.read(name))
    return {"inflated_bytes": inflated}


def _iterparse(files: list[str]) -> dict:
    import io
    import xml.etree.ElementTree as ET

    elements = 0
    for path in files:
        with zipfile.ZipFile(path) as book:
            for name in _xml_parts(book):
                for _, element in ET.iterparse(io.BytesIO(book.read(name)), events=("end",)):
                    elements += 1
                    element.clear()
    return {"elements": elements}


def _data_rows(name: str, rows: list[list]) -> int:
    if name not in DATA_SHEETS:
        return 0
    return sum(1 for row in rows[HEADER_ROWS:] if any(v not in ("", None) for v in row[1:]))


def _calamine(files: list[str]) -> dict:
    from python_calamine import CalamineWorkbook

    per_file = {}
    for path in files:
        book = CalamineWorkbook.from_path(path)
        count = 0
        for name in book.sheet_names:
            count += _data_rows(name, book.get_sheet_by_name(name).to_python())
        book.close()
        per_file[path] = count
    return {"rows_per_file": per_file}


def _pandas(files: list[str], engine: str) -> dict:
    import pandas as pd

    cells = 0
    for path in files:
        frames = pd.read_excel(path, sheet_name=None, header=None, engine=engine)
        cells += sum(frame.size for frame in frames.values())
    return {"cells": cells}


def _least_one(path: str) -> int:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    cells = sum(
        len(row) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()
    )
    book.close()
    return cells


def least_main(job_path: str) -> None:
    """The least run: its clock is the parent's, from before this Python starts."""
    from concurrent.futures import ProcessPoolExecutor

    # What `kieumau run` imports before it forks its workers and opens a file: the batch
    # consolidates and scores with pandas, so its import is part of the least run.
    import pandas  # noqa: F401
    import python_calamine  # noqa: F401
    import xlsxwriter  # noqa: F401

    files = json.loads(Path(job_path).read_text())["files"]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        cells = sum(pool.map(_least_one, files, chunksize=1))
    print(json.dumps({"cells": cells}))


def _write_floor(cells: int, columns: int = 18) -> dict:
    """``cells`` cells as rows of ready-made cell bodies, one %-format a row, encoded and
    deflated by zlib at level 1, as kieumau writes them: the least making them costs in
    Python, with no value converted, escaped or styled. The rows are made 4,096 at a time, so
    it holds no more than a chunk's references and bodies."""
    import zlib

    rows = max(cells // columns, 1)
    letters = [chr(ord("A") + i) for i in range(columns)]
    text, number = ' s="3" t="inlineStr"><is><t>Đạt</t></is></c>', ' s="4"><v>1975</v></c>'
    template = '<row r="%s">' + "".join(f'<c r="{letter}%s"%s' for letter in letters) + "</row>"
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    deflated = 0
    for start in range(0, rows, 4096):
        numbers = list(map(str, range(start + 2, min(start + 4096, rows) + 2)))
        arguments = [numbers]
        for i in range(columns):
            arguments += (numbers, [text if i % 2 else number] * len(numbers))
        chunk = zip(*arguments, strict=True)
        deflated += len(packer.compress("".join(map(template.__mod__, chunk)).encode()))
    deflated += len(packer.flush())
    return {"cells": rows * columns, "deflated_bytes": deflated}


def _intake(files: list[str], catalogue_path: str, period: str) -> dict:
    from processor.domain.catalogue import load_catalogue
    from processor.domain.periods import Period
    from processor.intake.reader import read_submission

    catalogue = load_catalogue(catalogue_path)
    expected = Period.parse(period)
    started = time.perf_counter()
    rows = 0
    for path in files:
        rows += read_submission(Path(path), catalogue, Path(path).name, expected).rows_read
    return {"rows_read": rows, "seconds": time.perf_counter() - started}


def _breakdown(job: dict) -> dict:
    """The batch and the decisions in one process, the stage functions wrapped in timers.

    Wrapping is done on module attributes that run_batch looks up at call time; a name that
    no longer exists is reported, not fatal (processor/ changes under this benchmark).
    """
    import processor.batch as batch
    import processor.outputs.documents as documents
    import processor.outputs.recognition as recognition
    import processor.store.history as history
    from processor.domain.catalogue import load_catalogue
    from processor.domain.periods import Period

    seconds: dict[str, float] = defaultdict(float)
    # CPU-seconds of this process beside the wall: on a shared machine they are what compares.
    cpu: dict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    missing: list[str] = []

    def wrap(owner, attr: str, label: str) -> None:
        original = getattr(owner, attr, None)
        if original is None:
            missing.append(label)
            return

        @functools.wraps(original)
        def timed(*args, **kwargs):
            started, started_cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - started
                cpu[label] += time.process_time() - started_cpu
                calls[label] += 1

        setattr(owner, attr, timed)
        # A function handed to a process pool is pickled by name: the name must find this same
        # object. Time spent in a worker stays in the worker; only parent-side stages are wrapped.
        home = sys.modules.get(getattr(original, "__module__", "") or "")
        if home is not None and getattr(home, attr, None) is original:
            setattr(home, attr, timed)

    # The stages run_batch calls in its own process, as they are named today; a missing name
    # is listed in the output and its time falls into "rest".
    for attr in (
        "read_inbox",
        "consolidate",
        "january_registration",
        "carry_years",
        "score",
        "progress_rows",
        "_manifest",
        "write_json",
        "_swap_in",
    ):
        wrap(batch, attr, attr)
    # Each file is archived as read_inbox hands it over: inside read_inbox's time.
    wrap(batch, "archive", "  · archive (while reading)")
    if hasattr(batch, "_write_outputs"):
        wrap(batch, "_write_outputs", "_write_outputs (summary, feedback, next forms)")
    else:
        wrap(batch, "write_summary", "write_summary (tong_hop)")
        wrap(batch, "write_feedback", "write_feedback (phan_hoi)")
        wrap(batch, "write_form", "write_form (bieu_mau ky sau)")
    if job.get("workers") == 1:
        # One process: the writers run inside _write_outputs here and can be timed one by one
        # (nested rows, marked with a dot; not added again to the total).
        wrap(batch, "read_submission", "  · read_submission")
        wrap(batch, "write_summary", "  · write_summary (tong_hop)")
        wrap(batch, "write_feedback", "  · write_feedback (phan_hoi)")
        wrap(batch, "write_form", "  · write_form (bieu_mau ky sau)")
    wrap(history.History, "save_period", "History.save_period")
    wrap(history.History, "progress", "History.progress")
    wrap(recognition, "november_results", "november_results (history load)")
    wrap(documents, "write_decisions", "write_decisions (Word)")

    out = Path(job["out"])
    started = time.perf_counter()
    catalogue = load_catalogue(job["catalogue"])
    seconds["load_catalogue"] = time.perf_counter() - started
    started = time.perf_counter()
    report = batch.run_batch(
        Path(job["inbox"]),
        Period.parse(job["period"]),
        catalogue,
        out,
        out / "kho" / "lich_su.sqlite",
        out / "kho",
        workers=job.get("workers"),
    )
    run_total = time.perf_counter() - started
    paths: list[Path] = []
    decisions_total = 0.0
    if job.get("decisions"):
        # Off by default: `kieumau quyet-dinh` is timed as its own stage, and at district scale
        # it needs ~13 GB on top of what the batch left in this process.
        started = time.perf_counter()
        paths, _ = recognition.decisions_for_year(
            catalogue, int(job["period"][:4]), out, out / "kho" / "lich_su.sqlite"
        )
        decisions_total = time.perf_counter() - started
    return {
        "run_batch": run_total,
        "decisions_for_year": decisions_total,
        "stages": dict(seconds),
        "cpu_seconds": dict(cpu),
        "calls": dict(calls),
        "missing": missing,
        "files": len(report.submissions),
        "rows_read": sum(s.rows_read for s in report.submissions),
        "documents": len(paths),
        "workers": job.get("workers") or os.cpu_count(),
    }


def child_main(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    stage, files = job["stage"], job["files"]
    # Imports happen before the clock starts: the stage is the reading, not the start-up.
    if stage in ("pandas+calamine", "pandas+openpyxl"):
        import pandas  # noqa: F401
    if stage == "calamine":
        import python_calamine  # noqa: F401
    started = time.perf_counter()
    if stage == "floor":
        extra = _floor(files)
    elif stage == "floor-parallel":
        extra = _floor_parallel(files)
    elif stage == "inflate":
        extra = _inflate(files)
    elif stage == "iterparse":
        extra = _iterparse(files)
    elif stage == "calamine":
        extra = _calamine(files)
    elif stage == "pandas+calamine":
        extra = _pandas(files, "calamine")
    elif stage == "pandas+openpyxl":
        extra = _pandas(files, "openpyxl")
    elif stage == "intake":
        extra = _intake(files, job["catalogue"], job["period"])
    elif stage == "write-floor":
        extra = _write_floor(job["cells"])
    elif stage == "breakdown":
        extra = _breakdown(job)
    else:
        raise SystemExit(f"unknown stage {stage}")
    elapsed = extra.pop("seconds", None) or time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, **extra}))


# --- the parent: processes, memory, the table --------------------------------------------------


def _tree_rss(pid: int) -> int:
    """Sum of resident pages of ``pid`` and its descendants (shared pages counted per process)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(command: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``command``; wall seconds, the largest single process RSS and the sampled tree RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=env)
        peak_tree = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_tree = max(peak_tree, _tree_rss(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "wall": wall,
            "returncode": proc.returncode,
            # ru_maxrss (KiB): the largest of the child and its waited-for descendants.
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "peak_tree_mb": peak_tree / 2**20,
            "cpu": usage.ru_utime + usage.ru_stime,
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def _env(root: Path = ROOT) -> dict:
    """The environment of a child: ``root``'s processor/ first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return env


def run_child(stage: str, files: list[str], scratch: Path, **job) -> dict:
    job_file = scratch / f"job-{stage}.json"
    job_file.write_text(json.dumps({"stage": stage, "files": files, **job}))
    result = measure([sys.executable, __file__, "--child", str(job_file)], ROOT, _env())
    if result["returncode"] != 0:
        raise RuntimeError(f"stage {stage} failed:\n{result['stderr'][-3000:]}")
    data = json.loads(result["stdout"].strip().splitlines()[-1])
    return {**data, "peak_rss_mb": result["peak_rss_mb"], "peak_tree_mb": result["peak_tree_mb"]}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "processor.cli", *args]


def _sample(files: list[str], n: int) -> list[str]:
    if n >= len(files):
        return files
    step = len(files) / n
    return [files[int(i * step)] for i in range(n)]


class Bench:
    def __init__(self, args: argparse.Namespace, inbox: Path, catalogue: Path, scratch: Path):
        self.args = args
        self.inbox = inbox
        self.catalogue = catalogue
        self.scratch = scratch
        self.files = sorted(str(p) for p in inbox.rglob("*.xlsx") if not p.name.startswith("~$"))
        self.rows_per_file: dict[str, int] = {}
        self.stages: list[dict] = []

    @property
    def rows(self) -> int:
        return sum(self.rows_per_file.values())

    def repeat(self, fn, repeats: int | None = None) -> dict:
        """Run ``fn`` N times: the fastest run's figures, the largest memory of any run."""
        runs = [fn() for _ in range(repeats or self.args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        best = dict(best)
        best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
        best["peak_tree_mb"] = max(r.get("peak_tree_mb", 0) for r in runs)
        best["all_seconds"] = [round(r["seconds"], 3) for r in runs]
        return best

    def reader(self, label: str, stage: str, files: list[str] | None = None, note: str = ""):
        files = files or self.files
        result = self.repeat(
            lambda: run_child(
                stage,
                files,
                self.scratch,
                catalogue=str(self.catalogue),
                period=self.args.ky,
            )
        )
        if stage == "calamine" and not self.rows_per_file:
            self.rows_per_file = result.pop("rows_per_file")
        result.pop("rows_per_file", None)
        if files is not self.files:
            # Extrapolated by rows: the sample's share of the inbox's data rows.
            sample_rows = sum(self.rows_per_file[f] for f in files)
            factor = self.rows / max(sample_rows, 1)
            result["sample_seconds"] = result["seconds"]
            result["seconds"] *= factor
            note = "; ".join(
                filter(
                    None,
                    [
                        note,
                        f"extrapolated from {len(files)} of {len(self.files)} files "
                        f"({sample_rows:,} rows, x{factor:.1f})",
                    ],
                )
            )
        self.add(label, result, note)

    def add(self, label: str, result: dict, note: str = "") -> None:
        self.stages.append({"stage": label, "note": note, **result})
        print(
            f"  {label:<22} {result['seconds']:8.2f} s  {note}",
            file=sys.stderr,
            flush=True,
        )

    def before(self, label: str, once, note) -> None:
        """With --before: ``once(root)`` run with the code before a change, in this run and
        before the code after it, so that the machine's load weighs on both alike."""
        if not self.args.before:
            return
        result = self.repeat(lambda: once(self.args.before.resolve()))
        self.add(f"{label}, before", result, f"{note(result)}, sources of {self.args.before}")

    def cli_run(self) -> None:
        outs = []

        def once(root: Path = ROOT) -> dict:
            out = Path(tempfile.mkdtemp(prefix="run-", dir=self.scratch))
            outs.append(out)
            command = _cli(
                "run",
                str(self.inbox),
                "--ky",
                self.args.ky,
                "--bo-tieu-chi",
                str(self.catalogue),
                "--out",
                str(out),
                "--kho",
                str(out / "kho"),
            )
            if self.args.workers:
                command += ["--workers", str(self.args.workers)]
            result = measure(command, self.scratch, _env(root))
            if result["returncode"] not in (0, 1):  # 1 = ran, some rows rejected
                raise RuntimeError(f"kieumau run failed:\n{result['stderr'][-3000:]}")
            return {
                "seconds": result["wall"],
                "cpu_seconds": result["cpu"],
                "exit_code": result["returncode"],
                "peak_rss_mb": result["peak_rss_mb"],
                "peak_tree_mb": result["peak_tree_mb"],
                "summary": result["stdout"].strip().splitlines()[:4],
                "out": str(out),
            }

        self.before("kieumau run", once, lambda r: f"exit {r['exit_code']}")
        best = self.repeat(once)
        # What the run wrote (the archive aside), beside what it read: the writing is most of it.
        written = [p for p in Path(best["out"]).rglob("*.xlsx") if "kho" not in p.parts]
        from processor.intake.safety import xlsx_sheet_parts

        own_sheets = set()
        for f in self.files:
            with zipfile.ZipFile(f) as book:
                own_sheets.update(xlsx_sheet_parts(book))
        feedback = [p for p in written if "phan_hoi" in p.parts]
        made = sheet_cells([p for p in written if "phan_hoi" not in p.parts])
        marked = sheet_cells(feedback, frozenset(own_sheets))
        best["wrote"] = {k: made[k] + marked[k] for k in made}
        best["read"] = sheet_cells([Path(f) for f in self.files])
        self.add("kieumau run", best, f"exit {best['exit_code']}, wall incl. start-up")
        if "write-floor" not in self.args.skip:
            result = self.repeat(
                lambda: run_child("write-floor", [], self.scratch, cells=best["wrote"]["cells"])
            )
            self.add(
                "write floor", result, f"{result['cells']:,} cells as ready-made rows, 1 process"
            )
        if "quyet-dinh" not in self.args.skip:
            self.decisions(Path(best["out"]))
        for out in outs:
            shutil.rmtree(out, ignore_errors=True)

    def least(self) -> None:
        """Start-up alone, then start-up and reading: wall clock of a fresh process, as the run."""
        job_file = self.scratch / "job-least.json"
        job_file.write_text(json.dumps({"files": self.files}))

        def once(command: list[str]) -> dict:
            result = measure(command, ROOT, _env())
            if result["returncode"] != 0:
                raise RuntimeError(f"{command} failed:\n{result['stderr'][-3000:]}")
            printed = result["stdout"].strip().splitlines()
            return {
                **(json.loads(printed[-1]) if printed else {}),
                "seconds": result["wall"],
                "cpu_seconds": result["cpu"],
                "peak_rss_mb": result["peak_rss_mb"],
                "peak_tree_mb": result["peak_tree_mb"],
            }

        imports = "import pandas, python_calamine, xlsxwriter"
        self.add(
            "start-up",
            self.repeat(lambda: once([sys.executable, "-c", imports])),
            "python + pandas, calamine, xlsxwriter imported",
        )
        self.add(
            "least run",
            self.repeat(lambda: once([sys.executable, __file__, "--least", str(job_file)])),
            f"start-up + calamine in {os.cpu_count()} processes, nothing checked or written",
        )

    def decisions(self, out: Path) -> None:
        year = self.args.ky[:4]

        def once(root: Path = ROOT) -> dict:
            shutil.rmtree(out / f"{year}-12", ignore_errors=True)
            command = _cli(
                "quyet-dinh",
                "--nam",
                year,
                "--bo-tieu-chi",
                str(self.catalogue),
                "--out",
                str(out),
                "--kho",
                str(out / "kho"),
            )
            result = measure(command, self.scratch, _env(root))
            if result["returncode"] != 0:
                raise RuntimeError(f"kieumau quyet-dinh failed:\n{result['stderr'][-3000:]}")
            folder = out / f"{year}-12" / "quyet_dinh"
            docs = sorted(folder.glob("*.docx"))
            return {
                "seconds": result["wall"],
                "cpu_seconds": result["cpu"],
                "peak_rss_mb": result["peak_rss_mb"],
                "peak_tree_mb": result["peak_tree_mb"],
                "documents": len(docs),
                "document_bytes": sum(p.stat().st_size for p in docs),
            }

        # The same history, drafted by the code before the change first.
        self.before("kieumau quyet-dinh", once, lambda r: f"{r['documents']} .docx")
        best = self.repeat(once)
        self.add("kieumau quyet-dinh", best, f"{best['documents']} .docx, wall incl. start-up")

    def breakdown(self) -> None:
        out = Path(tempfile.mkdtemp(prefix="breakdown-", dir=self.scratch))
        result = run_child(
            "breakdown",
            [],
            self.scratch,
            catalogue=str(self.catalogue),
            period=self.args.ky,
            inbox=str(self.inbox),
            out=str(out),
            workers=self.args.breakdown_workers or self.args.workers,
            decisions=self.args.breakdown_decisions,
        )
        shutil.rmtree(out, ignore_errors=True)
        self.breakdown_result = result
        print(f"  {'breakdown':<22} {result['seconds']:8.2f} s  (in-process)", file=sys.stderr)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("pandas", "openpyxl", "python-calamine", "xlsxwriter", "docxtpl", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _sources_fingerprint() -> dict:
    import hashlib

    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted((ROOT / "processor").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return {
        "sha256": digest.hexdigest()[:16],
        "newest_mtime": dt.datetime.fromtimestamp(newest).isoformat(timespec="seconds"),
    }


def _least_a_run_can_take(stages: list[dict]) -> dict | None:
    """Reading as the least run does and making the run's cells as the write floor does, with
    nothing checked, scored or stored: what no run of this stack can beat here. In wall time
    with the start-up first, as kieumau starts; and as CPU-seconds (the write floor's are its
    seconds: one process), which no arrangement of the work over the cores can go below."""
    by_name = {s["stage"]: s for s in stages}
    if "least run" not in by_name or "write floor" not in by_name:
        return None
    least, write = by_name["least run"], by_name["write floor"]["seconds"]
    return {
        "wall_seconds": least["seconds"] + write / (os.cpu_count() or 1),
        "cpu_seconds": least["cpu_seconds"] + write,
    }


def table(bench: Bench, floor: float) -> str:
    # CPU-seconds of a command and all its processes: steadier than its wall time on a shared
    # machine, where another tenant's load slows the wall clock more than it adds work.
    lines = [
        f"{'stage':<22} {'seconds':>9} {'rows/s':>11} {'x floor':>8} {'peak RSS MB':>12} "
        f"{'tree MB':>8} {'CPU s':>7}  note",
        "-" * 108,
    ]
    for s in bench.stages:
        rate = bench.rows / s["seconds"] if s["seconds"] else 0
        cpu = f"{s['cpu_seconds']:7.1f}" if "cpu_seconds" in s else " " * 7
        lines.append(
            f"{s['stage']:<22} {s['seconds']:9.2f} {rate:11,.0f} {s['seconds'] / floor:8.1f} "
            f"{s['peak_rss_mb']:12.0f} {s.get('peak_tree_mb', 0):8.0f} {cpu}  {s['note']}"
        )
    return "\n".join(lines)


def breakdown_table(result: dict, rows: int, files: int, floor: float) -> str:
    lines = [
        f"{'in-process stage':<46} {'seconds':>8} {'share':>6} {'x floor':>8} {'calls':>6}"
        f" {'CPU-s':>7}",
        "-" * 88,
    ]
    total = result["run_batch"] + result["decisions_for_year"]
    stages = dict(result["stages"])
    for name, secs in sorted(stages.items(), key=lambda kv: (kv[0].startswith("  ·"), -kv[1])):
        lines.append(
            f"{name:<46} {secs:8.2f} {secs / total:6.0%} {secs / floor:8.1f} "
            f"{result['calls'].get(name, 1):6} {result.get('cpu_seconds', {}).get(name, 0):7.2f}"
        )
    accounted = sum(
        v for k, v in stages.items() if k != "load_catalogue" and not k.startswith("  ·")
    )
    lines.append(f"{'(rest: glue, dirs, manifest)':<46} {total - accounted:8.2f}")
    label = "run_batch + decisions_for_year" if result["decisions_for_year"] else "run_batch"
    lines.append(
        f"{label:<46} {total:8.2f}   "
        f"({files} files, {rows:,} rows, {result['workers']} read workers)"
    )
    if result["missing"]:
        lines.append(f"not found in processor/ (not timed): {', '.join(result['missing'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time kieumau against a raw-read floor (SPEC §8); figures as ratios."
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--least", help=argparse.SUPPRESS)
    parser.add_argument(
        "--scale", default="town", choices=("town", "district", "large"), help="generated inbox"
    )
    parser.add_argument("--inbox", type=Path, help="an inbox of your own instead of --scale")
    parser.add_argument("--catalogue", type=Path, help="with --inbox: its bo_tieu_chi.xlsx")
    parser.add_argument("--ky", default="2021-11", help="period of the inbox")
    parser.add_argument("--repeat", type=int, default=1, help="run each stage N times, keep min")
    parser.add_argument(
        "--skip-openpyxl",
        action="store_true",
        help="time openpyxl on a sample of files only and extrapolate by rows",
    )
    parser.add_argument("--sample", type=int, default=24, help="files in a sample (default 24)")
    parser.add_argument(
        "--sample-intake",
        action="store_true",
        help="time the serial intake on a sample too (it is ~1/workers of the run's read)",
    )
    parser.add_argument("--no-breakdown", action="store_true", help="skip the in-process breakdown")
    parser.add_argument(
        "--breakdown-workers",
        type=int,
        help="workers for the breakdown's run_batch; 1 also times each writer and the reads",
    )
    parser.add_argument(
        "--breakdown-decisions",
        action="store_true",
        help="time decisions_for_year in the breakdown too (memory-hungry at district scale)",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip kieumau run and quyet-dinh")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=(
            "floor-parallel",
            "inflate",
            "iterparse",
            "pandas+calamine",
            "pandas+openpyxl",
            "intake",
            "least",
            "run",
            "write-floor",
            "quyet-dinh",
            "breakdown",
        ),
        help="leave a stage out (repeatable); calamine and the floor always run",
    )
    parser.add_argument("--workers", type=int, help="--workers for kieumau run (default: cores)")
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of the code before a change (git worktree): kieumau run and quyet-dinh "
        "are timed with its processor/ too, in this run, as 'kieumau run, before' and "
        "'kieumau quyet-dinh, before'",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON")
    parser.add_argument("--tag", help="added to the JSON's name: <scale>-<tag>-<date>.json")
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0
    if args.least:
        least_main(args.least)
        return 0

    manifest = None
    if args.inbox:
        inbox, catalogue, scale = args.inbox.resolve(), args.catalogue, args.inbox.name
        if catalogue is None:
            parser.error("--inbox needs --catalogue (the bo_tieu_chi.xlsx listing its units)")
        catalogue = catalogue.resolve()
    else:
        # generate.py runs in its own process: this one stays small (numpy and pandas are
        # never imported here, of the package only processor.intake.safety), so a child's ru_maxrss,
        # which starts from this process's peak (fork keeps it), is the child's own.
        print(f"inbox for {args.scale}: generating or reusing …", file=sys.stderr)
        made = subprocess.run(
            [sys.executable, str(BENCH / "generate.py"), "--scale", args.scale], check=False
        )
        if made.returncode:
            parser.error(f"could not generate the {args.scale} inbox (see above)")
        manifest = json.loads((DATA_DIR / args.scale / "manifest.json").read_text())
        inbox, catalogue, scale = Path(manifest["inbox"]), Path(manifest["catalogue"]), args.scale

    load_before = os.getloadavg()
    sources_before = _sources_fingerprint()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="kieumau-bench-") as tmp:
        bench = Bench(args, inbox, catalogue, Path(tmp))
        # Warm the page cache so the first stage does not pay for the disk alone.
        for f in bench.files:
            Path(f).read_bytes()
        print(f"{len(bench.files)} files in {inbox}", file=sys.stderr)
        skip = set(args.skip)
        bench.reader("calamine", "calamine")  # first: it counts the data rows of each file
        bench.reader("floor", "floor", note="reference: inflate + expat, 1 process")
        if "floor-parallel" not in skip:
            bench.reader("floor, N procs", "floor-parallel", note=f"{os.cpu_count()} processes")
        if "inflate" not in skip:
            bench.reader("inflate only", "inflate")
        if "iterparse" not in skip:
            bench.reader("iterparse", "iterparse", note="elements built and cleared")
        if "pandas+calamine" not in skip:
            bench.reader("pandas+calamine", "pandas+calamine")
        sample = _sample(bench.files, args.sample)
        if "pandas+openpyxl" not in skip:
            bench.reader(
                "pandas+openpyxl", "pandas+openpyxl", sample if args.skip_openpyxl else None
            )
        if "intake" not in skip:
            bench.reader(
                "intake, serial",
                "intake",
                sample if args.sample_intake else None,
                note="read_submission: checks + typing, 1 process",
            )
        if "least" not in skip:
            bench.least()
        if not args.no_cli and "run" not in skip:
            bench.cli_run()
        if not args.no_breakdown and "breakdown" not in skip:
            bench.breakdown()
        # Reorder: the floor first, then by time.
        floor = next(s for s in bench.stages if s["stage"] == "floor")["seconds"]
        bench.stages.sort(key=lambda s: (s["stage"] != "floor", s["seconds"]))

        print()
        print(
            f"kieumau benchmark, scale {scale}: {len(bench.files)} files, {bench.rows:,} data rows"
            + (
                f" ({manifest['citizens']:,} citizens, {manifest['households']:,} households)"
                if manifest
                else ""
            )
            + f"; {os.cpu_count()} cores; load average {load_before[0]:.1f} at start"
        )
        print(table(bench, floor))
        run = next((s for s in bench.stages if s["stage"] == "kieumau run"), None)
        if run:
            read, wrote = run["read"], run["wrote"]
            print(
                f"\nkieumau run read {read['workbooks']} workbooks, {read['cells']:,} cells "
                f"({read['sheet_bytes'] / 1e6:,.1f} MB of sheet XML) and wrote "
                f"{wrote['workbooks']}: it made {wrote['cells']:,} cells "
                f"({wrote['sheet_bytes'] / 1e6:,.1f} MB), "
                f"{wrote['cells'] / max(read['cells'], 1):.1f}x the cells it read, and carried "
                f"{wrote['carried_cells']:,} of the units' own into their feedback"
            )
        least = _least_a_run_can_take(bench.stages)
        if least:
            cores = os.cpu_count()
            print(
                f"least run + write floor / {cores} cores = {least['wall_seconds']:.2f} s = "
                f"{least['wall_seconds'] / floor:.1f}x the floor: the least a run can take here,"
                " starting up first\ntheir CPU-seconds spread evenly over the cores = "
                f"{least['cpu_seconds'] / cores:.2f} s = "
                f"{least['cpu_seconds'] / cores / floor:.1f}x: the least however a run is arranged"
            )
        breakdown = getattr(bench, "breakdown_result", None)
        if breakdown:
            print()
            print(breakdown_table(breakdown, bench.rows, len(bench.files), floor))
        if args.skip_openpyxl:
            print("\npandas+openpyxl was timed on a sample and extrapolated (see note).")
        sources_after = _sources_fingerprint()
        if sources_after["sha256"] != sources_before["sha256"]:  # an edit undone is no change
            print(
                f"\nWARNING: processor/ changed during the benchmark "
                f"({sources_before['sha256']} -> {sources_after['sha256']}, last edit "
                f"{sources_after['newest_mtime']}): the stages measured different code."
            )

    results = {
        "scale": scale,
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "inbox": str(inbox),
        "catalogue": str(catalogue),
        "files": len(bench.files),
        "data_rows": bench.rows,
        "manifest": {k: v for k, v in (manifest or {}).items() if k != "per_unit"},
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "load_average_start": load_before,
            "load_average_end": os.getloadavg(),
            "versions": _versions(),
        },
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        # processor/ changes while benchmarks are run: which sources were measured.
        "processor_sources": {"start": sources_before, "end": sources_after},
        "floor_seconds": floor,
        "stages": [
            {
                **{k: v for k, v in s.items() if k not in ("out",)},
                "ratio_to_floor": s["seconds"] / floor,
                "rows_per_second": bench.rows / s["seconds"] if s["seconds"] else None,
            }
            for s in bench.stages
        ],
        "least_a_run_can_take": _least_a_run_can_take(bench.stages),
        "breakdown": breakdown,
        "benchmark_seconds": round(time.time() - started, 1),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    tag = f"-{args.tag}" if args.tag else ""
    target = args.results / f"{scale}{tag}-{dt.date.today().isoformat()}.json"
    target.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\nresults: {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
