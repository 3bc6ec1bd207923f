"""The criteria catalogue `bo_tieu_chi.xlsx`: load, validate, fingerprint (SPEC §2).

The catalogue is the one source of truth: titles, criteria, tasks, units and ward settings all
come from it. Loading checks every cell and reports every problem at once, by sheet and cell.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineError

from processor.domain import schema as S
from processor.domain.errors import CatalogueError
from processor.domain.kinds import KINDS, CriterionKind
from processor.domain.sheets import cell_name, read_workbook
from processor.domain.vietnamese import fold, nfc

# processor/domain/catalogue.py -> the project folder, where the editable templates live.
DEFAULT_CATALOGUE = Path(__file__).resolve().parents[2] / "input_templates" / "bo_tieu_chi.xlsx"

# Unit and title codes become parts of file names (phan_hoi/TDP01_2021-11.xlsx,
# giay_cong_nhan_CD_TDP01_2021.docx): a letter, then up to 19 letters without diacritics, digits,
# '-' or '_'. Nothing else can lead out of a folder or be refused by a file system.
CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_-]{0,19}$")
CODE_RULE = (
    "mã phải bắt đầu bằng một chữ cái, tiếp theo tối đa 19 ký tự là chữ cái không dấu, chữ số, "
    "'-' hoặc '_' (ví dụ TDP01, CQ-02)"
)
# Names Windows reserves for devices: a file named so cannot be created there.
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(10)}


def code_problem(code: str) -> str | None:
    """Why ``code`` cannot be a unit or title code, or None when it can."""
    if not CODE_PATTERN.match(code):
        return f"mã '{code}' không hợp lệ: {CODE_RULE}."
    if code in _RESERVED:
        return f"mã '{code}' trùng tên thiết bị mà Windows dành riêng; hãy chọn mã khác."
    return None


# The `Tiêu chí` sheet: its `Loại` column offers every registered criterion kind, so a new kind
# reaches the catalogue workbook's dropdown and the loader's check at once.
CAT_CRITERIA = S.Sheet(
    "Tiêu chí",
    (
        S.Column("title", "Mã danh hiệu", "code", True, width=12),
        S.Column("code", "Mã tiêu chí", "code", True, width=12),
        S.Column("short_name", "Tên ngắn", required=True, width=30),
        S.Column("text", "Nội dung tiêu chí", required=True, width=60),
        S.Column("group", "Nhóm", width=18),
        S.Column("kind", "Loại", "choice", True, tuple(KINDS), 10),
        S.Column("mandatory", "Bắt buộc", "choice", True, S.YES_NO, 10),
        S.Column("points", "Điểm tối đa", "number", width=10),
        S.Column("comparator", "Phép so sánh", "choice", False, S.COMPARATORS, 12),
        S.Column("threshold", "Ngưỡng", "number", width=10),
        S.Column("source", "Nguồn tổng hợp", "code", width=14),
        S.Column("unit_of_measure", "Đơn vị đo", width=12),
    ),
)


@dataclass(frozen=True)
class Title:
    """A title of the campaign (a row of `Danh hiệu`): one per level, citizen, household, unit.

    An entity reaches it when it is eligible (age, registration), meets every mandatory
    criterion and at least ``min_criteria`` of them (or ``min_points``), every criterion being
    assessed, and from November its meeting's votes exceed ``vote_threshold`` percent.
    """

    code: str
    name: str
    level: str
    min_age: int | None
    min_criteria: int | None
    min_points: float | None
    vote_threshold: float | None  # percent; the share of votes must be strictly greater
    registration_required: bool
    # Who recognises it: the town by a decision, or the district on the town's Tờ trình.
    recognised_by: str = S.RECOGNISED_BY_TOWN
    # Giấy công nhận or Giấy khen: Điều 2 and the printed certificate name the same one.
    certificate: str = S.CERTIFICATE_RECOGNITION

    @property
    def by_district(self) -> bool:
        return self.recognised_by == S.RECOGNISED_BY_DISTRICT


@dataclass(frozen=True)
class Criterion:
    """A criterion of a title (a row of `Tiêu chí`). ``kind`` is the word of the `Loại` column;
    the kind's behaviour (form column, reading, passing, wording) is ``criterion.rules``.
    ``source`` names what a `tong_hop` rolls up: a title of the level below (the share of its
    entities reaching it) or one of that level's criteria."""

    title: str
    code: str
    short_name: str
    text: str
    group: str
    kind: str
    mandatory: bool
    points: float | None
    comparator: str | None
    threshold: float | None
    source: str | None
    unit_of_measure: str

    @functools.cached_property
    def rules(self) -> CriterionKind:
        """The behaviour of this criterion's kind (processor.domain.kinds), bound to it."""
        return KINDS[self.kind](self)

    @property
    def label(self) -> str:
        """Header of the criterion's column in forms and reports: `CD01 - Chấp hành pháp luật`."""
        return f"{self.code} - {self.short_name}"


@dataclass(frozen=True)
class Task:
    """A concrete task of a unit criterion (a row of `Phần việc`): the criterion passes when
    every one of its tasks is done."""

    criterion: str
    code: str
    text: str


@dataclass(frozen=True)
class Unit:
    """A unit of the register (a row of `Đơn vị`): a tổ dân phố or a cơ quan."""

    code: str
    name: str
    kind: str
    head: str
    email: str

    @property
    def is_tdp(self) -> bool:
        return self.kind == S.UNIT_KIND_TDP


# The Cấu hình keys of the settings that make a scoring rule a choice (Đọc trước states each).
AGE_DATE = "ngay_tinh_tuoi"
VOTING_MONTH = "thang_binh_xet"
REGISTRATION_DEADLINE = "han_dang_ky"
LATE_REGISTRATION = "dang_ky_muon"
LATE_COUNTS, LATE_REFUSED = "tính", "không tính"
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s*[/\-.]\s*\d{4})?\s*$")
_ISO_DATE = re.compile(r"^\s*\d{4}-(\d{2})-(\d{2})")  # a typed 31/12 Excel made a date of


@dataclass(frozen=True)
class ScoringRules:
    """The settings of `Cấu hình` that make a scoring rule a choice, with the shipped defaults.

    ``age_day``/``age_month``: the day of the evaluated year on which age is counted
    (ngay_tinh_tuoi); ``voting_month``: votes count from this month on (thang_binh_xet);
    ``registration_deadline``: registration written on the forms of periods up to this month is
    on time (han_dang_ky); ``late_registration_counts``: whether a later one still counts
    (dang_ky_muon).
    """

    age_day: int = 31
    age_month: int = 12
    voting_month: int = 11
    registration_deadline: int = 1
    late_registration_counts: bool = True

    def age_date(self, year: int) -> dt.date:
        """The day on which ages are counted for a period of ``year``."""
        return dt.date(year, self.age_month, self.age_day)


def _day_month(text: str) -> tuple[int, int] | None:
    match = _DAY_MONTH.match(text) or None
    if match is not None:
        day, month = int(match[1]), int(match[2])
    elif iso := _ISO_DATE.match(text):
        month, day = int(iso[1]), int(iso[2])
    else:
        return None
    try:
        dt.date(2021, month, day)  # not 29/02: a day every year has
    except ValueError:
        return None
    return day, month


def _month(text: str) -> int | None:
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    return int(number) if number.is_integer() and 1 <= number <= 12 else None


def scoring_rules(
    settings: dict[str, list[str]], problem: Callable[[str, str], None] | None = None
) -> ScoringRules:
    """The scoring settings of ``settings`` (Cấu hình key -> values); a setting that is absent
    keeps its default, one that cannot be read is reported to ``problem(key, message)``."""
    found: dict[str, object] = {}
    defaults = ScoringRules()

    def value(key: str) -> str | None:
        values = settings.get(key)
        return values[0].strip() if values and values[0].strip() else None

    if (text := value(AGE_DATE)) is not None:
        if (day_month := _day_month(text)) is None:
            if problem:
                problem(AGE_DATE, f"'{text}' không phải ngày/tháng (ví dụ 31/12).")
        else:
            found["age_day"], found["age_month"] = day_month
    for key, attribute in (
        (VOTING_MONTH, "voting_month"),
        (REGISTRATION_DEADLINE, "registration_deadline"),
    ):
        if (text := value(key)) is not None:
            if (month := _month(text)) is None:
                if problem:
                    problem(key, f"'{text}' không phải tháng (từ 1 đến 12).")
            else:
                found[attribute] = month
    if (text := value(LATE_REGISTRATION)) is not None:
        answers = {fold(LATE_COUNTS): True, fold(LATE_REFUSED): False}
        if fold(text) not in answers:
            if problem:
                problem(
                    LATE_REGISTRATION,
                    f"'{text}' không hợp lệ: ghi '{LATE_COUNTS}' hoặc '{LATE_REFUSED}'.",
                )
        else:
            found["late_registration_counts"] = answers[fold(text)]
    return dataclasses.replace(defaults, **found)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Catalogue:
    """The criteria catalogue `bo_tieu_chi.xlsx`, loaded and checked: the one source of truth
    for titles, criteria, tasks, units and the ward's settings (`Cấu hình`, key -> the values
    of its rows, in order). Build it with `load_catalogue`."""

    titles: tuple[Title, ...]
    criteria: tuple[Criterion, ...]
    tasks: tuple[Task, ...]
    units: tuple[Unit, ...]
    settings: dict[str, list[str]] = field(hash=False)
    path: Path | None = field(default=None, compare=False, hash=False)

    def title_for_level(self, level: str) -> Title:
        for title in self.titles:
            if title.level == level:
                return title
        raise KeyError(level)

    @property
    def citizen_title(self) -> Title:
        return self.title_for_level(S.LEVEL_CITIZEN)

    @property
    def household_title(self) -> Title:
        return self.title_for_level(S.LEVEL_HOUSEHOLD)

    @property
    def unit_title(self) -> Title:
        return self.title_for_level(S.LEVEL_UNIT)

    def criteria_of(self, title_code: str) -> list[Criterion]:
        return [c for c in self.criteria if c.title == title_code]

    def form_criteria(self, title_code: str) -> list[Criterion]:
        """Criteria a unit fills in a form: every kind but the computed roll-ups."""
        return [c for c in self.criteria_of(title_code) if c.rules.on_form]

    def tasks_of(self, criterion_code: str) -> list[Task]:
        return [t for t in self.tasks if t.criterion == criterion_code]

    def unit(self, code: str) -> Unit | None:
        return self._units_by_code.get(code)

    @functools.cached_property
    def _units_by_code(self) -> dict[str, Unit]:
        # Looked up once per recognised person when drafting a district's decisions.
        return {unit.code: unit for unit in reversed(self.units)}  # the first of a code wins

    @functools.cached_property
    def rules(self) -> ScoringRules:
        """The settings that make a scoring rule a choice (load_catalogue has checked them)."""
        return scoring_rules(self.settings)

    def age_date(self, year: int) -> dt.date:
        """The day on which ages are counted in ``year`` (Cấu hình ngay_tinh_tuoi)."""
        return self.rules.age_date(year)

    def setting(self, key: str, default: str = "") -> str:
        values = self.settings.get(key)
        return values[0] if values else default

    def setting_list(self, key: str) -> list[str]:
        return list(self.settings.get(key, []))

    @property
    def version(self) -> str:
        """The version the Ban chỉ đạo gives the catalogue (Cấu hình `phien_ban`), or ''."""
        return self.setting("phien_ban")

    @property
    def fingerprint(self) -> str:
        """Short hash of what a form depends on: the criteria and tasks a unit fills in.

        Units, settings and wording changes do not make old forms unreadable, so they stay out.
        """
        payload = [[c.title, c.code, c.kind] for c in self.criteria if c.rules.on_form] + [
            [t.criterion, t.code] for t in self.tasks
        ]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:12]


# What the scoring of a period depends on is everything in the catalogue but wording (names,
# texts, groups) and the units register: see snapshot().
_WORDING = frozenset({"name", "short_name", "text", "group", "unit_of_measure", "code"})
_SNAPSHOT_SHEETS = {
    "danh_hieu": S.CAT_TITLES,
    "tieu_chi": CAT_CRITERIA,
    "phan_viec": S.CAT_TASKS,
    "cau_hinh": S.CAT_SETTINGS,
}


def snapshot(catalogue: Catalogue) -> dict:
    """What the scoring depends on, as JSON data: each title's, criterion's and task's rules by
    code, and every setting. The history keeps it for each period, so a change of the rules
    within a year can be shown (describe_changes)."""

    def rules(item: object) -> dict:
        return {k: v for k, v in dataclasses.asdict(item).items() if k not in _WORDING}

    data = {
        "danh_hieu": {t.code: rules(t) for t in catalogue.titles},
        "tieu_chi": {c.code: rules(c) for c in catalogue.criteria},
        "phan_viec": {t.code: rules(t) for t in catalogue.tasks},
        "cau_hinh": {k: list(v) for k, v in sorted(catalogue.settings.items())},
    }
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def rules_fingerprint(data: dict) -> str:
    """Short hash of a snapshot: equal snapshots, equal fingerprints."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _shown(value: object) -> str:
    if value is None or value == []:
        return "(trống)"
    if isinstance(value, list):
        return "; ".join(map(str, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_changes(before: dict, after: dict) -> list[str]:
    """One Vietnamese line per difference between two snapshots: criteria, titles and tasks
    added or removed, each rule changed (threshold, comparator, mandatory…), settings."""
    nouns = {"danh_hieu": "danh hiệu", "tieu_chi": "tiêu chí", "phan_viec": "phần việc"}
    lines = []
    for part, noun in nouns.items():
        old, new = before.get(part, {}), after.get(part, {})
        sheet = _SNAPSHOT_SHEETS[part]
        for code in sorted(new.keys() - old.keys()):
            lines.append(f"Thêm {noun} {code}.")
        for code in sorted(old.keys() - new.keys()):
            lines.append(f"Bỏ {noun} {code}.")
        for code in sorted(old.keys() & new.keys()):
            for key in sorted(old[code].keys() | new[code].keys()):
                was, now = old[code].get(key), new[code].get(key)
                if was != now:
                    label = next((c.label for c in sheet.columns if c.key == key), key)
                    lines.append(
                        f"{noun.capitalize()} {code}: {label} {_shown(was)} → {_shown(now)}."
                    )
    old, new = before.get("cau_hinh", {}), after.get("cau_hinh", {})
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            lines.append(f"Cấu hình {key}: {_shown(old.get(key))} → {_shown(new.get(key))}.")
    return lines


class _Collector:
    """Gathers catalogue problems so the Ban chỉ đạo sees all of them in one go."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.cells: list[tuple[str, str]] = []

    def add(self, sheet: str, cell: str, message: str) -> None:
        self.problems.append(f"{sheet}!{cell}: {message}")
        self.cells.append((sheet, cell))

    def explain_formulas(self, path: Path) -> None:
        """A problem at a cell holding a formula without a saved value (a workbook written by a
        program and never opened in Excel) says so: the cell looks empty to every reader."""
        formulas = _formulas(path)
        for i, key in enumerate(self.cells):
            if key in formulas:
                self.problems[i] += (
                    f" Ô này chứa công thức {formulas[key]} nhưng chưa có giá trị đã lưu: "
                    "hãy mở Bộ tiêu chí bằng Excel hoặc LibreOffice rồi lưu lại, hoặc gõ thẳng "
                    "giá trị thay cho công thức."
                )


def _formulas(path: Path) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> formula, for every formula cell of an .xlsx/.xlsm catalogue."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    import openpyxl  # only when the catalogue has problems

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:
        # Deliberately broad: only a detail for problems already found, on a file calamine
        # read. openpyxl has no error type of its own for a workbook it cannot load (KeyError,
        # ValueError, TypeError, BadZipFile... by where it stops): the problems are reported
        # anyway, without the formulas.
        return {}
    found = {}
    try:
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if isinstance(value, str) and value.startswith("="):
                        found[(nfc(ws.title), cell.coordinate)] = value
    finally:
        book.close()
    return found


def _table(book: dict[str, list[list[object]]], sheet: S.Sheet, out: _Collector) -> list[dict]:
    """Rows of a catalogue sheet as dicts keyed by column key, with cell names for messages."""
    rows = book.get(sheet.name)
    if rows is None:
        out.add(
            sheet.name,
            "A1",
            f"thiếu sheet '{sheet.name}'. Các sheet cần có: {', '.join(s.name for s in _SHEETS)}.",
        )
        return []
    header = [fold(str(v)) if v is not None else "" for v in (rows[0] if rows else [])]
    positions: dict[str, int] = {}
    for column in sheet.columns:
        key = fold(column.label)
        if key in header:
            positions[column.key] = header.index(key)
        elif column.required:
            out.add(sheet.name, "1", f"thiếu cột '{column.label}' ở dòng tiêu đề.")
    records = []
    for row_index, row in enumerate(rows[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        record: dict[str, object] = {"_row": row_index}
        for column in sheet.columns:
            position = positions.get(column.key)
            raw = row[position] if position is not None and position < len(row) else None
            where = cell_name(row_index - 1, position or 0)
            record[column.key] = _convert(raw, column, sheet.name, where, out)
            record["_cell_" + column.key] = where
        records.append(record)
    return records


def _convert(raw: object, column: S.Column, sheet: str, where: str, out: _Collector) -> object:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if column.required:
            out.add(sheet, where, f"thiếu '{column.label}'.")
        return None
    if column.kind in ("int", "number"):
        try:
            number = (
                float(str(raw).replace(",", ".").replace("%", ""))
                if isinstance(raw, str)
                else float(raw)
            )
        except (TypeError, ValueError):
            out.add(sheet, where, f"'{raw}' không phải là số ({column.label}).")
            return None
        if column.kind == "int":
            if number != int(number):
                out.add(sheet, where, f"'{raw}' phải là số nguyên ({column.label}).")
            return int(number)
        return number
    text = nfc(str(raw))
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    if column.kind == "code":
        return text.upper() if column.key != "key" else text
    if column.kind == "choice":
        aliases = S.COMPARATOR_ALIASES if column.key == "comparator" else {}
        text = aliases.get(text, text)
        for choice in column.choices:
            if fold(choice) == fold(text):
                return choice
        out.add(
            sheet,
            where,
            f"'{text}' không hợp lệ ở cột '{column.label}'. Giá trị được "
            f"chấp nhận: {', '.join(column.choices)}.",
        )
        return None
    return text


@dataclass(frozen=True)
class Signing:
    """Who holds the power to issue and who signs (DOCUMENT_FORMAT §3-4, setting tham_quyen_ky).

    ``collective``: the Ủy ban as a body issues (signed `TM. ỦY BAN NHÂN DÂN`); otherwise its
    Chủ tịch does. ``deputy``: a Phó Chủ tịch signs for the Chủ tịch (`KT. CHỦ TỊCH`).
    """

    collective: bool
    deputy: bool


# The four lines of DOCUMENT_FORMAT §4's table, as the clerk writes them in Cấu hình.
SIGNING_CHOICES = {
    "Chủ tịch": Signing(collective=False, deputy=False),
    "KT. Chủ tịch": Signing(collective=False, deputy=True),
    "TM. Ủy ban nhân dân": Signing(collective=True, deputy=False),
    "TM. Ủy ban nhân dân, KT. Chủ tịch": Signing(collective=True, deputy=True),
}
REGISTER_CHOICES = ("Chung", "Riêng")  # setting so_vao_so: one certificate register, or per title


def parse_signing(value: str) -> Signing | None:
    """The setting tham_quyen_ky as a Signing; None when it is none of SIGNING_CHOICES."""

    # `TM. Ủy ban nhân dân / KT. Chủ tịch` reads as `tm uy ban nhan dan, kt chu tich`.
    def key(text: str) -> str:
        return re.sub(r"[\s.,/;-]+", "", fold(text))

    for text, signing in SIGNING_CHOICES.items():
        if key(text) == key(value):
            return signing
    return None


_SHEETS = (S.CAT_TITLES, CAT_CRITERIA, S.CAT_TASKS, S.CAT_UNITS, S.CAT_SETTINGS)
# Settings the documents cannot do without (DOCUMENT_FORMAT.md).
REQUIRED_SETTINGS = ("ten_xa", "ten_huyen", "dia_danh", "nguoi_ky", "chuc_vu_ky", "tham_quyen_ky")


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Load and validate the catalogue; raise CatalogueError listing every problem by cell."""
    path = Path(path) if path else DEFAULT_CATALOGUE
    if not path.exists():
        raise CatalogueError(f"Không tìm thấy Bộ tiêu chí: {path}")
    try:
        book = read_workbook(path)
    except (CalamineError, OSError) as exc:  # not a workbook, damaged, or not readable here
        raise CatalogueError(f"Không đọc được Bộ tiêu chí {path.name}: {exc}") from exc
    out = _Collector()
    title_records = _table(book, S.CAT_TITLES, out)
    titles = _titles(title_records, out)
    criteria = _criteria(_table(book, CAT_CRITERIA, out), titles, out)
    tasks = _tasks(_table(book, S.CAT_TASKS, out), criteria, out)
    units = _units(_table(book, S.CAT_UNITS, out), out)
    settings = _settings(_table(book, S.CAT_SETTINGS, out), out)
    _titles_reachable(title_records, criteria, out)
    if out.problems:
        out.explain_formulas(path)
        raise CatalogueError(f"Bộ tiêu chí {path.name} có {len(out.problems)} lỗi", out.problems)
    return Catalogue(tuple(titles), tuple(criteria), tuple(tasks), tuple(units), settings, path)


def _titles(records: list[dict], out: _Collector) -> list[Title]:
    sheet = S.CAT_TITLES.name
    titles = []
    seen_levels: dict[str, str] = {}
    for r in records:
        if not r["code"] or not r["level"]:
            continue
        if problem := code_problem(r["code"]):
            out.add(sheet, r["_cell_code"], problem)
        if r["level"] in seen_levels:
            out.add(
                sheet,
                r["_cell_level"],
                f"cấp '{r['level']}' đã có danh hiệu "
                f"{seen_levels[r['level']]}; mỗi cấp chỉ có một danh hiệu.",
            )
        seen_levels[r["level"]] = r["code"]
        if r["level"] == S.LEVEL_UNIT and r["registration_required"] == S.YES:
            out.add(
                sheet,
                r["_cell_registration_required"],
                "danh hiệu cấp đơn vị không có đăng ký (biểu mẫu chỉ có cột Đăng ký cho công "
                "dân và hộ): ghi 'Không'.",
            )
        threshold = r["vote_threshold"]
        if threshold is not None and not 0 <= threshold <= 100:
            out.add(sheet, r["_cell_vote_threshold"], "ngưỡng phiếu phải từ 0 đến 100 (%).")
        titles.append(
            Title(
                code=r["code"],
                name=r["name"] or r["code"],
                level=r["level"],
                min_age=r["min_age"],
                min_criteria=r["min_criteria"],
                min_points=r["min_points"],
                vote_threshold=threshold,
                registration_required=r["registration_required"] == S.YES,
                recognised_by=r["recognised_by"] or S.RECOGNISED_BY_TOWN,
                certificate=r["certificate"] or S.CERTIFICATE_RECOGNITION,
            )
        )
    for level in (S.LEVEL_CITIZEN, S.LEVEL_HOUSEHOLD, S.LEVEL_UNIT):
        if level not in seen_levels:
            out.add(sheet, "C1", f"chưa có danh hiệu cấp '{level}'.")
    return titles


def _titles_reachable(records: list[dict], criteria: list[Criterion], out: _Collector) -> None:
    """A title whose minimum number of criteria (or points) is more than its criteria can give
    could never be reached: a typing mistake the Ban chỉ đạo must hear about."""
    sheet = S.CAT_TITLES.name
    for r in records:
        if not r["code"]:
            continue
        own = [c for c in criteria if c.title == r["code"]]
        if r["min_criteria"] is not None and r["min_criteria"] > len(own):
            out.add(
                sheet,
                r["_cell_min_criteria"],
                f"danh hiệu {r['code']} cần {r['min_criteria']} tiêu chí đạt nhưng chỉ có "
                f"{len(own)} tiêu chí trong sheet '{CAT_CRITERIA.name}'.",
            )
        most = sum(c.points or 0 for c in own if c.rules.earns_points)
        if r["min_points"] is not None and r["min_points"] > most:
            out.add(
                sheet,
                r["_cell_min_points"],
                f"danh hiệu {r['code']} cần {_shown(r['min_points'])} điểm nhưng các tiêu chí "
                f"chấm điểm của nó cộng lại chỉ được {_shown(most)} điểm.",
            )


def _criteria(records: list[dict], titles: list[Title], out: _Collector) -> list[Criterion]:
    sheet = CAT_CRITERIA.name
    title_codes = {t.code for t in titles}
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for r in records:
        if not r["code"]:
            continue
        if r["code"] in seen:
            out.add(sheet, r["_cell_code"], f"mã tiêu chí '{r['code']}' bị lặp.")
        seen.add(r["code"])
        if r["title"] and r["title"] not in title_codes:
            out.add(
                sheet,
                r["_cell_title"],
                f"mã danh hiệu '{r['title']}' không có trong sheet "
                f"'{S.CAT_TITLES.name}' ({', '.join(sorted(title_codes))}).",
            )
        criteria.append(
            Criterion(
                title=r["title"] or "",
                code=r["code"],
                short_name=r["short_name"] or r["code"],
                text=r["text"] or "",
                group=r["group"] or "",
                kind=r["kind"] or "dat",
                mandatory=r["mandatory"] == S.YES,
                points=r["points"],
                comparator=r["comparator"],
                threshold=r["threshold"],
                source=r["source"],
                unit_of_measure=r["unit_of_measure"] or "",
            )
        )
        if r["kind"] is not None:  # a word not registered already has its message
            criteria[-1].rules.check(
                lambda key, message, r=r: out.add(sheet, r["_cell_" + key], message)
            )
    # A roll-up must point at the level right below its own title.
    by_code = {t.code: t for t in titles}
    below = {
        S.LEVEL_HOUSEHOLD: {S.LEVEL_CITIZEN},
        S.LEVEL_UNIT: {S.LEVEL_CITIZEN, S.LEVEL_HOUSEHOLD},
    }
    codes = {c.code: c for c in criteria}
    for c, r in zip(criteria, [r for r in records if r["code"]], strict=True):
        if c.rules.on_form or not c.source or c.title not in by_code:
            continue
        source_title = by_code.get(c.source) or (
            by_code.get(codes[c.source].title) if c.source in codes else None
        )
        allowed = below.get(by_code[c.title].level, set())
        if source_title is None or source_title.level not in allowed:
            out.add(
                sheet,
                r["_cell_source"],
                f"nguồn tổng hợp '{c.source}' phải là mã danh hiệu hoặc mã tiêu chí của cấp dưới.",
            )
    return criteria


def _tasks(records: list[dict], criteria: list[Criterion], out: _Collector) -> list[Task]:
    sheet = S.CAT_TASKS.name
    codes = {c.code for c in criteria}
    tasks = []
    seen: set[str] = set()
    for r in records:
        if not r["code"]:
            continue
        if r["criterion"] not in codes:
            out.add(
                sheet,
                r["_cell_criterion"],
                f"mã tiêu chí '{r['criterion']}' không có trong sheet '{CAT_CRITERIA.name}'.",
            )
        if r["code"] in seen:
            out.add(sheet, r["_cell_code"], f"mã phần việc '{r['code']}' bị lặp.")
        seen.add(r["code"])
        tasks.append(Task(r["criterion"] or "", r["code"], r["text"] or ""))
    return tasks


def _units(records: list[dict], out: _Collector) -> list[Unit]:
    sheet = S.CAT_UNITS.name
    units = []
    seen: set[str] = set()
    for r in records:
        if not r["code"]:
            continue
        if r["code"] in seen:
            out.add(sheet, r["_cell_code"], f"mã đơn vị '{r['code']}' bị lặp.")
        seen.add(r["code"])
        if problem := code_problem(r["code"]):
            out.add(sheet, r["_cell_code"], problem)
        units.append(
            Unit(
                r["code"],
                r["name"] or r["code"],
                r["kind"] or S.UNIT_KIND_TDP,
                r["head"] or "",
                r["email"] or "",
            )
        )
    if not units:
        out.add(sheet, "A2", "chưa có đơn vị nào.")
    return units


def _settings(records: list[dict], out: _Collector) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for r in records:
        if r["key"] and r["value"] is not None:
            settings.setdefault(str(r["key"]), []).append(str(r["value"]))
    for key in REQUIRED_SETTINGS:
        if key not in settings:
            out.add(S.CAT_SETTINGS.name, "A1", f"thiếu dòng cấu hình '{key}'.")
    cells = {str(r["key"]): r["_cell_value"] for r in records if r["key"]}
    signing = settings.get("tham_quyen_ky", [""])[0]
    if "tham_quyen_ky" in settings and parse_signing(signing) is None:
        out.add(
            S.CAT_SETTINGS.name,
            cells["tham_quyen_ky"],
            f"thẩm quyền ký '{signing}' không hợp lệ. Ghi một trong: "
            + "; ".join(SIGNING_CHOICES)
            + ".",
        )
    register = settings.get("so_vao_so", [REGISTER_CHOICES[0]])[0]
    if fold(register) not in {fold(c) for c in REGISTER_CHOICES}:
        out.add(
            S.CAT_SETTINGS.name,
            cells["so_vao_so"],
            f"sổ vào sổ '{register}' không hợp lệ. Ghi một trong: {', '.join(REGISTER_CHOICES)}.",
        )
    scoring_rules(settings, lambda key, message: out.add(S.CAT_SETTINGS.name, cells[key], message))
    return settings
