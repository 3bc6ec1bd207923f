"""The summary workbook `tong_hop_YYYY-MM.xlsx` (SPEC §5).

Public by design: it carries birth years, never CCCD numbers or full birth dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Title
from processor.domain.issues import ISSUE_LABELS, Issue
from processor.domain.periods import Period
from processor.outputs._xlsx.book import (
    Book,
    column_width,
    print_wide,
    row_heights,
    table_widths,
    write_cell,
    write_table,
)
from processor.outputs.files import atomic_path
from processor.scoring.consolidate import RECEIPT_RULE, Consolidated
from processor.scoring.score import Results

SOURCE_LABELS = {
    "name": "Tệp",
    "unit_code": "Mã đơn vị",
    "period": "Kỳ",
    "status": "Trạng thái",
    "received_at": "Nhận lúc",
    "rows_read": "Số dòng đọc",
    "rows_accepted": "Số dòng nhận",
    "rows_rejected": "Số dòng loại",
    "rows_set_aside": "Số dòng không tính",
    "issues": "Số lỗi/cảnh báo",
    "sha256": "SHA-256",
}
PROGRESS_LABELS = {
    "period": "Kỳ",
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "title": "Danh hiệu",
    "assessed": "Số được đánh giá",
    "registered_share": "Tỷ lệ đăng ký (%)",
    "achieved_share": "Tỷ lệ đạt (%)",
}
BEHIND_LABELS = {
    "unit_code": "Mã đơn vị",
    "criterion": "Mã tiêu chí",
    "task": "Mã phần việc",
    "text": "Nội dung",
    "planned_month": "Tháng hoàn thành dự kiến",
    "responsible": "Người phụ trách",
    "effective": "Kết quả hiện tại",
}


# Registers' column widths: a criterion's column holds "Chưa đạt" under its name wrapped over
# a few lines; a reason wraps. Both narrower than their text, so a register prints readably
# on two pages across (book.print_wide) rather than at 4 pt on one.
CRITERION_WIDTH = 10
REASON_WIDTH = 45
# The columns that say who a row is, repeated on every page across: unit, household, name.
REGISTER_KEYS = 3


def register_widths(
    catalogue: Catalogue, frame: pd.DataFrame, labels: dict[str, str]
) -> dict[str, float]:
    """Widths of a register's columns (citizens, households, units, in the summary and in a
    unit's feedback): criteria and reasons as above, the rest as long as their values."""
    codes = {c.code for c in catalogue.criteria}
    fixed = {k: CRITERION_WIDTH for k in labels if k in codes} | {"reason": REASON_WIDTH}
    return table_widths(frame, labels, fixed)


def _criterion_labels(catalogue: Catalogue, title: Title) -> dict[str, str]:
    return {c.code: c.label for c in catalogue.criteria_of(title.code)}


def citizen_labels(catalogue: Catalogue) -> dict[str, str]:
    base = ["unit_code", "household_code", "full_name", "birth_year", "gender", "registered"]
    tail = ["criteria_passed", "votes", "outcome", "reason"]
    return {
        **{k: S.RESULT_LABELS[k] for k in base},
        **_criterion_labels(catalogue, catalogue.citizen_title),
        **{k: S.RESULT_LABELS[k] for k in tail},
    }


def household_labels(catalogue: Catalogue) -> dict[str, str]:
    base = [
        "unit_code",
        "household_code",
        "head_name",
        "address",
        "registered",
        "members",
        "members_achieved",
    ]
    tail = ["criteria_passed", "votes", "outcome", "reason"]
    return {
        **{k: S.RESULT_LABELS[k] for k in base},
        **_criterion_labels(catalogue, catalogue.household_title),
        **{k: S.RESULT_LABELS[k] for k in tail},
    }


def unit_labels(catalogue: Catalogue) -> dict[str, str]:
    base = ["unit_code", "unit_name", "households", "households_achieved", "household_rate"]
    tail = ["criteria_passed", "outcome", "reason"]
    return {
        **{k: S.RESULT_LABELS[k] for k in base},
        **_criterion_labels(catalogue, catalogue.unit_title),
        **{k: S.RESULT_LABELS[k] for k in tail},
    }


def _outcome_formats(
    book: Book, ws, frame: pd.DataFrame, labels: dict[str, str], first_row: int
) -> None:
    """Colour the outcome column: green Đạt, red Chưa đạt, amber Chưa đủ điều kiện."""
    columns = [c for c in labels if c in frame.columns]
    if "outcome" not in columns or frame.empty:
        return
    j = columns.index("outcome")
    last = first_row + len(frame)
    for text, fmt in (
        (S.ACHIEVED, book.good),
        (S.NOT_ACHIEVED, book.bad),
        (S.NOT_ELIGIBLE, book.warn),
    ):
        ws.conditional_format(
            first_row + 1,
            j,
            last,
            j,
            {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": fmt},
        )


def totals(results: Results, catalogue: Catalogue) -> pd.DataFrame:
    rows = []
    tdp = results.units[results.units["kind"] == S.UNIT_KIND_TDP]
    for title, frame in (
        (catalogue.citizen_title, results.citizens),
        (catalogue.household_title, results.households),
        (catalogue.unit_title, tdp),
    ):
        assessed = len(frame)
        eligible = int((frame["outcome"] != S.NOT_ELIGIBLE).sum()) if assessed else 0
        achieved = int((frame["outcome"] == S.ACHIEVED).sum()) if assessed else 0
        rows.append(
            {
                "title": title.name,
                "assessed": assessed,
                "eligible": eligible,
                "achieved": achieved,
                "rate": round(achieved / eligible * 100, 1) if eligible else None,
            }
        )
    return pd.DataFrame(rows)


def by_unit(results: Results, units: pd.DataFrame) -> pd.DataFrame:
    frame = units[["unit_code", "unit_name", "kind", "submitted"]].copy()
    for key, data in (("citizens", results.citizens), ("households", results.households)):
        counts = data.groupby("unit_code")["outcome"].value_counts().unstack(fill_value=0)
        achieved = counts[S.ACHIEVED] if S.ACHIEVED in counts else pd.Series(dtype=int)
        frame[f"{key}_assessed"] = (
            frame["unit_code"].map(data.groupby("unit_code").size()).fillna(0).astype(int)
        )
        frame[f"{key}_achieved"] = frame["unit_code"].map(achieved).fillna(0).astype(int)
    # Those registration leaves out, each told why in the unit's feedback (issue 23 item 1).
    scored = results.units.set_index("unit_code")
    for key in ("citizens_not_registered", "households_not_registered"):
        if key in scored:
            frame[key] = frame["unit_code"].map(scored[key]).fillna(0).astype(int)
        else:
            frame[key] = 0
    frame["unit_outcome"] = (
        frame["unit_code"].map(scored["outcome"]).where(frame["kind"] == S.UNIT_KIND_TDP, "")
    )
    frame["submitted"] = frame["submitted"].map({True: "Đã nộp", False: "Chưa nộp"})
    return frame


BY_UNIT_LABELS = {
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "kind": "Loại",
    "submitted": "Nộp báo cáo",
    "citizens_assessed": "Số công dân",
    "citizens_achieved": "Công dân đạt",
    "households_assessed": "Số hộ",
    "households_achieved": "Hộ đạt",
    "citizens_not_registered": S.RESULT_LABELS["citizens_not_registered"],
    "households_not_registered": S.RESULT_LABELS["households_not_registered"],
    "unit_outcome": "Kết quả Tổ dân phố kiểu mẫu",
}


def criterion_rates(results: Results, catalogue: Catalogue) -> pd.DataFrame:
    """Pass rate (%) of each criterion per unit, among entities assessed on it."""
    frames = []
    for title, data in (
        (catalogue.citizen_title, results.citizens),
        (catalogue.household_title, results.households),
        (catalogue.unit_title, results.units),
    ):
        codes = [c.code for c in catalogue.criteria_of(title.code) if c.code in data]
        if data.empty or not codes:
            continue
        # Every criterion of the level counted in one grouping by unit (one each was a tenth
        # of writing a district's summary).
        flags = {("a", code): data[code].ne("") for code in codes}
        flags.update({("p", code): data[code].eq(S.PASS) for code in codes})
        grouped = pd.DataFrame(flags).groupby(data["unit_code"]).sum()
        for code in codes:
            assessed, passed = grouped["a", code], grouped["p", code]
            rate = (passed / assessed.where(assessed > 0) * 100).round(1)
            frames.append(rate.rename(code))
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, axis=1)
    return table.reset_index().rename(columns={"index": "unit_code"})


INTERNAL_MARK = "NỘI BỘ – có dữ liệu cá nhân"
INTERNAL_NOTE = (
    "Bảng tổng hợp của cơ quan: có họ tên, năm sinh và tiêu chí chưa đạt của từng người. "
    "Không niêm yết, không gửi ra ngoài: bản gửi Ban chỉ đạo là tong_hop_ban_chi_dao_<kỳ>.xlsx; "
    "danh sách niêm yết là văn bản của lệnh binh-xet."
)
COUNTS_MARK = "Số liệu tổng hợp – không có dữ liệu cá nhân"
COUNTS_NOTE = (
    "Bảng tổng hợp chỉ có số liệu theo danh hiệu, đơn vị và tiêu chí, không nêu tên ai: "
    "bản để gửi Ban chỉ đạo."
)
# Printed at the top of every page of the sheets that name people.
INTERNAL_HEADER = '&C&"Times New Roman,Bold"NỘI BỘ – CÓ DỮ LIỆU CÁ NHÂN, KHÔNG NIÊM YẾT'


def write_summary(
    path: Path,
    catalogue: Catalogue,
    period: Period,
    results: Results,
    consolidated: Consolidated,
    issues: list[Issue],
    progress: pd.DataFrame,
    run_time: dt.datetime,
    notices: Sequence[str] = (),
    personal: bool = True,
) -> Path:
    """Write the summary workbook atomically and return its path. ``notices``: what the clerk
    must know about the run (months to run again, a changed catalogue), on Tổng quan.
    ``personal=False`` leaves out the sheets that name people (counts, units and criteria stay):
    a workbook to send outside the office."""
    with atomic_path(path) as tmp:
        book = Book(tmp, created=run_time)
        _mark(book, period, run_time, personal)
        _overview(book, catalogue, period, results, consolidated, run_time, notices)
        ws = book.sheet(S.OUT_BY_UNIT)
        unit_table = by_unit(results, consolidated.units)
        write_table(book, ws, unit_table, BY_UNIT_LABELS)
        _criteria_sheet(book, catalogue, results)
        _row_sheets(book, catalogue, results, personal)
        _progress_sheet(book, progress, results, period)
        ws = book.sheet(S.OUT_MISSING)
        missing = consolidated.units[~consolidated.units["submitted"]]
        write_table(
            book,
            ws,
            missing,
            {
                "unit_code": "Mã đơn vị",
                "unit_name": "Tên đơn vị",
                "kind": "Loại",
                "head": "Trưởng Ban vận động",
            },
        )
        if personal:
            _issues_sheet(book, issues)
        _sources_sheet(book, consolidated)
        book.close()
    return path


def _mark(book: Book, period: Period, run_time: dt.datetime, personal: bool) -> None:
    """The workbook's properties say whether it names people: whoever opens it (Excel's File ›
    Info) is told (issue 24, personal data)."""
    mark = INTERNAL_MARK if personal else COUNTS_MARK
    book.workbook.set_properties(
        {
            "title": f"Tổng hợp kỳ {period}",
            "subject": mark,
            "category": mark,
            "keywords": "nội bộ, dữ liệu cá nhân" if personal else "số liệu tổng hợp",
            "comments": INTERNAL_NOTE if personal else COUNTS_NOTE,
            "author": "kieumau",
            "created": run_time,
        }
    )


def _row_sheets(book: Book, catalogue: Catalogue, results: Results, personal: bool) -> None:
    """A sheet per level, one row per person, household or tổ dân phố with its outcome; the
    sheets that name people only in the ``personal`` workbook, each page headed as internal."""
    for name, frame, labels in (
        (S.OUT_CITIZENS, results.citizens, citizen_labels(catalogue)),
        (S.OUT_HOUSEHOLDS, results.households, household_labels(catalogue)),
        (
            S.OUT_UNITS,
            results.units[results.units["kind"] == S.UNIT_KIND_TDP],
            unit_labels(catalogue),
        ),
    ):
        if name != S.OUT_UNITS and not personal:
            continue
        ws = book.sheet(name)
        ordered = frame.sort_values(
            [c for c in ("unit_code", "household_code", "_row") if c in frame.columns],
            kind="stable",
        )
        widths = register_widths(catalogue, ordered, labels)
        write_table(book, ws, ordered, labels, widths=widths)
        print_wide(ws, list(widths.values()), REGISTER_KEYS)
        _outcome_formats(book, ws, ordered, labels, 0)
        ws.freeze_panes(1, 3)
        if name != S.OUT_UNITS:
            ws.set_header(INTERNAL_HEADER)


def _sources_sheet(book: Book, consolidated: Consolidated) -> None:
    """Nguồn: the rule that picks a unit's file, above every file received."""
    ws = book.sheet(S.OUT_SOURCES)
    frame = sources_frame(consolidated)
    # Counts under headers wrapped over three lines: the sheet prints on one page.
    counts = {k: 9 for k in ("rows_read", "rows_accepted", "rows_rejected", "rows_set_aside")}
    widths = table_widths(
        frame, SOURCE_LABELS, {"received_at": 16, "sha256": 36, "issues": 9} | counts
    )
    # The rule wraps over the table's width: on one line it ran far past the table, and the
    # page shrank to fit it.
    ws.merge_range(0, 0, 0, len(widths) - 1, RECEIPT_RULE, book.wrap)
    ws.set_row(0, row_heights([([RECEIPT_RULE], sum(widths.values()))]).get(0))
    write_table(
        book, ws, frame, SOURCE_LABELS, first_row=1, widths=widths, formats={"sha256": book.wrap}
    )


def _issues_sheet(book: Book, issues: list[Issue]) -> None:
    """Lỗi dữ liệu: every problem of the month, by file, sheet and cell."""
    ws = book.sheet(S.OUT_ISSUES)
    issue_frame = pd.DataFrame([i.as_row() for i in issues], columns=list(ISSUE_LABELS))
    # The clerk must see what was read to judge it ("'06/02/1966' đã đọc là 02/06/1966"): this
    # sheet is in the internal workbook only (--khong-du-lieu-ca-nhan leaves it out), and what
    # leaves the office (mails, posted lists) keeps the masked message.
    issue_frame["message"] = [i.message for i in issues]
    write_table(book, ws, issue_frame, ISSUE_LABELS, widths={"message": 90})
    ws.set_header(INTERNAL_HEADER)


def sources_frame(consolidated: Consolidated) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "name": s.name,
                "unit_code": s.unit_code,
                "period": s.period,
                "status": str(s.status),
                "received_at": (
                    f"{s.received_at.astimezone():%d/%m/%Y %H:%M}" if s.received_at else None
                ),
                "rows_read": s.rows_read,
                "rows_accepted": s.rows_accepted,
                "rows_rejected": s.rows_rejected,
                "rows_set_aside": s.rows_set_aside,
                "issues": len(s.issues),
                # In four groups of 16, two to a line: the 64 digits on one line made the
                # sheet too wide to print readably.
                "sha256": " ".join(s.sha256[i : i + 16] for i in range(0, len(s.sha256), 16)),
            }
            for s in sorted(consolidated.submissions, key=lambda s: s.name)
        ],
        columns=list(SOURCE_LABELS),
    )


def _overview(
    book: Book,
    catalogue: Catalogue,
    period: Period,
    results: Results,
    consolidated: Consolidated,
    run_time: dt.datetime,
    notices: Sequence[str] = (),
) -> None:
    # Landscape as the other sheets: its table by unit is as wide as Theo đơn vị, which a
    # portrait page printed at half size.
    ws = book.sheet(S.OUT_OVERVIEW)
    place = catalogue.setting("ten_xa")
    ws.write_string(
        0, 0, f"TỔNG HỢP KẾT QUẢ XÂY DỰNG CÁC DANH HIỆU KIỂU MẪU - {place.upper()}", book.title
    )
    ws.write_string(
        1, 0, f"Kỳ báo cáo: {period.label}. Lập lúc {run_time:%H:%M ngày %d/%m/%Y}.", book.subtitle
    )
    submitted = int(consolidated.units["submitted"].sum())
    ws.write_string(2, 0, f"Số đơn vị đã nộp: {submitted}/{len(consolidated.units)}.", book.base)
    if notices:
        ws.write_string(3, 0, "Lưu ý: " + " ".join(notices), book.bold)
    table = totals(results, catalogue)
    labels = {
        "title": "Danh hiệu",
        "assessed": "Số được đánh giá",
        "eligible": "Số đủ điều kiện xét",
        "achieved": "Số đạt",
        "rate": "Tỷ lệ đạt (%)",
    }
    ws.set_row(4, 32)
    for j, key in enumerate(labels):
        ws.write_string(4, j, labels[key], book.header)
        for i, value in enumerate(table[key].tolist(), start=5):
            write_cell(ws, i, j, value, book.base)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 4, 16)
    _overview_charts(book, ws, table, period)
    unit_rows = by_unit(results, consolidated.units)
    ws.write_string(26, 0, "Theo đơn vị", book.bold)
    # Column A also holds the title names above: keep it wide enough for them.
    title_width = max(26, *(len(str(t)) + 2 for t in table["title"]))
    write_table(
        book,
        ws,
        unit_rows,
        BY_UNIT_LABELS,
        first_row=27,
        table=False,
        widths={"unit_code": title_width},
    )
    ws.freeze_panes(0, 0)
    ws.activate()


def _overview_charts(book: Book, ws: Worksheet, table: pd.DataFrame, period: Period) -> None:
    """One small chart per title, side by side, each on its own linear axis.

    Citizens count in thousands and tổ dân phố in tens: on one shared axis the
    units' bars vanish, and a log axis hides zero counts, so each title gets
    its own scale starting at zero.
    """
    sheet = S.OUT_OVERVIEW
    width = 216
    for k, row in enumerate(range(5, 5 + len(table))):
        chart = book.workbook.add_chart({"type": "column"})
        for col, color in ((2, "#9DC3E6"), (3, "#70AD47")):
            chart.add_series(
                {
                    # The table's own header names the series, so the words live in one place.
                    "name": [sheet, 4, col],
                    "categories": [sheet, row, 0, row, 0],
                    "values": [sheet, row, col, row, col],
                    "fill": {"color": color},
                    "data_labels": {"value": True},
                }
            )
        chart.set_title({"name": str(table["title"].iloc[k]), "name_font": {"size": 10}})
        chart.set_legend({"position": "bottom", "font": {"size": 8}})
        chart.set_x_axis({"visible": False})
        chart.set_y_axis({"min": 0, "major_gridlines": {"visible": True}})
        ws.insert_chart(
            9, 0, chart, {"x_offset": k * width, "x_scale": width / 480, "y_scale": 1.0}
        )
    ws.write_string(8, 0, f"Số đủ điều kiện xét và số đạt, {period.label}", book.bold)


def _criteria_sheet(book: Book, catalogue: Catalogue, results: Results) -> None:
    """One block per title (its heading, Mã đơn vị and its criteria, a row per unit assessed on
    them): the 31 criteria of the default catalogue side by side printed too small to read."""
    ws = book.sheet(S.OUT_BY_CRITERION)
    rates = criterion_rates(results, catalogue)
    ws.write_string(
        0,
        0,
        "Tỷ lệ đạt từng tiêu chí theo đơn vị (%), trong số người/hộ/tổ được đánh giá tiêu chí đó",
        book.title,
    )
    row = 1
    for title in (catalogue.citizen_title, catalogue.household_title, catalogue.unit_title):
        codes = [c.code for c in catalogue.criteria_of(title.code) if c.code in rates.columns]
        if not codes:
            continue
        block = rates[["unit_code", *codes]].dropna(how="all", subset=codes)
        labels = {
            "unit_code": "Mã đơn vị",
            **{c.code: c.label for c in catalogue.criteria_of(title.code) if c.code in codes},
        }
        ws.write_string(row + 1, 0, title.name, book.bold)
        end = write_table(
            book, ws, block, labels, first_row=row + 2, table=False, widths={k: 14 for k in codes}
        )
        if not block.empty:
            ws.conditional_format(
                row + 3,
                1,
                row + 2 + len(block),
                len(codes),
                {
                    "type": "3_color_scale",
                    "min_color": "#F8696B",
                    "mid_color": "#FFEB84",
                    "max_color": "#63BE7B",
                    "min_type": "num",
                    "min_value": 0,
                    "mid_type": "num",
                    "mid_value": 70,
                    "max_type": "num",
                    "max_value": 100,
                },
            )
        row = end
    # Each block has its own header: none is repeated on every page, no row stays frozen.
    ws.repeat_row_range = ""
    ws.freeze_panes(0, 1)


def progress_table(progress: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Month-by-month progress: one row per unit, title and measure; one column per month."""
    keys = ["unit_code", "unit_name", "title"]
    if progress.empty:
        return pd.DataFrame(columns=[*keys, "measure"]), {
            **{k: PROGRESS_LABELS[k] for k in keys},
            "measure": "Chỉ số",
        }
    measures = {"registered_share": "Đăng ký (%)", "achieved_share": "Đạt (%)"}
    long = progress.melt(
        id_vars=[*keys, "period"], value_vars=list(measures), var_name="measure"
    ).dropna(subset=["value"])
    long["measure"] = long["measure"].map(measures)
    wide = long.pivot_table(
        index=[*keys, "measure"], columns="period", values="value", aggfunc="first", sort=True
    ).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    periods = sorted(c for c in wide.columns if c not in [*keys, "measure"])
    labels = {**{k: PROGRESS_LABELS[k] for k in keys}, "measure": "Chỉ số"}
    labels |= {p: f"T{int(p[5:]):02d}/{p[:4]}" for p in periods}
    return wide, labels


def _progress_sheet(book: Book, progress: pd.DataFrame, results: Results, period: Period) -> None:
    ws = book.sheet(S.OUT_PROGRESS)
    ws.write_string(
        0,
        0,
        "Tiến độ theo tháng: tỷ lệ đăng ký và tỷ lệ đang đạt tiêu chí (%), theo đơn vị và "
        "danh hiệu",
        book.title,
    )
    table, labels = progress_table(progress)
    widths = table_widths(table, labels, {"measure": 12} | {k: 10 for k in labels if k[:2] == "20"})
    row = write_table(book, ws, table, labels, first_row=1, widths=widths)
    if len(table) and len(labels) > 4:
        ws.conditional_format(
            2,
            4,
            1 + len(table),
            len(labels) - 1,
            {
                "type": "data_bar",
                "bar_color": "#63BE7B",
                "min_type": "num",
                "min_value": 0,
                "max_type": "num",
                "max_value": 100,
            },
        )
    tasks = results.tasks
    behind = tasks[tasks["behind"]] if not tasks.empty else tasks
    ws.write_string(
        row + 1,
        0,
        f"Phần việc chậm so với lộ trình (chưa đạt, tháng dự kiến trước {period.label}): "
        f"{len(behind)}",
        book.title,
    )
    # The two tables share the sheet's columns: each is as wide as the wider of the two (a
    # narrow column below cut the unit names above).
    above = list(widths.values())
    texts = behind["text"].tolist() if "text" in behind.columns else []
    text = min(50, column_width(BEHIND_LABELS["text"], texts))
    below = table_widths(behind, BEHIND_LABELS, {"text": text})
    shared = {
        key: max(width, above[j] if j < len(above) else 0)
        for j, (key, width) in enumerate(below.items())
    }
    write_table(
        book,
        ws,
        behind,
        BEHIND_LABELS,
        first_row=row + 2,
        table=False,
        widths=shared,
        formats={"text": book.wrap},
    )
    ws.freeze_panes(2, 4)
