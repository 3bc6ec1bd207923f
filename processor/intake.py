"""One file in, typed frames and issues out (SPEC §4 steps 1-2).

`read_submission` never raises for bad input: whatever is wrong with a file becomes an Issue and
the rows it could not take are counted as rejected, so the batch always goes on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from processor import cells
from processor import schema as S
from processor.catalogue import Catalogue
from processor.forms import HEADER_ROW, citizen_columns, household_columns
from processor.issues import ERROR, Issue, make_issue
from processor.periods import Period
from processor.safety import inspect_file
from processor.sheets import cell_name, column_letter, open_workbook, read_rows, sheet_map
from processor.vietnamese import fold, nfc

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
MAX_ROWS = 200_000  # per sheet; a district's largest unit has a few thousand residents
_CODE_IN_HEADER = re.compile(r"^\s*([A-Za-zĐđ]+\d+(?:\.\d+)?)\b")

# Statuses of a file in the run's accounting (`Nguồn`, nhat_ky.json).
ACCEPTED = "đã nhận"
ACCEPTED_WITH_ERRORS = "đã nhận, có dòng bị loại"
REJECTED = "bị từ chối"
DUPLICATE = "trùng lặp"
SUPERSEDED = "bị thay thế"
OTHER_PERIOD = "khác kỳ"


@dataclass
class SheetCount:
    read: int = 0
    accepted: int = 0
    rejected: int = 0


@dataclass
class Submission:
    path: Path
    name: str  # path relative to the inbox, as shown to users
    sha256: str
    mtime: float
    status: str = REJECTED
    unit_code: str | None = None
    period: str | None = None
    form_version: str | None = None
    fingerprint: str | None = None
    info: dict[str, object] = field(default_factory=dict)
    citizens: pd.DataFrame = field(default_factory=pd.DataFrame)
    households: pd.DataFrame = field(default_factory=pd.DataFrame)
    tasks: pd.DataFrame = field(default_factory=pd.DataFrame)
    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, SheetCount] = field(default_factory=dict)
    superseded_by: str | None = None
    # Where each column was found, per sheet: messages name the cell the unit actually typed in.
    positions: dict[str, dict[str, int]] = field(default_factory=dict)

    def cell(self, sheet: str, key: str, row: int) -> str:
        """Excel name of column ``key`` on Excel row ``row`` of ``sheet`` ('H12')."""
        return f"{column_letter(self.positions.get(sheet, {}).get(key, 0))}{row}"

    @property
    def rows_read(self) -> int:
        return sum(c.read for c in self.counts.values())

    @property
    def rows_accepted(self) -> int:
        return sum(c.accepted for c in self.counts.values())

    @property
    def rows_rejected(self) -> int:
        return sum(c.rejected for c in self.counts.values())

    def issue(
        self, code: str, sheet: str = "", cell: str = "", value: object = "", detail: object = ""
    ) -> None:
        self.issues.append(make_issue(code, self.name, sheet, cell, value, detail))

    def reject_all(self) -> None:
        """The file cannot be used: every row it holds is counted as rejected."""
        for count in self.counts.values():
            count.rejected += count.accepted
            count.accepted = 0
        self.citizens = self.citizens.iloc[0:0]
        self.households = self.households.iloc[0:0]
        self.tasks = self.tasks.iloc[0:0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def list_inbox(inbox: Path) -> list[Path]:
    """Every file under the inbox, recursively, in a stable order; hidden and lock files skipped."""
    files = []
    for path in sorted(inbox.rglob("*")):
        if not path.is_file():
            continue
        if path.name.startswith((".", "~$", ".~lock")):
            continue
        files.append(path)
    return files


def read_submission(
    path: Path, catalogue: Catalogue, name: str | None = None, expected_period: Period | None = None
) -> Submission:
    """Read one unit workbook. Never raises for bad input."""
    stat = path.stat()
    sub = Submission(path, name or path.name, sha256_of(path), stat.st_mtime)
    verdict = inspect_file(path)
    if verdict.code:
        sub.issue(verdict.code, detail=verdict.detail)
        return sub
    try:
        _read_book(sub, catalogue, expected_period)
    except Exception as exc:
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


def _key_values(rows: list[list]) -> dict[str, tuple[object, str]]:
    """Label/value rows (Thông tin, _meta): folded label -> (value, cell name)."""
    found: dict[str, tuple[object, str]] = {}
    for i, row in enumerate(rows):
        if len(row) >= 2 and isinstance(row[0], str) and row[0].strip():
            found[fold(row[0])] = (row[1], cell_name(i, 1))
    return found


def _read_book(sub: Submission, catalogue: Catalogue, expected: Period | None) -> None:
    book = open_workbook(sub.path)
    try:
        sheets = sheet_map(book)
        if not sheets:
            sub.issue("FILE_EMPTY")
            return
        meta = (
            _key_values(read_rows(book, sheets[S.FORM_META], 20)) if S.FORM_META in sheets else {}
        )
        info_rows = (
            read_rows(book, sheets[S.FORM_INFO.name], 40) if S.FORM_INFO.name in sheets else []
        )
        if not _identify(sub, catalogue, meta, info_rows, expected):
            # Still count what the file holds, so the accounting covers it.
            _count_only(sub, book, sheets)
            return
        unit = catalogue.unit(sub.unit_code or "")
        assert unit is not None
        _read_table(
            sub,
            book,
            sheets,
            S.FORM_CITIZENS,
            citizen_columns(catalogue),
            catalogue,
            "citizens",
            household_optional=not unit.is_tdp,
        )
        if unit.is_tdp:
            _read_table(
                sub,
                book,
                sheets,
                S.FORM_HOUSEHOLDS,
                household_columns(catalogue),
                catalogue,
                "households",
            )
            _read_tasks(sub, book, sheets, catalogue)
        _cross_checks(sub, unit.is_tdp)
    finally:
        book.close()
    if sub.rows_read == 0 and not any(i.severity == ERROR for i in sub.issues):
        sub.issue("FILE_EMPTY")
    has_errors = sub.rows_rejected > 0 or any(i.severity == ERROR for i in sub.issues)
    sub.status = ACCEPTED_WITH_ERRORS if has_errors else ACCEPTED


def _identify(
    sub: Submission,
    catalogue: Catalogue,
    meta: dict,
    info_rows: list[list],
    expected: Period | None,
) -> bool:
    info = _key_values(info_rows)
    info_unit = cells.parse_code(
        pd.Series([info.get(fold(S.FORM_INFO.label("unit_code")), (None, ""))[0]])
    )[0]
    meta_unit = meta.get("unit_code", (None, ""))[0]
    unit_code = nfc(str(meta_unit)).upper() if meta_unit else info_unit
    if not unit_code:
        sub.issue("FILE_UNIDENTIFIED", S.FORM_INFO.name)
        return False
    if meta_unit and info_unit and nfc(str(meta_unit)).upper() != info_unit:
        cell = info.get(fold(S.FORM_INFO.label("unit_code")), (None, "B2"))[1]
        sub.issue("FILE_UNIT_MISMATCH", S.FORM_INFO.name, cell, detail=f"{info_unit} ≠ {meta_unit}")
        return False
    if catalogue.unit(unit_code) is None:
        sub.issue("FILE_UNKNOWN_UNIT", S.FORM_INFO.name, detail=unit_code)
        return False
    sub.unit_code = unit_code
    period_raw = (
        meta.get("period", (None, ""))[0]
        or info.get(fold(S.FORM_INFO.label("period")), (None, ""))[0]
    )
    try:
        period = Period.parse(period_raw)
    except Exception:
        sub.issue("FILE_UNIDENTIFIED", S.FORM_INFO.name)
        return False
    sub.period = str(period)
    if expected is not None and period != expected:
        sub.issue("FILE_OTHER_PERIOD", S.FORM_INFO.name, detail=str(period))
        sub.status = OTHER_PERIOD
        return False
    if meta:
        sub.form_version = str(meta.get("form_version", ("", ""))[0] or "")
        sub.fingerprint = str(meta.get("catalogue_fingerprint", ("", ""))[0] or "")
        try:
            version = int(float(sub.form_version))
        except ValueError:
            version = -1
        if version < 1 or version > S.FORM_VERSION:
            sub.issue("FILE_INCOMPATIBLE_VERSION", S.FORM_META, detail=sub.form_version)
            return False
        if sub.fingerprint != catalogue.fingerprint:
            sub.issue("FILE_OLD_VERSION", S.FORM_META, detail=sub.fingerprint)
    sub.info = _info_values(sub, info)
    return True


def _info_values(sub: Submission, info: dict[str, tuple[object, str]]) -> dict[str, object]:
    values: dict[str, object] = {}
    for column in S.FORM_INFO.columns:
        raw, cell = info.get(fold(column.label), (None, ""))
        if cells.is_blank(raw):
            continue
        series = pd.Series([raw])
        if column.kind == "date":
            dates, _, problems = cells.parse_dates(series)
            value = dates[0]
        elif column.kind == "int":
            parsed, problems = cells.parse_number(series, minimum=0, integer=True)
            value = parsed[0]
        else:
            value, problems = cells.parse_text(series)[0], []
        for _, code, raw_value, detail in problems:
            sub.issue(code, S.FORM_INFO.name, cell, raw_value, detail)
        if value is not None:
            values[column.key] = value
    return values


def _count_only(sub: Submission, book, sheets: dict[str, str]) -> None:
    for sheet in (S.FORM_CITIZENS, S.FORM_HOUSEHOLDS):
        if sheet.name in sheets:
            rows = read_rows(book, sheets[sheet.name], MAX_ROWS)
            n = sum(1 for row in rows[HEADER_ROW + 1 :] if _row_has_data(row, skip=1))
            sub.counts[sheet.name] = SheetCount(n, 0, n)


def _row_has_data(row: list, skip: int = 0) -> bool:
    return any(not cells.is_blank(v) for v in row[skip:])


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
    book,
    sheets: dict[str, str],
    sheet: S.Sheet,
    columns: list[S.Column],
    catalogue: Catalogue,
    target: str,
    household_optional: bool = False,
) -> None:
    count = sub.counts.setdefault(sheet.name, SheetCount())
    if sheet.name not in sheets:
        sub.issue("SHEET_MISSING", sheet.name, detail=sheet.name)
        return
    stored = sheets[sheet.name]
    handle = book.get_sheet_by_name(stored)
    total = handle.total_height
    rows = read_rows(book, stored, MAX_ROWS + HEADER_ROW + 1)
    if total > MAX_ROWS + HEADER_ROW + 1:
        sub.issue("TOO_MANY_ROWS", sheet.name, detail=f"{total:,}".replace(",", "."))
    header_row = _find_header(rows, columns)
    data_rows = rows[(header_row if header_row is not None else HEADER_ROW) + 1 :]
    filled = [(i, row) for i, row in enumerate(data_rows) if _row_has_data(row, skip=1)]
    count.read = len(filled)
    if header_row is None:
        required = next(c.label for c in columns if c.required)
        sub.issue("HEADER_MISSING", sheet.name, detail=required)
        count.rejected = count.read
        return
    positions = _map_columns(sub, sheet.name, rows[header_row], header_row, columns, catalogue)
    sub.positions[sheet.name] = positions
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
    _merged_cells(sub, book, stored, sheet.name, header_row)
    if missing:
        count.rejected = count.read
        return
    first_data = header_row + 1
    frame = pd.DataFrame(
        {
            key: [row[pos] if pos < len(row) else None for _, row in filled]
            for key, pos in positions.items()
        },
        index=[first_data + i for i, _ in filled],
        dtype=object,
    )
    optional = {"household_code"} if household_optional else set()
    typed, bad_rows = _type_columns(sub, sheet.name, frame, columns, positions, catalogue, optional)
    typed["_row"] = typed.index + 1  # Excel row number, for messages and feedback
    typed = typed.drop(index=sorted(bad_rows))
    count.accepted = len(typed)
    count.rejected = count.read - count.accepted
    setattr(sub, target, typed.reset_index(drop=True))


def _merged_cells(sub: Submission, book, stored: str, sheet: str, header_row: int) -> None:
    try:
        ranges = book.get_sheet_by_name(stored).merged_cell_ranges or []
    except Exception:
        return
    in_data = []
    for (r0, c0), (r1, c1) in ranges:
        if r1 > header_row:
            in_data.append(f"{cell_name(r0, c0)}:{cell_name(r1, c1)}")
    if in_data:
        sub.issue("MERGED_CELLS", sheet, in_data[0].split(":")[0], detail=", ".join(in_data[:5]))


def _type_columns(
    sub: Submission,
    sheet: str,
    frame: pd.DataFrame,
    columns: list[S.Column],
    positions: dict[str, int],
    catalogue: Catalogue,
    optional: set[str],
) -> tuple[pd.DataFrame, set[int]]:
    """Parse every column by its declared kind; return the typed frame and rows with errors."""
    out = pd.DataFrame(index=frame.index)
    bad: set[int] = set()
    by_code = {c.code: c for c in catalogue.criteria}

    def record(key: str, problems: list) -> None:
        for label, code, raw, detail in problems:
            issue = make_issue(code, sub.name, sheet, cell_name(label, positions[key]), raw, detail)
            sub.issues.append(issue)
            if issue.severity == ERROR:
                bad.add(label)

    for column in columns:
        if column.key not in frame.columns:
            out[column.key] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
            continue
        raw = frame[column.key]
        criterion = by_code.get(column.key)
        if column.key == "cccd":
            values, problems = cells.parse_cccd(raw)
        elif column.kind == "date":
            values, years, problems = cells.parse_dates(raw)
            out["birth_year"] = years
        elif column.kind == "choice":
            values, problems = cells.parse_choice(raw, column.choices)
        elif column.kind in ("int", "number"):
            maximum = (
                criterion.points if criterion is not None and criterion.kind == "diem" else None
            )
            values, problems = cells.parse_number(
                raw, minimum=0, maximum=maximum, integer=column.kind == "int"
            )
        elif column.kind == "code":
            values, problems = cells.parse_code(raw), []
        else:
            values, problems = cells.parse_text(raw), []
        record(column.key, problems)
        if column.required and column.key not in optional:
            missing = values.map(cells.is_blank)
            for label in values.index[missing]:
                issue = make_issue(
                    "VALUE_REQUIRED",
                    sub.name,
                    sheet,
                    cell_name(label, positions[column.key]),
                    detail=column.label,
                )
                sub.issues.append(issue)
                bad.add(label)
        out[column.key] = values
    return out, bad


def _read_tasks(sub: Submission, book, sheets: dict[str, str], catalogue: Catalogue) -> None:
    columns = list(S.FORM_UNIT.columns)
    _read_table(sub, book, sheets, S.FORM_UNIT, columns, catalogue, "tasks")
    if sub.tasks.empty:
        return
    known = {(t.criterion, t.code) for t in catalogue.tasks}
    known |= {(c.code, "") for c in catalogue.form_criteria(catalogue.unit_title.code)}
    keys = list(zip(sub.tasks["criterion"], sub.tasks["task"].fillna(""), strict=True))
    unknown = [k not in known for k in keys]
    for row, key in zip(
        sub.tasks["_row"][unknown],
        [k for k, u in zip(keys, unknown, strict=True) if u],
        strict=True,
    ):
        sub.issue(
            "TASK_UNKNOWN",
            S.FORM_UNIT.name,
            sub.cell(S.FORM_UNIT.name, "criterion", row),
            value=" / ".join(filter(None, key)),
        )
    sub.tasks = sub.tasks[[not u for u in unknown]].reset_index(drop=True)


def _cross_checks(sub: Submission, is_tdp: bool) -> None:
    """Checks across rows and sheets of one file: duplicates, unknown households, votes."""
    citizens = sub.citizens
    sheet = S.FORM_CITIZENS.name
    drop: set[int] = set()
    if not citizens.empty:
        # Without a CCCD, a citizen is the same person when name, birth date and household match.
        fallback = (
            citizens[["full_name", "birth_date", "household_code"]]
            .map(lambda v: "" if cells.is_blank(v) else str(v))
            .agg("|".join, axis=1)
        )
        key = citizens["cccd"].where(citizens["cccd"].notna(), "~" + fallback)
        duplicated = key.duplicated(keep="first")
        first_row = citizens.groupby(key)["_row"].transform("first")
        for idx in citizens.index[duplicated]:
            sub.issue(
                "CITIZEN_DUPLICATE",
                sheet,
                sub.cell(sheet, "full_name", citizens.at[idx, "_row"]),
                detail=int(first_row[idx]),
            )
            drop.add(idx)
        if is_tdp and not sub.households.empty:
            known = set(sub.households["household_code"].dropna())
            unknown = citizens["household_code"].notna() & ~citizens["household_code"].isin(known)
            for idx in citizens.index[unknown]:
                sub.issue(
                    "HOUSEHOLD_UNKNOWN",
                    sheet,
                    sub.cell(sheet, "household_code", citizens.at[idx, "_row"]),
                    citizens.at[idx, "household_code"],
                )
                drop.add(idx)
        attendees = sub.info.get("attendees")
        if attendees is not None and "votes" in citizens:
            over = citizens["votes"].notna() & (citizens["votes"].astype(float) > float(attendees))
            for idx in citizens.index[over]:
                sub.issue(
                    "VOTES_EXCEED",
                    sheet,
                    sub.cell(sheet, "votes", citizens.at[idx, "_row"]),
                    citizens.at[idx, "votes"],
                    attendees,
                )
                drop.add(idx)
        _drop_rows(sub, "citizens", sheet, drop)
    households = sub.households
    if not households.empty:
        sheet = S.FORM_HOUSEHOLDS.name
        drop = set()
        duplicated = households["household_code"].duplicated(keep="first")
        first_row = households.groupby("household_code")["_row"].transform("first")
        for idx in households.index[duplicated]:
            sub.issue(
                "HOUSEHOLD_DUPLICATE",
                sheet,
                sub.cell(sheet, "household_code", households.at[idx, "_row"]),
                households.at[idx, "household_code"],
                int(first_row[idx]),
            )
            drop.add(idx)
        attendees = sub.info.get("attendees")
        if attendees is not None:
            over = households["votes"].notna() & (
                households["votes"].astype(float) > float(attendees)
            )
            for idx in households.index[over]:
                sub.issue(
                    "VOTES_EXCEED",
                    sheet,
                    sub.cell(sheet, "votes", households.at[idx, "_row"]),
                    households.at[idx, "votes"],
                    attendees,
                )
                drop.add(idx)
        _drop_rows(sub, "households", sheet, drop)


def _drop_rows(sub: Submission, target: str, sheet: str, drop: set[int]) -> None:
    if not drop:
        return
    frame = getattr(sub, target)
    setattr(sub, target, frame.drop(index=sorted(drop)).reset_index(drop=True))
    count = sub.counts[sheet]
    count.accepted -= len(drop)
    count.rejected += len(drop)
