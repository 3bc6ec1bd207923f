"""Where things are on a unit's form, as the writer lays them out and the reader finds them
(SPEC §3): the header row, the bounds the form's validations set, and the columns of the table
sheets, which follow from the catalogue's criteria."""

from __future__ import annotations

import datetime as dt

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Criterion

HEADER_ROW = 2  # 0-based: a title line, a hint line, then the header
MAX_DATE = dt.date(2100, 12, 31)
MIN_DATE = dt.date(1900, 1, 1)
MONTHS = (1, 12)  # `Tháng hoàn thành dự kiến` of the roadmap (seed III.1)


def criterion_column(criterion: Criterion) -> S.Column:
    """How a criterion appears as a form column: its kind declares it."""
    return criterion.rules.column()


def citizen_columns(catalogue: Catalogue) -> list[S.Column]:
    crits = [criterion_column(c) for c in catalogue.form_criteria(catalogue.citizen_title.code)]
    return [*S.FORM_CITIZENS.columns, *crits, S.VOTES, S.NOTE]


def household_columns(catalogue: Catalogue) -> list[S.Column]:
    crits = [criterion_column(c) for c in catalogue.form_criteria(catalogue.household_title.code)]
    return [*S.FORM_HOUSEHOLDS.columns, *crits, S.VOTES, S.NOTE]


def unit_task_rows(catalogue: Catalogue) -> list[dict[str, object]]:
    """One row per task of each unit criterion, or per criterion without tasks (SPEC §3)."""
    rows: list[dict[str, object]] = []
    for criterion in catalogue.form_criteria(catalogue.unit_title.code):
        tasks = catalogue.tasks_of(criterion.code)
        if tasks:
            rows += [{"criterion": criterion.code, "task": t.code, "text": t.text} for t in tasks]
        else:
            rows.append({"criterion": criterion.code, "task": "", "text": criterion.text})
    return rows


# Columns of a level's rows (citizens, households) that mark cells rather than hold values,
# per row None or a dict {column key: text}: RAW, what the unit typed in a cell that could not
# be read (the cell is NA); CARRIED, the period a value was carried from because the unit left
# the cell blank. The next form shows both (processor.outputs.forms).
RAW = "_raw"
CARRIED = "_carried"
# FLAGGED marks a cell read well whose row was still not counted (a duplicate of another row):
# per row None or {column key: the code}; the next form keeps the row, marked.
FLAGGED = "_flagged"
