"""A second scorer of Công dân kiểu mẫu, written from the catalogue workbook's sheets and its
`Đọc trước` rules 2 to 7 alone (not from processor.scoring), to compare with the product
(issue 18). It reads the catalogue file itself, and takes a citizen as the form's cells."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineWorkbook

PASS, FAIL = "Đạt", "Chưa đạt"
ACHIEVED, NOT_ACHIEVED, UNDECIDED = "Đạt", "Chưa đạt", "Chưa đủ điều kiện"


@dataclass
class Title:
    min_age: int
    min_passed: int
    vote_threshold: float | None
    registration: bool
    criteria: dict[str, bool]  # code -> mandatory
    age_day: tuple[int, int]  # (day, month) of ngay_tinh_tuoi
    vote_month: int  # thang_binh_xet
    deadline_month: int  # han_dang_ky
    late_counts: bool  # dang_ky_muon


def _sheet(book: CalamineWorkbook, name: str) -> list[dict]:
    rows = book.get_sheet_by_name(name).to_python()
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if any(v != "" for v in r)]


def read_title(catalogue: Path, code: str = "CD") -> Title:
    book = CalamineWorkbook.from_path(str(catalogue))
    [title] = [t for t in _sheet(book, "Danh hiệu") if t["Mã danh hiệu"] == code]
    criteria = {
        c["Mã tiêu chí"]: c["Bắt buộc"] == "Có"
        for c in _sheet(book, "Tiêu chí")
        if c["Mã danh hiệu"] == code
    }
    settings = {s["Khóa"]: s["Giá trị"] for s in _sheet(book, "Cấu hình")}
    age = settings.get("ngay_tinh_tuoi") or "31/12"
    if isinstance(age, dt.date | dt.datetime):
        day, month = age.day, age.month
    else:
        day, month = (int(p) for p in str(age).split("/")[:2])
    threshold = title["Ngưỡng phiếu bình xét (%)"]
    return Title(
        min_age=int(title["Tuổi tối thiểu"] or 0),
        min_passed=int(title["Số tiêu chí đạt tối thiểu"]),
        vote_threshold=float(threshold) if threshold != "" else None,
        registration=title["Bắt buộc đăng ký tháng 1"] == "Có",
        criteria=criteria,
        age_day=(day, month),
        vote_month=int(settings.get("thang_binh_xet") or 11),
        deadline_month=int(settings.get("han_dang_ky") or 1),
        late_counts=str(settings.get("dang_ky_muon") or "tính") == "tính",
    )


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def score(title: Title, row: dict, year: int, month: int, attendees: int | None) -> str:
    """One citizen's result for the period year-month, the form holding only this period (so the
    registration period is this one, if Có)."""
    # Rule 2 (a): not a candidate. Age first (rule 5), then registration (rule 6).
    born = row.get("birth_date")
    on = dt.date(year, title.age_day[1], title.age_day[0])
    age_known = isinstance(born, dt.date)
    if age_known and _age(born, on) < title.min_age:
        return UNDECIDED
    if title.registration:
        if row.get("registered") != "Có":
            return UNDECIDED
        if month > title.deadline_month and not title.late_counts:
            return UNDECIDED
    # Rule 2 (b): candidacy unknown.
    if not age_known:
        return UNDECIDED
    # Rules 3 and 4: blanks are not assessed; certain failure is Chưa đạt.
    marks = {code: row.get(code) for code in title.criteria}
    passed = sum(v == PASS for v in marks.values())
    unknown = sum(v not in (PASS, FAIL) for v in marks.values())
    mandatory_failed = any(title.criteria[c] and v == FAIL for c, v in marks.items())
    votes = row.get("votes")
    vote_unknown = vote_failed = False
    if title.vote_threshold is not None and month >= title.vote_month:
        if not isinstance(votes, int | float) or not attendees:
            vote_unknown = True
        else:
            vote_failed = not votes / attendees * 100 > title.vote_threshold
    if mandatory_failed or passed + unknown < title.min_passed or vote_failed:
        return NOT_ACHIEVED
    if unknown or vote_unknown:
        return UNDECIDED
    return ACHIEVED if passed >= title.min_passed else NOT_ACHIEVED
