"""A second scorer of the three titles, written from the documents alone (README, SPEC, the
catalogue workbook's sheets and its `Đọc trước` rules), not from processor.scoring, to compare
with the product on every row (issue 18).

It reads what a person reads: the catalogue file and the units' form workbooks (found by their
sheet names and header labels, SPEC §3), month after month, and gives every citizen, household
and unit on the forms one outcome: Đạt, Chưa đạt, Chưa đủ điều kiện, or Chưa đăng ký (a
Chưa đủ điều kiện because the registration of rule 6 leaves the row out)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from python_calamine import CalamineWorkbook

ACHIEVED, NOT_ACHIEVED, UNDECIDED = "Đạt", "Chưa đạt", "Chưa đủ điều kiện"
NOT_REGISTERED = "Chưa đăng ký"
PASS, FAIL = "Đạt", "Chưa đạt"
# SPEC §2, "Input leniency".
_PASS_WORDS = {"đạt", "dat", "x", "1", "có"}
_FAIL_WORDS = {"chưa đạt", "chua dat", "không", "0"}
_YES_WORDS = {"có", "co", "x", "1", "true"}


def text(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def code(value: object) -> str:
    """A code as typed, without the spaces around it, in capitals (`tdp01-h002` is TDP01-H002)."""
    return text(value).upper()


def mark(value: object) -> str | None:
    """Đạt, Chưa đạt, or None: blank or unreadable, not assessed (rule 3)."""
    if isinstance(value, bool):
        return PASS if value else FAIL
    word = text(value).casefold()
    if word in _PASS_WORDS:
        return PASS
    if word in _FAIL_WORDS:
        return FAIL
    return None


def number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(text(value).replace(",", "."))
    except ValueError:
        return None


def yes(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return text(value).casefold() in _YES_WORDS


def birth(value: object) -> dt.date | int | None:
    """A date, a year alone (rule 5), or None: blank or unreadable."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        # A year typed into a cell formatted as a date is stored as that many days from
        # 30/12/1899: 1991 shows as 13/06/1905 (SPEC §7, dates typed as `1980`).
        serial = (value - dt.date(1899, 12, 30)).days
        return serial if 1900 <= serial <= 2100 else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1900 <= value <= 2100 and float(value).is_integer():
            return int(value)
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    typed = text(value)
    if re.fullmatch(r"\d{4}", typed):
        return int(typed)
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", typed)
    if found:
        day, month, year = (int(g) for g in found.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------------- the catalogue


@dataclass
class Criterion:
    code: str
    title: str
    kind: str
    mandatory: bool
    points: float | None
    comparator: str
    threshold: float | None
    source: str
    unit: str


@dataclass
class Title:
    code: str
    level: str
    min_age: int | None
    min_passed: int | None
    min_points: float | None
    vote_threshold: float | None
    registration: bool
    criteria: list[Criterion] = field(default_factory=list)


@dataclass
class Catalogue:
    titles: dict[str, Title]
    unit_kinds: dict[str, str]  # unit code -> Loại
    age_day: tuple[int, int]  # (day, month) of ngay_tinh_tuoi
    vote_month: int  # thang_binh_xet
    deadline_month: int  # han_dang_ky
    late_counts: bool  # dang_ky_muon

    def by_level(self, level: str) -> Title:
        return next(t for t in self.titles.values() if t.level == level)


def _sheet(book: CalamineWorkbook, name: str) -> list[dict]:
    rows = book.get_sheet_by_name(name).to_python()
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:] if any(v != "" for v in r)]


def _optional(value: object) -> float | None:
    return None if value == "" or value is None else float(value)


def read_catalogue(path: Path) -> Catalogue:
    book = CalamineWorkbook.from_path(str(path))
    titles = {}
    for t in _sheet(book, "Danh hiệu"):
        titles[t["Mã danh hiệu"]] = Title(
            code=t["Mã danh hiệu"],
            level=t["Cấp"],
            min_age=int(t["Tuổi tối thiểu"]) if t["Tuổi tối thiểu"] != "" else None,
            min_passed=int(t["Số tiêu chí đạt tối thiểu"])
            if t["Số tiêu chí đạt tối thiểu"] != ""
            else None,
            min_points=_optional(t["Số điểm tối thiểu"]),
            vote_threshold=_optional(t["Ngưỡng phiếu bình xét (%)"]),
            registration=t["Bắt buộc đăng ký tháng 1"] == "Có",
        )
    for c in _sheet(book, "Tiêu chí"):
        titles[c["Mã danh hiệu"]].criteria.append(
            Criterion(
                code=c["Mã tiêu chí"],
                title=c["Mã danh hiệu"],
                kind=c["Loại"],
                mandatory=c["Bắt buộc"] == "Có",
                points=_optional(c["Điểm tối đa"]),
                comparator=c["Phép so sánh"],
                threshold=_optional(c["Ngưỡng"]),
                source=text(c["Nguồn tổng hợp"]),
                unit=text(c["Đơn vị đo"]),
            )
        )
    settings = {s["Khóa"]: s["Giá trị"] for s in _sheet(book, "Cấu hình")}
    age = settings.get("ngay_tinh_tuoi") or "31/12"
    if isinstance(age, dt.date | dt.datetime):
        day, month = age.day, age.month
    else:
        day, month = (int(p) for p in str(age).split("/")[:2])
    return Catalogue(
        titles=titles,
        unit_kinds={u["Mã đơn vị"]: u["Loại"] for u in _sheet(book, "Đơn vị")},
        age_day=(day, month),
        vote_month=int(settings.get("thang_binh_xet") or 11),
        deadline_month=int(settings.get("han_dang_ky") or 1),
        late_counts=text(settings.get("dang_ky_muon") or "tính").casefold() == "tính",
    )


# ---------------------------------------------------------------------------- the forms


@dataclass
class Form:
    unit: str
    period: tuple[int, int]
    attendees: float | None
    citizens: list[dict]
    households: list[dict]
    tasks: list[dict]


def _table(book: CalamineWorkbook, name: str, first: str, key: str) -> list[dict]:
    """The rows of a form's list sheet under its header (the row starting with ``first``), as
    label -> value, those whose ``key`` cell is written."""
    if name not in book.sheet_names:
        return []
    rows = book.get_sheet_by_name(name).to_python()
    at = next(i for i, r in enumerate(rows) if r and text(r[0]) == first)
    header = [text(h) for h in rows[at]]
    out = []
    for r in rows[at + 1 :]:
        row = dict(zip(header, r, strict=False))
        if text(row.get(key)):
            out.append(row)
    return out


def read_form(path: Path, units: dict[str, str]) -> Form:
    book = CalamineWorkbook.from_path(str(path))
    info = {text(r[0]): r[1] for r in book.get_sheet_by_name("Thông tin").to_python() if len(r) > 1}
    year, month = (int(p) for p in text(info["Kỳ báo cáo"]).split("-"))
    unit = text(info["Mã đơn vị"])

    def own(rows: list[dict]) -> list[dict]:
        """Rule 9: on a tổ's form, a row whose Mã hộ names another unit is that unit's row
        pasted in, and counts nowhere."""
        if units.get(unit) != "Tổ dân phố":
            return rows
        kept = []
        for row in rows:
            named = code(row.get("Mã hộ")).split("-")[0]
            if "-" in code(row.get("Mã hộ")) and named != unit and named in units:
                continue
            kept.append(row)
        return kept

    return Form(
        unit=unit,
        period=(year, month),
        attendees=number(info.get("Số người dự họp")),
        citizens=own(_table(book, "Công dân", "STT", "Họ và tên")),
        households=own(_table(book, "Hộ gia đình", "STT", "Mã hộ")),
        tasks=_table(book, "Tổ dân phố", "Mã tiêu chí", "Mã tiêu chí"),
    )


def column(row: dict, code: str) -> object:
    """The cell of the column whose header starts with a criterion's code."""
    for label, value in row.items():
        if label == code or label.startswith(code + " "):
            return value
    return None


# ---------------------------------------------------------------------------- scoring


@dataclass
class Verdict:
    """A title's criteria as known: passed, failed, not assessed; and the votes."""

    passed: int = 0
    failed: int = 0
    unknown: int = 0
    mandatory_failed: bool = False
    points: float = 0.0
    open_points: float = 0.0
    vote_failed: bool = False
    vote_unknown: bool = False

    def add(self, criterion: Criterion, outcome: str | None, points: float | None = None) -> None:
        if outcome == PASS:
            self.passed += 1
        elif outcome == FAIL:
            self.failed += 1
            self.mandatory_failed |= criterion.mandatory
        else:
            self.unknown += 1
        if criterion.kind == "diem":
            if points is None:
                self.open_points += criterion.points or 0
            else:
                self.points += points

    def votes(
        self, title: Title, votes: object, attendees: float | None, month: int, cat: Catalogue
    ):
        if title.vote_threshold is None or month < cat.vote_month:
            return
        cast = number(votes)
        if cast is None or not attendees:
            self.vote_unknown = True
        else:
            self.vote_failed = not Fraction(cast) / Fraction(attendees) * 100 > Fraction(
                str(title.vote_threshold)
            )

    def certain_failure(self, title: Title) -> bool:
        """Rule 4."""
        short = title.min_passed is not None and self.passed + self.unknown < title.min_passed
        low_points = (
            title.min_points is not None and self.points + self.open_points < title.min_points
        )
        return self.mandatory_failed or short or low_points or self.vote_failed

    def outcome(self, title: Title) -> str:
        if self.certain_failure(title):
            return NOT_ACHIEVED
        if self.unknown or self.vote_unknown:
            return UNDECIDED
        return ACHIEVED


def compare(criterion: Criterion, value: float | None) -> str | None:
    if value is None:
        return None
    return PASS if compare_fraction(criterion, Fraction(str(value))) else FAIL


@dataclass
class Share:
    """Rule 8's counts: Đ, K, R of those surely counted, MK, MR of those whose age is unknown."""

    d: int = 0
    k: int = 0
    r: int = 0
    mk: int = 0
    mr: int = 0

    def add(self, status: str | None, counted: bool | None) -> None:
        """``status``: PASS, FAIL or None (unknown); ``counted``: True, False, None (unknown)."""
        if counted is False:
            return
        if counted is None:
            if status == FAIL:
                self.mk += 1
            else:
                self.mr += 1
        elif status == PASS:
            self.d += 1
        elif status == FAIL:
            self.k += 1
        else:
            self.r += 1

    def outcome(self, criterion: Criterion) -> str | None:
        if self.d + self.k + self.r == 0:
            return None
        low = Fraction(self.d, self.d + self.k + self.r + self.mk + self.mr) * 100
        high_den = self.d + self.k + self.r + self.mr
        high = Fraction(self.d + self.r + self.mr, high_den) * 100
        low_ok, high_ok = compare_fraction(criterion, low), compare_fraction(criterion, high)
        if low_ok and high_ok:
            return PASS
        if not low_ok and not high_ok:
            return FAIL
        return None


def compare_fraction(criterion: Criterion, value: Fraction) -> bool:
    threshold = Fraction(str(criterion.threshold))
    return {
        "≥": value >= threshold,
        ">": value > threshold,
        "≤": value <= threshold,
        "<": value < threshold,
        "=": value == threshold,
    }[criterion.comparator]


def _age_bounds(born: dt.date | int, on: dt.date) -> tuple[int, int]:
    if isinstance(born, int):
        # Born some day of that year: the youngest is born on 31/12, the oldest on 1/1.
        return _age(dt.date(born, 12, 31), on), _age(dt.date(born, 1, 1), on)
    age = _age(born, on)
    return age, age


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass
class Person:
    unit: str
    row: dict
    name: str
    born: dt.date | int | None
    cccd: str
    household: str
    adult: bool | None = None  # None: age unknown
    registered: bool = True
    conflict: bool = False  # rule 10, the units must agree
    scored_at: Person | None = None  # rule 10, the tổ dân phố row that scores an agency row
    status: str | None = None  # as a member: PASS, FAIL, None (unknown)
    cd: dict[str, str | None] = field(default_factory=dict)
    result: str = UNDECIDED


@dataclass
class Results:
    citizens: list[tuple[str, str, str, int | None, str]]  # unit, Mã hộ, name, birth year, result
    households: dict[tuple[str, str], str]
    units: dict[str, str]
    years: dict[tuple[str, str], float | None]  # (unit, Mã hộ or "") -> year count scored with


def _cccd(value: object) -> str:
    digits = text(value)
    if isinstance(value, int | float) and digits.isdigit():
        digits = digits.zfill(12)
    return digits


def _person_key(p: Person) -> tuple:
    """Rule 6: a person across periods, by CCCD, else by unit, name, birth date and Mã hộ."""
    return ("cccd", p.cccd) if p.cccd else (p.unit, p.name, p.born, p.household)


class Town:
    """The reference scorer's memory across periods: what each unit's forms said."""

    def __init__(self, catalogue: Path) -> None:
        self.cat = read_catalogue(catalogue)
        # (unit, year) -> key -> first month with Có
        self.person_reg: dict[tuple[str, int], dict] = defaultdict(dict)
        self.house_reg: dict[tuple[str, int], dict] = defaultdict(dict)
        # (unit, Mã hộ or "") -> [(period, value typed)] for year counts
        self.typed_years: dict[tuple[str, str], list[tuple[tuple[int, int], float]]] = defaultdict(
            list
        )
        self.history: dict[tuple[int, int], Results] = {}
        self.staff_counted = 0  # agency rows counted in a household (rule 9), all periods
        # How often a planted case was met, all periods: year counts taken from the same year
        # or moved on from last year (rule 12), inspections that overrode the unit (rule 11).
        self.met: Counter = Counter()

    # -- registration (rule 6)
    def _registered(self, table: dict, unit: str, year: int, key: object, says: bool, month: int):
        first = table[(unit, year)]
        if says and key not in first:
            first[key] = month
        if key not in first:
            return False
        return first[key] <= self.cat.deadline_month or self.cat.late_counts

    # -- year counts (rule 12)
    def _years(
        self, key: tuple[str, str], typed: float | None, period: tuple[int, int], title: str
    ) -> float | None:
        if typed is not None:
            self.typed_years[key].append((period, typed))
            return typed
        same_year = [v for p, v in self.typed_years[key] if p[0] == period[0] and p < period]
        if same_year:
            self.met["year count from the same year"] += 1
            return same_year[-1]
        voting = (period[0] - 1, self.cat.vote_month)
        before = self.history.get(voting)
        if before is None or before.years.get(key) is None:
            return None
        reached = (
            before.units.get(key[0]) if title == "unit" else before.households.get(key)
        ) == ACHIEVED
        self.met["year count moved on" if reached else "year count dropped"] += 1
        return before.years[key] + 1 if reached else None

    def score(self, forms: list[Path]) -> Results:
        read = [read_form(f, self.cat.unit_kinds) for f in forms]
        [period] = {f.period for f in read}
        year, month = period
        cat = self.cat
        cd, gd, tdp = (cat.by_level(level) for level in ("Công dân", "Hộ gia đình", "Đơn vị"))
        on = dt.date(year, cat.age_day[1], cat.age_day[0])
        is_tdp = {f.unit: cat.unit_kinds.get(f.unit) == "Tổ dân phố" for f in read}

        people: list[Person] = []
        for form in read:
            for row in form.citizens:
                p = Person(
                    unit=form.unit,
                    row=row,
                    name=text(row.get("Họ và tên")),
                    born=birth(row.get("Ngày sinh")),
                    cccd=_cccd(row.get("Số CCCD")),
                    household=code(row.get("Mã hộ")),
                )
                if p.born is not None and cd.min_age is not None:
                    youngest, oldest = _age_bounds(p.born, on)
                    p.adult = (
                        True if youngest >= cd.min_age else (False if oldest < cd.min_age else None)
                    )
                elif p.born is not None:
                    p.adult = True
                if cd.registration:
                    p.registered = self._registered(
                        self.person_reg,
                        form.unit,
                        year,
                        _person_key(p),
                        yes(row.get("Đăng ký")),
                        month,
                    )
                verdict = Verdict()
                for c in cd.criteria:
                    p.cd[c.code] = mark(column(row, c.code))
                    verdict.add(c, p.cd[c.code])
                verdict.votes(cd, row.get("Số phiếu đồng ý"), form.attendees, month, cat)
                p.status = {ACHIEVED: PASS, NOT_ACHIEVED: FAIL}.get(verdict.outcome(cd))
                if not p.registered:
                    p.status = FAIL  # rule 8: chưa đăng ký is không đạt
                people.append(p)

        # Rule 10: one CCCD on two units' forms.
        by_cccd: dict[str, list[Person]] = defaultdict(list)
        for p in people:
            if p.cccd:
                by_cccd[p.cccd].append(p)
        for rows in by_cccd.values():
            units = {p.unit for p in rows}
            if len(units) < 2:
                continue
            homes = {p.unit for p in rows if is_tdp[p.unit]}
            if len(homes) == 1:
                home = next(p for p in rows if is_tdp[p.unit])
                for p in rows:
                    if not is_tdp[p.unit]:
                        p.scored_at = home
            else:
                for p in rows:
                    p.conflict = True
                    p.status = None

        for p in people:
            p.result = self._citizen_result(p, cd)
        for p in people:
            if p.scored_at is not None:
                p.result = p.scored_at.result

        # Households: the members on the tổ's form, and agency staff (rule 9).
        homes_of: dict[str, set[str]] = defaultdict(set)
        for form in read:
            if is_tdp[form.unit]:
                for h in form.households:
                    homes_of[code(h.get("Mã hộ"))].add(form.unit)
        members: dict[tuple[str, str], list[Person]] = defaultdict(list)
        residents: dict[str, list[Person]] = defaultdict(list)
        for p in people:
            if p.scored_at is not None:
                continue  # counted once, at the tổ dân phố
            if is_tdp[p.unit]:
                members[(p.unit, p.household)].append(p)
                residents[p.unit].append(p)
            elif len(homes_of.get(p.household, ())) == 1:
                [home] = homes_of[p.household]
                members[(home, p.household)].append(p)
                residents[home].append(p)
                self.staff_counted += 1

        results = Results(
            citizens=[
                (
                    p.unit,
                    p.household,
                    p.name,
                    p.born if isinstance(p.born, int) else p.born.year if p.born else None,
                    p.result,
                )
                for p in people
            ],
            households={},
            units={},
            years={},
        )
        house_status: dict[str, list[str]] = defaultdict(list)
        for form in read:
            if not is_tdp[form.unit]:
                continue
            for h in form.households:
                house = code(h.get("Mã hộ"))
                outcome = self._household(
                    form, h, house, members[(form.unit, house)], gd, period, results
                )
                results.households[(form.unit, house)] = outcome
                house_status[form.unit].append(outcome)

        for form in read:
            if not is_tdp[form.unit]:
                continue  # rule 13: an agency is not scored for the unit title (rule 1)
            results.units[form.unit] = self._unit(
                form, tdp, house_status[form.unit], residents[form.unit], period, results
            )
        self.history[period] = results
        return results

    def _citizen_result(self, p: Person, cd: Title) -> str:
        """Rule 2's order."""
        if p.adult is False:
            return UNDECIDED
        if not p.registered:
            return NOT_REGISTERED
        if p.adult is None or p.conflict:
            return UNDECIDED
        return {PASS: ACHIEVED, FAIL: NOT_ACHIEVED}.get(p.status, UNDECIDED)

    def _member_share(self, source: str, people: list[Person], gd: Title) -> Share:
        share = Share()
        titled = self.cat.titles.get(source)
        for p in people:
            if titled is not None:
                counted = True if titled.min_age is None else p.adult
                share.add(p.status, counted)
            else:
                share.add(None if p.conflict else p.cd.get(source), True)
        return share

    def _household(
        self,
        form: Form,
        h: dict,
        code: str,
        people: list[Person],
        gd: Title,
        period: tuple[int, int],
        results: Results,
    ) -> str:
        year, month = period
        registered = True
        if gd.registration:
            registered = self._registered(
                self.house_reg, form.unit, year, code, yes(h.get("Đăng ký")), month
            )
        verdict = Verdict()
        for c in gd.criteria:
            if c.kind == "tong_hop":
                verdict.add(c, self._member_share(c.source, people, gd).outcome(c))
            elif c.kind == "dat":
                verdict.add(c, mark(column(h, c.code)))
            else:
                value = number(column(h, c.code))
                if c.kind == "so" and c.unit == "năm":
                    value = self._years((form.unit, code), value, period, "household")
                    results.years[(form.unit, code)] = value
                verdict.add(c, compare(c, value), value if c.kind == "diem" else None)
        verdict.votes(gd, h.get("Số phiếu đồng ý"), form.attendees, month, self.cat)
        if not registered:
            return NOT_REGISTERED
        return verdict.outcome(gd)

    def _unit(
        self,
        form: Form,
        tdp: Title,
        houses: list[str],
        people: list[Person],
        period: tuple[int, int],
        results: Results,
    ) -> str:
        verdict = Verdict()
        rows: dict[str, list[dict]] = defaultdict(list)
        for task in form.tasks:
            rows[text(task.get("Mã tiêu chí"))].append(task)
        for c in tdp.criteria:
            if c.kind == "tong_hop":
                share = Share()
                if c.source in self.cat.titles:
                    for outcome in houses:
                        share.add(
                            {ACHIEVED: PASS, NOT_ACHIEVED: FAIL, NOT_REGISTERED: FAIL}.get(outcome),
                            True,
                        )
                else:
                    share = self._member_share(c.source, people, tdp)
                verdict.add(c, share.outcome(c))
                continue
            if c.kind == "so" and c.unit == "năm":
                typed = next((number(t.get("Giá trị đo được")) for t in rows[c.code]), None)
                value = self._years((form.unit, ""), typed, period, "unit")
                results.years[(form.unit, "")] = value
                inspected = [mark(t.get("Kết quả kiểm tra của BCĐ")) for t in rows[c.code]]
                outcome = inspected[0] if inspected and inspected[0] else compare(c, value)
                verdict.add(c, outcome)
                continue
            outcomes = []
            points = None
            for t in rows[c.code]:
                inspected = mark(t.get("Kết quả kiểm tra của BCĐ"))
                value = number(t.get("Giá trị đo được"))
                if c.kind == "diem":
                    points = value
                if inspected is not None:
                    own = mark(t.get("Tự đánh giá")) if c.kind == "dat" else compare(c, value)
                    self.met["inspection overrode the unit"] += own != inspected
                    outcomes.append(inspected)
                elif c.kind == "dat":
                    outcomes.append(mark(t.get("Tự đánh giá")))
                else:
                    outcomes.append(compare(c, value))
            if outcomes and all(o == PASS for o in outcomes):
                outcome = PASS
            elif FAIL in outcomes:
                outcome = FAIL
            else:
                outcome = None
            verdict.add(c, outcome, points)
        return verdict.outcome(tdp)


# ---------------------------------------------------------------------------- the product


def product_results(summary: Path) -> Results:
    """The product's summary workbook read back as Results (Chưa đăng ký from its Lý do)."""
    book = CalamineWorkbook.from_path(str(summary))

    def table(name: str) -> list[dict]:
        rows = book.get_sheet_by_name(name).to_python()
        at = next(i for i, r in enumerate(rows) if "Kết quả" in r)
        return [dict(zip(rows[at], r, strict=False)) for r in rows[at + 1 :] if any(r)]

    def outcome(row: dict) -> str:
        reason = text(row["Lý do"])
        if row["Kết quả"] == UNDECIDED and reason.startswith(("Chưa đăng ký", "Đăng ký muộn")):
            return NOT_REGISTERED
        return row["Kết quả"]

    return Results(
        citizens=[
            (
                text(r["Mã đơn vị"]),
                text(r["Mã hộ"]),
                text(r["Họ và tên"]),
                int(r["Năm sinh"]) if r["Năm sinh"] != "" else None,
                outcome(r),
            )
            for r in table("Công dân")
        ],
        households={
            (text(r["Mã đơn vị"]), text(r["Mã hộ"])): outcome(r) for r in table("Hộ gia đình")
        },
        units={text(r["Mã đơn vị"]): outcome(r) for r in table("Tổ dân phố")},
        years={},
    )


def differences(product: Results, written: Results) -> dict[str, object]:
    """Rows whose outcome differ, by level; empty when the two agree on every row."""
    theirs, ours = Counter(product.citizens), Counter(written.citizens)
    out: dict[str, object] = {}
    if theirs != ours:
        out["citizens"] = {"product only": theirs - ours, "reference only": ours - theirs}
    for level in ("households", "units"):
        a, b = getattr(product, level), getattr(written, level)
        differ = {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        if differ:
            out[level] = differ
    return out
