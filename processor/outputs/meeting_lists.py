"""The list a unit posts and reads at its vote meeting (niêm yết công khai, bình xét).

Printed before the meeting from the latest month in the history: per tổ dân phố and agency,
everyone registered for a title (old enough for it), with birth year and household, never a
CCCD number or a full birth date, and blank columns for the votes. `kieumau binh-xet`.
"""

from __future__ import annotations

from pathlib import Path

from processor.domain.catalogue import Catalogue
from processor.domain.errors import HistoryError
from processor.outputs import document_context as ctx
from processor.outputs.documents import (
    DEFAULT_TEMPLATES,
    DraftSet,
    _safe,
    render_all,
    staged_folder,
)
from processor.outputs.recognition import stored_results
from processor.store.history import History


def latest_period(history_path: Path) -> str:
    """The last period recorded in the history."""
    if history_path.exists():
        with History(history_path) as history:
            periods = history.periods()
        if periods:
            return periods[-1]
    raise HistoryError(
        f"Kho lịch sử {history_path} chưa có kỳ nào: hãy chạy 'kieumau run <thư mục> --ky …' "
        "trước khi lập danh sách bình xét."
    )


def posting_lists(
    catalogue: Catalogue,
    history_path: Path,
    output_root: Path,
    period: str | None = None,
    unit_codes: tuple[str, ...] = (),
    *,
    templates_dir: Path | None = None,
    workers: int | None = None,
) -> DraftSet:
    """Write ``binh_xet_<unit>_<period>.docx`` per unit into ``<output_root>/<period>/binh_xet``
    (every unit with results, or ``unit_codes``); the folder is replaced as a whole."""
    period = period or latest_period(history_path)
    results = stored_results(history_path, period)
    notes = []
    present = set(results.citizens.get("unit_code", [])) | set(
        results.households.get("unit_code", [])
    )
    codes = list(unit_codes) or [u.code for u in catalogue.units if u.code in present]
    unknown = [c for c in codes if catalogue.unit(c) is None]
    if unknown:
        raise HistoryError(
            f"Không có đơn vị {', '.join(unknown)} trong Bộ tiêu chí. Các mã đơn vị: "
            + ", ".join(u.code for u in catalogue.units)
            + "."
        )
    missing = [c for c in codes if c not in present]
    if missing:
        notes.append(
            f"Chưa có số liệu kỳ {period} của {', '.join(missing)}: danh sách của các đơn vị "
            "này để trống."
        )
    ward = ctx.ward_context(catalogue, int(period[:4]))
    of_unit = results.by_unit()
    jobs = [
        (
            "binh_xet",
            ctx.posting_context(ward, catalogue, of_unit(c), c, period),
            f"binh_xet_{_safe(c)}_{period}.docx",
        )
        for c in codes
    ]
    target = Path(output_root) / period / "binh_xet"
    with staged_folder(target, keep=bool(unit_codes)) as staging:
        render_all(jobs, staging, templates_dir or DEFAULT_TEMPLATES, workers)
    files = sorted(p for p in target.iterdir() if p.is_file())
    return DraftSet(target, files, notes)
