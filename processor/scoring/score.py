"""Scoring against the catalogue (SPEC §2, §4 step 4): pure functions over DataFrames, no I/O.

Every citizen, household and tổ dân phố on the month's forms gets an `Outcome` and a Lý do, by
the rules the catalogue's `Đọc trước` sheet states (default_catalogue.README_LINES); the
settings that make a rule a choice come from `Cấu hình` (Catalogue.rules). Roll-ups go citizen ->
household -> unit, a member whose data is missing counting as not known (rollup.py). Work is
done a criterion (column) at a time, never a row at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from processor.domain import schema as S
from processor.domain.ages import age_bounds
from processor.domain.catalogue import Catalogue, Criterion, Title
from processor.domain.cells import is_blank
from processor.domain.form_layout import CARRIED
from processor.domain.kinds import number_text
from processor.domain.periods import Period
from processor.scoring import people
from processor.scoring.decide import Verdict, filled, joined
from processor.scoring.rollup import Share, share


class Registration(StrEnum):
    """Where an entity stands with registration (Đọc trước: "Đăng ký thi đua")."""

    NOT_REQUIRED = ""  # the title asks for none
    ON_TIME = "Đúng hạn"
    LATE = "Muộn, được tính"
    LATE_REFUSED = "Muộn, không được tính"
    NONE = "Chưa đăng ký"


# Registration counts of a unit, per level: `citizens_registered`, `households_not_registered`...
REGISTRATION = ("registered", "not_registered")


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
    """The month's results, one frame per level, each row one entity of a unit's form.

    Every level's frame keeps its input columns (the criteria replaced by their status) and adds:

    - `outcome` (`schema.Outcome`: Đạt / Chưa đạt / Chưa đủ điều kiện) and `reason` (Lý do);
    - `achieved`: nullable boolean, True for Đạt, False when the title cannot be reached, <NA>
      while data is missing; `undecided`: the outcome waits for data; `missing`: that data;
    - `criteria_passed`, `points` (with a `diem` criterion), and per criterion its status (Đạt,
      Chưa đạt, '' not known) under its code, and `<code>_value` for a measured one;
    - `carried`: values taken from an earlier month (conditions.carry_years), as shown.

    Citizens also have `age` (at Cấu hình ngay_tinh_tuoi, <NA> when not known exactly),
    `registration` (a `Registration`), `registered_in` (the period of it), `registered` (Có when
    it counts), `scored_in` (the unit whose row gives the result: another one for an agency's
    copy of a tổ's resident) and `same_person`. Households add `members`, `members_achieved`;
    units `households`, `households_achieved`, `household_rate`, `citizens`,
    `citizens_achieved`. ``tasks`` is the Tổ dân phố sheet with `effective` and `behind`.
    """

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
    """Nullable boolean -> the words shown in reports ('' when not known)."""
    out = pd.Series("", index=passed.index, dtype=object)
    out[passed.eq(True).fillna(False).astype(bool)] = S.PASS
    out[passed.eq(False).fillna(False).astype(bool)] = S.FAIL
    return out


def _raw_texts(frame: pd.DataFrame, key: str) -> pd.Series:
    """The text a unit typed in column ``key`` where it could not be read ('' elsewhere): the
    intake keeps it per row in `_raw` ({column key: text})."""
    texts = filled(len(frame), "")
    if "_raw" in frame:
        # Only the few marked rows hold a dict: the others are looked at in C, not in Python.
        raw = frame["_raw"].to_numpy(dtype=object)
        for i in np.flatnonzero(pd.notna(raw)).tolist():
            if isinstance(raw[i], dict):
                texts[i] = str(raw[i].get(key, ""))
    return pd.Series(texts, index=frame.index, dtype=object)


def blank_text(frame: pd.DataFrame, key: str, label: str) -> pd.Series:
    """How a Lý do names a cell with no usable value: `CD05 - …: ô trống`, or what was typed.
    Rows share one string object where the words are the same (a district's 300,000 rows)."""
    typed = _raw_texts(frame, key)
    texts = filled(len(frame), label + ": ô trống")
    read = typed.ne("").to_numpy()
    if read.any():
        texts[read] = [f"{label}: ghi '{t}', không đọc được" for t in typed[read].tolist()]
    return pd.Series(texts, index=frame.index, dtype=object)


def carried_from(source: str) -> str:
    """Where a carried value came from, as the results say it: the mark is the period
    (`lấy từ kỳ 2021-03`) or, for a count moved on at the turn of the year, already the words
    (conditions.carry_years)."""
    return source if source.startswith("lấy từ") else f"lấy từ kỳ {source}"


def carried_text(frame: pd.DataFrame, labels: dict[str, str]) -> pd.Series:
    """The `carried` column of the results: each value taken from an earlier period and where
    it came from, e.g. `GD01 - Gia đình văn hóa: 5 (lấy từ kỳ 2021-10)`."""
    out = pd.Series("", index=frame.index, dtype=object)
    if CARRIED not in frame:
        return out
    marked = frame[CARRIED].map(lambda v: isinstance(v, dict))
    for index, marks in frame.loc[marked, CARRIED].items():
        out[index] = "; ".join(
            f"{labels.get(key, key)}: {number_text(frame.at[index, key])} "
            f"({carried_from(str(source))})"
            for key, source in marks.items()
        )
    return out


# --- criteria -----------------------------------------------------------------------------------


@dataclass
class Assessment:
    """Per criterion of a title: whether each row meets it (nullable boolean), the measured
    value a Lý do quotes, and, where it is not known, why (text per row)."""

    passes: dict[str, pd.Series] = field(default_factory=dict)
    values: dict[str, pd.Series] = field(default_factory=dict)
    unknown: dict[str, pd.Series] = field(default_factory=dict)


def _form_assessment(frame: pd.DataFrame, criteria: list[Criterion]) -> Assessment:
    """The criteria a unit writes on the citizen or household sheet."""
    found = Assessment()
    for criterion in criteria:
        column = (
            frame[criterion.code]
            if criterion.code in frame
            else pd.Series(None, index=frame.index, dtype=object)
        )
        found.passes[criterion.code] = criterion.rules.passes(column)
        measured = criterion.rules.measured(column)
        if measured is not None:
            found.values[criterion.code] = measured
        found.unknown[criterion.code] = blank_text(frame, criterion.code, criterion.label)
    return found


def _judge_criteria(
    verdict: Verdict, index: pd.Index, title: Title, criteria: list[Criterion], found: Assessment
) -> tuple[pd.DataFrame, np.ndarray]:
    """Findings of the criteria (Đọc trước: "Chưa đạt chắc chắn"), the columns they give, and the
    Lý do of a row that reaches the title with a criterion missed."""
    n = len(criteria)
    passed = pd.Series(0, index=index)
    failed_count = pd.Series(0, index=index)
    points = pd.Series(0.0, index=index)
    points_open = pd.Series(0.0, index=index)  # the most the blank `diem` cells could still add
    mandatory_fail = pd.Series(False, index=index)
    fails: list[np.ndarray] = []
    for criterion in criteria:
        passes = found.passes[criterion.code]
        is_true = passes.eq(True).fillna(False).astype(bool)
        is_false = passes.eq(False).fillna(False).astype(bool)
        passed += is_true.astype(int)
        failed_count += is_false.astype(int)
        if criterion.mandatory:
            mandatory_fail |= is_false
        earned = criterion.rules.points(found.values.get(criterion.code, passes))
        if earned is not None:
            points += earned.fillna(0)
            points_open += np.where(earned.isna(), criterion.points or 0, 0)
        fails.append(_fail_pieces(criterion, is_false, found.values.get(criterion.code)))
        verdict.lack(passes.isna(), found.unknown[criterion.code])
    fail_text = joined(fails, len(index))
    needed = title.min_criteria if title.min_criteria is not None else n
    unknown = n - passed - failed_count
    too_few = (passed + unknown) < needed
    counted = (too_few & ~mandatory_fail).to_numpy()
    count_note = _worded(
        counted, passed, fail_text, lambda fail, ok: f"{fail}; đạt {ok}/{n} tiêu chí, cần {needed}"
    )
    verdict.fail(mandatory_fail | too_few, np.where(counted, count_note, fail_text))
    if title.min_points is not None:
        shown = points.map(lambda p: f"{p:g}")
        short = (points + points_open) < title.min_points
        verdict.fail(
            short,
            "Tổng điểm "
            + shown
            + np.where(points_open > 0, " (kể cả điểm tối đa của ô trống)", "")
            + f" chưa đạt {title.min_points:g} điểm",
        )
        verdict.lack(~short & (points < title.min_points), "Tổng điểm: còn ô trống")
    some_failed = fail_text != ""
    partial = _worded(
        some_failed, passed, fail_text, lambda fail, ok: f"Đạt {ok}/{n} tiêu chí; chưa đạt: {fail}"
    )
    columns = {"criteria_passed": passed}
    if any(c.rules.earns_points for c in criteria):
        columns["points"] = points
    for criterion in criteria:
        columns[criterion.code] = _status(found.passes[criterion.code])
    return pd.DataFrame(columns, index=index), partial


def _worded(
    mask: np.ndarray, passed: pd.Series, fail_text: np.ndarray, words: Callable[[str, int], str]
) -> np.ndarray:
    """``words`` of each row's failed pieces and count of criteria passed where ``mask`` holds
    ('' elsewhere), made once per distinct pair: a district's 300,000 rows share a few."""
    texts = filled(len(mask), "")
    rows = np.flatnonzero(mask)
    made: dict[tuple[str, int], str] = {}
    pairs = zip(fail_text[rows].tolist(), passed.to_numpy()[rows].tolist(), strict=True)
    texts[rows] = np.array(
        [made[k] if k in made else made.setdefault(k, words(*k)) for k in pairs],
        dtype=object,
    )
    return texts


def _fail_pieces(criterion: Criterion, is_false: pd.Series, values: pd.Series | None) -> np.ndarray:
    """The criterion's piece of each failed row's Lý do, worded once per distinct value."""
    mask = is_false.to_numpy(dtype=bool)
    if values is None:
        return np.array(["", "; " + criterion.rules.fail_text()], dtype=object)[mask.astype(int)]
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    texts = np.array(
        ["; " + criterion.rules.fail_text(v) for v in uniques.tolist()]
        + ["; " + criterion.rules.fail_text()],  # code -1: no value
        dtype=object,
    )
    return np.where(mask, texts[codes], np.array("", dtype=object))


# --- conditions before the criteria, and the votes ----------------------------------------------


def _judge_age(
    verdict: Verdict, frame: pd.DataFrame, title: Title, catalogue: Catalogue, period: Period
) -> pd.Series:
    """Age findings (Đọc trước: "Tuổi"); returns the age where it is known exactly."""
    on = catalogue.age_date(period.year)
    birth = frame["birth_date"] if "birth_date" in frame else pd.Series(None, index=frame.index)
    low, high = age_bounds(birth, frame.get("birth_year"), on)
    if title.min_age:
        young = high.lt(title.min_age).fillna(False).astype(bool)
        verdict.exclude(young, f"Chưa đủ {title.min_age} tuổi (tính đến {on:%d/%m/%Y})")
        no_date = low.isna()
        straddles = ~no_date & low.lt(title.min_age).fillna(False) & ~young
        verdict.unsure(no_date, blank_text(frame, "birth_date", "Ngày sinh"))
        if straddles.any():
            years = pd.to_numeric(frame.get("birth_year"), errors="coerce")
            verdict.unsure(
                straddles,
                "Ngày sinh: chỉ có năm "
                + years.map(lambda y: f"{y:g}" if y == y else "")
                + f", chưa biết đã đủ {title.min_age} tuổi vào {on:%d/%m/%Y} chưa",
            )
    return low.where(low.eq(high))


def registration(
    frame: pd.DataFrame, title: Title, catalogue: Catalogue, period: Period
) -> pd.DataFrame:
    """`registration`, `registered_in` and `registered` (Có when it counts) of each row
    (Đọc trước: "Đăng ký thi đua"). `registered_in` is the period of the first `Có` of the year
    (conditions.registration); without it, this month's `Đăng ký` column is this month's."""
    index = frame.index
    if not title.registration_required:
        return pd.DataFrame(
            {
                "registration": Registration.NOT_REQUIRED,
                "registered_in": pd.Series(None, index=index, dtype=object),
                "registered": frame.get("registered"),
            },
            index=index,
        )
    if "registered_in" in frame:
        since = frame["registered_in"].where(~frame["registered_in"].map(is_blank))
    else:
        said_yes = frame["registered"].eq(S.YES) if "registered" in frame else False
        since = pd.Series(np.where(said_yes, str(period), None), index=index, dtype=object)
    rules = catalogue.rules
    deadline = str(Period(period.year, rules.registration_deadline))
    late = since.notna() & since.astype(str).gt(deadline)
    status = np.select(
        [since.isna(), late & ~rules.late_registration_counts, late],
        [Registration.NONE, Registration.LATE_REFUSED, Registration.LATE],
        Registration.ON_TIME,
    )
    counts = (since.notna() & ~(late & ~rules.late_registration_counts)).to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "registration": pd.Series(status, index=index, dtype=object).map(Registration),
            "registered_in": since,
            "registered": np.where(counts, S.YES, S.NO),
        },
        index=index,
    )


def _judge_registration(
    verdict: Verdict, registered: pd.DataFrame, catalogue: Catalogue
) -> pd.Series:
    """Registration findings; returns `not_registered`: the rows registration leaves out (not
    registered, or late when late ones do not count), unless something else excluded them
    first (age), as the summary counts them."""
    status = registered["registration"]
    findings = [verdict.exclude(status.eq(Registration.NONE), "Chưa đăng ký thi đua")]
    refused = status.eq(Registration.LATE_REFUSED)
    if refused.any():
        deadline = catalogue.rules.registration_deadline
        findings.append(
            verdict.exclude(
                refused,
                "Đăng ký muộn (kỳ "
                + registered["registered_in"].astype(str)
                + f", hạn đăng ký: tháng {deadline}): theo Bộ tiêu chí, đăng ký sau hạn không "
                "được xét",
            )
        )
    return pd.Series(verdict.excluded_by(*findings), index=registered.index, dtype=bool)


def _judge_votes(
    verdict: Verdict,
    frame: pd.DataFrame,
    title: Title,
    catalogue: Catalogue,
    period: Period,
    attendees: pd.Series,
) -> None:
    """Vote findings (Đọc trước: "Bình xét"): from the voting month, votes / attendees * 100 must
    be greater than the title's threshold."""
    if title.vote_threshold is None or period.month < catalogue.rules.voting_month:
        return
    votes = pd.to_numeric(frame.get("votes", pd.Series(np.nan, index=frame.index)), errors="coerce")
    present = pd.to_numeric(attendees, errors="coerce")
    no_votes = votes.isna()
    no_meeting = present.isna() | present.le(0)
    verdict.lack(no_votes, blank_text(frame, "votes", S.VOTES.label))
    verdict.lack(~no_votes & no_meeting, "Số người dự họp (sheet Thông tin): ô trống")
    # Compared as it is, rounded only where shown (round(9): the float noise of the division).
    share_ = (votes / present.where(~no_meeting) * 100).round(9)
    low = ~no_votes & ~no_meeting & ~share_.gt(title.vote_threshold).fillna(False)
    if low.any():
        words = pd.Series("", index=frame.index, dtype=object)
        words[low] = [
            f"Số phiếu đồng ý {v:g}/{a:g} ({number_text(p, '%')}) không vượt quá "
            f"{title.vote_threshold:g}%"
            for v, a, p in zip(votes[low], present[low], share_[low].round(2), strict=True)
        ]
        verdict.fail(low, words)


def _assemble(
    frame: pd.DataFrame, judged: pd.DataFrame, verdict: Verdict, note: np.ndarray, codes: set[str]
) -> pd.DataFrame:
    """The input columns (but the criteria, now statuses) beside what scoring found."""
    result = pd.concat([judged, verdict.result(note)], axis=1)
    keep = [c for c in frame.columns if c not in result.columns and c not in codes]
    return pd.concat([frame[keep], result], axis=1)


# --- the levels --------------------------------------------------------------------------------


def score_citizens(
    citizens: pd.DataFrame, catalogue: Catalogue, period: Period, attendees: pd.Series
) -> pd.DataFrame:
    """Citizens scored for the citizen title; ``citizens`` have been through people.identify
    and people.place (score does it)."""
    title = catalogue.citizen_title
    criteria = catalogue.criteria_of(title.code)
    frame = citizens.copy(deep=False)
    verdict = Verdict(frame.index)
    if people.SAME_PERSON in frame:
        same = frame[people.SAME_PERSON].fillna("")
        verdict.unsure(same.ne(""), same)
    frame["age"] = _judge_age(verdict, frame, title, catalogue, period)
    registered = registration(frame, title, catalogue, period)
    frame = frame.drop(columns=[c for c in registered.columns if c in frame]).join(registered)
    frame["not_registered"] = _judge_registration(verdict, registered, catalogue)
    found = _form_assessment(frame, criteria)
    judged, note = _judge_criteria(verdict, frame.index, title, criteria, found)
    _judge_votes(verdict, frame, title, catalogue, period, frame["unit_code"].map(attendees))
    for code, values in found.values.items():
        judged[code + "_value"] = values
    scored = _assemble(frame, judged, verdict, note, {c.code for c in criteria})
    return _copy_results(scored)


def _copy_results(scored: pd.DataFrame) -> pd.DataFrame:
    """An agency's row of a person a tổ dân phố scores takes that row's result (one person, one
    result), its Lý do saying where it comes from."""
    copies = people.is_copy(scored)
    if not copies.any():
        return scored
    ids = scored["cccd"]
    winners = scored[~copies & ids.notna()].drop_duplicates("cccd").set_index("cccd")
    scored = scored.copy(deep=False)
    for column in ("outcome", "achieved", "undecided", "missing"):
        scored.loc[copies, column] = ids[copies].map(winners[column]).to_numpy()
    scored.loc[copies, "reason"] = (
        "Chấm tại "
        + scored.loc[copies, people.SCORED_IN].astype(str)
        + " (cùng số CCCD, nơi cư trú): "
        + ids[copies].map(winners["reason"]).fillna("").astype(str)
    )
    return scored


def _member_flags(
    citizens: pd.DataFrame, source: str, catalogue: Catalogue, period: Period
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(counted, reaching, label) of each citizen for a roll-up of ``source``: a title (counted
    when of its age; reaching it when it is achieved) or a criterion (everyone counted; reaching
    it when it is met). Nullable booleans, <NA> when not known; the label names the person and,
    when not known, the data missing."""
    titles = {t.code: t for t in catalogue.titles}
    among = pd.Series(True, index=citizens.index, dtype="boolean")
    if source in titles:
        title = titles[source]
        if title.min_age:
            birth = citizens.get("birth_date", pd.Series(None, index=citizens.index))
            low, high = age_bounds(
                birth, citizens.get("birth_year"), catalogue.age_date(period.year)
            )
            among = pd.Series(pd.NA, index=citizens.index, dtype="boolean")
            among[low.ge(title.min_age).fillna(False).astype(bool)] = True
            among[high.lt(title.min_age).fillna(False).astype(bool)] = False
        flag = citizens["achieved"].astype("boolean")
        why = citizens["missing"].fillna("").astype(str)
    else:
        status = citizens[source] if source in citizens else pd.Series("", index=citizens.index)
        flag = pd.Series(pd.NA, index=citizens.index, dtype="boolean")
        flag[status.eq(S.PASS).fillna(False).astype(bool)] = True
        flag[status.eq(S.FAIL).fillna(False).astype(bool)] = False
        label = next((c.label for c in catalogue.criteria if c.code == source), source)
        why = blank_text(citizens, source, label).where(flag.isna(), "")
    if people.SAME_PERSON in citizens:
        # Rule 10: a CCCD the units have not yet agreed on is not known in any share, whatever
        # its row says (the person may not be a member at all).
        same = citizens[people.SAME_PERSON].fillna("").astype(str)
        flag = flag.mask(same.ne(""), pd.NA)
        why = same.where(same.ne(""), why)
    # A label is read only for a member whose result or counting is not known (rollup.share):
    # the others' are not made (a district's 300,000 names, per criterion rolled up).
    waiting = (flag.isna() | among.isna()).to_numpy()
    label = pd.Series(filled(len(citizens), ""), index=citizens.index, dtype=object)
    if waiting.any():
        names = citizens["full_name"][waiting].fillna("").astype(str)
        why = why[waiting]
        label[waiting] = names + np.where(why.ne(""), " (" + why + ")", "")
    return among, flag, label


def _household_flags(
    households: pd.DataFrame, source: str, catalogue: Catalogue
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(counted, reaching, label) of each household for a unit's roll-up of ``source``."""
    among = pd.Series(True, index=households.index, dtype="boolean")
    if source in {t.code for t in catalogue.titles}:
        flag = households["achieved"].astype("boolean")
    else:
        status = (
            households[source] if source in households else pd.Series("", index=households.index)
        )
        flag = pd.Series(pd.NA, index=households.index, dtype="boolean")
        flag[status.eq(S.PASS).fillna(False).astype(bool)] = True
        flag[status.eq(S.FAIL).fillna(False).astype(bool)] = False
    head = households["head_name"].fillna("").astype(str)
    label = households["household_code"].astype(str) + np.where(head.ne(""), " (" + head + ")", "")
    return among, flag, pd.Series(label, index=households.index, dtype=object)


def _source_level(criterion: Criterion, catalogue: Catalogue) -> str:
    """The level a `tong_hop` criterion rolls up: its source title's, or its source criterion's
    title's (the loader has checked it is the level below)."""
    titles = {t.code: t for t in catalogue.titles}
    if criterion.source in titles:
        return titles[criterion.source].level
    owner = next((c.title for c in catalogue.criteria if c.code == criterion.source), "")
    return titles[owner].level if owner in titles else S.LEVEL_CITIZEN


def _roll_up(
    found: Assessment,
    criterion: Criterion,
    lower: pd.DataFrame,
    groups: pd.Series,
    keys: pd.Series,
    catalogue: Catalogue,
    period: Period,
) -> None:
    """A `tong_hop` criterion of the upper level, from ``lower`` grouped by ``groups``."""
    source = criterion.source or ""
    if _source_level(criterion, catalogue) == S.LEVEL_HOUSEHOLD:
        among, flag, label = _household_flags(lower, source, catalogue)
        noun = "hộ"
    else:
        among, flag, label = _member_flags(lower, source, catalogue, period)
        noun = "người"
    measured: Share = share(groups, among, flag, label, keys, noun)
    passes = measured.passes(criterion)
    found.passes[criterion.code] = passes
    found.values[criterion.code] = measured.value()
    found.unknown[criterion.code] = measured.unknown_text(criterion, noun)


def score_households(
    households: pd.DataFrame,
    citizens: pd.DataFrame,
    catalogue: Catalogue,
    period: Period,
    attendees: pd.Series,
) -> pd.DataFrame:
    """Households scored for the household title; ``citizens`` are scored, with the household
    each belongs to (people.place)."""
    title = catalogue.household_title
    criteria = catalogue.criteria_of(title.code)
    frame = households.copy(deep=False)
    key = people.household_key(frame["unit_code"], frame["household_code"])
    members = (
        citizens[citizens[people.MEMBER_OF].notna()]
        if people.MEMBER_OF in citizens
        else citizens.iloc[0:0]
    )
    groups = members[people.MEMBER_OF] if not members.empty else pd.Series(dtype=object)
    found = _form_assessment(frame, [c for c in criteria if c.rules.on_form])
    for criterion in criteria:
        if not criterion.rules.on_form:
            _roll_up(found, criterion, members, groups, key, catalogue, period)
    counted = (
        pd.DataFrame(
            {
                "g": groups,
                "n": 1,
                "ok": members["outcome"].eq(S.ACHIEVED) if not members.empty else [],
            }
        )
        .groupby("g")[["n", "ok"]]
        .sum()
    )
    frame["carried"] = carried_text(frame, {c.code: c.label for c in criteria})
    frame = frame.drop(columns=[CARRIED], errors="ignore")
    frame["members"] = key.map(counted["n"]).fillna(0).astype(int)
    frame["members_achieved"] = key.map(counted["ok"]).fillna(0).astype(int)
    verdict = Verdict(frame.index)
    registered = registration(frame, title, catalogue, period)
    frame = frame.drop(columns=[c for c in registered.columns if c in frame]).join(registered)
    frame["not_registered"] = _judge_registration(verdict, registered, catalogue)
    judged, note = _judge_criteria(verdict, frame.index, title, criteria, found)
    _judge_votes(verdict, frame, title, catalogue, period, frame["unit_code"].map(attendees))
    for code, values in found.values.items():
        judged[code + "_value"] = values
    return _assemble(frame, judged, verdict, note, {c.code for c in criteria})


def effective_tasks(tasks: pd.DataFrame, catalogue: Catalogue, period: Period) -> pd.DataFrame:
    """The task table with the result that counts for each row and whether it is behind its
    roadmap (Đọc trước: "Tổ dân phố"): the Ban chỉ đạo's inspection when written, else the
    self-assessment, or for a number criterion (`so`, `diem`) its measured value against the
    threshold."""
    if tasks.empty:
        return tasks.assign(effective=pd.Series(dtype=object), behind=pd.Series(dtype=bool))
    own = tasks["self_assessment"].astype(object)
    for criterion in catalogue.criteria_of(catalogue.unit_title.code):
        if not criterion.rules.numeric:
            continue
        rows = tasks["criterion"].eq(criterion.code)
        if rows.any():
            own[rows] = _status(criterion.rules.passes(tasks.loc[rows, "value"])).replace("", None)
    inspected = tasks["inspection"].where(~tasks["inspection"].map(is_blank))
    effective = inspected.where(inspected.notna(), own).astype(object)
    planned = pd.to_numeric(tasks["planned_month"], errors="coerce")
    behind = planned.lt(period.month).fillna(False).astype(bool) & effective.ne(S.PASS)
    return tasks.assign(effective=effective, behind=behind)


def _task_assessment(
    frame: pd.DataFrame, tasks: pd.DataFrame, criteria: list[Criterion]
) -> Assessment:
    """The unit criteria from the Tổ dân phố sheet: met when every row of the criterion is,
    not met when one is not, not known otherwise; a number criterion quotes its first value."""
    found = Assessment()
    index = frame.index
    for criterion in criteria:
        rows = tasks[tasks["criterion"].eq(criterion.code)] if not tasks.empty else tasks
        result = pd.Series(pd.NA, index=index, dtype="boolean")
        why = pd.Series(
            criterion.label + ": không có dòng nào trên biểu mẫu", index=index, dtype=object
        )
        if not rows.empty:
            done = rows["effective"].eq(S.PASS)
            failed = rows["effective"].eq(S.FAIL)
            per_unit = (
                pd.DataFrame({"u": rows["unit_code"], "done": done, "failed": failed, "n": 1})
                .groupby("u")
                .sum()
            )
            all_done = frame["unit_code"].map(per_unit["done"] == per_unit["n"])
            any_failed = frame["unit_code"].map(per_unit["failed"] > 0)
            result[all_done.eq(True).fillna(False).astype(bool)] = True
            result[any_failed.eq(True).fillna(False).astype(bool)] = False
            open_rows = rows[~done & ~failed]
            if not open_rows.empty:
                names = open_rows["task"].where(~open_rows["task"].map(is_blank), criterion.code)
                listed = names.astype(str).groupby(open_rows["unit_code"]).agg(", ".join)
                what = "Giá trị đo được" if criterion.rules.numeric else "Tự đánh giá"
                why = why.where(
                    ~frame["unit_code"].isin(listed.index),
                    criterion.label
                    + f": chưa có {what} hay kết quả kiểm tra ở dòng "
                    + frame["unit_code"].map(listed).fillna(""),
                )
        found.passes[criterion.code] = result
        found.unknown[criterion.code] = why
        if criterion.rules.numeric:
            first = rows.groupby("unit_code")["value"].first() if not rows.empty else pd.Series()
            found.values[criterion.code] = pd.to_numeric(
                frame["unit_code"].map(first), errors="coerce"
            )
    return found


def _unit_counts(
    frame: pd.DataFrame, households: pd.DataFrame, citizens: pd.DataFrame
) -> pd.DataFrame:
    """Households and citizens of each unit: all, those reaching their title, those whose
    registration counts (`_registered`) and those registration leaves out (`_not_registered`,
    each told why in Lý do). An agency's copy of a tổ's resident counts in the tổ only."""
    own = citizens[~people.is_copy(citizens)] if not citizens.empty else citizens
    counts = pd.DataFrame(index=frame.index)

    def per_unit(rows: pd.DataFrame, mask: pd.Series | None = None) -> pd.Series:
        if rows.empty:
            return pd.Series(0, index=frame.index, dtype=int)
        chosen = rows if mask is None else rows[mask.fillna(False).astype(bool)]
        sizes = chosen.groupby("unit_code").size()
        return frame["unit_code"].map(sizes).fillna(0).astype(int)

    for name, rows in (("households", households), ("citizens", own)):
        counts[name] = per_unit(rows)
        if rows.empty:
            for suffix in ("_achieved", "_registered", "_not_registered"):
                counts[name + suffix] = 0
            continue
        counts[name + "_achieved"] = per_unit(rows, rows["outcome"].eq(S.ACHIEVED))
        counts[name + "_registered"] = per_unit(rows, rows["registered"].eq(S.YES))
        counts[name + "_not_registered"] = per_unit(rows, rows["not_registered"])
    counts["household_rate"] = (
        counts["households_achieved"] / counts["households"].where(counts["households"] > 0) * 100
    ).round(1)
    return counts[
        [
            "households",
            "households_achieved",
            "household_rate",
            "citizens",
            "citizens_achieved",
            *(f"{level}_{what}" for level in ("citizens", "households") for what in REGISTRATION),
        ]
    ]


def _carried_tasks(frame: pd.DataFrame, tasks: pd.DataFrame, catalogue: Catalogue) -> pd.Series:
    """Per unit, the values of its Tổ dân phố sheet taken from an earlier period."""
    if tasks.empty or CARRIED not in tasks:
        return pd.Series("", index=frame.index, dtype=object)
    labels = {c.code: c.label for c in catalogue.criteria}
    marked = tasks[tasks[CARRIED].map(lambda v: isinstance(v, dict) and "value" in v)]
    texts = [
        f"{labels.get(code, code)}: {number_text(value)} ({carried_from(str(marks['value']))})"
        for code, value, marks in zip(
            marked["criterion"], marked["value"], marked[CARRIED], strict=True
        )
    ]
    per_unit = (
        pd.Series(texts, index=marked.index, dtype=object)
        .groupby(marked["unit_code"])
        .agg("; ".join)
    )
    return frame["unit_code"].map(per_unit).astype(object).fillna("")


def score_units(
    units: pd.DataFrame,
    tasks: pd.DataFrame,
    households: pd.DataFrame,
    citizens: pd.DataFrame,
    catalogue: Catalogue,
    period: Period,
) -> pd.DataFrame:
    """Score the tổ dân phố title for units of kind Tổ dân phố; other units get counts only.
    ``tasks`` come from effective_tasks; ``households`` and ``citizens`` are scored."""
    title = catalogue.unit_title
    criteria = catalogue.criteria_of(title.code)
    frame = units.copy(deep=False)
    found = _task_assessment(frame, tasks, [c for c in criteria if c.rules.on_form])
    for criterion in criteria:
        if criterion.rules.on_form:
            continue
        if _source_level(criterion, catalogue) == S.LEVEL_HOUSEHOLD:
            lower, groups = households, households["unit_code"]
        else:
            residents = (
                citizens[people.RESIDENT_OF].notna() if people.RESIDENT_OF in citizens else []
            )
            lower = citizens[residents] if len(residents) else citizens.iloc[0:0]
            groups = (
                lower[people.RESIDENT_OF] if people.RESIDENT_OF in lower else lower["unit_code"]
            )
        _roll_up(found, criterion, lower, groups, frame["unit_code"], catalogue, period)
    frame = frame.join(_unit_counts(frame, households, citizens))
    frame["carried"] = _carried_tasks(frame, tasks, catalogue)
    verdict = Verdict(frame.index)
    if "kind" in frame:
        verdict.exclude(
            frame["kind"].ne(S.UNIT_KIND_TDP),
            f"Không xét danh hiệu {title.name} (không phải tổ dân phố)",
        )
    judged, note = _judge_criteria(verdict, frame.index, title, criteria, found)
    for code, values in found.values.items():
        judged[code + "_value"] = values
    return _assemble(frame, judged, verdict, note, set())


def score(
    citizens: pd.DataFrame,
    households: pd.DataFrame,
    units: pd.DataFrame,
    tasks: pd.DataFrame,
    catalogue: Catalogue,
    period: Period,
) -> Results:
    """Score every level; each frame carries `unit_code`. Pure: the same input, the same output.

    ``units`` are the units that sent a form, with `kind` and the meeting's `attendees`."""
    attendees = units.set_index("unit_code")["attendees"] if "attendees" in units else pd.Series()
    tdp = {unit.code for unit in catalogue.units if unit.is_tdp}
    placed = people.place(people.identify(citizens, tdp), households, tdp)
    scored_citizens = score_citizens(placed, catalogue, period, attendees)
    scored_households = score_households(households, scored_citizens, catalogue, period, attendees)
    task_table = effective_tasks(tasks, catalogue, period)
    scored_units = score_units(
        units, task_table, scored_households, scored_citizens, catalogue, period
    )
    return Results(scored_citizens, scored_households, scored_units, task_table)
