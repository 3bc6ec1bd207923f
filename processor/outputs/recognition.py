"""December recognition: the November results of a year, from history, into Word drafts.

`decisions_for_year` is `kieumau quyet-dinh`: it loads November's results, lines them up with
the catalogue in force (a unit removed since gets no papers, a renamed one its new name in every
paper, and the command says so), writes the whole set of drafts into a new folder and puts it in
place of the previous set in one step, so the folder holds one set, never a mix.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, describe_changes, snapshot
from processor.domain.errors import HistoryError
from processor.outputs import document_context as ctx
from processor.outputs.documents import (
    DEFAULT_TEMPLATES,
    DraftSet,
    convert_to_pdf,
    forked_pool,
    staged_folder,
    write_decisions,
)
from processor.outputs.prefill import _dates
from processor.scoring.score import Results
from processor.store.history import History

EVALUATION_MONTH = 11  # November evaluation (SPEC §1 calendar)


def stored_results(history_path: Path, period: str) -> Results:
    """The results recorded for ``period``; HistoryError saying what to run when there are none."""
    if not history_path.exists():
        raise HistoryError(
            f"Chưa có kho lịch sử {history_path}: hãy chạy 'kieumau run ... --ky {period}' trước."
        )
    with History(history_path) as history:
        if period not in history.periods():
            raise HistoryError(
                f"Chưa có kết quả kỳ {period} trong kho lịch sử: hãy chạy "
                f"'kieumau run <thư mục> --ky {period}' trước."
            )
        citizens = _dates(history.load(period, "result", "citizens"), "birth_date")
        households = history.load(period, "result", "households")
        units = _dates(history.load(period, "result", "units"), "meeting_date")
    return Results(citizens, households, units)


def november_results(history_path: Path, year: int) -> Results:
    return stored_results(history_path, f"{year:04d}-{EVALUATION_MONTH:02d}")


def _codes(frame: pd.DataFrame) -> set[str]:
    if frame is None or frame.empty or "unit_code" not in frame:
        return set()
    return set(frame["unit_code"].dropna().astype(str))


def reconcile(catalogue: Catalogue, results: Results, year: int) -> tuple[Results, list[str]]:
    """November's results restricted to the units the catalogue still lists, and what the
    clerk must know: units gone, units renamed, units with no November data."""
    period = f"{year:04d}-{EVALUATION_MONTH:02d}"
    frames = (results.citizens, results.households, results.units)
    present = set().union(*(_codes(f) for f in frames))
    listed = {u.code for u in catalogue.units}
    notes = []
    gone = sorted(present - listed, key=ctx.code_key)
    if gone:
        notes.append(
            f"Đơn vị có kết quả kỳ {period} nhưng không còn trong Bộ tiêu chí, không lập văn bản: "
            f"{', '.join(gone)}. Nếu đơn vị chỉ đổi mã, hãy chạy lại kỳ {period}."
        )
    units = results.units
    if units is not None and not units.empty and "unit_name" in units:
        for code, name in zip(units["unit_code"], units["unit_name"], strict=True):
            unit = catalogue.unit(str(code))
            if unit and isinstance(name, str) and name.strip() and name.strip() != unit.name:
                notes.append(
                    f"{code} đổi tên từ “{name.strip()}” thành “{unit.name}”: mọi văn bản dùng "
                    "tên mới trong Bộ tiêu chí."
                )
    missing = [u.code for u in catalogue.units if u.code not in present]
    if missing:
        notes.append(
            f"Đơn vị chưa có số liệu kỳ {period}, không có tên trong văn bản: "
            f"{', '.join(missing)}. Nhận biểu mẫu của các đơn vị này rồi chạy lại "
            f"'kieumau run <thư mục> --ky {period}' trước khi lập văn bản."
        )

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        if frame is None or frame.empty or "unit_code" not in frame:
            return frame
        return frame[frame["unit_code"].astype(str).isin(listed)]

    citizens, households, units = (keep(f) for f in frames)
    households, nameless = _without_heads(households)
    if nameless:
        notes.append(
            f"Hộ đạt danh hiệu nhưng chưa có tên chủ hộ (ô Chủ hộ để trống hoặc không phải họ "
            f"tên), không đưa vào văn bản nào: {', '.join(nameless)}. Văn bản công nhận phải ghi "
            f"tên chủ hộ: sửa ô Chủ hộ ở biểu mẫu kỳ {period} của đơn vị, nhận lại rồi chạy lại "
            f"'kieumau run <thư mục> --ky {period}' trước khi lập văn bản."
        )
    return Results(citizens, households, units), notes


def _without_heads(households: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The households a paper can name, and the codes of recognised ones it cannot: a head's
    name refused as read (a number, a formula) is blank, and a decision does not print a blank
    where a family's name goes."""
    if households is None or households.empty or "head_name" not in households:
        return households, []
    head = households["head_name"].fillna("").astype(str).str.strip()
    achieved = households["outcome"].eq(S.ACHIEVED) if "outcome" in households else False
    nameless = head.eq("") & achieved
    codes = households.loc[nameless, "household_code"].astype(str).tolist()
    return households[~nameless], codes


# Settings and title columns that only the papers read: changing them needs no new scoring.
_PAPERS_ONLY = frozenset(ctx.DOCUMENT_SETTINGS) | {"han_nop", "email_nhan", "can_bo_tiep_nhan"}
_TITLE_PAPERS_ONLY = ("recognised_by", "certificate")


def _scoring_part(data: dict) -> dict:
    titles = {
        code: {k: v for k, v in rules.items() if k not in _TITLE_PAPERS_ONLY}
        for code, rules in data.get("danh_hieu", {}).items()
    }
    settings = {k: v for k, v in data.get("cau_hinh", {}).items() if k not in _PAPERS_ONLY}
    return {**data, "danh_hieu": titles, "cau_hinh": settings}


def rules_changed(catalogue: Catalogue, history_path: Path, year: int) -> list[str]:
    """What changed in the catalogue's rules since November was scored, one line each; empty
    when nothing did or the store did not record the catalogue then."""
    period = f"{year:04d}-{EVALUATION_MONTH:02d}"
    with History(history_path) as history:
        used = next((c for c in history.catalogues() if c.period == period), None)
    if used is None or used.snapshot is None:
        return []
    return describe_changes(_scoring_part(used.snapshot), _scoring_part(snapshot(catalogue)))


def decisions_for_year(
    catalogue: Catalogue,
    year: int,
    output_root: Path,
    history_path: Path,
    pdf: bool = False,
    *,
    templates_dir: Path | None = None,
    workers: int | None = None,
) -> DraftSet:
    """Write the year's drafts into ``<output_root>/<year>-12/quyet_dinh`` as one set.

    The drafts come from one state: November's results and the catalogue that scored them.
    When the catalogue's rules changed since, nothing is written and the error says what
    changed and which month to run again.
    """
    # Started before the results are loaded: see forked_pool.
    with forked_pool(workers) as (pool, workers):
        november = november_results(history_path, year)
        changed = rules_changed(catalogue, history_path, year)
        if changed:
            period = f"{year:04d}-{EVALUATION_MONTH:02d}"
            raise HistoryError(
                f"Bộ tiêu chí đã đổi sau khi chấm kỳ {period}, kết quả đang lưu không còn khớp: "
                + " ".join(changed)
                + f" Hãy chạy lại 'kieumau run <thư mục> --ky {period}' với Bộ tiêu chí này rồi "
                "lập văn bản; chưa lập văn bản nào."
            )
        results, notes = reconcile(catalogue, november, year)
        left = ctx.placeholders(catalogue)
        if left:
            notes.append(
                f"Cấu hình còn {len(left)} chỗ trống (…) chưa điền, văn bản in nguyên chỗ trống: "
                + "; ".join(left)
                + ". Điền vào sheet Cấu hình của Bộ tiêu chí rồi chạy lại."
            )
        target = Path(output_root) / f"{year:04d}-12" / "quyet_dinh"
        with staged_folder(target) as staging:
            paths = write_decisions(
                catalogue,
                results,
                year,
                staging,
                templates_dir=templates_dir or DEFAULT_TEMPLATES,
                workers=workers,
                pool=pool,
            )
            if pdf:
                notes += convert_to_pdf(paths, staging)
    files = sorted(p for p in target.iterdir() if p.is_file())
    return DraftSet(target, files, notes)
