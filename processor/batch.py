"""The monthly batch `kieumau run` (SPEC §4), as a function a test or a notebook can call.

Stages: take the store (a lock: one run at a time) → gather the month's files (the inbox and
what the store already received for the month) and read them (in worker processes) → decide
which file of each unit is in force (receipt order) → consolidate → score → save the history
(not yet committed) → write the outputs into a staging folder → put the outputs in place and
commit the history together (processor.outputs.publish). A failure anywhere leaves the previous
outputs and the history as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from processor.domain.catalogue import (
    Catalogue,
    describe_changes,
    rules_fingerprint,
    snapshot,
)
from processor.domain.errors import KieumauError
from processor.domain.issues import ERROR, Issue
from processor.domain.periods import Period
from processor.intake.inbox import list_inbox
from processor.intake.reader import read_submission
from processor.intake.submission import (
    DUPLICATE,
    IGNORED,
    SUPERSEDED,
    WITHDRAWN,
    Submission,
    sha256_of,
)
from processor.outputs.feedback import shown_results, write_feedback
from processor.outputs.files import write_json
from processor.outputs.forms import write_form
from processor.outputs.prefill import LastRows, last_rows_from_history, next_rosters, source_of
from processor.outputs.publish import (
    MANIFEST,
    path_under,
    publish,
    recover,
    staging_folder,
)
from processor.outputs.summary import write_summary
from processor.outputs.workers import worker_pool
from processor.scoring.conditions import carry_years, registration_periods
from processor.scoring.consolidate import Consolidated, consolidate, resolve_duplicates
from processor.scoring.continuity import compare_with_history
from processor.scoring.progress import progress_rows
from processor.scoring.score import Results, score
from processor.store.archive import archive, find_archived
from processor.store.history import CatalogueUsed, History, private_folder
from processor.store.lock import StoreLock

NOT_REJECTIONS = (DUPLICATE, SUPERSEDED, IGNORED, WITHDRAWN)
_LEVELS = ("citizens", "households", "tasks")
# Reading is CPU-bound (zip inflate + XML): a process per core pays off past a few files.
PARALLEL_THRESHOLD = 4
RECEIPT_SOURCE = "hop_thu"  # a file first seen in an inbox by a run

Progress = Callable[[str, int, int], None]


class CatalogueChanged(KieumauError):
    """The catalogue differs from the one earlier months of the year were scored with."""


@dataclass
class RunReport:
    """What a run did: its files, problems, results, outputs and what the clerk must know."""

    period: Period
    out_dir: Path
    submissions: list[Submission]
    issues: list[Issue]
    results: Results
    outputs: list[Path] = field(default_factory=list)
    # Lines for the console and the summary's Tổng quan (stale months, catalogue changes…).
    notices: list[str] = field(default_factory=list)
    # Later periods already run that this run made stale (they must be run again).
    made_stale: list[str] = field(default_factory=list)

    @property
    def received_none(self) -> bool:
        """No file of the period counted: nothing was received for it."""
        return not any(s.status.counts for s in self.submissions)

    @property
    def exit_code(self) -> int:
        """0 everything read; 1 ran but something needs fixing: a file or row rejected, a cell
        read as unknown (processor.domain.issues), or no form received (SPEC §4).

        A copy sent twice, an earlier version replaced by a later one, a unit taken out by the
        clerk or an editor's lock file is not a rejection: the unit's data arrived.
        """
        rejected = any(s.rows_rejected for s in self.submissions if s.status not in NOT_REJECTIONS)
        to_fix = any(i.needs_fix for i in self.issues)
        return 1 if rejected or to_fix or self.received_none else 0


@dataclass(frozen=True)
class RunOptions:
    """What the clerk chose for a run (``kieumau run``'s options)."""

    next_forms: bool = True
    feedback: bool = True
    # Units taken out of the month: the files they sent so far stop counting (--bo-don-vi).
    drop_units: tuple[str, ...] = ()
    # The clerk confirmed a catalogue that differs from earlier months' (--xac-nhan-bo-tieu-chi).
    accept_catalogue: bool = False
    # The summary's sheets that name people (--khong-du-lieu-ca-nhan leaves them out).
    personal_rows: bool = True


@dataclass
class RunContext:
    """What every stage of one run shares."""

    inbox: Path
    period: Period
    catalogue: Catalogue
    output_root: Path
    workspace: Path
    history: History
    options: RunOptions
    run_id: str
    run_time: dt.datetime
    pool: ProcessPoolExecutor | None
    progress: Progress
    notices: list[str] = field(default_factory=list)

    @property
    def out_dir(self) -> Path:
        return self.output_root / str(self.period)

    @property
    def staging(self) -> Path:
        return staging_folder(self.output_root, str(self.period), self.run_id)

    def stage(self, label: str) -> Callable[[int, int], None]:
        return lambda i, n: self.progress(label, i, n)


# The run's catalogue inside a worker process, given once when the worker starts rather than
# pickled with each of its jobs.
_worker_catalogue: Catalogue | None = None


def _hold_catalogue(catalogue: Catalogue) -> None:
    global _worker_catalogue
    _worker_catalogue = catalogue


def _pool(workers: int, catalogue: Catalogue) -> ProcessPoolExecutor:
    return worker_pool(workers, _hold_catalogue, (catalogue,))


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


def _no_progress(label: str, i: int, n: int) -> None:
    return None


def display_name(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` as users read it. A name that is not valid UTF-8 (a zip
    made on another system) is shown with '�' in place of the bytes it cannot show: it still
    names the file, and every output (JSON, SQLite, workbooks) can hold it."""
    name = str(path.relative_to(folder))
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_files(
    jobs: list[tuple[Path, str]],
    catalogue: Catalogue,
    period: Period,
    *,
    pool: ProcessPoolExecutor | None = None,
    progress: Callable[[int, int], None] | None = None,
    arrived: Callable[[Submission], None] | None = None,
) -> list[Submission]:
    """Each (path, name) of ``jobs`` read, in ``pool`` when given (its workers hold
    ``catalogue``) and there are enough files to share. ``arrived`` is given each submission
    as soon as it is read: with workers, this process has nothing else to do meanwhile."""
    work = [(path, name, period) for path, name in jobs]
    if pool is not None and len(work) >= PARALLEL_THRESHOLD:
        read: Iterator[Submission] = pool.map(_read_in_worker, work, chunksize=1)
    else:
        read = (read_submission(path, catalogue, name, period) for path, name, _ in work)
    results: list[Submission] = []
    if progress:
        progress(0, len(work))
    for i, sub in enumerate(read, start=1):
        results.append(sub)
        if arrived:
            arrived(sub)
        if progress:
            progress(i, len(work))
    return results


def read_inbox(
    inbox: Path,
    catalogue: Catalogue,
    period: Period,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    pool: ProcessPoolExecutor | None = None,
    arrived: Callable[[Submission], None] | None = None,
) -> list[Submission]:
    """Every file of ``inbox`` read (see read_files), in a pool of ``workers`` processes (all
    cores by default) made for the reading when no ``pool`` is given."""
    jobs = [(path, display_name(path, inbox)) for path in list_inbox(inbox)]
    workers = workers if workers is not None else (os.cpu_count() or 1)
    with contextlib.ExitStack() as stack:
        if pool is None and workers > 1 and len(jobs) >= PARALLEL_THRESHOLD:
            pool = stack.enter_context(_pool(workers, catalogue))
        return read_files(jobs, catalogue, period, pool=pool, progress=progress, arrived=arrived)


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
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    options: RunOptions | None = None,
) -> RunReport:
    """Run the whole monthly batch for ``period`` over ``inbox`` and what the store already
    received for the period. Raises KieumauError when it cannot run (another run holds the
    store, a catalogue change not confirmed, a previous output held open); OSError when the
    disk refuses (full, read-only), having changed nothing."""
    options = options or RunOptions(next_forms=next_forms, feedback=feedback)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    with contextlib.ExitStack() as cleanup:
        private_folder(workspace)
        private_folder(history_path.parent)
        store_lock = cleanup.enter_context(
            StoreLock(history_path.with_suffix(".khoa"), f"Kho lịch sử {history_path}")
        )
        output_root.mkdir(parents=True, exist_ok=True)
        output_lock = cleanup.enter_context(
            StoreLock(output_root / ".khoa", f"Thư mục kết quả {output_root}")
        )
        history = cleanup.enter_context(History(history_path))
        ctx = RunContext(
            inbox, period, catalogue, output_root, workspace, history, options,
            run_id=uuid.uuid4().hex,
            run_time=now or dt.datetime.now().replace(microsecond=0),
            pool=None,
            progress=progress or _no_progress,
        )  # fmt: skip
        for lock in (store_lock, output_lock):
            if lock.previous:
                ctx.notices.append(
                    f"Lần chạy trước ({lock.previous_text}) đã dừng giữa chừng; "
                    "kết quả và kho lịch sử được giữ như trước lần chạy đó."
                )
        ctx.notices += recover(output_root, history.has_run)
        catalogue_used = _check_catalogue(ctx)
        _check_earlier_stale(ctx)
        # Shut down before the staging folder goes (callbacks run last first): a worker still
        # writing into it would leave it behind.
        cleanup.callback(_remove_folder, ctx.staging)
        if workers > 1:
            ctx.pool = _pool(workers, catalogue)
            cleanup.callback(ctx.pool.shutdown, cancel_futures=True)
        submissions = _gather(ctx)
        return _score_and_write(ctx, submissions, catalogue_used)


def _remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# --- before reading --------------------------------------------------------------------------


def _check_catalogue(ctx: RunContext) -> CatalogueUsed:
    """The catalogue this run scores with, for the history; a catalogue whose rules differ from
    the last earlier month of the same year stops the run unless the clerk confirmed it."""
    data = snapshot(ctx.catalogue)
    used = CatalogueUsed(
        str(ctx.period), ctx.catalogue.fingerprint, rules_fingerprint(data),
        ctx.catalogue.version or None, data,
    )  # fmt: skip
    earlier = [
        c
        for c in ctx.history.catalogues()
        if c.snapshot is not None
        and c.period < str(ctx.period)
        and c.period.startswith(f"{ctx.period.year:04d}-")
    ]
    if not earlier or earlier[-1].rules == used.rules:
        return used
    last = earlier[-1]
    changes = describe_changes(last.snapshot or {}, data)
    lines = "\n".join(f"  - {line}" for line in changes)
    if not ctx.options.accept_catalogue:
        raise CatalogueChanged(
            f"Bộ tiêu chí đã thay đổi so với bộ đã dùng để chấm kỳ {last.period} "
            f"(mã {last.rules} → {used.rules}):\n{lines}\n"
            "Kết quả các kỳ trước trong năm được giữ như cũ. Nếu Ban chỉ đạo đã quyết định "
            "thay đổi này, hãy chạy lại với --xac-nhan-bo-tieu-chi; nếu không, hãy khôi phục "
            "Bộ tiêu chí cũ."
        )
    ctx.notices.append(
        f"Bộ tiêu chí khác với bộ đã chấm kỳ {last.period} (đã xác nhận): " + " ".join(changes)
    )
    return used


def _check_earlier_stale(ctx: RunContext) -> None:
    stale = {p: why for p, why in ctx.history.stale().items() if p < str(ctx.period)}
    if stale:
        ctx.notices.append(
            f"Kỳ {', '.join(stale)} cần chạy lại trước (một kỳ trước đó đã thay đổi sau khi "
            "chúng được chạy); kết quả kỳ này dựa vào chúng."
        )


# --- reading ---------------------------------------------------------------------------------


def _gather(ctx: RunContext) -> list[Submission]:
    """The month's files read: the inbox's, and those the store already received for the month
    that are not in the inbox (a re-run with only a correction keeps the other units); then
    archived, their receipts recorded, the clerk's withdrawals applied and the files in force
    chosen."""
    period = str(ctx.period)
    # The run's own outputs and store are never read back, should they lie inside the inbox.
    inside = list_inbox(ctx.inbox, skip=(ctx.output_root, ctx.workspace))
    inbox_jobs = [(path, display_name(path, ctx.inbox)) for path in inside]
    earlier = [f for f in ctx.history.month_files(period) if f.status != IGNORED]
    archive_jobs: list[tuple[Path, str]] = []
    if earlier:
        # Only a re-run pays for hashing the inbox first: to leave out files it already holds.
        present = {_hash_or_none(path) for path, _ in inbox_jobs}
        names = {name for _, name in inbox_jobs}
        for f in earlier:
            kept = find_archived(ctx.workspace, f.sha256)
            if f.sha256 in present or kept is None:
                continue
            present.add(f.sha256)
            name = f.name if f.name not in names else f"{f.name} (bản lưu {f.sha256[:8]})"
            names.add(name)
            archive_jobs.append((kept, name))
    from_archive = {name for _, name in archive_jobs}
    submissions = read_files(
        inbox_jobs + archive_jobs, ctx.catalogue, ctx.period,
        pool=ctx.pool, progress=ctx.stage("Đọc tệp"),
        arrived=lambda sub: archive(sub, ctx.workspace),
    )  # fmt: skip
    for sub in submissions:
        sub.from_archive = sub.name in from_archive
    _receive(ctx, submissions)
    _withdraw(ctx, submissions)
    resolve_duplicates(submissions)
    compare_with_history(submissions, ctx.catalogue, ctx.history, ctx.period)
    return submissions


def _hash_or_none(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None  # the reader reports the file


def _receive(ctx: RunContext, submissions: list[Submission]) -> None:
    """Each file's receipt time: when the store first received its bytes (recorded now for the
    files it sees for the first time), or the mail's date recorded by ``kieumau thu``."""
    shas = [s.sha256 for s in submissions if s.sha256]
    known = ctx.history.receipts(shas)
    # The clock to the microsecond, not the run's time (to the second, or given by a caller):
    # two runs in one second must still see the second one's files as received later.
    now = dt.datetime.now()
    new = [sha for sha in dict.fromkeys(shas) if sha not in known]
    ctx.history.record_receipts(new, now, source=RECEIPT_SOURCE)
    known = ctx.history.receipts(shas)
    for sub in submissions:
        sub.received_at = known.get(sub.sha256)


def _withdraw(ctx: RunContext, submissions: list[Submission]) -> None:
    """Files the clerk took out of the month, now or in an earlier run (--bo-don-vi)."""
    dropped = set(ctx.options.drop_units)
    if dropped:
        unknown = sorted(code for code in dropped if ctx.catalogue.unit(code) is None)
        if unknown:
            raise KieumauError(
                f"Mã đơn vị {', '.join(unknown)} (--bo-don-vi) không có trong sheet Đơn vị "
                "của Bộ tiêu chí."
            )
    withdrawn = ctx.history.withdrawn(str(ctx.period))
    for sub in submissions:
        if sub.status.set_aside or not sub.sha256:
            continue
        if sub.sha256 in withdrawn or (sub.unit_code in dropped and sub.status.counts):
            sub.stand_aside(WITHDRAWN, "FILE_WITHDRAWN", sub.unit_code or "")
    if dropped:
        ctx.notices.append(
            f"Đã bỏ đơn vị {', '.join(sorted(dropped))} khỏi kỳ {ctx.period} theo yêu cầu; "
            "các tệp đơn vị gửi sau lần chạy này sẽ được tính."
        )


# --- scoring and writing ---------------------------------------------------------------------


def _score_and_write(
    ctx: RunContext, submissions: list[Submission], catalogue_used: CatalogueUsed
) -> RunReport:
    # Next month's forms need only the rows of the files that count: they go to the workers
    # before the month's rows are put together, and are written while scoring runs.
    forms = (
        _submit(ctx, _form_in_worker, _form_jobs(ctx, submissions))
        if ctx.options.next_forms
        else []
    )
    consolidated = consolidate(submissions, ctx.catalogue, resolved=True)
    issues = [i for s in sorted(submissions, key=lambda s: s.name) for i in s.issues]
    issues += consolidated.issues
    results = _score(ctx, consolidated)
    # The feedback needs the results, not the history: it is written while the history is saved.
    feedbacks = (
        _submit(
            ctx,
            _feedback_in_worker,
            _feedback_jobs(ctx, submissions, issues, results),
        )
        if ctx.options.feedback
        else []
    )
    report = RunReport(ctx.period, ctx.out_dir, submissions, issues, results)
    report.made_stale = _save_history(ctx, submissions, consolidated, results, catalogue_used)
    if report.received_none:
        ctx.notices.insert(
            0,
            f"Không nhận được biểu mẫu nào của kỳ {ctx.period}: mọi đơn vị ở danh sách Chưa nộp.",
        )
    if report.made_stale:
        ctx.notices.append(
            f"Các kỳ sau đã có kết quả và nay cần chạy lại, theo thứ tự: "
            f"{', '.join(report.made_stale)}."
        )
    report.notices = ctx.notices
    trend = ctx.history.progress(ctx.period.year, str(ctx.period))
    produced = _write_outputs(ctx, consolidated, results, issues, trend, forms, feedbacks)
    manifest = ctx.staging / MANIFEST
    write_json(manifest, _manifest(ctx, report, produced, catalogue_used))
    produced.append(manifest)
    publish(
        ctx.staging, ctx.out_dir, ctx.run_id, ctx.history.commit,
        {p.relative_to(ctx.staging).parts[0] for p in produced},
    )  # fmt: skip
    report.outputs = [ctx.out_dir / p.relative_to(ctx.staging) for p in produced]
    return report


def _submit(ctx: RunContext, in_worker: Callable, jobs: list[tuple]) -> list:
    """``jobs`` as futures in the pool, or (without one) left as arguments to run here."""
    if ctx.pool is None:
        return jobs
    return [ctx.pool.submit(in_worker, *job) for job in jobs]


def _score(ctx: RunContext, consolidated: Consolidated) -> Results:
    step = ctx.stage("Chấm điểm")
    step(0, 1)
    frames = {
        "citizens": consolidated.citizens,
        "households": consolidated.households,
        "tasks": consolidated.tasks,
    }
    frames = registration_periods(frames, ctx.history, ctx.catalogue, ctx.period)
    frames = carry_years(frames, ctx.history, ctx.catalogue, ctx.period)
    submitted = consolidated.units[consolidated.units["submitted"]].reset_index(drop=True)
    results = score(
        frames["citizens"], frames["households"], submitted, frames["tasks"],
        ctx.catalogue, ctx.period,
    )  # fmt: skip
    step(1, 1)
    return results


def _save_history(
    ctx: RunContext,
    submissions: list[Submission],
    consolidated: Consolidated,
    results: Results,
    catalogue_used: CatalogueUsed,
) -> list[str]:
    """The period saved, its transaction left open (committed once the outputs are in place);
    returns the later periods this made stale."""
    step = ctx.stage("Ghi lịch sử")
    step(0, 1)
    for code in ctx.options.drop_units:
        ctx.history.withdraw(str(ctx.period), code, ctx.run_time)
    made_stale = ctx.history.save_period(
        str(ctx.period),
        ctx.run_time,
        str(ctx.inbox),
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
        progress_rows(results, ctx.catalogue, consolidated.units),
        refused=_refused_rows(submissions),
        run_id=ctx.run_id,
        catalogue=catalogue_used,
        commit=False,
    )
    # withdraw() records the files recorded before this run; this run's own files of the
    # dropped units are recorded now that the period's files are saved.
    for code in ctx.options.drop_units:
        ctx.history.withdraw(str(ctx.period), code, ctx.run_time)
    step(1, 1)
    return made_stale


def _refused_rows(submissions: list[Submission]) -> dict[str, pd.DataFrame]:
    """Per level, the rows of the files in force that were read but not counted, by unit."""
    found: dict[str, list[pd.DataFrame]] = {}
    for sub in submissions:
        if sub.status.counts and sub.unit_code:
            for level, frame in sub.rejected_rows.items():
                found.setdefault(level, []).append(frame.assign(unit_code=sub.unit_code))
    return {level: pd.concat(frames, ignore_index=True) for level, frames in found.items()}


def _form_jobs(ctx: RunContext, submissions: list[Submission]) -> list[tuple]:
    """Arguments of write_form after the catalogue, for each unit's next-month form: the rows
    this month's files that count gave (resolve_duplicates has run), else the unit's latest
    rows in the history (a unit that skips a month keeps its list), else a blank form."""
    own: dict[str, list[Submission]] = {}
    for sub in sorted(submissions, key=lambda s: s.unit_code or ""):
        if sub.status.counts and sub.unit_code:
            own.setdefault(sub.unit_code, []).append(sub)

    def rows(subs: list[Submission], level: str) -> pd.DataFrame:
        frames = [getattr(sub, level) for sub in subs if not getattr(sub, level).empty]
        rejected = [s.rejected_rows[level] for s in subs if level in s.rejected_rows]
        if rejected and len(subs) == 1:
            # The rows rejected as read go back where the unit typed them.
            return pd.concat([*frames, *rejected], ignore_index=True).sort_values(
                "_row", kind="stable", ignore_index=True
            )
        if len(frames) > 1:  # not after resolve_duplicates: one file counts per unit
            return pd.concat(frames, ignore_index=True)
        return frames[0] if frames else pd.DataFrame()

    following = ctx.period.next()
    last = {
        code: LastRows(ctx.period, {level: rows(subs, level) for level in _LEVELS},
                       source_of(ctx.period))
        for code, subs in own.items()
    }  # fmt: skip
    others = [u.code for u in ctx.catalogue.units if u.code not in own]
    last |= last_rows_from_history(ctx.history, others, following)
    rosters = next_rosters(last, following, ctx.catalogue, ctx.history)
    jobs = []
    for unit in ctx.catalogue.units:
        path = path_under(ctx.staging / "bieu_mau", f"{unit.code}_{following}.xlsx")
        jobs.append((unit, following, path, rosters.get(unit.code)))
    return jobs


def _feedback_jobs(
    ctx: RunContext, submissions: list[Submission], issues: list[Issue], results: Results
) -> list[tuple]:
    """Arguments of write_feedback but the catalogue, for each unit that sent a file still in
    the month (not only files the clerk took out). The unit's submissions go without their
    rows, and its results with only the columns shown."""
    results_of = shown_results(ctx.catalogue, results).by_unit()
    own_files: dict[str | None, list[Submission]] = {}
    for sub in submissions:
        own_files.setdefault(sub.unit_code, []).append(sub)
    file_issues: dict[str, list[tuple[int, Issue]]] = {}
    for position, issue in enumerate(issues):
        file_issues.setdefault(issue.file, []).append((position, issue))
    jobs = []
    for unit in ctx.catalogue.units:
        own = [s for s in own_files.get(unit.code, []) if s.status != WITHDRAWN]
        # The feedback describes the files in force: a replaced version or a copy says nothing.
        described = [s for s in own if not s.status.set_aside]
        if own:
            jobs.append(
                (
                    path_under(ctx.staging / "phan_hoi", f"{unit.code}_{ctx.period}.xlsx"),
                    unit,
                    ctx.period,
                    [s.without_rows() for s in own],
                    [
                        i
                        for _, i in sorted(
                            p for s in described for p in file_issues.get(s.name, [])
                        )
                    ],
                    results_of(unit.code),
                )
            )
    return jobs


def _write_outputs(
    ctx: RunContext,
    consolidated: Consolidated,
    results: Results,
    issues: list[Issue],
    trend: pd.DataFrame,
    forms: list,
    feedbacks: list,
) -> list[Path]:
    """Write the summary here, and collect every unit's feedback and next-month form: futures
    already running in the pool, or (without one) their arguments, written here."""
    step = ctx.stage("Ghi kết quả")
    # The clerk's summary names people; the Ban chỉ đạo's copy holds the counts alone, so that
    # what is emailed around names nobody (issue 24). Without personal rows the two are one.
    summaries = [(f"tong_hop_{ctx.period}.xlsx", ctx.options.personal_rows)]
    if ctx.options.personal_rows:
        summaries.append((f"tong_hop_ban_chi_dao_{ctx.period}.xlsx", False))
    total = len(summaries) + len(feedbacks) + len(forms)
    step(0, total)
    produced = []
    for name, personal in summaries:
        produced.append(
            write_summary(
                ctx.staging / name,
                ctx.catalogue,
                ctx.period,
                results,
                consolidated,
                issues,
                trend,
                ctx.run_time,
                notices=ctx.notices,
                personal=personal,
            )
        )
        step(len(produced), total)
    for kind, jobs in (("feedback", feedbacks), ("form", forms)):
        for job in jobs:
            if isinstance(job, Future):
                produced.append(job.result())
            elif kind == "feedback":
                path, *rest = job
                produced.append(write_feedback(path, ctx.catalogue, *rest))
            else:
                produced.append(write_form(ctx.catalogue, *job))
            step(len(produced), total)
    return produced


def _manifest(
    ctx: RunContext, report: RunReport, produced: list[Path], catalogue_used: CatalogueUsed
) -> dict:
    """nhat_ky.json: keys in Vietnamese without diacritics, as every file the store writes."""
    subs = sorted(report.submissions, key=lambda s: s.name)
    return {
        "ky": str(report.period),
        "thoi_gian": ctx.run_time.isoformat(),
        "lan_chay": ctx.run_id,
        "hop_thu": str(ctx.inbox),
        "ma_thoat": report.exit_code,
        "bo_tieu_chi": {
            "ma_bieu_mau": catalogue_used.fingerprint,
            "ma_quy_tac": catalogue_used.rules,
            "phien_ban": catalogue_used.version,
        },
        "thong_bao": report.notices,
        "ky_can_chay_lai": report.made_stale,
        "tong": {
            "so_tep": len(subs),
            "so_dong_doc": sum(s.rows_read for s in subs),
            "so_dong_nhan": sum(s.rows_accepted for s in subs),
            "so_dong_loai": sum(s.rows_rejected for s in subs),
            "so_dong_khong_tinh": sum(s.rows_set_aside for s in subs),
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
                "nhan_luc": s.received_at.isoformat() if s.received_at else None,
                "tu_kho_luu_tru": s.from_archive,
                "so_dong_doc": s.rows_read,
                "so_dong_nhan": s.rows_accepted,
                "so_dong_loai": s.rows_rejected,
                "so_dong_khong_tinh": s.rows_set_aside,
                "thay_the_boi": s.superseded_by,
                "theo_sheet": {
                    sheet: {
                        "doc": c.read,
                        "nhan": c.accepted,
                        "loai": c.rejected,
                        "khong_tinh": c.set_aside,
                    }
                    for sheet, c in s.counts.items()
                },
            }
            for s in subs
        ],
        "thu_muc_ket_qua": str(ctx.out_dir),
        "dau_ra": [str(ctx.out_dir / p.relative_to(ctx.staging)) for p in produced],
    }
