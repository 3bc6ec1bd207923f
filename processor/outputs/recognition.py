"""December recognition: the November results of a year, from history, into Word drafts."""

from __future__ import annotations

from pathlib import Path

from processor.domain.catalogue import Catalogue
from processor.domain.errors import HistoryError
from processor.outputs.prefill import _dates
from processor.scoring.score import Results
from processor.store.history import History

EVALUATION_MONTH = 11  # November evaluation (SPEC §1 calendar)


def november_results(history_path: Path, year: int) -> Results:
    period = f"{year:04d}-{EVALUATION_MONTH:02d}"
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


def decisions_for_year(
    catalogue: Catalogue, year: int, output_root: Path, history_path: Path, pdf: bool = False
) -> tuple[list[Path], list[str]]:
    from processor.outputs.documents import convert_to_pdf, write_decisions

    results = november_results(history_path, year)
    out_dir = output_root / f"{year:04d}-12" / "quyet_dinh"
    paths = write_decisions(catalogue, results, year, out_dir)
    warnings = convert_to_pdf(paths, out_dir) if pdf else []
    return paths, warnings
