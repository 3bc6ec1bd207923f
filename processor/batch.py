"""The monthly batch `kieumau run` (SPEC §4), as a function a test or a notebook can call.

Stages: intake (parallel over files) → consolidation → scoring → history → outputs. Outputs are
built in a staging folder and moved into `output/YYYY-MM/` only when everything is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from processor.domain.catalogue import Catalogue
from processor.domain.issues import ERROR, Issue
from processor.domain.periods import Period
from processor.intake.inbox import list_inbox
from processor.intake.reader import read_submission
from processor.intake.submission import DUPLICATE, IGNORED, SUPERSEDED, Submission
from processor.outputs.feedback import shown_results, write_feedback
from processor.outputs.files import write_json
from processor.outputs.forms import write_form
from processor.outputs.prefill import next_roster, roster_from_history, source_of
from processor.outputs.summary import write_summary
from processor.scoring.conditions import carry_years, january_registration
from processor.scoring.consolidate import COUNTED, Consolidated, consolidate, resolve_duplicates
from processor.scoring.progress import progress_rows
from processor.scoring.score import Results, score
from processor.store.archive import archive
from processor.store.history import History

NOT_REJECTIONS = (DUPLICATE, SUPERSEDED, IGNORED)
_LEVELS = ("citizens", "households", "tasks")
# Reading is CPU-bound (zip inflate + XML): a process per core pays off past a few files.
PARALLEL_THRESHOLD = 4
# Objects allocated between two collections of the youngest generation (Python's default: 700).
# A batch allocates millions of objects (cells, rows, frames) and frees nearly all of them by
# reference counting; collecting every 700 made the collector walk the month's rows again and
# again, 3-5% of a district run.
GC_ALLOCATIONS = 50_000


@dataclass
class RunReport:
    period: Period
    out_dir: Path
    submissions: list[Submission]
    issues: list[Issue]
    results: Results
    outputs: list[Path] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 everything read; 1 ran but rejected files or rows (SPEC §4).

        A copy sent twice, an earlier version replaced by a later one, or an editor's lock file
        is not a rejection: the unit's data arrived.
        """
        rejected = any(s.rows_rejected for s in self.submissions if s.status not in NOT_REJECTIONS)
        errors = any(i.severity == ERROR for i in self.issues)
        return 1 if rejected or errors else 0


# The run's catalogue inside a worker process, given once when the worker starts rather than
# pickled with each of its jobs (1-2 ms a job, a thousand jobs for a district).
_worker_catalogue: Catalogue | None = None


def _hold_catalogue(catalogue: Catalogue) -> None:
    global _worker_catalogue
    _worker_catalogue = catalogue


def _pool(workers: int, catalogue: Catalogue) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, initializer=_hold_catalogue, initargs=(catalogue,))


@contextlib.contextmanager
def _batch_collector() -> Iterator[None]:
    """Python's cyclic garbage collector run less often for the length of a batch (see
    GC_ALLOCATIONS), and what exists when it starts frozen: where the workers are forked, their
    collector then leaves alone the objects they inherit, which it would otherwise walk and so
    copy, page by page (the use the gc module's documentation gives for fork without exec)."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GC_ALLOCATIONS), *threshold[1:])
    # gc.unfreeze() thaws everything: a caller that froze objects of its own keeps them frozen,
    # and the batch then leaves the freezing alone.
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if ours:
            gc.unfreeze()


def _catalogue_here() -> Catalogue:
    if _worker_catalogue is None:  # pragma: no cover - only if a job runs outside _pool
        raise RuntimeError("no catalogue in this worker")
    return _worker_catalogue


def _read_in_worker(args: tuple[Path, str, Period]) -> Submission:
    path, name, period = args
    return read_submission(path, _catalogue_here(), name, period)


def _form_in_worker(*job: object) -> Path:
    return write_form(_catalogue_here(), *job)  # type: ignore[arg-type]


def _feedback_in_worker(path: Path, *job: object) -> Path:
    return write_feedback(path, _catalogue_here(), *job)  # type: ignore[arg-type]


def read_inbox(
    inbox: Path,
    catalogue: Catalogue,
    period: Period,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    pool: ProcessPoolExecutor | None = None,
    arrived: Callable[[Submission], None] | None = None,
) -> list[Submission]:
    """Every file of ``inbox`` read, in ``pool`` when given (its workers hold ``catalogue``),
    else in a pool of ``workers`` processes (all cores by default) made for the reading.

    ``arrived`` is given each submission as soon as it is read: with workers, the calling
    process has nothing else to do until the last file is read."""
    files = list_inbox(inbox)
    jobs = [(path, str(path.relative_to(inbox)), period) for path in files]
    workers = workers if workers is not None else (os.cpu_count() or 1)
    results: list[Submission] = []
    if (pool is not None or workers > 1) and len(jobs) >= PARALLEL_THRESHOLD:
        with contextlib.ExitStack() as stack:
            if pool is None:
                pool = stack.enter_context(_pool(workers, catalogue))
            for i, sub in enumerate(pool.map(_read_in_worker, jobs, chunksize=1), start=1):
                results.append(sub)
                if arrived:
                    arrived(sub)
                if progress:
                    progress(i, len(jobs))
    else:
        for i, (path, name, _) in enumerate(jobs, start=1):
            results.append(read_submission(path, catalogue, name, period))
            if arrived:
                arrived(results[-1])
            if progress:
                progress(i, len(jobs))
    return results


def run_batch(
    inbox: Path,
    period: Period,
    catalogue: Catalogue,
    output_root: Path,
    history_path: Path,
    workspace: Path,
    *,
    workers: int | None = None,
    next_forms: bool = True,
    feedback: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> RunReport:
    """Run the whole monthly batch for ``period`` over ``inbox``."""
    run_time = now or dt.datetime.now().replace(microsecond=0)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    with _batch_collector(), contextlib.ExitStack() as cleanup:
        # One pool for the whole run, forked before the month's rows exist: its workers read
        # the files, then write the forms and the feedback.
        pool = _pool(workers, catalogue) if workers > 1 else None
        if pool is not None:
            cleanup.callback(pool.shutdown, cancel_futures=True)
        submissions = read_inbox(
            inbox,
            catalogue,
            period,
            1 if pool is None else None,
            (lambda i, n: progress("Đọc tệp", i, n)) if progress else None,
            pool=pool,
            # Each file is archived as it arrives, while the workers read the next ones.
            arrived=lambda sub: archive(sub, workspace),
        )
        out_dir = output_root / str(period)
        staging = output_root / f".dang-ghi-{period}"
        _remove_staging(staging)
        staging.mkdir(parents=True)
        cleanup.callback(_remove_staging, staging)  # runs before the pool's shutdown
        resolve_duplicates(submissions)
        # Next month's forms need only the rows of the files that count: they go to the
        # workers before the month's rows are put together, and are written while scoring runs.
        forms: list = (
            _form_jobs(staging, catalogue, period, submissions, history_path) if next_forms else []
        )
        if pool is not None:
            forms = [pool.submit(_form_in_worker, *job) for job in forms]
        consolidated = consolidate(submissions, catalogue, resolved=True)
        submitted = consolidated.units[consolidated.units["submitted"]].reset_index(drop=True)
        issues = [i for s in sorted(submissions, key=lambda s: s.name) for i in s.issues]
        issues += consolidated.issues
        return _score_and_write(
            inbox, period, catalogue, history_path, submissions, consolidated, submitted,
            issues, run_time, staging, out_dir, pool, forms,
            feedback=feedback, progress=progress,
        )  # fmt: skip


def _remove_staging(staging: Path) -> None:
    if staging.exists():
        shutil.rmtree(staging)


def _score_and_write(
    inbox: Path,
    period: Period,
    catalogue: Catalogue,
    history_path: Path,
    submissions: list[Submission],
    consolidated: Consolidated,
    submitted: pd.DataFrame,
    issues: list[Issue],
    run_time: dt.datetime,
    staging: Path,
    out_dir: Path,
    pool: ProcessPoolExecutor | None,
    forms: list,
    *,
    feedback: bool,
    progress: Callable[[str, int, int], None] | None,
) -> RunReport:
    """``forms``: the next-month forms, as futures in ``pool`` or (without one) job arguments."""
    with History(history_path) as history:
        frames = {
            "citizens": consolidated.citizens,
            "households": consolidated.households,
            "tasks": consolidated.tasks,
        }
        frames = january_registration(frames, history, catalogue, period)
        frames = carry_years(frames, history, catalogue, period)
        results = score(
            frames["citizens"], frames["households"], submitted, frames["tasks"], catalogue, period
        )
        # The feedback needs the results, not the history: with workers, it is written while
        # the history is saved (a town's workers waited for it, their forms long done).
        feedbacks: list = (
            _feedback_jobs(staging, catalogue, period, submissions, issues, results)
            if feedback
            else []
        )
        if pool is not None:
            feedbacks = [pool.submit(_feedback_in_worker, *job) for job in feedbacks]
        current_progress = progress_rows(results, catalogue, consolidated.units)
        history.save_period(
            str(period),
            run_time,
            str(inbox),
            [
                {
                    "name": s.name,
                    "sha256": s.sha256,
                    "unit_code": s.unit_code,
                    "status": s.status,
                    "rows_read": s.rows_read,
                    "rows_accepted": s.rows_accepted,
                    "rows_rejected": s.rows_rejected,
                }
                for s in submissions
            ],
            {
                "citizens": consolidated.citizens,
                "households": consolidated.households,
                "tasks": consolidated.tasks,
            },
            {
                "citizens": results.citizens,
                "households": results.households,
                "units": results.units,
            },
            current_progress,
        )
        trend = history.progress(period.year, str(period))
    report = RunReport(period, out_dir, submissions, issues, results)
    produced = _write_outputs(
        staging,
        catalogue,
        period,
        consolidated,
        results,
        issues,
        trend,
        run_time,
        pool=pool,
        forms=forms,
        feedbacks=feedbacks,
        progress=progress,
    )
    manifest = staging / "nhat_ky.json"
    write_json(manifest, _manifest(report, inbox, run_time, produced, staging, out_dir))
    produced.append(manifest)
    _swap_in(staging, out_dir)
    report.outputs = [out_dir / p.relative_to(staging) for p in produced]
    return report


def _form_jobs(
    staging: Path,
    catalogue: Catalogue,
    period: Period,
    submissions: list[Submission],
    history_path: Path,
) -> list[tuple]:
    """Arguments of write_form after the catalogue, for each unit's next-month form: the rows
    this month's files that count gave (resolve_duplicates has run), else the unit's latest
    rows in the history (a unit that skips a month keeps its list), else a blank form."""
    own: dict[str, list[Submission]] = {}
    for sub in sorted(submissions, key=lambda s: s.unit_code or ""):
        if sub.status in COUNTED and sub.unit_code:
            own.setdefault(sub.unit_code, []).append(sub)

    def rows(subs: list[Submission], level: str) -> pd.DataFrame:
        frames = [getattr(sub, level) for sub in subs if not getattr(sub, level).empty]
        if len(frames) > 1:  # not after resolve_duplicates: one file counts per unit
            return pd.concat(frames, ignore_index=True)
        return frames[0] if frames else pd.DataFrame()

    following = period.next()
    source = source_of(period)
    jobs = []
    with contextlib.ExitStack() as stack:
        history = stack.enter_context(History(history_path)) if history_path.exists() else None
        for unit in catalogue.units:
            if unit.code in own:
                frames = {level: rows(own[unit.code], level) for level in _LEVELS}
                roster = next_roster(frames, period, source=source)
            elif history is not None:
                roster = roster_from_history(history, unit.code, following)
            else:
                roster = None
            path = staging / "bieu_mau" / f"{unit.code}_{following}.xlsx"
            jobs.append((unit, following, path, roster))
    return jobs


def _feedback_jobs(
    staging: Path,
    catalogue: Catalogue,
    period: Period,
    submissions: list[Submission],
    issues: list[Issue],
    results: Results,
) -> list[tuple]:
    """Arguments of write_feedback but the catalogue, for each unit that sent something. The
    unit's submissions go without their rows, and its results with only the columns shown:
    the feedback needs where each file is and what was found in it, and the rows were a third
    of what a job sent to its worker."""
    results_of = shown_results(catalogue, results).by_unit()
    own_files: dict[str | None, list[Submission]] = {}
    for sub in submissions:
        own_files.setdefault(sub.unit_code, []).append(sub)
    file_issues: dict[str, list[tuple[int, Issue]]] = {}
    for position, issue in enumerate(issues):
        file_issues.setdefault(issue.file, []).append((position, issue))
    jobs = []
    for unit in catalogue.units:
        own = own_files.get(unit.code, [])
        if own:
            jobs.append(
                (
                    staging / "phan_hoi" / f"{unit.code}_{period}.xlsx",
                    unit,
                    period,
                    [s.without_rows() for s in own],
                    [i for _, i in sorted(p for s in own for p in file_issues.get(s.name, []))],
                    results_of(unit.code),
                )
            )
    return jobs


def _write_outputs(
    staging: Path,
    catalogue: Catalogue,
    period: Period,
    consolidated: Consolidated,
    results: Results,
    issues: list[Issue],
    trend: pd.DataFrame,
    run_time: dt.datetime,
    *,
    pool: ProcessPoolExecutor | None,
    forms: list,
    feedbacks: list,
    progress: Callable[[str, int, int], None] | None,
) -> list[Path]:
    """Write the summary, and collect every unit's feedback and next-month form.

    ``forms`` and ``feedbacks`` are their futures already running in ``pool`` (or, without a
    pool, their write_form and write_feedback arguments). Writing workbooks is CPU-bound and
    units are independent, so with a pool each unit's workbook is a job, and the summary is
    written by this process.
    """
    summary_args = (
        staging / f"tong_hop_{period}.xlsx",
        catalogue,
        period,
        results,
        consolidated,
        issues,
        trend,
        run_time,
    )
    total = 1 + len(feedbacks) + len(forms)
    if pool is None:
        produced = [write_summary(*summary_args)]
        for path, *job in feedbacks:
            produced.append(write_feedback(path, catalogue, *job))
            if progress:
                progress("Ghi kết quả", len(produced), total)
        for job in forms:
            produced.append(write_form(catalogue, *job))
            if progress:
                progress("Ghi kết quả", len(produced), total)
        return produced
    # The summary is written here, while the workers write the feedback: sent to a worker, its
    # arguments (every row of the month) took seconds to pickle and held the queue behind them.
    produced = [write_summary(*summary_args)]
    if progress:
        progress("Ghi kết quả", len(produced), total)
    for future in [*feedbacks, *forms]:
        produced.append(future.result())
        if progress:
            progress("Ghi kết quả", len(produced), total)
    return produced


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Move the run's outputs into place; other things in the folder (decisions) are kept."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for entry in staging.iterdir():
        target = out_dir / entry.name
        if entry.is_dir() and target.exists():
            old = out_dir / f".cu-{entry.name}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
            os.replace(entry, target)
            shutil.rmtree(old)
        else:
            os.replace(entry, target)


def _manifest(
    report: RunReport,
    inbox: Path,
    run_time: dt.datetime,
    produced: list[Path],
    staging: Path,
    out_dir: Path,
) -> dict:
    subs = sorted(report.submissions, key=lambda s: s.name)
    return {
        "ky": str(report.period),
        "thoi_gian": run_time.isoformat(),
        "hop_thu": str(inbox),
        "ma_thoat": report.exit_code,
        "tong": {
            "so_tep": len(subs),
            "so_dong_doc": sum(s.rows_read for s in subs),
            "so_dong_nhan": sum(s.rows_accepted for s in subs),
            "so_dong_loai": sum(s.rows_rejected for s in subs),
            "so_loi": sum(1 for i in report.issues if i.severity == ERROR),
            "so_canh_bao": sum(1 for i in report.issues if i.severity != ERROR),
        },
        "tep_dau_vao": [
            {
                "ten": s.name,
                "sha256": s.sha256,
                "trang_thai": s.status,
                "don_vi": s.unit_code,
                "ky": s.period,
                "so_dong_doc": s.rows_read,
                "so_dong_nhan": s.rows_accepted,
                "so_dong_loai": s.rows_rejected,
                "thay_the_boi": s.superseded_by,
                "theo_sheet": {k: vars(v) for k, v in s.counts.items()},
            }
            for s in subs
        ],
        "dau_ra": [str(out_dir / p.relative_to(staging)) for p in produced],
    }
