"""One file in, typed frames and issues out (SPEC §4 steps 1-2).

`read_submission` never raises for bad input: whatever is wrong with a file becomes an Issue and
the rows it could not take are counted as rejected, so the batch always goes on. Every file of
the inbox gets a Submission, even the ones skipped (lock files) or refused before parsing
(processor.intake.safety), so the run's accounting lists them all (SPEC §7).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from processor.domain import cells
from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Criterion
from processor.domain.errors import KieumauError
from processor.domain.form_layout import HEADER_ROW, MONTHS, citizen_columns, household_columns
from processor.domain.issues import ERROR, KINDS
from processor.domain.periods import Period
from processor.domain.sheets import cell_name, open_workbook, sheet_map
from processor.domain.vietnamese import fold, nfc
from processor.intake.inbox import is_ignored, link_outside
from processor.intake.safety import MAX_ROWS, SheetScan, Verdict, inspect_file
from processor.intake.submission import (
    IGNORED,
    OTHER_PERIOD,
    OTHER_UNIT,
    REJECTED,
    SheetCount,
    Submission,
    sha256_of,
)

MAX_FORMULA_ISSUES = 20  # per sheet; the rest are counted in one more issue
_CODE_IN_HEADER = re.compile(r"^\s*([A-Za-zĐđ]+\d+(?:\.\d+)?)\b")


def read_submission(
    path: Path, catalogue: Catalogue, name: str | None = None, expected_period: Period | None = None
) -> Submission:
    """Read one unit workbook. Never raises for bad input.

    ``name`` is the path relative to the inbox (as listed by processor.intake.inbox): a link
    on the way that leads out of the inbox is refused before anything is read through it."""
    name = name or path.name
    shown = _displayable(name)
    outside = link_outside(path, name)
    if outside is not None:
        sub = Submission(path, shown, "", 0.0)
        sub.issue("FILE_LINK_OUTSIDE", detail=_displayable(str(outside)))
        return sub
    if path.is_dir():  # a folder of kieumau's outputs (list_inbox): never read
        sub = Submission(path, shown, "", 0.0, status=IGNORED)
        sub.issue("OUTPUT_FOLDER_SKIPPED")
        return sub
    try:
        mtime = path.stat().st_mtime
        digest = sha256_of(path)
    except OSError as exc:
        sub = Submission(path, shown, "", 0.0)
        sub.issue("FILE_CORRUPT", detail=f"không đọc được tệp: {exc.strerror or exc}")
        return sub
    sub = Submission(path, shown, digest, mtime)
    if _displayable(path.name) != path.name:
        sub.issue("FILE_NAME_NOT_UTF8", detail=shown)
    if is_ignored(name):
        sub.status = IGNORED
        sub.issue("FILE_IGNORED", detail=_displayable(path.name))
        return sub
    verdict = inspect_file(path)
    sub.kind = verdict.kind
    if verdict.code:
        sub.issue(verdict.code, verdict.sheet, verdict.cell, verdict.value, verdict.detail)
        _count_refused(sub, verdict)
        return sub
    try:
        _read_book(sub, catalogue, expected_period, verdict)
    except BaseException as exc:  # bad bytes that got past safety: recorded, never fatal
        if not (isinstance(exc, Exception) or _is_panic(exc)):
            raise
        message = str(exc)
        code = (
            "FILE_PASSWORD"
            if "password" in message.lower() or "encrypt" in message.lower()
            else "FILE_CORRUPT"
        )
        sub.issue(code, detail=f"{type(exc).__name__}: {message[:200]}")
        sub.reject_all()
        sub.status = REJECTED
    return sub


def _displayable(name: str) -> str:
    """``name`` as text every output can hold: a file name that is not UTF-8 reaches Python with
    its bad bytes as lone surrogates, which no UTF-8 file, JSON or database can store; they are
    shown as '�', as the run names such a file (batch.display_name)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return name.encode("utf-8", "replace").decode("utf-8")


def _count_refused(sub: Submission, verdict: Verdict) -> None:
    """A file refused for its size (.xls, .ods): its form sheets' rows, all rejected."""
    for sheet in (S.FORM_CITIZENS.name, S.FORM_HOUSEHOLDS.name):
        scan = verdict.sheets.get(sheet)
        if scan is not None and verdict.code in ("TOO_MANY_ROWS", "SHEET_TOO_LARGE"):
            n = max(scan.value_rows - (HEADER_ROW + 1), 0)
            sub.counts[sheet] = SheetCount(n, 0, n)


def _key_values(rows: list[list]) -> dict[str, tuple[object, str]]:
    """Label/value rows (Thông tin, _meta): folded label -> (value, cell name)."""
    found: dict[str, tuple[object, str]] = {}
    for i, row in enumerate(rows):
        if len(row) >= 2 and isinstance(row[0], str) and row[0].strip():
            found[fold(row[0])] = (row[1], cell_name(i, 1))
    return found


# The form's sheets, and for the table sheets the column that tells them apart when a unit
# renamed the sheet (Công dân and Hộ gia đình share STT, Mã hộ, Đăng ký).
_FORM_SHEETS = (
    S.FORM_META,
    S.FORM_INFO.name,
    S.FORM_CITIZENS.name,
    S.FORM_HOUSEHOLDS.name,
    S.FORM_UNIT.name,
)
_SIGNATURES = {
    S.FORM_CITIZENS.name: (S.FORM_CITIZENS, "full_name"),
    S.FORM_HOUSEHOLDS.name: (S.FORM_HOUSEHOLDS, "head_name"),
    S.FORM_UNIT.name: (S.FORM_UNIT, "self_assessment"),
}


class _Workbook:
    """The unit's workbook through calamine, under the form's sheet names (even when the unit
    renamed a sheet), loading a sheet only when its scan (processor.intake.safety) shows it is small
    enough: calamine allocates a dense grid up to the farthest cell, whatever is filled in."""

    def __init__(self, sub: Submission, scans: dict[str, SheetScan]) -> None:
        self.sub = sub
        self.book = open_workbook(sub.path)
        self.stored = sheet_map(self.book)  # NFC name in the file -> name as stored
        self.scans = scans
        self.resolved: dict[str, str] = {}  # form sheet name -> NFC name in the file
        self._loaded: dict[str, object] = {}
        self._refused: dict[str, bool] = {}

    def close(self) -> None:
        self.book.close()

    def has(self, sheet: str) -> bool:
        return sheet in self.resolved

    def scan(self, sheet: str) -> SheetScan | None:
        return self.scans.get(self.resolved.get(sheet, sheet))

    def refuse(self, sheet: str) -> bool:
        """True when ``sheet`` is too large to load; the issue is recorded once."""
        if sheet in self._refused:
            return self._refused[sheet]
        scan = self.scan(sheet)
        refused = scan is not None and (scan.too_many_rows or scan.too_many_cells)
        if scan is not None and scan.too_many_rows:
            last = max(scan.rows, scan.last_row)
            self.sub.issue(
                "TOO_MANY_ROWS", sheet, f"A{last}", _thousands(last), _thousands(MAX_ROWS)
            )
        elif scan is not None and scan.too_many_cells:
            self.sub.issue("SHEET_TOO_LARGE", sheet, scan.corner, detail=scan.corner)
        self._refused[sheet] = refused
        self.sub.oversized |= refused
        return refused

    def sheet(self, sheet: str):
        name = self.resolved.get(sheet, sheet)
        if name not in self._loaded:
            self._loaded[name] = self.book.get_sheet_by_name(self.stored[name])
        return self._loaded[name]

    def rows(self, sheet: str, limit: int) -> list[list]:
        """The first ``limit`` rows of a form sheet, or none when it is missing or refused."""
        name = self.resolved.get(sheet, sheet)
        if name not in self.stored or self.refuse(sheet):
            return []
        handle = self.sheet(sheet)
        try:
            return handle.to_python(skip_empty_area=False, nrows=limit)
        except BaseException as exc:
            if not _is_panic(exc):
                raise
        # calamine panics on some cells (a large negative number in a date-formatted cell):
        # row by row, only the rows it cannot convert are lost, and they are counted.
        rows: list[list] = []
        start_column = (handle.start or (0, 0))[1]
        iterator = handle.iter_rows()
        while len(rows) < limit:
            try:
                rows.append([""] * start_column + next(iterator))
            except StopIteration:
                break
            except BaseException as exc:
                if not _is_panic(exc):
                    raise
                rows.append(_UnreadableRow())
        return rows

    def is_empty(self) -> bool:
        for name in self.stored:
            scan = self.scans.get(name)
            if scan is not None and scan.rows == 0:
                continue
            if scan is not None and (scan.too_many_rows or scan.too_many_cells):
                return False
            rows = self.rows(name, 50)
            if any(not cells.is_blank(v) for row in rows for v in row):
                return False
        return True


_CELL_ROW = re.compile(r"\d+$")  # the row of 'H12'


class _UnreadableRow(list):
    """A row calamine could not convert: read, and rejected with ROW_UNREADABLE."""


def _is_panic(exc: BaseException) -> bool:
    """pyo3 turns a Rust panic into PanicException, a BaseException: not caught by `except
    Exception`, yet only bad bytes in one file."""
    return type(exc).__name__ == "PanicException"


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _resolve_sheets(sub: Submission, wb: _Workbook) -> None:
    """Find each form sheet: by its name, by its name without accents or case, or (table
    sheets, Thông tin) by its header among the sheets the form does not know."""
    claimed = {S.FORM_GUIDE} & set(wb.stored)
    for sheet in _FORM_SHEETS:
        if sheet in wb.stored:
            wb.resolved[sheet] = sheet
            claimed.add(sheet)
    for sheet in _FORM_SHEETS:
        if sheet in wb.resolved:
            continue
        others = [n for n in wb.stored if n not in claimed]
        match = next((n for n in others if fold(n) == fold(sheet)), None)
        if match is None:
            match = next((n for n in others if _looks_like(wb, n, sheet)), None)
        if match is not None:
            wb.resolved[sheet] = match
            claimed.add(match)
            sub.sheet_titles[sheet] = match
            sub.issue("SHEET_RENAMED", sheet, value=match, detail=sheet)


def _looks_like(wb: _Workbook, name: str, sheet: str) -> bool:
    if sheet == S.FORM_META:
        return False  # hidden, so never renamed by hand
    rows = wb.rows(name, 15)
    if sheet == S.FORM_INFO.name:
        labels = _key_values(rows)
        return all(fold(S.FORM_INFO.label(k)) in labels for k in ("unit_code", "period"))
    form, key = _SIGNATURES[sheet]
    header = _find_header(rows, list(form.columns))
    return header is not None and fold(form.label(key)) in {
        fold(str(v)) for v in rows[header] if isinstance(v, str)
    }


def _read_book(
    sub: Submission, catalogue: Catalogue, expected: Period | None, verdict: Verdict
) -> None:
    wb = _Workbook(sub, verdict.sheets)
    try:
        if wb.is_empty():
            sub.issue("FILE_EMPTY")
            return
        _resolve_sheets(sub, wb)
        meta = _key_values(wb.rows(S.FORM_META, 20))
        info_rows = wb.rows(S.FORM_INFO.name, 40)
        if not _identify(sub, catalogue, wb, meta, info_rows, expected):
            # Still count what the file holds, so the accounting covers it.
            _count_only(sub, wb, catalogue)
            return
        _formula_issues(sub, wb, S.FORM_INFO.name)
        unit = catalogue.unit(sub.unit_code or "")
        assert unit is not None
        _read_table(
            sub,
            wb,
            S.FORM_CITIZENS,
            citizen_columns(catalogue),
            catalogue,
            "citizens",
            household_optional=not unit.is_tdp,
        )
        if unit.is_tdp:
            _read_table(
                sub, wb, S.FORM_HOUSEHOLDS, household_columns(catalogue), catalogue, "households"
            )
            _read_tasks(sub, wb, catalogue)
        _cross_checks(sub, catalogue, unit.is_tdp)
    finally:
        wb.close()
    if sub.rows_read == 0 and not any(i.severity == ERROR for i in sub.issues):
        # A form sent back without a single row does not count as the unit's submission:
        # it must not supersede an earlier one that had data.
        sub.issue("FILE_EMPTY")
        sub.status = REJECTED
        return
    sub.settle_status()


_TITLE_PERIOD = re.compile(r"thang (\d{1,2})/(\d{4})")


def _identify_by_title(wb: _Workbook, catalogue: Catalogue) -> tuple[str, str] | None:
    """(unit code, period) from a table sheet's title line, which the form writes as
    'DANH SÁCH CÔNG DÂN - <unit name> - tháng MM/YYYY' (SPEC §4: failing _meta, headers and
    unit name identify the file)."""
    for sheet in (S.FORM_CITIZENS.name, S.FORM_HOUSEHOLDS.name, S.FORM_UNIT.name):
        if not wb.has(sheet):
            continue
        text = " ".join(str(v) for row in wb.rows(sheet, 2) for v in row if isinstance(v, str))
        folded = f" {fold(text)} "
        units = [u for u in catalogue.units if f"- {fold(u.name)} -" in folded]
        period = _TITLE_PERIOD.search(folded)
        if units and period:
            unit = max(units, key=lambda u: len(u.name))
            return unit.code, f"{period[2]}-{int(period[1]):02d}"
    return None


def _identify(
    sub: Submission,
    catalogue: Catalogue,
    wb: _Workbook,
    meta: dict,
    info_rows: list[list],
    expected: Period | None,
) -> bool:
    """Whose form this is and for which month, from _meta, else Thông tin, else the title; and
    whether its version can be read. False when the file cannot count (its issue says why)."""
    info = _key_values(info_rows)
    period_raw, period_cell = meta.get("period", (None, ""))
    period_sheet = S.FORM_META
    if cells.is_blank(period_raw):
        period_raw, period_cell = info.get(fold(S.FORM_INFO.label("period")), (None, ""))
        period_sheet = S.FORM_INFO.name
    unit = _unit_of(sub, catalogue, wb, meta, info)
    if unit is None:
        return False
    if unit.by_title is not None:
        period_raw, period_sheet, period_cell = unit.by_title, "", ""
    try:
        period = Period.parse(period_raw)
    except KieumauError:
        sub.issue("FILE_PERIOD_INVALID", period_sheet, period_cell, value=period_raw or "")
        return False
    sub.period = str(period)
    if expected is not None and period != expected:
        sub.issue("FILE_OTHER_PERIOD", period_sheet, period_cell, str(expected), str(period))
        sub.status = OTHER_PERIOD
        return False
    if meta and not _version_readable(sub, catalogue, meta):
        return False
    sub.info = _info_values(sub, info)
    return True


@dataclass(frozen=True)
class _FoundUnit:
    code: str
    by_title: str | None  # the period read from the title, when the unit was found there


def _unit_of(
    sub: Submission, catalogue: Catalogue, wb: _Workbook, meta: dict, info: dict
) -> _FoundUnit | None:
    """The catalogue's unit the form belongs to (sub.unit_code set), or None with an issue."""
    info_raw, info_cell = info.get(fold(S.FORM_INFO.label("unit_code")), (None, ""))
    info_unit = cells.parse_code(cells.column([info_raw]))[0]
    meta_raw, meta_cell = meta.get("unit_code", (None, ""))
    meta_unit = None if cells.is_blank(meta_raw) else nfc(str(meta_raw)).upper()
    unit_code = meta_unit or info_unit
    by_title = None
    if not unit_code:
        found = _identify_by_title(wb, catalogue)
        if found is None:
            sub.issue("FILE_UNIDENTIFIED", S.FORM_INFO.name)
            return None
        unit_code, by_title = found
        sub.issue("FILE_NO_META", detail=f"{unit_code}, kỳ {by_title}")
    if meta_unit and info_unit and meta_unit != info_unit:
        sub.issue(
            "FILE_UNIT_MISMATCH",
            S.FORM_INFO.name,
            info_cell,
            detail=f"{info_unit} ≠ {meta_unit}",
        )
        return None
    unit_sheet, unit_cell = (S.FORM_META, meta_cell) if meta_unit else (S.FORM_INFO.name, info_cell)
    if catalogue.unit(unit_code) is None:
        sub.issue("FILE_UNKNOWN_UNIT", unit_sheet, unit_cell, detail=unit_code)
        sub.status = OTHER_UNIT
        return None
    sub.unit_code = unit_code
    return _FoundUnit(unit_code, by_title)


def _version_readable(sub: Submission, catalogue: Catalogue, meta: dict) -> bool:
    """The form's version from _meta: too old or too new to read is False, with its issue; a
    form made from an earlier catalogue is read, with a warning."""
    version_raw, version_cell = meta.get("form_version", ("", ""))
    sub.form_version = "" if cells.is_blank(version_raw) else str(version_raw)
    fingerprint_raw, fingerprint_cell = meta.get("catalogue_fingerprint", ("", ""))
    sub.fingerprint = "" if cells.is_blank(fingerprint_raw) else str(fingerprint_raw)
    try:
        version = int(float(sub.form_version))
    except ValueError:
        version = -1
    if version < 1 or version > S.FORM_VERSION:
        sub.issue("FILE_INCOMPATIBLE_VERSION", S.FORM_META, version_cell, detail=sub.form_version)
        return False
    if sub.fingerprint != catalogue.fingerprint:
        sub.issue("FILE_OLD_VERSION", S.FORM_META, fingerprint_cell, detail=sub.fingerprint)
    return True


def _info_values(sub: Submission, info: dict[str, tuple[object, str]]) -> dict[str, object]:
    """The Thông tin values, parsed by kind: one call per kind, not per value (each call has a
    fixed cost, several times that of reading a value)."""
    sub.info_cells = {
        column.key: info[fold(column.label)][1]
        for column in S.FORM_INFO.columns
        if fold(column.label) in info
    }
    found = {
        column.key: (column, *info[fold(column.label)])
        for column in S.FORM_INFO.columns
        if not cells.is_blank(info.get(fold(column.label), (None, ""))[0])
    }
    parsed: dict[str, object] = {}
    problems: list[cells.Problem] = []
    for kind in ("date", "int", "text"):
        keys = [k for k, (c, _, _) in found.items() if _info_kind(c) == kind]
        if not keys:
            continue
        raw = cells.column([found[k][1] for k in keys])
        if kind == "date":
            values, _, found_problems = cells.parse_dates(raw, keys)
        elif kind == "int":
            values, found_problems = cells.parse_number(raw, keys, minimum=0, integer=True)
        else:
            values, found_problems = cells.parse_text(raw), []
        parsed.update(zip(keys, values.tolist(), strict=True))
        problems += found_problems
    order = list(found)
    for key, code, raw_value, detail in sorted(problems, key=lambda p: order.index(p[0])):
        sub.issue(code, S.FORM_INFO.name, found[key][2], cells.as_typed(raw_value), detail)
    return {key: parsed[key] for key in order if parsed.get(key) is not None}


def _info_kind(column: S.Column) -> str:
    return column.kind if column.kind in ("date", "int") else "text"  # codes are read as text


def _count_only(sub: Submission, wb: _Workbook, catalogue: Catalogue) -> None:
    """Rows of a file that is not taken (other period, unknown unit): all read, all rejected.

    The Tổ dân phố sheet is left out: its rows are the form's own list of tasks."""
    tables = (
        (S.FORM_CITIZENS, citizen_columns(catalogue)),
        (S.FORM_HOUSEHOLDS, household_columns(catalogue)),
    )
    for sheet, columns in tables:
        if not wb.has(sheet.name):
            continue
        if wb.refuse(sheet.name):
            n = _refused_rows(wb, sheet.name)
        else:
            rows = wb.rows(sheet.name, MAX_ROWS + HEADER_ROW + 1)
            header_row = _find_header(rows, columns)
            if header_row is None:
                n = len(_filled_rows(rows, HEADER_ROW + 1, {0}))
            else:
                labels = [fold(str(v)) if isinstance(v, str) else "" for v in rows[header_row]]
                skip = {j for j, label in enumerate(labels) if label in _NOT_DATA_LABELS}
                n = len(_filled_rows(rows, header_row + 1, skip))
        sub.counts[sheet.name] = SheetCount(n, 0, n)


# A row holding only these is not a data row: STT is pre-filled, and the form's guide tells
# units to note a resident who moved away in Ghi chú and clear the rest of the row.
_NOT_DATA_KEYS = ("row_no", "note")
_NOT_DATA_LABELS = {fold(S.FORM_CITIZENS.label("row_no")), fold(S.NOTE.label)}


def _filled_rows(rows: list[list], first: int, skip: set[int]) -> list[tuple[int, list]]:
    """(0-based row index, row) of every row from ``first`` on with a value outside ``skip``."""
    found = []
    keep: list[int] = []
    width = -1
    for i, row in enumerate(rows[first:], first):
        if isinstance(row, _UnreadableRow):
            found.append((i, row))
            continue
        if len(row) != width:
            width = len(row)
            keep = [j for j in range(width) if j not in skip]
        for j in keep:
            # cells.is_blank, inlined: this runs for every cell of every empty row.
            v = row[j]
            if v.__class__ is str:
                if v and not v.isspace():
                    found.append((i, row))
                    break
            elif v is not None and not cells.is_blank(v):
                found.append((i, row))
                break
    return found


def _refused_rows(wb: _Workbook, sheet: str) -> int:
    """Data rows of a sheet too large to load, counted from the scan: all of them rejected."""
    scan = wb.scan(sheet)
    return max((scan.value_rows if scan else 0) - (HEADER_ROW + 1), 0)


def _find_header(rows: list[list], columns: list[S.Column]) -> int | None:
    # Two known labels on one row make it the header; criterion columns are not needed for that.
    wanted = {fold(c.label) for c in columns if c.kind != "choice" or c.choices != S.PASS_FAIL}
    for i, row in enumerate(rows[:15]):
        labels = {fold(str(v)) for v in row if isinstance(v, str)}
        if len(wanted & labels) >= 2:
            return i
    return None


def _map_columns(
    sub: Submission,
    sheet: str,
    header: list,
    header_row: int,
    columns: list[S.Column],
    catalogue: Catalogue,
) -> dict[str, int]:
    by_label = {fold(c.label): c.key for c in columns}
    known_codes = {c.key for c in columns}
    positions: dict[str, int] = {}
    for j, raw in enumerate(header):
        if cells.is_blank(raw):
            continue
        label = fold(str(raw))
        key = by_label.get(label)
        if key is None and (match := _CODE_IN_HEADER.match(nfc(str(raw)))):
            code = match[1].upper()
            key = code if code in known_codes else None
        if key is None or key in positions:
            sub.issue("COLUMN_EXTRA", sheet, cell_name(header_row, j), detail=nfc(str(raw)))
            continue
        positions[key] = j
    return positions


def _read_table(
    sub: Submission,
    wb: _Workbook,
    sheet: S.Sheet,
    columns: list[S.Column],
    catalogue: Catalogue,
    target: str,
    household_optional: bool = False,
) -> None:
    count = sub.counts.setdefault(sheet.name, SheetCount())
    if not wb.has(sheet.name):
        sub.issue("SHEET_MISSING", sheet.name, detail=sheet.name)
        return
    if wb.refuse(sheet.name):
        count.read = count.rejected = _refused_rows(wb, sheet.name)
        return
    rows = wb.rows(sheet.name, MAX_ROWS + HEADER_ROW + 1)
    header_row = _find_header(rows, columns)
    if header_row is None:
        count.read = count.rejected = len(_filled_rows(rows, HEADER_ROW + 1, {0}))
        required = next(c.label for c in columns if c.required)
        sub.issue("HEADER_MISSING", sheet.name, detail=required)
        return
    positions = _map_columns(sub, sheet.name, rows[header_row], header_row, columns, catalogue)
    sub.positions[sheet.name] = positions
    skip = {positions[k] for k in _NOT_DATA_KEYS if k in positions}
    filled = _filled_rows(rows, header_row + 1, skip)
    count.read = len(filled)
    identity = _IDENTITY[sheet.name]
    _missing_columns(sub, sheet.name, columns, positions, header_row, catalogue, household_optional)
    _merged_cells(sub, wb, sheet.name, header_row)
    _formula_issues(sub, wb, sheet.name, _row_who(sheet.name, positions, filled))
    for i, row in filled:
        if isinstance(row, _UnreadableRow):
            sub.issue("ROW_UNREADABLE", sheet.name, cell_name(i, 0), who=f"Dòng {i + 1}")
    filled = [(i, row) for i, row in filled if not isinstance(row, _UnreadableRow)]
    if identity not in positions:
        count.rejected = count.read
        return
    raw = {
        key: cells.column(values)
        for key, values in _columns_of([row for _, row in filled], positions).items()
    }
    labels = np.array([i for i, _ in filled], dtype=np.int64)  # 0-based rows of the sheet
    optional = {"household_code"} if household_optional else set()
    typed, bad_rows, unread = _type_columns(
        sub, sheet.name, raw, labels, columns, positions, catalogue, optional
    )
    keep = ~np.isin(labels, list(bad_rows))
    frame = _frame(typed, keep, labels)
    frame["_raw"] = cells.column([unread.get(label) for label in labels[keep].tolist()])
    count.accepted = len(frame)
    count.rejected = count.read - count.accepted
    setattr(sub, target, frame)
    if bad_rows and target != "tasks":
        sub.rejected_rows[target] = _rejected_frame(typed, ~keep, labels, unread)


def _rejected_frame(
    typed: dict[str, _Typed], rejected: np.ndarray, labels: np.ndarray, unread: dict
) -> pd.DataFrame:
    """The rows rejected as read, as typed: not counted, but the unit's next form keeps them
    with the bad cell marked, so a person the unit sent never vanishes without a word."""
    frame = _frame(typed, rejected, labels)
    frame["_raw"] = cells.column([unread.get(label) for label in labels[rejected].tolist()])
    for position, marks in enumerate(frame["_raw"].tolist()):
        for key in marks or ():  # a marked cell shows what was typed, not what was read
            frame.iat[position, frame.columns.get_loc(key)] = None
    return frame


def _row_who(sheet: str, positions: dict[str, int], filled: list) -> Callable[[int], str]:
    """who() of a data row by its 0-based number, from the cells as read ('' if unreadable)."""
    by_row = dict(filled)

    def row_who(i: int) -> str:
        row = by_row.get(i)
        if row is None or isinstance(row, _UnreadableRow):
            return ""
        width = len(row)
        return who(
            sheet, lambda k: row[positions[k]] if positions.get(k, width) < width else None, i + 1
        )

    return row_who


def _missing_columns(
    sub: Submission,
    sheet: str,
    columns: list[S.Column],
    positions: dict[str, int],
    header_row: int,
    catalogue: Catalogue,
    household_optional: bool,
) -> None:
    """An issue at the header for each required column and each criterion's column not found."""
    identity = _IDENTITY[sheet]
    missing = [
        c
        for c in columns
        if c.required
        and c.key not in positions
        and not (household_optional and c.key == "household_code")
    ]
    for column in missing:
        # Without the column that says whose a row is, no row can be counted; without another
        # required one, every row is kept with that column unknown.
        code = "COLUMN_MISSING" if column.key == identity else "COLUMN_MISSING_KEPT"
        sub.issue(code, sheet, cell_name(header_row, 0), detail=column.label)
    criterion_codes = {c.code for c in catalogue.criteria}
    for column in columns:
        if column.key in criterion_codes and column.key not in positions:
            sub.issue(
                "CRITERION_COLUMN_MISSING",
                sheet,
                cell_name(header_row, 0),
                detail=column.label,
            )


# The column that says whose a row is: a row blank there (or, for a person, without a name) is
# not attributed to anyone of the unit and is rejected. Any other cell that cannot be read
# leaves its row counted, the cell unknown (processor.domain.issues).
_IDENTITY = {
    S.FORM_CITIZENS.name: "full_name",
    S.FORM_HOUSEHOLDS.name: "household_code",
    S.FORM_UNIT.name: "criterion",
}


def _shown(value: object) -> str:
    """A typed or raw value as a short text for naming a row ('' when missing)."""
    if cells.is_missing(value) or cells.is_blank(value):
        return ""
    return cells.typed_text(cells.as_typed(value))


def who(sheet: str, get: Callable[[str], object], row: int) -> str:
    """Whom a row of ``sheet`` is about, for its messages: the person's name, 'Hộ TDP01-H005
    (Nguyễn Văn An)', 'Tiêu chí TDP03, phần việc TDP03.1', or 'Dòng 12' when the row names
    no one. ``get`` gives the row's value of a column key."""
    if sheet == S.FORM_CITIZENS.name:
        name = _shown(get("full_name"))
        return name if cells.is_name(name) else f"Dòng {row}"
    if sheet == S.FORM_HOUSEHOLDS.name:
        code, head = _shown(get("household_code")).upper(), _shown(get("head_name"))
        if not code:
            return f"Dòng {row}"
        return f"Hộ {code} ({head})" if cells.is_name(head) else f"Hộ {code}"
    criterion, task = _shown(get("criterion")).upper(), _shown(get("task")).upper()
    if not criterion:
        return f"Dòng {row}"
    return f"Tiêu chí {criterion}, phần việc {task}" if task else f"Tiêu chí {criterion}"


def _frame_who(sheet: str, frame: pd.DataFrame, position: int) -> str:
    """who() of the row at ``position`` of a typed frame."""
    return who(
        sheet,
        lambda key: frame[key].iat[position] if key in frame else None,
        int(frame["_row"].iat[position]),
    )


# A typed column: objects, or a pandas integer array (the birth years).
_Typed = np.ndarray | pd.api.extensions.ExtensionArray


def _frame(typed: dict[str, _Typed], keep: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """The typed columns' kept rows as a frame, with each one's Excel row number (`_row`, for
    messages and feedback). Values are objects, but a year, a pandas integer array."""
    objects = [key for key, values in typed.items() if isinstance(values, np.ndarray)]
    # One block of objects, as pandas would consolidate the columns: made here in one piece,
    # it costs half of a frame made from the columns.
    block = np.empty((len(objects), int(keep.sum())), dtype=object)
    for i, key in enumerate(objects):
        block[i] = typed[key][keep]
    frame = pd.DataFrame(block.T, columns=objects, dtype=object, copy=False)
    for position, (key, values) in enumerate(typed.items()):
        if key not in frame:
            frame.insert(position, key, values[keep])
    frame["_row"] = labels[keep] + 1
    return frame


def _columns_of(rows: list[list], positions: dict[str, int]) -> dict[str, list | tuple]:
    """Column ``key`` -> its value on each row (None past a short row's end)."""
    if rows and max(positions.values(), default=0) < min(map(len, rows)):
        # calamine's rows are all as wide as the sheet: transposed in C.
        table = list(zip(*rows, strict=False))
        return {key: table[pos] for key, pos in positions.items()}
    return {
        key: [row[pos] if pos < len(row) else None for row in rows]
        for key, pos in positions.items()
    }


def _merged_cells(sub: Submission, wb: _Workbook, sheet: str, header_row: int) -> None:
    # None where calamine does not report merges (.ods): nothing to warn about then. The sheet
    # was loaded for its rows already; an error here is a fault, recorded by read_submission.
    ranges = wb.sheet(sheet).merged_cell_ranges or []
    in_data = []
    for (r0, c0), (r1, c1) in ranges:
        if r1 > header_row:
            in_data.append(f"{cell_name(r0, c0)}:{cell_name(r1, c1)}")
    if in_data:
        sub.issue("MERGED_CELLS", sheet, in_data[0].split(":")[0], detail=", ".join(in_data[:5]))


def _formula_issues(
    sub: Submission, wb: _Workbook, sheet: str, row_who: Callable[[int], str] = lambda i: ""
) -> None:
    """A warning on each cell holding a formula (found by the safety scan, SPEC §9: a re-saved
    formula may read back as 0, so the value cannot be trusted). ``row_who`` names the person
    of a data row (0-based), or gives ''."""
    scan = wb.scan(sheet)
    if scan is None or not scan.formula_count:
        return
    for ref in scan.formulas[:MAX_FORMULA_ISSUES]:
        sub.issue("FORMULA", sheet, ref, who=row_who(int(_CELL_ROW.search(ref)[0]) - 1))
    if scan.formula_count > MAX_FORMULA_ISSUES:
        more = scan.formula_count - MAX_FORMULA_ISSUES
        sub.issue("FORMULA", sheet, detail=f" (và {more} ô khác trong sheet này)")


def _normalized_text(
    sub: Submission,
    sheet: str,
    key: str,
    values: np.ndarray,
    labels: np.ndarray,
    positions: dict[str, int],
) -> None:
    """One warning per column for text typed in NFD or with stray spaces (it is fixed, but the
    unit should know: a name that looks the same must also compare the same)."""
    if cells.nfc_unchanged(_distinct_texts([values])):
        return
    raw = pd.Series(values, index=labels, dtype=object)
    strings = raw[raw.map(lambda v: isinstance(v, str))]
    changed = {v for v in strings.unique() if v != nfc(v)}
    if not changed:
        return
    hits = strings[strings.isin(changed)]
    first = hits.index[0]
    sub.issue(
        "TEXT_NORMALIZED",
        sheet,
        cell_name(first, positions[key]),
        nfc(hits.iloc[0]),
        f"{len(hits)} ô",
    )


def _distinct_texts(columns: list[np.ndarray]) -> list[str]:
    """The distinct strings of ``columns`` (object arrays) together."""
    if not columns:
        return []
    return [v for v in pd.unique(np.concatenate(columns)) if isinstance(v, str)]


class _Marks:
    """What typing a sheet's columns found: the rows rejected (labels), and per row the cells
    kept as unknown with their text as typed ('' for a blank where a value is needed)."""

    def __init__(
        self, sub: Submission, sheet: str, raw: dict, labels: np.ndarray, positions: dict
    ) -> None:
        self.sub = sub
        self.sheet = sheet
        self.raw = raw
        self.labels = labels
        self.positions = positions
        self.bad: set[int] = set()
        self.unread: dict[int, dict[str, str]] = {}
        self._position_of: dict[int, int] = {}

    def whose(self, label: int) -> str:
        if not self._position_of:
            self._position_of.update((label, i) for i, label in enumerate(self.labels.tolist()))
        i = self._position_of[label]
        return who(self.sheet, lambda key: self.raw[key][i] if key in self.raw else None, label + 1)

    def record(self, key: str, problems: list) -> None:
        """An issue per problem; an error rejects the row, a cell to fix is kept unknown. Both
        are marked on the next form with what was typed."""
        for label, code, value, detail in problems:
            shown = cells.as_typed(value)
            cell = cell_name(label, self.positions[key])
            issue = self.sub.issue(code, self.sheet, cell, shown, detail, self.whose(label))
            if issue.severity == ERROR:
                self.bad.add(label)
                self.unread.setdefault(label, {})[key] = shown
            elif KINDS[code].fix:
                self.unread.setdefault(label, {})[key] = shown

    def blanks(self, column: S.Column, typed: _Typed, problems: list, identity: str) -> None:
        """Required cells left empty: the row's identity rejects it, another cell is unknown. A
        value that could not be read already has its own message."""
        missing = _blank(typed)
        if problems:
            missing &= ~np.isin(self.labels, [problem[0] for problem in problems])
        for label in self.labels[missing].tolist():
            cell = cell_name(label, self.positions[column.key])
            who = self.whose(label)
            if column.key == identity:
                self.sub.issue("VALUE_REQUIRED", self.sheet, cell, detail=column.label, who=who)
                self.bad.add(label)
            else:
                self.sub.issue("VALUE_MISSING", self.sheet, cell, detail=column.label, who=who)
            self.unread.setdefault(label, {})[column.key] = ""


def _type_columns(
    sub: Submission,
    sheet: str,
    raw: dict[str, np.ndarray],
    labels: np.ndarray,
    columns: list[S.Column],
    positions: dict[str, int],
    catalogue: Catalogue,
    optional: set[str],
) -> tuple[dict[str, _Typed], set[int], dict[int, dict[str, str]]]:
    """Parse every column of ``raw`` (values by key, on the rows ``labels``) by its declared
    kind; return the typed columns, in order, the labels of the rows rejected (with an error:
    not attributable to anyone), and per label the cells kept as unknown, with their text as
    typed ('' for a blank where a value is needed): the frame's ``_raw``."""
    out: dict[str, _Typed] = {}
    marks = _Marks(sub, sheet, raw, labels, positions)
    by_code = {c.code: c for c in catalogue.criteria}
    identity = _IDENTITY[sheet]
    texts = [c.key for c in columns if c.kind in ("text", "code") and c.key in raw]
    # One look at the distinct texts of all those columns together: nearly always none needs
    # normalizing, and a look per column cost more in pandas' calls than in the texts.
    tidy = cells.nfc_unchanged(_distinct_texts([raw[key] for key in texts]))
    for column in columns:
        if column.key not in raw:
            out[column.key] = cells.column([None] * len(labels))
            continue
        values = raw[column.key]
        criterion = by_code.get(column.key)
        if column.kind in ("text", "code") and not tidy:
            _normalized_text(sub, sheet, column.key, values, labels, positions)
        typed, problems = _parse_column(sub, column, criterion, values, labels, out)
        if column.key == "row_no":
            problems = []  # the row's number in the list is not data: nothing to fix in it
        if column.key in _NAMES:
            problems = _names(typed, labels, column.key == identity)
        marks.record(column.key, problems)
        if column.required and column.key not in optional:
            marks.blanks(column, typed, problems, identity)
        if column.kind == "date":
            typed[typed == "year-only"] = None
        out[column.key] = typed
    return out, marks.bad, marks.unread


def _parse_column(
    sub: Submission,
    column: S.Column,
    criterion: Criterion | None,
    values: np.ndarray,
    labels: np.ndarray,
    out: dict[str, _Typed],
) -> tuple[_Typed, list]:
    """A column's typed values and problems, by its criterion's kind or its declared kind. A
    birth date column also gives ``out`` its birth_year, and ``sub`` the rows whose date was
    typed as text."""
    if criterion is not None:
        return criterion.rules.read(values, labels)
    if column.key == "cccd":
        typed, problems = cells.parse_cccd(values, labels)
    elif column.kind == "date":
        typed, years, problems = cells.parse_dates(values, labels, birth=True)
        problems += _unborn(sub, typed, years, labels)
        out["birth_year"] = years
        sub.text_dates = {
            label + 1
            for label, value, day in zip(labels.tolist(), values, typed, strict=True)
            if type(value) is str and day is not None
        }
        # A bare year is enough to know the age (with a warning): not a missing date.
        typed[(pd.isna(typed) & ~years.isna()).astype(bool)] = "year-only"
    elif column.kind == "choice":
        typed, problems = cells.parse_choice(values, labels, column.choices)
    elif column.kind in ("int", "number"):
        minimum, maximum = 0, None
        if column.key == "planned_month":  # the bounds the form's validation sets
            minimum, maximum = MONTHS
        typed, problems = cells.parse_number(
            values, labels, minimum=minimum, maximum=maximum, integer=column.kind == "int"
        )
    elif column.kind == "code":
        typed, problems = cells.parse_code(values), []
    else:
        typed, problems = cells.parse_text(values), []
    return typed, problems


# Name columns: a name must hold a letter (a formula typed as text, `=1+1`, or a number is no
# one's name). A person without one cannot be told apart; a head of household is only a label.
_NAMES = ("full_name", "head_name")


def _names(typed: np.ndarray, labels: np.ndarray, identity: bool) -> list[cells.Problem]:
    """The problems of a name column: each name without a letter, made unknown in ``typed``."""
    problems: list[cells.Problem] = []
    for position, name in enumerate(typed.tolist()):
        if name is not None and name == name and not cells.is_name(name):
            problems.append(
                (labels[position], "NAME_INVALID" if identity else "HEAD_NAME_INVALID", name, "")
            )
            if not identity:
                typed[position] = None
    return problems


def _unborn(
    sub: Submission, days: np.ndarray, years: pd.api.extensions.ExtensionArray, labels: np.ndarray
) -> list[cells.Problem]:
    """Birth dates later than the month after the period (a form is filled in during the next
    month, a newborn may be on it): a date typed wrong, or in the wrong column. Made unknown
    in ``days`` and ``years``, each with its problem."""
    if sub.period is None:
        return []
    end = Period.parse(sub.period).next().next()
    last = dt.date(end.year, end.month, 1) - dt.timedelta(days=1)
    later = np.flatnonzero(years.to_numpy(dtype="float64", na_value=np.nan) >= last.year)
    problems: list[cells.Problem] = []
    for position in later.tolist():
        day, year = days[position], int(years[position])
        if (day is not None and day > last) or (day is None and year > last.year):
            shown = day.strftime("%d/%m/%Y") if day is not None else str(year)
            after = f"sau ngày {last:%d/%m/%Y}, tháng sau kỳ báo cáo {sub.period}"
            problems.append((labels[position], "DATE_IMPLAUSIBLE", shown, after))
            days[position] = None
            years[position] = pd.NA
    return problems


def _blank(values: np.ndarray) -> np.ndarray:
    """cells.is_blank of each typed value: the parsers give None (or NaN) for a blank cell and
    never a blank text (tests/test_cells.py holds them to it), so it is pandas' isna, in C."""
    return pd.isna(values)


def _as_text(values: np.ndarray) -> list[str]:
    """Each value as text for a matching key, '' when blank; worked out once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = np.empty(len(uniques) + 1, dtype=object)
    text[:] = ["" if cells.is_blank(u) else str(u) for u in uniques] + [""]
    return text[codes].tolist()


def _read_tasks(sub: Submission, wb: _Workbook, catalogue: Catalogue) -> None:
    columns = list(S.FORM_UNIT.columns)
    _read_table(sub, wb, S.FORM_UNIT, columns, catalogue, "tasks")
    if sub.tasks.empty:
        return
    known = {(t.criterion, t.code) for t in catalogue.tasks}
    known |= {(c.code, "") for c in catalogue.form_criteria(catalogue.unit_title.code)}
    # A criterion without tasks has no task code: None, or NaN beside codes (parse_code).
    tasks = [task if isinstance(task, str) else "" for task in sub.tasks["task"].tolist()]
    keys = list(zip(sub.tasks["criterion"].tolist(), tasks, strict=True))
    unknown = [k not in known for k in keys]
    if any(unknown):
        for row, key, bad in zip(sub.tasks["_row"].tolist(), keys, unknown, strict=True):
            if bad:
                sub.issue(
                    "TASK_UNKNOWN",
                    S.FORM_UNIT.name,
                    sub.cell(S.FORM_UNIT.name, "criterion", row),
                    value=" / ".join(filter(None, key)),
                    who=f"Dòng {row}",
                )
        sub.reject_rows("tasks", np.flatnonzero(unknown).tolist())
    _check_points(sub, catalogue)


def _check_points(sub: Submission, catalogue: Catalogue) -> None:
    """A points criterion's measured value is 0..its points; the value column holds every
    criterion's measure, so the bound is per row (the form cannot set it per row)."""
    points = {c.code: bounds[1] for c in catalogue.criteria if (bounds := c.rules.bounds())}
    if not points or sub.tasks.empty:
        return
    sheet = S.FORM_UNIT.name
    for position, (criterion, row, value) in enumerate(
        zip(*(sub.tasks[key].tolist() for key in ("criterion", "_row", "value")), strict=True)
    ):
        top = points.get(criterion)
        # The value column is typed by cells.parse_number: a float, or None.
        if top is not None and isinstance(value, float) and value > top:
            sub.issue(
                "NUMBER_OUT_OF_RANGE",
                sheet,
                sub.cell(sheet, "value", row),
                value=f"{value:g}",
                detail=cells.range_text(0, top),
                who=_frame_who(sheet, sub.tasks, position),
            )
            _unknown(sub.tasks, position, "value", f"{value:g}")


def _cross_checks(sub: Submission, catalogue: Catalogue, is_tdp: bool) -> None:
    """Checks across rows and sheets of one file: rows of another unit, duplicates, unknown
    households, votes.

    The frames' columns are taken out as lists: each check is a pass over a few hundred rows,
    cheaper in Python than the pandas calls it took (a tenth of reading a file)."""
    if is_tdp:
        _rows_of_other_units(sub, catalogue)
    if not sub.citizens.empty:
        drop = _citizen_duplicates(sub)
        if is_tdp and not sub.households.empty:
            _unknown_households(sub, drop)
        sub.reject_rows("citizens", drop, ("full_name", "CITIZEN_DUPLICATE"))
    if not sub.households.empty:
        _household_duplicates(sub)
    _check_votes(sub)


def _citizen_duplicates(sub: Submission) -> set[int]:
    """The positions of citizens typed twice, each told which row it repeats."""
    citizens = sub.citizens
    sheet = S.FORM_CITIZENS.name
    rows = citizens["_row"].tolist()
    keys = citizens["cccd"].to_numpy(dtype=object)
    no_id = pd.isna(keys)
    if no_id.any():
        # Without a CCCD, a citizen is the same person when name, birth date (or year) and
        # household match.
        names, births, years, homes = (
            _as_text(citizens[column].to_numpy(dtype=object)[no_id])
            for column in ("full_name", "birth_date", "birth_year", "household_code")
        )
        keys = keys.copy()
        keys[no_id] = [
            f"~{name}|{born}|{year}|{home}"
            for name, born, year, home in zip(names, births, years, homes, strict=True)
        ]
    drop: set[int] = set()
    for position, first in _duplicates(keys.tolist()):
        sub.issue(
            "CITIZEN_DUPLICATE",
            sheet,
            sub.cell(sheet, "full_name", rows[position]),
            detail=rows[first],
            who=_frame_who(sheet, citizens, position),
        )
        drop.add(position)
    return drop


def _unknown_households(sub: Submission, duplicates: set[int]) -> None:
    """A citizen whose household code is not in the Hộ gia đình sheet: that cell unknown. When
    that sheet has rows that could not be read, the household may be on one of them: its members
    are named once, on the first such row (HOUSEHOLD_ROW_UNREADABLE), not each asked to fix
    their code."""
    citizens = sub.citizens
    sheet = S.FORM_CITIZENS.name
    rows = citizens["_row"].tolist()
    known = {h for h in sub.households["household_code"].tolist() if not cells.is_missing(h)}
    households = S.FORM_HOUSEHOLDS.name
    unread = [
        i.cell
        for i in sub.issues
        if i.code == "ROW_UNREADABLE" and i.sheet == sub.sheet_titles.get(households, households)
    ]
    members: dict[str, list[tuple[str, int]]] = {}
    for position, home in enumerate(citizens["household_code"].tolist()):
        if position in duplicates or cells.is_missing(home) or home in known:
            continue
        who = _frame_who(sheet, citizens, position)
        if unread:
            members.setdefault(home, []).append((who, rows[position]))
        else:
            sub.issue(
                "HOUSEHOLD_UNKNOWN",
                sheet,
                sub.cell(sheet, "household_code", rows[position]),
                home,
                who=who,
            )
        _unknown(citizens, position, "household_code", home)
    for home, people in members.items():
        sub.issue(
            "HOUSEHOLD_ROW_UNREADABLE",
            households,
            unread[0],
            home,
            _members(people, sub.sheet_titles.get(sheet, sheet)),
            who=f"Hộ {home}",
        )


def _members(people: list[tuple[str, int]], sheet: str) -> str:
    """'2 người ở sheet Công dân (Nguyễn Văn An, dòng 4; Trần Thị Bình, dòng 5)'."""
    named = [who if who.startswith("Dòng ") else f"{who}, dòng {row}" for who, row in people]
    more = "; …" if len(named) > 10 else ""
    return f"{len(people)} người ở sheet {sheet} ({'; '.join(named[:10])}{more})"


def _household_duplicates(sub: Submission) -> None:
    households = sub.households
    sheet = S.FORM_HOUSEHOLDS.name
    rows = households["_row"].tolist()
    codes = households["household_code"].tolist()
    drop = set()
    for position, first in _duplicates([None if cells.is_missing(c) else c for c in codes]):
        sub.issue(
            "HOUSEHOLD_DUPLICATE",
            sheet,
            sub.cell(sheet, "household_code", rows[position]),
            codes[position],
            rows[first],
            who=_frame_who(sheet, households, position),
        )
        drop.add(position)
    sub.reject_rows("households", drop, ("household_code", "HOUSEHOLD_DUPLICATE"))


def _unknown(frame: pd.DataFrame, position: int, key: str, typed: object) -> None:
    """Make the cell ``key`` of the row at ``position`` unknown, keeping what was typed in the
    row's ``_raw``."""
    frame.iat[position, frame.columns.get_loc(key)] = None
    at = frame.columns.get_loc("_raw")
    frame.iat[position, at] = {**(frame.iat[position, at] or {}), key: cells.as_typed(typed)}


# A household code names its unit: `TDP20-H005` is a household of TDP20.
_CODE_PREFIX = re.compile(r"^([A-Z]+\d+)-")


def _rows_of_other_units(sub: Submission, catalogue: Catalogue) -> None:
    """Rows whose household code names another unit of the catalogue (`TDP20-H…` in TDP14's
    file, pasted in): rejected, with one issue per other unit naming the rows, and never
    counted for either unit (each unit's results come only from the form it sent itself)."""
    for sheet, target in (
        (S.FORM_CITIZENS.name, "citizens"),
        (S.FORM_HOUSEHOLDS.name, "households"),
    ):
        frame = getattr(sub, target)
        if frame.empty:
            continue
        drop = []
        for position, code in enumerate(frame["household_code"].tolist()):
            match = _CODE_PREFIX.match(code) if isinstance(code, str) else None
            if match and match[1] != sub.unit_code and catalogue.unit(match[1]) is not None:
                sub.misplaced.setdefault(match[1], []).append(
                    (sheet, int(frame["_row"].iat[position]))
                )
                drop.append(position)
        sub.reject_rows(target, drop)
    for code, rows in sorted(sub.misplaced.items()):
        sub.issue(
            "ROWS_OF_OTHER_UNIT", value=len(rows), detail=misplaced_detail(catalogue, code, rows)
        )


def misplaced_detail(catalogue: Catalogue, unit_code: str, rows: list[tuple[str, int]]) -> str:
    """'TDP20 - Tổ dân phố số 20 (Công dân: dòng 40-750; Hộ gia đình: dòng 21-172)'."""
    unit = catalogue.unit(unit_code)
    by_sheet: dict[str, list[int]] = {}
    for sheet, row in rows:
        by_sheet.setdefault(sheet, []).append(row)
    places = "; ".join(f"{sheet}: dòng {_ranges(numbers)}" for sheet, numbers in by_sheet.items())
    name = f"{unit_code} - {unit.name}" if unit is not None else unit_code
    return f"{name} ({places})"


def _ranges(numbers: list[int], most: int = 5) -> str:
    """'4-9, 12, 15-20' of sorted row numbers, the first ``most`` runs and '…' after."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    shown = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:most]]
    return ", ".join(shown) + (", …" if len(runs) > most else "")


def _check_votes(sub: Submission) -> None:
    """Votes against the meeting's attendees. Without attendees (blank, unreadable) one error
    at that cell; with fewer attendees than the votes of many rows, the attendees cell is
    wrong: one error there, and it is unknown. Otherwise each row over the attendees has its
    votes unknown. The votes themselves are always kept."""
    sheet_info = S.FORM_INFO.name
    voted = [
        (sheet, frame, position, votes)
        for sheet, frame in (
            (S.FORM_CITIZENS.name, sub.citizens),
            (S.FORM_HOUSEHOLDS.name, sub.households),
        )
        if not frame.empty and "votes" in frame
        for position, votes in enumerate(frame["votes"].tolist())
        if not cells.is_missing(votes)
    ]
    if not voted:
        return
    cell = sub.info_cells.get("attendees", "")
    attendees = sub.info.get("attendees")
    if attendees is None:
        # An attendees cell that could not be read has its own message at that cell already.
        shown = sub.sheet_titles.get(sheet_info, sheet_info)
        if not (cell and any(i.sheet == shown and i.cell == cell for i in sub.issues)):
            sub.issue("ATTENDEES_MISSING", sheet_info, cell, value=len(voted))
        return
    over = [row for row in voted if float(row[3]) > float(attendees)]
    if len(over) > 1 and 2 * len(over) >= len(voted):
        sub.issue("ATTENDEES_TOO_FEW", sheet_info, cell, value=attendees, detail=len(over))
        del sub.info["attendees"]
        return
    for sheet, frame, position, votes in over:
        row = int(frame["_row"].iat[position])
        sub.issue(
            "VOTES_EXCEED",
            sheet,
            sub.cell(sheet, "votes", row),
            votes,
            attendees,
            who=_frame_who(sheet, frame, position),
        )
        _unknown(frame, position, "votes", votes)


def _duplicates(keys: list) -> list[tuple[int, int]]:
    """(position, position of its first occurrence) of each key seen before, in order."""
    first: dict[object, int] = {}
    found = []
    for position, key in enumerate(keys):
        seen = first.setdefault(key, position)
        if seen != position:
            found.append((position, seen))
    return found
