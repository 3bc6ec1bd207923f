"""One file in, typed frames and issues out (SPEC §4 steps 1-2).

`read_submission` never raises for bad input: whatever is wrong with a file becomes an Issue and
the rows it could not take are counted as rejected, so the batch always goes on. Every file of
the inbox gets a Submission, even the ones skipped (lock files) or refused before parsing
(processor.intake.safety), so the run's accounting lists them all (SPEC §7).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from processor.domain import cells
from processor.domain import schema as S
from processor.domain.catalogue import Catalogue
from processor.domain.errors import KieumauError
from processor.domain.form_layout import HEADER_ROW, MONTHS, citizen_columns, household_columns
from processor.domain.issues import ERROR
from processor.domain.periods import Period
from processor.domain.sheets import cell_name, open_workbook, sheet_map
from processor.domain.vietnamese import fold, nfc
from processor.intake.inbox import is_ignored
from processor.intake.safety import MAX_ROWS, SheetScan, Verdict, inspect_file
from processor.intake.submission import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
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
    """Read one unit workbook. Never raises for bad input."""
    name = name or path.name
    try:
        mtime = path.stat().st_mtime
        digest = sha256_of(path)
    except OSError as exc:
        sub = Submission(path, name, "", 0.0)
        sub.issue("FILE_CORRUPT", detail=f"không đọc được tệp: {exc.strerror or exc}")
        return sub
    sub = Submission(path, name, digest, mtime)
    if is_ignored(name):
        sub.status = IGNORED
        sub.issue("FILE_IGNORED", detail=path.name)
        return sub
    verdict = inspect_file(path)
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
        _cross_checks(sub, unit.is_tdp)
    finally:
        wb.close()
    if sub.rows_read == 0 and not any(i.severity == ERROR for i in sub.issues):
        # A form sent back without a single row does not count as the unit's submission:
        # it must not supersede an earlier one that had data.
        sub.issue("FILE_EMPTY")
        sub.status = REJECTED
        return
    has_errors = sub.rows_rejected > 0 or any(i.severity == ERROR for i in sub.issues)
    sub.status = ACCEPTED_WITH_ERRORS if has_errors else ACCEPTED


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
    info = _key_values(info_rows)
    info_raw, info_cell = info.get(fold(S.FORM_INFO.label("unit_code")), (None, ""))
    info_unit = cells.parse_code(cells.column([info_raw]))[0]
    meta_raw, meta_cell = meta.get("unit_code", (None, ""))
    meta_unit = None if cells.is_blank(meta_raw) else nfc(str(meta_raw)).upper()
    unit_code = meta_unit or info_unit
    period_raw, period_cell = meta.get("period", (None, ""))
    period_sheet = S.FORM_META
    if cells.is_blank(period_raw):
        period_raw, period_cell = info.get(fold(S.FORM_INFO.label("period")), (None, ""))
        period_sheet = S.FORM_INFO.name
    if not unit_code:
        found = _identify_by_title(wb, catalogue)
        if found is None:
            sub.issue("FILE_UNIDENTIFIED", S.FORM_INFO.name)
            return False
        unit_code, period_raw = found
        period_sheet, period_cell = "", ""
        sub.issue("FILE_NO_META", detail=f"{unit_code}, kỳ {period_raw}")
    if meta_unit and info_unit and meta_unit != info_unit:
        sub.issue(
            "FILE_UNIT_MISMATCH",
            S.FORM_INFO.name,
            info_cell,
            detail=f"{info_unit} ≠ {meta_unit}",
        )
        return False
    unit_sheet, unit_cell = (S.FORM_META, meta_cell) if meta_unit else (S.FORM_INFO.name, info_cell)
    if catalogue.unit(unit_code) is None:
        sub.issue("FILE_UNKNOWN_UNIT", unit_sheet, unit_cell, detail=unit_code)
        sub.status = OTHER_UNIT
        return False
    sub.unit_code = unit_code
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
    if meta:
        version_raw, version_cell = meta.get("form_version", ("", ""))
        sub.form_version = "" if cells.is_blank(version_raw) else str(version_raw)
        fingerprint_raw, fingerprint_cell = meta.get("catalogue_fingerprint", ("", ""))
        sub.fingerprint = "" if cells.is_blank(fingerprint_raw) else str(fingerprint_raw)
        try:
            version = int(float(sub.form_version))
        except ValueError:
            version = -1
        if version < 1 or version > S.FORM_VERSION:
            sub.issue(
                "FILE_INCOMPATIBLE_VERSION", S.FORM_META, version_cell, detail=sub.form_version
            )
            return False
        if sub.fingerprint != catalogue.fingerprint:
            sub.issue("FILE_OLD_VERSION", S.FORM_META, fingerprint_cell, detail=sub.fingerprint)
    sub.info = _info_values(sub, info)
    return True


def _info_values(sub: Submission, info: dict[str, tuple[object, str]]) -> dict[str, object]:
    """The Thông tin values, parsed by kind: one call per kind, not per value (each call has a
    fixed cost, several times that of reading a value)."""
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
        sub.issue(code, S.FORM_INFO.name, found[key][2], raw_value, detail)
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
    missing = [
        c
        for c in columns
        if c.required
        and c.key not in positions
        and not (household_optional and c.key == "household_code")
    ]
    for column in missing:
        sub.issue("COLUMN_MISSING", sheet.name, cell_name(header_row, 0), detail=column.label)
    criterion_codes = {c.code for c in catalogue.criteria}
    for column in columns:
        if column.key in criterion_codes and column.key not in positions:
            sub.issue(
                "CRITERION_COLUMN_MISSING",
                sheet.name,
                cell_name(header_row, 0),
                detail=column.label,
            )
    _merged_cells(sub, wb, sheet.name, header_row)
    _formula_issues(sub, wb, sheet.name)
    for i, row in filled:
        if isinstance(row, _UnreadableRow):
            sub.issue("ROW_UNREADABLE", sheet.name, cell_name(i, 0))
    filled = [(i, row) for i, row in filled if not isinstance(row, _UnreadableRow)]
    if missing:
        count.rejected = count.read
        return
    raw = {
        key: cells.column(values)
        for key, values in _columns_of([row for _, row in filled], positions).items()
    }
    labels = np.array([i for i, _ in filled], dtype=np.int64)  # 0-based rows of the sheet
    optional = {"household_code"} if household_optional else set()
    typed, bad_rows = _type_columns(
        sub, sheet.name, raw, labels, columns, positions, catalogue, optional
    )
    typed = _frame(typed, ~np.isin(labels, list(bad_rows)), labels)
    count.accepted = len(typed)
    count.rejected = count.read - count.accepted
    setattr(sub, target, typed)


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
    try:
        ranges = wb.sheet(sheet).merged_cell_ranges or []
    except Exception:  # .xls and .ods may not report merges; nothing to warn about then
        return
    in_data = []
    for (r0, c0), (r1, c1) in ranges:
        if r1 > header_row:
            in_data.append(f"{cell_name(r0, c0)}:{cell_name(r1, c1)}")
    if in_data:
        sub.issue("MERGED_CELLS", sheet, in_data[0].split(":")[0], detail=", ".join(in_data[:5]))


def _formula_issues(sub: Submission, wb: _Workbook, sheet: str) -> None:
    """A warning on each cell holding a formula (found by the safety scan, SPEC §9: a re-saved
    formula may read back as 0, so the value cannot be trusted)."""
    scan = wb.scan(sheet)
    if scan is None or not scan.formula_count:
        return
    for ref in scan.formulas[:MAX_FORMULA_ISSUES]:
        sub.issue("FORMULA", sheet, ref)
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


def _type_columns(
    sub: Submission,
    sheet: str,
    raw: dict[str, np.ndarray],
    labels: np.ndarray,
    columns: list[S.Column],
    positions: dict[str, int],
    catalogue: Catalogue,
    optional: set[str],
) -> tuple[dict[str, _Typed], set[int]]:
    """Parse every column of ``raw`` (values by key, on the rows ``labels``) by its declared
    kind; return the typed columns, in order, and the labels of rows with errors."""
    out: dict[str, _Typed] = {}
    bad: set[int] = set()
    by_code = {c.code: c for c in catalogue.criteria}

    def record(key: str, problems: list) -> None:
        for label, code, value, detail in problems:
            issue = sub.issue(code, sheet, cell_name(label, positions[key]), value, detail)
            if issue.severity == ERROR:
                bad.add(label)

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
        if criterion is not None:
            typed, problems = criterion.rules.read(values, labels)
        elif column.key == "cccd":
            typed, problems = cells.parse_cccd(values, labels)
        elif column.kind == "date":
            typed, years, problems = cells.parse_dates(values, labels)
            out["birth_year"] = years
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
        record(column.key, problems)
        if column.required and column.key not in optional:
            # A value that could not be read already has its own message; only truly empty
            # cells are "missing".
            missing = _blank(typed)
            if problems:
                missing &= ~np.isin(labels, [problem[0] for problem in problems])
            for label in labels[missing].tolist():
                sub.issue(
                    "VALUE_REQUIRED",
                    sheet,
                    cell_name(label, positions[column.key]),
                    detail=column.label,
                )
                bad.add(label)
        if column.kind == "date":
            typed[typed == "year-only"] = None
        out[column.key] = typed
    return out, bad


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
                )
        _drop_rows(sub, "tasks", S.FORM_UNIT.name, np.flatnonzero(unknown).tolist())
    _check_points(sub, catalogue)


def _check_points(sub: Submission, catalogue: Catalogue) -> None:
    """A points criterion's measured value is 0..its points; the value column holds every
    criterion's measure, so the bound is per row (the form cannot set it per row)."""
    points = {c.code: bounds[1] for c in catalogue.criteria if (bounds := c.rules.bounds())}
    if not points or sub.tasks.empty:
        return
    over = []
    for position, (criterion, row, value) in enumerate(
        zip(*(sub.tasks[key].tolist() for key in ("criterion", "_row", "value")), strict=True)
    ):
        top = points.get(criterion)
        # The value column is typed by cells.parse_number: a float, or None.
        if top is not None and isinstance(value, float) and value > top:
            sub.issue(
                "NUMBER_OUT_OF_RANGE",
                S.FORM_UNIT.name,
                sub.cell(S.FORM_UNIT.name, "value", row),
                value=f"{value:g}",
                detail=cells.range_text(0, top),
            )
            over.append(position)
    _drop_rows(sub, "tasks", S.FORM_UNIT.name, over)


def _cross_checks(sub: Submission, is_tdp: bool) -> None:
    """Checks across rows and sheets of one file: duplicates, unknown households, votes.

    The frames' columns are taken out as lists: each check is a pass over a few hundred rows,
    cheaper in Python than the pandas calls it took (a tenth of reading a file)."""
    attendees = sub.info.get("attendees")
    citizens = sub.citizens
    if not citizens.empty:
        sheet = S.FORM_CITIZENS.name
        drop: set[int] = set()
        rows = citizens["_row"].tolist()
        keys = citizens["cccd"].to_numpy(dtype=object)
        no_id = pd.isna(keys)
        if no_id.any():
            # Without a CCCD, a citizen is the same person when name, birth date and household
            # match.
            names, births, homes = (
                _as_text(citizens[column].to_numpy(dtype=object)[no_id])
                for column in ("full_name", "birth_date", "household_code")
            )
            keys = keys.copy()
            keys[no_id] = [
                f"~{name}|{born}|{home}"
                for name, born, home in zip(names, births, homes, strict=True)
            ]
        for position, first in _duplicates(keys.tolist()):
            sub.issue(
                "CITIZEN_DUPLICATE",
                sheet,
                sub.cell(sheet, "full_name", rows[position]),
                detail=rows[first],
            )
            drop.add(position)
        if is_tdp and not sub.households.empty:
            known = {
                h for h in sub.households["household_code"].tolist() if not cells.is_missing(h)
            }
            for position, home in enumerate(citizens["household_code"].tolist()):
                if not cells.is_missing(home) and home not in known:
                    sub.issue(
                        "HOUSEHOLD_UNKNOWN",
                        sheet,
                        sub.cell(sheet, "household_code", rows[position]),
                        home,
                    )
                    drop.add(position)
        if attendees is not None and "votes" in citizens:
            drop |= _votes_exceed(sub, citizens, sheet, attendees)
        _drop_rows(sub, "citizens", sheet, drop)
    households = sub.households
    if not households.empty:
        sheet = S.FORM_HOUSEHOLDS.name
        drop = set()
        rows = households["_row"].tolist()
        codes = households["household_code"].tolist()
        for position, first in _duplicates([None if cells.is_missing(c) else c for c in codes]):
            sub.issue(
                "HOUSEHOLD_DUPLICATE",
                sheet,
                sub.cell(sheet, "household_code", rows[position]),
                codes[position],
                rows[first],
            )
            drop.add(position)
        if attendees is not None:
            drop |= _votes_exceed(sub, households, sheet, attendees)
        _drop_rows(sub, "households", sheet, drop)


def _duplicates(keys: list) -> list[tuple[int, int]]:
    """(position, position of its first occurrence) of each key seen before, in order."""
    first: dict[object, int] = {}
    found = []
    for position, key in enumerate(keys):
        seen = first.setdefault(key, position)
        if seen != position:
            found.append((position, seen))
    return found


def _votes_exceed(
    sub: Submission, frame: pd.DataFrame, sheet: str, attendees: int | float
) -> set[int]:
    """Positions of the rows with more votes than people at the meeting, each with an issue."""
    over = set()
    limit = float(attendees)
    for position, (row, votes) in enumerate(
        zip(frame["_row"].tolist(), frame["votes"].tolist(), strict=True)
    ):
        if not cells.is_missing(votes) and float(votes) > limit:
            sub.issue("VOTES_EXCEED", sheet, sub.cell(sheet, "votes", row), votes, attendees)
            over.add(position)
    return over


def _drop_rows(sub: Submission, target: str, sheet: str, drop: Collection[int]) -> None:
    """Drop the rows at ``drop`` (index labels: positions, the frames being indexed 0..n-1) as
    rejected: every row read is accepted or rejected."""
    if not drop:
        return
    frame = getattr(sub, target)
    setattr(sub, target, frame.drop(index=sorted(drop)).reset_index(drop=True))
    count = sub.counts[sheet]
    count.accepted -= len(drop)
    count.rejected += len(drop)
