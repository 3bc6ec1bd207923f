"""A resident list (danh sách dân cư): what a ward starts January's forms from (issue 23).

A real ward does not type its 25,000 residents into blank forms: the commune's population
list has them. `kieumau forms --danh-sach FILE` reads such a list (`.xlsx`, `.xls`, `.ods` or
`.csv`) and pre-fills each unit's form with its people and households.

The list is read by its header, found on any of its first rows, in any column order, with or
without Vietnamese accents (HEADERS): name, birth date, CCCD and household are required;
gender, the unit (tổ dân phố), the household head, the relation to the head and the address
are taken when present. Text is NFC, a CCCD is read as text (a number that lost its leading
zero is given it back, as the forms' reader does).

A row that cannot be attributed to one person of one unit (no name, an unknown unit, the same
CCCD twice) is left out, with a message naming the file, the cell and the person. A row with a
value that cannot be read is kept: the value goes on the form as typed, marked for the unit to
fix (form_layout.RAW), and a message says so.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from processor.domain import cells
from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Unit
from processor.domain.errors import KieumauError
from processor.domain.form_layout import RAW
from processor.domain.issues import ERROR, Issue, make_issue
from processor.domain.sheets import cell_name, open_workbook
from processor.domain.vietnamese import fold, nfc
from processor.intake.safety import MAX_ROWS, inspect_file

# Header labels, compared folded (no accents, lower case). The first four are required.
HEADERS: dict[str, tuple[str, ...]] = {
    "full_name": ("ho va ten", "ho ten", "ho va ten cong dan", "ten cong dan"),
    "birth_date": ("ngay sinh", "ngay thang nam sinh", "ngay, thang, nam sinh", "nam sinh"),
    "cccd": (
        "so cccd",
        "cccd",
        "so can cuoc cong dan",
        "can cuoc cong dan",
        "so dinh danh",
        "so dinh danh ca nhan",
        "so cmnd/cccd",
        "cmnd/cccd",
        "so cccd/cmnd",
    ),
    "household_code": ("ma ho", "so ho", "ma ho gia dinh", "ho gia dinh", "so ho khau", "ma so ho"),
    "gender": ("gioi tinh",),
    "unit": ("to dan pho", "ma don vi", "don vi", "tdp", "ma to dan pho", "to"),
    "head_name": ("chu ho", "ho ten chu ho", "ten chu ho"),
    "relation": ("quan he voi chu ho", "quan he"),
    "address": ("dia chi", "noi o hien nay", "noi thuong tru", "dia chi thuong tru"),
}
REQUIRED = ("full_name", "birth_date", "cccd", "household_code")
_LABELS = {
    "full_name": "Họ và tên",
    "birth_date": "Ngày sinh",
    "cccd": "Số CCCD",
    "household_code": "Mã hộ",
}
_HEAD = "chu ho"  # the relation that marks the household head
_HEADER_ROWS = 15  # the header is looked for on the list's first rows
# What the form's reader would only warn about is taken as read here, quietly: the form shows
# the value and the unit checks its own people.
_ACCEPTED = {"DATE_AS_TEXT", "DATE_SERIAL", "CCCD_LEADING_ZERO"}


@dataclass
class UnitResidents:
    """One unit's part of the list, keyed like a form's rows (citizens: household_code,
    full_name, birth_date, gender, cccd and RAW; households: household_code, head_name,
    address)."""

    citizens: pd.DataFrame
    households: pd.DataFrame


@dataclass
class Residents:
    """A resident list as read: each unit's people and households, and what was wrong."""

    path: Path
    units: dict[str, UnitResidents] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    rows_read: int = 0
    rows_left_out: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for issue in self.issues if issue.severity == ERROR)


def read_residents(path: Path, catalogue: Catalogue, unit_code: str | None = None) -> Residents:
    """Read the resident list at ``path``. Without a unit column, every row is ``unit_code``'s
    (an error when it is not given); with one, ``unit_code`` keeps only that unit's rows."""
    rows, sheet = _rows(path)
    found = _find_header(rows)
    if found is None:
        wanted = ", ".join(_LABELS[k] for k in REQUIRED)
        raise KieumauError(
            f"Danh sách dân cư {path.name}: không thấy dòng tiêu đề trong {_HEADER_ROWS} dòng "
            f"đầu. Dòng tiêu đề cần có các cột: {wanted}."
        )
    header_row, positions = found
    missing = [_LABELS[k] for k in REQUIRED if k not in positions]
    if missing:
        seen = ", ".join(nfc(str(v)) for v in rows[header_row] if not cells.is_blank(v))
        raise KieumauError(
            f"Danh sách dân cư {path.name}: thiếu cột {', '.join(missing)} ở dòng tiêu đề "
            f"(dòng {header_row + 1}: {seen}). Hãy thêm cột hoặc sửa tên cột rồi chạy lại."
        )
    wanted = _unit(catalogue, unit_code, path) if unit_code else None
    if "unit" not in positions and wanted is None:
        raise KieumauError(
            f"Danh sách dân cư {path.name} không có cột Tổ dân phố (Mã đơn vị): hãy chỉ rõ đơn "
            "vị của danh sách bằng --don-vi, ví dụ --don-vi TDP01."
        )
    return _Reader(path, sheet, catalogue, rows, header_row, positions, wanted).read()


def _rows(path: Path) -> tuple[list[list], str]:
    """The list's rows (and its sheet's name, '' for a CSV)."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path), ""
    verdict = inspect_file(path)
    if verdict.code is not None:
        issue = make_issue(verdict.code, path.name, verdict.sheet, verdict.cell, verdict.value,
                           verdict.detail)  # fmt: skip
        raise KieumauError(f"Danh sách dân cư {path.name}: {issue.message}")
    book = open_workbook(path)
    try:
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS)
            if _find_header(rows) is not None:
                return rows, nfc(name)
        first = book.sheet_names[0] if book.sheet_names else ""
        return (book.get_sheet_by_name(first).to_python(nrows=_HEADER_ROWS) if first else []), first
    finally:
        book.close()


def _csv_rows(path: Path) -> list[list]:
    """A CSV's rows as text: UTF-8 (with or without BOM), else Windows' Vietnamese code page,
    separated by commas, semicolons or tabs (a Vietnamese Excel saves CSV with ';')."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise KieumauError(
            f"Danh sách dân cư {path.name}: không đọc được bảng mã của tệp. Hãy lưu lại dạng "
            "CSV UTF-8 (Excel: Lưu thành > CSV UTF-8) hoặc dạng .xlsx."
        )
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _find_header(rows: list[list]) -> tuple[int, dict[str, int]] | None:
    """(row, column of each known key) of the first of the first rows naming two required
    columns."""
    aliases = {alias: key for key, names in HEADERS.items() for alias in names}
    for i, row in enumerate(rows[:_HEADER_ROWS]):
        positions: dict[str, int] = {}
        for j, value in enumerate(row):
            if isinstance(value, str) and (key := aliases.get(fold(value))) is not None:
                positions.setdefault(key, j)
        if sum(key in positions for key in REQUIRED) >= 2:
            return i, positions
    return None


def _unit(catalogue: Catalogue, text: str, path: Path) -> Unit:
    unit = catalogue.unit(text.strip().upper())
    if unit is None:
        raise KieumauError(
            f"Không có đơn vị {text} trong Bộ tiêu chí (danh sách {path.name}). Các mã hợp lệ: "
            f"{', '.join(u.code for u in catalogue.units)}."
        )
    return unit


class _Reader:
    """The rows of a resident list below its header, read column by column."""

    def __init__(
        self,
        path: Path,
        sheet: str,
        catalogue: Catalogue,
        rows: list[list],
        header_row: int,
        positions: dict[str, int],
        wanted: Unit | None,
    ) -> None:
        self.out = Residents(path)
        self.found: list[tuple[tuple[int, int], Issue]] = []  # ((row, column), issue)
        self.sheet = sheet
        self.catalogue = catalogue
        self.positions = positions
        self.wanted = wanted
        width = max(positions.values()) + 1
        self.lines: list[int] = []  # 0-based row of the sheet, for messages
        data: list[list] = []
        for i, row in enumerate(rows[header_row + 1 :], header_row + 1):
            if any(not cells.is_blank(v) for v in row):
                self.lines.append(i)
                data.append([*row, *[""] * (width - len(row))][:width] if len(row) < width else row)
        self.columns = {key: cells.column([row[j] for row in data]) for key, j in positions.items()}
        self.out.rows_read = len(data)
        self.units_by_name = {fold(u.name): u for u in catalogue.units}

    def issue(self, i: int, key: str, code: str, name: object, value: object = "",
              detail: object = "") -> None:  # fmt: skip
        where = (self.lines[i], self.positions.get(key, 0))
        found = make_issue(code, self.out.path.name, self.sheet, cell_name(*where), value, detail)
        who = f"{name}: " if isinstance(name, str) and name else ""
        self.found.append(
            (where, Issue(found.file, found.sheet, found.cell, found.code, who + found.message,
                          found.severity, who + found.public_message))
        )  # fmt: skip

    def read(self) -> Residents:
        n = self.out.rows_read
        names = cells.parse_text(self.columns["full_name"])
        names = np.array([_name(v) for v in names], dtype=object)
        raw = [dict() for _ in range(n)]
        births = self._dates(names, raw)
        cccds = self._cccds(names, raw)
        genders = self._genders(names, raw)
        homes = cells.parse_code(self.columns["household_code"])
        units = self._units(names)
        kept = []
        seen: dict[tuple[str, str], int] = {}
        for i in range(n):
            if names[i] is None:
                self.issue(i, "full_name", "RESIDENT_NO_NAME", None)
                continue
            unit = units[i]
            if unit is None:
                continue
            if cccds[i] is not None:
                first = seen.setdefault((unit.code, cccds[i]), i)
                if first != i:
                    self.issue(i, "cccd", "RESIDENT_DUPLICATE", names[i], cccds[i],
                               self.lines[first] + 1)  # fmt: skip
                    continue
            if homes[i] is None and unit.is_tdp:
                self.issue(i, "household_code", "RESIDENT_NO_HOUSEHOLD", names[i])
            kept.append(i)
        self.out.rows_left_out = n - len(kept)
        self.out.issues = [issue for _, issue in sorted(self.found, key=lambda f: f[0])]
        extra = {
            key: cells.parse_text(self.columns[key])
            for key in ("head_name", "relation", "address")
            if key in self.columns
        }
        by_unit: dict[str, list[int]] = {}
        for i in kept:
            by_unit.setdefault(units[i].code, []).append(i)
        for code, rows in by_unit.items():
            unit = self.catalogue.unit(code)
            household = [_household_code(unit, homes[i]) for i in rows]
            citizens = pd.DataFrame(
                {
                    "household_code": household if unit.is_tdp else [None] * len(rows),
                    "full_name": names[rows],
                    "birth_date": births[rows],
                    "gender": genders[rows],
                    "cccd": cccds[rows],
                    RAW: [raw[i] or None for i in rows],
                }
            )
            households = _households(unit, rows, household, names, extra)
            self.out.units[code] = UnitResidents(citizens, households)
        return self.out

    def _dates(self, names: np.ndarray, raw: list[dict]) -> np.ndarray:
        values = self.columns["birth_date"]
        days, _, problems = cells.parse_dates(values, range(len(values)))
        for i, code, value, detail in problems:
            if code in _ACCEPTED:
                continue
            raw[i]["birth_date"] = _typed(value)
            days[i] = None
            self.issue(i, "birth_date", code, names[i], _typed(value), detail)
        return days

    def _cccds(self, names: np.ndarray, raw: list[dict]) -> np.ndarray:
        values, problems = cells.parse_cccd(self.columns["cccd"], range(len(self.columns["cccd"])))
        for i, code, value, detail in problems:
            if code in _ACCEPTED:
                continue
            raw[i]["cccd"] = _typed(value)
            self.issue(i, "cccd", code, names[i], _typed(value), detail)
        return values

    def _genders(self, names: np.ndarray, raw: list[dict]) -> np.ndarray:
        if "gender" not in self.columns:
            return np.full(self.out.rows_read, None, dtype=object)
        values = self.columns["gender"]
        parsed, problems = cells.parse_choice(values, range(len(values)), (S.MALE, S.FEMALE))
        for i, code, value, detail in problems:
            raw[i]["gender"] = _typed(value)
            self.issue(i, "gender", code, names[i], _typed(value), detail)
        return parsed

    def _units(self, names: np.ndarray) -> list[Unit | None]:
        """Each row's unit: the unit column's (by code or name), else the one given."""
        n = self.out.rows_read
        if "unit" not in self.columns:
            return [self.wanted] * n
        texts = cells.parse_text(self.columns["unit"])
        units: list[Unit | None] = []
        for i, text in enumerate(texts):
            unit = None
            if text is not None:
                unit = self.catalogue.unit(text.upper().replace(" ", "")) or self.units_by_name.get(
                    fold(text)
                )
            if unit is None:
                if names[i] is not None:
                    self.issue(i, "unit", "RESIDENT_UNIT_UNKNOWN", names[i], text or "")
                units.append(None)
            elif self.wanted is not None and unit.code != self.wanted.code:
                units.append(None)  # another unit's resident: not asked for
            else:
                units.append(unit)
        return units


def _name(value: object) -> str | None:
    """A name as the form takes it: a leading apostrophe (Excel's text marker) dropped."""
    if not isinstance(value, str):
        return None
    value = value.lstrip("'’").strip()
    return value or None


def _typed(value: object) -> str:
    """A value that could not be read, as the person typed it (for the form's marked cell)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value))


def _household_code(unit: Unit, code: object) -> str | None:
    """The household's code on the form: the list's own, under the unit's prefix when it has
    not got it (`123` in TDP01's list is `TDP01-123`), so that codes stay unique across units."""
    if not isinstance(code, str) or not code:
        return None
    return code if code.startswith(f"{unit.code}-") else f"{unit.code}-{code}"


def _households(
    unit: Unit,
    rows: list[int],
    codes: list[str | None],
    names: np.ndarray,
    extra: dict[str, np.ndarray],
) -> pd.DataFrame:
    """One row per household of the unit, in the list's order: its head is the list's Chủ hộ
    column, else the member whose relation is Chủ hộ, else its first member listed."""
    if not unit.is_tdp:
        return pd.DataFrame()
    heads: dict[str, str] = {}
    named: dict[str, str] = {}
    addresses: dict[str, str] = {}
    for i, code in zip(rows, codes, strict=True):
        if code is None:
            continue
        heads.setdefault(code, names[i])
        if "head_name" in extra and extra["head_name"][i]:
            named.setdefault(code, extra["head_name"][i])
        elif "relation" in extra and fold(str(extra["relation"][i] or "")) == _HEAD:
            named.setdefault(code, names[i])
        if "address" in extra and extra["address"][i]:
            addresses.setdefault(code, extra["address"][i])
    return pd.DataFrame(
        {
            "household_code": list(heads),
            "head_name": [named.get(code, head) for code, head in heads.items()],
            "address": [addresses.get(code) for code in heads],
        }
    )
