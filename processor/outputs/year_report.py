"""The town's reports to the district (`kieumau bao-cao`): the year's results (Báo cáo kết quả,
from November, the month the decisions are made from) and the registration report (Báo cáo
đăng ký, from the last month of registration, han_dang_ky: January by default).

Per title of the catalogue and per unit: how many registered and how many achieved, beside last
year's figures read from the same history; a year the history does not hold is written
"chưa có số liệu", never 0. The tables are Word tables of the template; the chart is a PNG drawn
by matplotlib and placed by docxtpl. The file is replaced in one step (`files.atomic_path`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Title
from processor.domain.errors import HistoryError
from processor.domain.vietnamese import format_number
from processor.outputs import document_context as ctx
from processor.outputs.documents import DEFAULT_TEMPLATES, DraftSet, Picture, render_one
from processor.outputs.files import atomic_path
from processor.outputs.recognition import EVALUATION_MONTH, stored_results
from processor.scoring.score import Results
from processor.store.history import History

RESULTS, REGISTRATION = "ket-qua", "dang-ky"
KINDS = (RESULTS, REGISTRATION)
NO_DATA = "chưa có số liệu"
_DASH = "–"  # a unit without data in a period: nothing to count, not zero
CHART_WIDTH = 160  # mm: the text width of the portrait page less a margin


@dataclass(frozen=True)
class Count:
    """One title's figures in one period, for the town or one unit."""

    listed: int  # on the forms (people, households) or tổ dân phố that reported
    registered: int
    achieved: int


def _frame(results: Results, title: Title) -> pd.DataFrame:
    """The rows assessed for ``title``: a unit title's are the tổ dân phố that reported."""
    if title.level == S.LEVEL_CITIZEN:
        return results.citizens
    if title.level == S.LEVEL_HOUSEHOLD:
        return results.households
    units = results.units
    if units is None or units.empty:
        return units
    reported = units["submitted"].fillna(False).astype(bool) if "submitted" in units else True
    return units[units["kind"].eq(S.UNIT_KIND_TDP) & reported]


def _reported(results: Results) -> set[str]:
    """Units with data in the period: those whose form was received."""
    units = results.units
    if units is None or units.empty:
        return set()
    if "submitted" in units:
        units = units[units["submitted"].fillna(False).astype(bool)]
    return set(units["unit_code"].astype(str))


@dataclass(frozen=True)
class Tally:
    """A title's figures in one period: the town's, and each unit's that reported."""

    total: Count
    units: dict[str, Count]


def tally(results: Results, title: Title) -> Tally:
    """Count ``title`` in ``results`` in one grouping by unit (a district has many units)."""
    units = dict.fromkeys(_reported(results), Count(0, 0, 0))
    frame = _frame(results, title)
    if frame is None or frame.empty:
        return Tally(Count(0, 0, 0), units)
    # A title without registration (a tổ dân phố's): every entity assessed takes part.
    registered = frame["registered"].eq(S.YES) if "registered" in frame else True
    flags = pd.DataFrame(
        {"listed": 1, "registered": registered, "achieved": frame["outcome"].eq(S.ACHIEVED)},
        index=frame.index,
    ).astype(int)
    for code, row in flags.groupby(frame["unit_code"].astype(str)).sum().iterrows():
        units[str(code)] = Count(int(row["listed"]), int(row["registered"]), int(row["achieved"]))
    total = flags.sum()
    return Tally(Count(*(int(total[k]) for k in ("listed", "registered", "achieved"))), units)


# --- the periods --------------------------------------------------------------------------------


def _periods(history_path: Path) -> list[str]:
    if not history_path.exists():
        raise HistoryError(
            f"Chưa có kho lịch sử {history_path}: hãy chạy 'kieumau run <thư mục> --ky …' trước."
        )
    with History(history_path) as history:
        return history.periods()


def registration_period(catalogue: Catalogue, periods: list[str], year: int) -> str | None:
    """The last month of ``year`` up to the registration deadline (han_dang_ky) in the history."""
    last = f"{year:04d}-{catalogue.rules.registration_deadline:02d}"
    found = [p for p in periods if f"{year:04d}-01" <= p <= last]
    return found[-1] if found else None


def evaluation_period(periods: list[str], year: int) -> str | None:
    period = f"{year:04d}-{EVALUATION_MONTH:02d}"
    return period if period in periods else None


# --- the context ----------------------------------------------------------------------------------


def _n(value: int) -> str:
    return format_number(value, 0)


def _share(part: int, whole: int) -> str:
    return format_number(part / whole * 100, 1) if whole else _DASH


def _change(now: int, before: int) -> str:
    diff = now - before
    return f"+{format_number(diff, 0)}" if diff > 0 else format_number(diff, 0) if diff else "0"


@dataclass
class ReportData:
    """What the report compares: this year's period and last year's (None: not in history)."""

    now: Results
    registered_before: Results | None  # last year's registration (dang-ky only)
    achieved_before: Results | None  # last year's November

    def before(self) -> tuple[Results | None, Results | None]:
        return self.registered_before, self.achieved_before


Before = Count | str  # last year's count, or why there is none (NO_DATA, or _DASH for a unit)


def _before(figures: Tally | None, unit_code: str | None = None) -> Before:
    if figures is None:
        return NO_DATA
    if unit_code is None:
        return figures.total
    return figures.units.get(unit_code, _DASH)


def _row(kind: str, name: str, now: Count | None, reg: Before, ach: Before) -> dict[str, str]:
    """A table row: the name, this year's three figures and last year's two (c1…c5)."""
    if now is None:
        cells = [_DASH] * 3
    elif kind == RESULTS:
        cells = [_n(now.registered), _n(now.achieved), _share(now.achieved, now.registered)]
    else:
        cells = [_n(now.listed), _n(now.registered), _share(now.registered, now.listed)]
    if kind == RESULTS:
        if not isinstance(ach, Count):
            cells += [ach, ach if now else _DASH]
        else:
            cells += [_n(ach.achieved), _change(now.achieved, ach.achieved) if now else _DASH]
    else:
        cells.append(_n(reg.registered) if isinstance(reg, Count) else reg)
        cells.append(_n(ach.achieved) if isinstance(ach, Count) else ach)
    return {"ten": name, **{f"c{i}": text for i, text in enumerate(cells, start=1)}}


def _units_of(catalogue: Catalogue, title: Title) -> list:
    """The units a title is counted in: every unit for citizens, tổ dân phố for the others."""
    if title.level == S.LEVEL_CITIZEN:
        return list(catalogue.units)
    return [u for u in catalogue.units if u.is_tdp]


def _sentence(kind: str, title: Title, year: int, now: Count, reg: Before, ach: Before) -> str:
    name = f"Danh hiệu “{title.name}”"
    if kind == RESULTS:
        text = (
            f"{name}: {_n(now.registered)} đăng ký, {_n(now.achieved)} đạt "
            f"({_share(now.achieved, now.registered)}% số đăng ký)"
        )
        if not isinstance(ach, Count):
            return f"{text}; năm {year - 1}: {NO_DATA}."
        change = _change(now.achieved, ach.achieved)
        return f"{text}; năm {year - 1} đạt {_n(ach.achieved)} ({change})."
    text = f"{name}: {_n(now.registered)} đăng ký trên {_n(now.listed)} trong danh sách"
    parts = []
    if isinstance(reg, Count):
        parts.append(f"đăng ký {_n(reg.registered)} ({_change(now.registered, reg.registered)})")
    if isinstance(ach, Count):
        parts.append(f"đạt {_n(ach.achieved)}")
    if not parts:
        return f"{text}; năm {year - 1}: {NO_DATA}."
    return f"{text}; năm {year - 1} " + ", ".join(parts) + "."


@dataclass(frozen=True)
class _Figures:
    """One title's figures: this year's, and last year's registration and results to compare
    with (None: not in the history)."""

    now: Tally
    registered_before: Tally | None
    achieved_before: Tally | None

    def before(self, unit_code: str | None = None) -> tuple[Before, Before]:
        """Last year's (registration, results), of the town or of one unit."""
        return _before(self.registered_before, unit_code), _before(self.achieved_before, unit_code)


def _figures(data: ReportData, title: Title) -> _Figures:
    before = (tally(r, title) if r is not None else None for r in data.before())
    return _Figures(tally(data.now, title), *before)


def _unit_table(
    kind: str, catalogue: Catalogue, title: Title, number: int, figures: _Figures
) -> dict[str, Any]:
    """Table ``number + 1`` of the report: the title's figures unit by unit, then Cộng."""
    rows = [
        {
            "stt": str(i),
            **_row(kind, unit.name, figures.now.units.get(unit.code), *figures.before(unit.code)),
        }
        for i, unit in enumerate(_units_of(catalogue, title), start=1)
    ]
    rows.append({"stt": "", **_row(kind, "Cộng", figures.now.total, *figures.before())})
    note = (
        ""
        if title.registration_required
        else f"Danh hiệu “{title.name}” không đăng ký: số đăng ký là số đơn vị có báo cáo."
    )
    return {"bang": str(number + 1), "ten": title.name, "ghi_chu": note, "danh_sach": rows}


def _gaps(catalogue: Catalogue, kind: str, year: int, data: ReportData, period: str) -> list[str]:
    """The report's notes: units without data in the period, last year's periods the history
    does not hold."""
    notes = []
    missing = [u.code for u in catalogue.units if u.code not in _reported(data.now)]
    if missing:
        notes.append(f"Đơn vị chưa có số liệu kỳ {period} (ghi “{_DASH}”): {', '.join(missing)}.")
    if kind == REGISTRATION and data.registered_before is None:
        notes.append(f"Đăng ký năm {year - 1}: kho lịch sử {NO_DATA}.")
    if data.achieved_before is None:
        notes.append(
            f"Kết quả năm {year - 1} (kỳ tháng {EVALUATION_MONTH}): kho lịch sử {NO_DATA}."
        )
    return notes


def report_context(
    catalogue: Catalogue, kind: str, year: int, data: ReportData, period: str
) -> dict[str, Any]:
    """What the template ``bao_cao_<kind>`` is filled with."""
    ward = ctx.ward_context(catalogue, year)
    summary, groups, sentences = [], [], []
    for number, title in enumerate(catalogue.titles, start=1):
        figures = _figures(data, title)
        now, (reg, ach) = figures.now.total, figures.before()
        summary.append({"stt": str(number), **_row(kind, title.name, now, reg, ach)})
        sentences.append(_sentence(kind, title, year, now, reg, ach))
        groups.append(_unit_table(kind, catalogue, title, number, figures))
    district = catalogue.setting("ten_huyen")
    return {
        **ward,
        "nam_truoc": year - 1,
        "ky": period,
        "ky_hieu_bao_cao": catalogue.setting("ky_hieu_bao_cao", "BC-UBND"),
        "nhan_xet": sentences,
        "tong_hop": summary,
        "nhom": groups,
        "ghi_chu": _gaps(catalogue, kind, year, data, period),
        "noi_nhan_bao_cao": ctx.punctuate(
            [
                f"{ward['co_quan_ban_hanh']} huyện {district} (b/c)".strip(),
                ward["ten_ban_chi_dao"],
                "Lưu: VT, BCĐ",
            ]
        ),
    }


# --- the chart ------------------------------------------------------------------------------------

# Registered blue, achieved green; last year's lighter.
_COLOURS = {
    RESULTS: ("#1f4e79", "#2e8b57", "#9fd4b4"),
    REGISTRATION: ("#1f4e79", "#9bbbd9", "#9fd4b4"),
}


def _bar_labels(kind: str, year: int) -> list[str]:
    if kind == RESULTS:
        return [f"Đăng ký {year}", f"Đạt {year}", f"Đạt {year - 1}"]
    return [f"Đăng ký {year}", f"Đăng ký {year - 1}", f"Đạt {year - 1}"]


def _bar_values(kind: str, now: Count, reg: Before, ach: Before) -> list[int | None]:
    achieved = ach.achieved if isinstance(ach, Count) else None
    if kind == RESULTS:
        return [now.registered, now.achieved, achieved]
    return [now.registered, reg.registered if isinstance(reg, Count) else None, achieved]


def chart(kind: str, year: int, bars: list[tuple[str, list[int | None]]]) -> bytes:
    """One panel per title, each on its own linear axis from zero (a title counts people,
    another tổ dân phố): a PNG. A bar with no data is labelled so, not drawn as zero."""
    import matplotlib

    matplotlib.use("Agg")  # no display on the clerk's server; set before anything draws
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    labels = _bar_labels(kind, year)
    style = {
        "font.family": "serif",
        # Times New Roman as in the text; Liberation Serif has its metrics and the Vietnamese
        # letters; DejaVu Serif ships with matplotlib.
        "font.serif": ["Times New Roman", "Liberation Serif", "DejaVu Serif"],
        "font.size": 9,
    }
    with matplotlib.rc_context(style):
        figure = Figure(figsize=(CHART_WIDTH / 25.4, 75 / 25.4), dpi=200)
        FigureCanvasAgg(figure)
        panels = figure.subplots(1, len(bars), squeeze=False)[0]
        for axes, (name, values) in zip(panels, bars, strict=True):
            heights = [v or 0 for v in values]
            top = max(heights) or 1
            axes.bar(range(len(values)), heights, color=_COLOURS[kind], width=0.7)
            for x, value in enumerate(values):
                text = "chưa có\nsố liệu" if value is None else format_number(value, 0)
                axes.text(x, (value or 0) + top * 0.02, text, ha="center", va="bottom", fontsize=8)
            axes.set_ylim(0, top * 1.3)
            axes.set_xticks([])
            axes.set_title(name, fontsize=9, fontweight="bold")
            axes.spines[["top", "right"]].set_visible(False)
            axes.yaxis.get_major_locator().set_params(integer=True)
        figure.legend(
            [Patch(color=c) for c in _COLOURS[kind]],
            labels,
            loc="lower center",
            ncol=3,
            frameon=False,
        )
        figure.subplots_adjust(left=0.07, right=0.98, top=0.88, bottom=0.16, wspace=0.35)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --- the command ----------------------------------------------------------------------------------


def _listed(results: Results | None, catalogue: Catalogue) -> Results | None:
    """Only the units the catalogue lists, so that each table's Cộng is the sum of its rows."""
    if results is None:
        return None
    codes = {u.code for u in catalogue.units}

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        if frame is None or frame.empty or "unit_code" not in frame:
            return frame
        return frame[frame["unit_code"].astype(str).isin(codes)]

    return Results(keep(results.citizens), keep(results.households), keep(results.units))


def _load(history_path: Path, period: str | None) -> Results | None:
    return stored_results(history_path, period) if period else None


# The settings the report prints (a placeholder left in another one does not concern it).
_PRINTED = frozenset(
    (
        *("ten_tinh", "ten_huyen", "ten_xa", "dia_danh", "co_quan_ban_hanh", "chuc_vu_thu_truong"),
        *("tham_quyen_ky", "chuc_vu_ky", "nguoi_ky", "so_ke_hoach", "ngay_ke_hoach"),
        *("ten_ban_chi_dao", "ky_hieu_bao_cao"),
    )
)


def report_file(kind: str, year: int) -> str:
    return f"bao_cao_{kind.replace('-', '_')}_{year}.docx"


def _report_periods(
    catalogue: Catalogue, kind: str, periods: list[str], year: int
) -> tuple[str, str | None]:
    """The period the figures come from and, for dang-ky, last year's registration period;
    HistoryError when the history lacks the first."""
    if kind == RESULTS:
        period = evaluation_period(periods, year)
        wanted = f"{year:04d}-{EVALUATION_MONTH:02d}"
        registered_before = None
    else:
        period = registration_period(catalogue, periods, year)
        deadline = catalogue.rules.registration_deadline
        wanted = (
            f"{year:04d}-01" if deadline == 1 else f"{year:04d}-01 đến {year:04d}-{deadline:02d}"
        )
        registered_before = registration_period(catalogue, periods, year - 1)
    if period is None:
        raise HistoryError(
            f"Kho lịch sử chưa có kỳ {wanted}: hãy chạy 'kieumau run <thư mục> --ky "
            f"{wanted[:7]}' trước khi lập báo cáo."
        )
    return period, registered_before


def _unfilled(catalogue: Catalogue) -> list[str]:
    """A note when settings the report prints are still placeholders (…)."""
    left = [item for item in ctx.placeholders(catalogue) if item.split(":")[0] in _PRINTED]
    if not left:
        return []
    return [
        f"Cấu hình còn {len(left)} chỗ trống (…) chưa điền, báo cáo in nguyên chỗ trống: "
        + "; ".join(left)
        + ". Điền vào sheet Cấu hình của Bộ tiêu chí rồi chạy lại."
    ]


def year_report(
    catalogue: Catalogue,
    year: int,
    kind: str,
    history_path: Path,
    output_root: Path,
    *,
    templates_dir: Path | None = None,
) -> DraftSet:
    """Write ``<output_root>/<period>/bao_cao/bao_cao_<kind>_<year>.docx`` (the period the
    figures come from) in one step; HistoryError when the history lacks that period."""
    if kind not in KINDS:
        raise ValueError(kind)
    periods = _periods(history_path)
    period, registered_before = _report_periods(catalogue, kind, periods, year)
    data = ReportData(
        now=_listed(stored_results(history_path, period), catalogue),
        registered_before=_listed(_load(history_path, registered_before), catalogue),
        achieved_before=_listed(
            _load(history_path, evaluation_period(periods, year - 1)), catalogue
        ),
    )
    context = report_context(catalogue, kind, year, data, period)
    bars = [
        (title.name, _bar_values(kind, figures.now.total, *figures.before()))
        for title, figures in ((t, _figures(data, t)) for t in catalogue.titles)
    ]
    context["bieu_do"] = Picture(chart(kind, year, bars), CHART_WIDTH)
    target = Path(output_root) / period / "bao_cao" / report_file(kind, year)
    with atomic_path(target) as tmp:
        render_one(
            f"bao_cao_{kind.replace('-', '_')}", context, tmp, templates_dir or DEFAULT_TEMPLATES
        )
    return DraftSet(target.parent, [target], [*context["ghi_chu"], *_unfilled(catalogue)])
