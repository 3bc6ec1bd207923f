"""Scoring against the catalogue (SPEC §2, §4 step 4): pure functions over DataFrames, no I/O.

Every registered citizen, household and unit gets `Đạt`, `Chưa đạt` or `Chưa đủ điều kiện`
and a `Lý do` naming each failing criterion or missing condition in words. Roll-ups go citizen →
household → unit. Work is done a criterion (column) at a time, never a row at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Criterion, Title
from processor.domain.periods import Period

VOTING_MONTH = 11  # votes count only from November (SPEC §4 step 4)


def by_unit(frame: pd.DataFrame) -> Callable[[str], pd.DataFrame]:
    """unit code -> its rows, split in one pass: a mask per unit is O(units × rows), which at
    district scale (400 units, 300,000 rows) cost ten seconds."""
    if frame.empty or "unit_code" not in frame:
        return lambda code: frame
    groups = dict(tuple(frame.groupby("unit_code", sort=False)))
    empty = frame.iloc[0:0]
    return lambda code: groups.get(code, empty)


@dataclass
class Results:
    citizens: pd.DataFrame
    households: pd.DataFrame
    units: pd.DataFrame
    tasks: pd.DataFrame = field(default_factory=pd.DataFrame)  # with `effective` and `behind`

    def by_unit(self) -> Callable[[str], Results]:
        """unit code -> the results of that unit alone (see ``by_unit``)."""
        levels = [by_unit(frame) for frame in (self.citizens, self.households, self.units)]
        tasks = by_unit(self.tasks)
        return lambda code: Results(*(of(code) for of in levels), tasks(code))


def _status(passed: pd.Series) -> pd.Series:
    """Nullable boolean -> the words shown in reports ('' when not assessed)."""
    out = pd.Series("", index=passed.index, dtype=object)
    out[passed.eq(True).fillna(False).astype(bool)] = S.PASS
    out[passed.eq(False).fillna(False).astype(bool)] = S.FAIL
    return out


@dataclass
class _Assessment:
    passes: dict[str, pd.Series]  # criterion code -> nullable boolean
    values: dict[str, pd.Series]  # criterion code -> the measured number, for reasons


_EMPTY = np.array("", dtype=object)  # np.where on two str scalars would make a str per row
_ROWS_AT_ONCE = 32_768  # rows whose reason pieces are joined together (see _joined)


def _text_where(mask: pd.Series, text: str) -> np.ndarray:
    """``text`` where ``mask`` holds, else "": the same two string objects in every row (a
    district's 300,000 rows × 8 criteria of new strings were 230 MB)."""
    return np.array(["", text], dtype=object)[mask.to_numpy(dtype=bool).astype(np.intp)]


def _joined(parts: list[np.ndarray], index: pd.Index) -> pd.Series:
    """Row by row, the texts of ``parts`` (one array per criterion) one after another."""
    joined = np.full(len(index), "", dtype=object)
    # A slice of rows at a time: lists of every criterion's pieces for a district's 300,000
    # rows at once would add 40 MB to the run's peak.
    for start in range(0, len(index) if parts else 0, _ROWS_AT_ONCE):
        rows = slice(start, start + _ROWS_AT_ONCE)
        columns = [part[rows].tolist() for part in parts]  # zip walks lists fastest
        joined[rows] = list(map("".join, zip(*columns, strict=True)))
    return pd.Series(joined, index=index, dtype=object)


def _decide(
    frame: pd.DataFrame,
    title: Title,
    criteria: list[Criterion],
    assessment: _Assessment,
    eligible_reasons: list[tuple[pd.Series, str]],
    period: Period,
    votes: pd.Series | None,
    attendees: pd.Series | None,
) -> pd.DataFrame:
    """Combine criterion results into the outcome and its reason, column by column."""
    index = frame.index
    if frame.empty:  # no one at this level yet (an inbox of agencies alone has no household)
        columns = ["criteria_passed", "outcome", "reason"]
        if any(c.rules.earns_points for c in criteria):
            columns.append("points")
        columns += [c.code for c in criteria]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}, index=index)
    passed_count = pd.Series(0, index=index)
    points = pd.Series(0.0, index=index)
    mandatory_fail = pd.Series(False, index=index)
    any_missing = pd.Series(False, index=index)
    # Each criterion's piece of every row's reason, joined once per row after the loop (added
    # criterion by criterion, the texts were copied again for each criterion).
    fail_parts: list[np.ndarray] = []
    missing_parts: list[np.ndarray] = []
    for criterion in criteria:
        passes = assessment.passes[criterion.code]
        is_true = passes.eq(True).fillna(False).astype(bool)
        is_false = passes.eq(False).fillna(False).astype(bool)
        is_na = passes.isna()
        passed_count += is_true.astype(int)
        if criterion.rules.earns_points:
            points += pd.to_numeric(assessment.values[criterion.code], errors="coerce").fillna(0)
        if criterion.mandatory:
            mandatory_fail |= is_false
        any_missing |= is_na
        values = assessment.values.get(criterion.code)
        if values is not None:
            # The reason quotes the measured value: worded once per distinct value.
            codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
            reasons = np.array(
                ["; " + criterion.rules.fail_text(v) for v in uniques.tolist()]
                + ["; " + criterion.rules.fail_text()],  # code -1: no value
                dtype=object,
            )
            fail_parts.append(np.where(is_false, reasons[codes], _EMPTY))
        else:
            fail_parts.append(_text_where(is_false, "; " + criterion.rules.fail_text()))
        missing_parts.append(_text_where(is_na, "; " + criterion.code))
    fail_text = _joined(fail_parts, index)
    missing_text = _joined(missing_parts, index)
    n = len(criteria)
    na_count = (
        n
        - passed_count
        - pd.Series(
            sum(assessment.passes[c.code].eq(False).fillna(False).astype(int) for c in criteria)
            if criteria
            else 0,
            index=index,
        )
    )
    needed = title.min_criteria if title.min_criteria is not None else n
    # Certain failure: a mandatory criterion failed, or even passing every unassessed criterion
    # could not reach the minimum.
    too_few = (passed_count + na_count) < needed
    points_short = pd.Series(False, index=index)
    if title.min_points is not None:
        points_short = points < title.min_points
    failed = mandatory_fail | too_few | (points_short & ~any_missing)

    outcome = pd.Series(S.ACHIEVED, index=index, dtype=object)
    reason = pd.Series("", index=index, dtype=object)
    outcome[failed] = S.NOT_ACHIEVED
    # Each reason is worded for the rows it is given to only (all rows, it was a fifth of
    # scoring a district).
    if failed.any():
        fail_reason = "Không đạt: " + fail_text[failed].str.removeprefix("; ")
        count_note = " (đạt " + passed_count[failed].astype(str) + f"/{n} tiêu chí, cần {needed})"
        few = (too_few & ~mandatory_fail)[failed]
        reason[failed] = fail_reason + np.where(few, count_note, "")
    short = points_short & ~mandatory_fail & ~too_few & ~any_missing
    if short.any():
        reason[short] = (
            "Tổng điểm "
            + points[short].map(lambda p: f"{p:g}")
            + f" chưa đạt {title.min_points or 0:g} điểm"
        )
    missing = any_missing & ~failed
    outcome[missing] = S.NOT_ELIGIBLE
    reason[missing] = "Chưa đánh giá tiêu chí: " + missing_text[missing].str.removeprefix("; ")

    # Achieved with a non-mandatory criterion missed: say which, so the unit can still improve.
    partial = outcome.eq(S.ACHIEVED) & fail_text.ne("")
    reason[partial] = (
        "Đạt "
        + passed_count[partial].astype(object).map(str)
        + f"/{n} tiêu chí; chưa đạt: "
        + fail_text[partial].str.removeprefix("; ")
    )
    open_ = outcome.eq(S.ACHIEVED)
    if title.vote_threshold is not None and period.month >= VOTING_MONTH and votes is not None:
        vote_numbers = pd.to_numeric(votes, errors="coerce")
        attendee_numbers = (
            pd.to_numeric(attendees, errors="coerce")
            if attendees is not None
            else pd.Series(np.nan, index=index)
        )
        no_votes = vote_numbers.isna() & open_
        no_meeting = attendee_numbers.isna() | attendee_numbers.le(0)
        share = (vote_numbers / attendee_numbers.where(~no_meeting) * 100).round(2)
        outcome[no_votes] = S.NOT_ELIGIBLE
        reason[no_votes] = "Chưa có số phiếu bình xét"
        lacks_meeting = open_ & ~no_votes & no_meeting
        outcome[lacks_meeting] = S.NOT_ELIGIBLE
        reason[lacks_meeting] = "Thiếu số người dự họp bình xét (sheet Thông tin)"
        low = open_ & ~no_votes & ~no_meeting & ~share.gt(title.vote_threshold).fillna(False)
        outcome[low] = S.NOT_ACHIEVED
        if low.any():
            reason[low] = [
                f"Số phiếu đồng ý {v:g}/{a:g} ({str(f'{p:g}').replace('.', ',')}%) không vượt "
                f"quá {title.vote_threshold:g}%"
                for v, a, p in zip(
                    vote_numbers[low], attendee_numbers[low], share[low], strict=True
                )
            ]
    # Eligibility is checked last so its reason wins: it is the first thing to fix.
    for mask, why in reversed(eligible_reasons):
        outcome[mask] = S.NOT_ELIGIBLE
        reason[mask] = why
    result = pd.DataFrame(
        {"criteria_passed": passed_count, "outcome": outcome, "reason": reason}, index=index
    )
    if any(c.rules.earns_points for c in criteria):
        result["points"] = points
    for criterion in criteria:
        result[criterion.code] = _status(assessment.passes[criterion.code])
    return result


def _form_assessment(frame: pd.DataFrame, criteria: list[Criterion]) -> _Assessment:
    passes, values = {}, {}
    for criterion in criteria:
        column = (
            frame[criterion.code]
            if criterion.code in frame
            else pd.Series(None, index=frame.index, dtype=object)
        )
        passes[criterion.code] = criterion.rules.passes(column)
        measured = criterion.rules.measured(column)
        if measured is not None:
            values[criterion.code] = measured
    return _Assessment(passes, values)


def _share(
    members: pd.DataFrame, group: str, flag: pd.Series, among: pd.Series, index: pd.Index
) -> pd.Series:
    """Percent of members with ``flag`` among those with ``among``, per ``group``; NaN if none."""
    counted = pd.DataFrame({"g": members[group], "yes": flag & among, "n": among})
    sums = counted.groupby("g")[["yes", "n"]].sum()
    share = (sums["yes"] / sums["n"].where(sums["n"] > 0) * 100).round(2)
    return share.reindex(index)


def _rollup(
    lower: pd.DataFrame,
    lower_results: pd.DataFrame,
    group: str,
    keys: pd.Series,
    criterion: Criterion,
    catalogue: Catalogue,
) -> pd.Series:
    """The measured percentage behind a `tong_hop` criterion, per entity of the upper level."""
    source = criterion.source or ""
    titles = {t.code: t for t in catalogue.titles}
    if source in titles:
        title = titles[source]
        among = pd.Series(True, index=lower.index)
        if title.level == S.LEVEL_CITIZEN and title.min_age:
            among = lower["age"].ge(title.min_age).fillna(False).astype(bool)
        flag = lower_results["outcome"].eq(S.ACHIEVED)
    else:
        passes = lower_results[source]
        among = passes.ne("")
        flag = passes.eq(S.PASS)
    share = _share(lower, group, flag, among, pd.Index(keys))
    return pd.Series(share.to_numpy(), index=keys.index)


def _eligibility(frame: pd.DataFrame, title: Title, period: Period) -> list[tuple[pd.Series, str]]:
    """Conditions before any criterion, most basic first: the first that applies is the reason."""
    reasons = []
    if title.min_age and "age" in frame:
        reasons.append((frame["age"].isna(), "Thiếu ngày sinh"))
        young = frame["age"].lt(title.min_age).fillna(False).astype(bool)
        reasons.append((young, f"Chưa đủ {title.min_age} tuổi"))
    if title.registration_required:
        reasons.append(
            (frame["registered"].ne(S.YES).fillna(True).astype(bool), "Chưa đăng ký thi đua")
        )
    return reasons


def score_citizens(
    citizens: pd.DataFrame, catalogue: Catalogue, period: Period, attendees: pd.Series
) -> pd.DataFrame:
    title = catalogue.citizen_title
    criteria = catalogue.criteria_of(title.code)
    frame = citizens.copy()
    frame["age"] = period.year - pd.to_numeric(frame["birth_year"], errors="coerce")
    result = _decide(
        frame,
        title,
        criteria,
        _form_assessment(frame, criteria),
        _eligibility(frame, title, period),
        period,
        frame.get("votes"),
        frame["unit_code"].map(attendees),
    )
    keep = [
        c for c in frame.columns if c not in result.columns and c not in {c.code for c in criteria}
    ]
    return pd.concat([frame[keep], result], axis=1)


def score_households(
    households: pd.DataFrame,
    citizens: pd.DataFrame,
    catalogue: Catalogue,
    period: Period,
    attendees: pd.Series,
) -> pd.DataFrame:
    title = catalogue.household_title
    criteria = catalogue.criteria_of(title.code)
    frame = households.copy()
    key = frame["unit_code"] + "|" + frame["household_code"]
    members = citizens.assign(
        _key=citizens["unit_code"] + "|" + citizens["household_code"].fillna("")
    )
    assessment = _form_assessment(frame, [c for c in criteria if c.rules.on_form])
    for criterion in criteria:
        if not criterion.rules.on_form:
            share = _rollup(members, members, "_key", key, criterion, catalogue)
            assessment.values[criterion.code] = share
            assessment.passes[criterion.code] = criterion.rules.passes(share)
    counts = (
        members.assign(_achieved=members["outcome"].eq(S.ACHIEVED))
        .groupby("_key")
        .agg(members=("full_name", "size"), members_achieved=("_achieved", "sum"))
    )
    frame["members"] = key.map(counts["members"]).fillna(0).astype(int)
    frame["members_achieved"] = key.map(counts["members_achieved"]).fillna(0).astype(int)
    result = _decide(
        frame,
        title,
        criteria,
        assessment,
        _eligibility(frame, title, period),
        period,
        frame.get("votes"),
        frame["unit_code"].map(attendees),
    )
    for criterion in criteria:
        if not criterion.rules.on_form:
            frame[criterion.code + "_value"] = assessment.values[criterion.code]
    keep = [
        c for c in frame.columns if c not in result.columns and c not in {c.code for c in criteria}
    ]
    return pd.concat([frame[keep], result], axis=1)


def effective_tasks(tasks: pd.DataFrame, catalogue: Catalogue, period: Period) -> pd.DataFrame:
    """The task table with the assessment that counts and whether it is behind its roadmap.

    The Ban chỉ đạo's inspection overrides the self-assessment (SPEC §3); a number criterion
    (`so`, `diem`) counts as done when its measured value meets the threshold.
    """
    if tasks.empty:
        return tasks.assign(effective=pd.Series(dtype=object), behind=pd.Series(dtype=bool))
    effective = tasks["inspection"].where(tasks["inspection"].notna(), tasks["self_assessment"])
    effective = effective.astype(object)
    for criterion in catalogue.criteria_of(catalogue.unit_title.code):
        if not criterion.rules.numeric:
            continue
        rows = tasks["criterion"].eq(criterion.code)
        if rows.any():
            effective[rows] = _status(criterion.rules.passes(tasks.loc[rows, "value"])).replace(
                "", None
            )
    planned = pd.to_numeric(tasks["planned_month"], errors="coerce")
    behind = planned.lt(period.month).fillna(False).astype(bool) & effective.ne(S.PASS)
    return tasks.assign(effective=effective, behind=behind)


def score_units(
    units: pd.DataFrame,
    tasks: pd.DataFrame,
    households: pd.DataFrame,
    citizens: pd.DataFrame,
    catalogue: Catalogue,
    period: Period,
) -> pd.DataFrame:
    """Score the tổ dân phố title for units of kind Tổ dân phố; other units get counts only."""
    title = catalogue.unit_title
    criteria = catalogue.criteria_of(title.code)
    frame = units.copy()
    index = frame.index
    passes: dict[str, pd.Series] = {}
    values: dict[str, pd.Series] = {}
    for criterion in criteria:
        if not criterion.rules.on_form:
            continue
        rows = tasks[tasks["criterion"] == criterion.code] if not tasks.empty else tasks
        if not criterion.rules.numeric:
            done = rows["effective"].eq(S.PASS)
            failed = rows["effective"].eq(S.FAIL)
            per_unit = (
                pd.DataFrame({"u": rows["unit_code"], "done": done, "failed": failed, "n": 1})
                .groupby("u")
                .sum()
                if not rows.empty
                else None
            )
            result = pd.Series(pd.NA, index=index, dtype="boolean")
            if per_unit is not None:
                all_done = frame["unit_code"].map(per_unit["done"] == per_unit["n"])
                any_failed = frame["unit_code"].map(per_unit["failed"] > 0)
                result[all_done.eq(True).fillna(False).astype(bool)] = True
                result[any_failed.eq(True).fillna(False).astype(bool)] = False
            passes[criterion.code] = result
        else:
            value = rows.groupby("unit_code")["value"].first() if not rows.empty else pd.Series()
            measured = pd.to_numeric(frame["unit_code"].map(value), errors="coerce")
            values[criterion.code] = measured
            passes[criterion.code] = criterion.rules.passes(measured)
    citizen_unit = citizens.assign(_unit=citizens["unit_code"])
    household_unit = households.assign(_unit=households["unit_code"])
    for criterion in criteria:
        if criterion.rules.on_form:
            continue
        source_title = next((t for t in catalogue.titles if t.code == criterion.source), None)
        source_level = (
            source_title.level
            if source_title
            else next(
                (
                    t.level
                    for t in catalogue.titles
                    for c in catalogue.criteria_of(t.code)
                    if c.code == criterion.source
                ),
                S.LEVEL_CITIZEN,
            )
        )
        lower = household_unit if source_level == S.LEVEL_HOUSEHOLD else citizen_unit
        share = _rollup(lower, lower, "_unit", frame["unit_code"], criterion, catalogue)
        values[criterion.code] = share
        passes[criterion.code] = criterion.rules.passes(share)
    frame["households"] = (
        frame["unit_code"].map(households.groupby("unit_code").size()).fillna(0).astype(int)
    )
    frame["households_achieved"] = (
        frame["unit_code"]
        .map(households[households["outcome"] == S.ACHIEVED].groupby("unit_code").size())
        .fillna(0)
        .astype(int)
    )
    frame["household_rate"] = (
        frame["households_achieved"] / frame["households"].where(frame["households"] > 0) * 100
    ).round(1)
    frame["citizens"] = (
        frame["unit_code"].map(citizens.groupby("unit_code").size()).fillna(0).astype(int)
    )
    frame["citizens_achieved"] = (
        frame["unit_code"]
        .map(citizens[citizens["outcome"] == S.ACHIEVED].groupby("unit_code").size())
        .fillna(0)
        .astype(int)
    )
    eligible = []
    if "kind" in frame:
        eligible.append(
            (
                frame["kind"].ne(S.UNIT_KIND_TDP),
                f"Không xét danh hiệu {title.name} (không phải tổ dân phố)",
            )
        )
    result = _decide(
        frame, title, criteria, _Assessment(passes, values), eligible, period, None, None
    )
    for criterion in criteria:
        if criterion.code in values:
            frame[criterion.code + "_value"] = values[criterion.code]
    keep = [c for c in frame.columns if c not in result.columns]
    return pd.concat([frame[keep], result], axis=1)


def score(
    citizens: pd.DataFrame,
    households: pd.DataFrame,
    units: pd.DataFrame,
    tasks: pd.DataFrame,
    catalogue: Catalogue,
    period: Period,
) -> Results:
    """Score every level; each frame carries `unit_code`. Pure: the same input, the same output."""
    attendees = units.set_index("unit_code")["attendees"] if "attendees" in units else pd.Series()
    scored_citizens = score_citizens(citizens, catalogue, period, attendees)
    scored_households = score_households(households, scored_citizens, catalogue, period, attendees)
    task_table = effective_tasks(tasks, catalogue, period)
    scored_units = score_units(
        units, task_table, scored_households, scored_citizens, catalogue, period
    )
    return Results(scored_citizens, scored_households, scored_units, task_table)
