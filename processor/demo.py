"""A deterministic sample town, written as the filled forms its units would send back.

The town has the size of the real one (SPEC §8): the units of the catalogue's register, about
6,000 households and 25,000 citizens. Two periods are written so progress can be shown: an
October report and the November evaluation (votes, inspection). Names come from Faker's vi_VN
provider; everything is driven by one seed, so the same seed gives byte-identical workbooks.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from faker import Faker

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue, Criterion, Unit
from processor.domain.form_layout import unit_task_rows
from processor.domain.periods import Period
from processor.outputs.forms import Roster, write_form

DEFAULT_SEED = 2021
HOUSEHOLDS_PER_TDP = (215, 265)
STAFF_PER_AGENCY = (28, 60)


@dataclass
class _Person:
    household_code: str
    full_name: str
    birth_date: dt.date
    gender: str
    cccd: str | None
    quality: float  # how likely this person meets a criterion


class _Names:
    """Vietnamese names from Faker's vi_VN lists, composed family + middle + given."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        fake = Faker("vi_VN")
        fake.seed_instance(seed)
        provider = fake.provider("faker.providers.person")
        self.rng = rng
        self.family = list(provider.last_names)
        self.male = list(provider.first_names_male)
        self.female = list(provider.first_names_female)
        self.middle = list(provider.middle_names)

    def person(self, family: str, gender: str) -> str:
        common = "Văn" if gender == S.MALE else "Thị"
        middle = common if self.rng.random() < 0.45 else self.rng.choice(self.middle)
        given = self.rng.choice(self.male if gender == S.MALE else self.female)
        return f"{family} {middle} {given}"


def _birth(rng: random.Random, low: int, high: int, year: int) -> dt.date:
    age = rng.randint(low, high)
    start = dt.date(year - age, 1, 1)
    return start + dt.timedelta(days=rng.randint(0, 364))


def _cccd(rng: random.Random, birth: dt.date, gender: str) -> str:
    # Thanh Hóa's province code is 038; the 4th digit encodes century and sex (Thông tư 59/2021).
    century = 0 if birth.year < 2000 else 2
    sex_digit = century + (0 if gender == S.MALE else 1)
    return f"038{sex_digit}{birth.year % 100:02d}{rng.randint(0, 999999):06d}"


def _households(unit: Unit, names: _Names, rng: random.Random, year: int, model_share: float):
    count = rng.randint(*HOUSEHOLDS_PER_TDP)
    streets = [
        "Phố Lê Lợi",
        "Phố Trần Phú",
        "Đường Hoàng Văn Thụ",
        "Phố Nguyễn Trãi",
        "Phố Lý Thường Kiệt",
        "Đường Bà Triệu",
        "Phố Quang Trung",
        "Ngõ Văn Hóa",
    ]
    number = int(unit.code[-2:])
    households, people = [], []
    for h in range(1, count + 1):
        code = f"{unit.code}-H{h:03d}"
        family = rng.choice(names.family)
        head_gender = S.MALE if rng.random() < 0.8 else S.FEMALE
        members: list[tuple[str, dt.date, str]] = []
        head = names.person(family, head_gender)
        members.append((head, _birth(rng, 28, 78, year), head_gender))
        if rng.random() < 0.85:
            spouse_gender = S.FEMALE if head_gender == S.MALE else S.MALE
            spouse = names.person(rng.choice(names.family), spouse_gender)
            members.append((spouse, _birth(rng, 25, 75, year), spouse_gender))
        for _ in range(rng.choices([0, 1, 2, 3, 4], [8, 22, 40, 22, 8])[0]):
            gender = rng.choice([S.MALE, S.FEMALE])
            members.append((names.person(family, gender), _birth(rng, 0, 30, year), gender))
        if rng.random() < 0.2:
            gender = rng.choice([S.MALE, S.FEMALE])
            members.append((names.person(family, gender), _birth(rng, 70, 92, year), gender))
        households.append(
            {
                "household_code": code,
                "head_name": head,
                "address": f"Số {rng.randint(1, 300)}, {rng.choice(streets)}, Tổ dân phố {number}",
            }
        )
        # Households that work at it meet nearly every criterion; the rest are a mixed lot.
        model = rng.random() < model_share
        quality = 0.997 if model else rng.betavariate(6, 1.6)
        for full_name, birth, gender in members:
            adult = (year - birth.year) >= 14
            people.append(
                _Person(
                    code,
                    full_name,
                    birth,
                    gender,
                    _cccd(rng, birth, gender) if adult else None,
                    quality if model else min(1.0, quality + rng.uniform(-0.05, 0.05)),
                )
            )
    return households, people


def _staff(unit: Unit, names: _Names, rng: random.Random, year: int) -> list[_Person]:
    people = []
    for _ in range(rng.randint(*STAFF_PER_AGENCY)):
        gender = rng.choice([S.MALE, S.FEMALE])
        birth = _birth(rng, 23, 59, year)
        people.append(
            _Person(
                "",
                names.person(rng.choice(names.family), gender),
                birth,
                gender,
                _cccd(rng, birth, gender),
                rng.betavariate(12, 1.2),
            )
        )
    return people


def _assess(rng: random.Random, quality: float, progress: float) -> str:
    return S.PASS if rng.random() < quality * progress else S.FAIL


def _criterion_value(rng: random.Random, criterion: Criterion, quality: float, progress: float):
    return criterion.rules.sample(rng, quality * progress)


def _citizen_rows(
    catalogue: Catalogue,
    people: list[_Person],
    rng: random.Random,
    period: Period,
    progress: float,
    attendees: int | None,
) -> pd.DataFrame:
    title = catalogue.citizen_title
    criteria = catalogue.form_criteria(title.code)
    min_age = title.min_age or 0
    rolled_up = {c.source for c in catalogue.criteria if not c.rules.on_form}
    rows = []
    for person in people:
        age = period.year - person.birth_date.year
        row: dict[str, object] = {
            "household_code": person.household_code or None,
            "full_name": person.full_name,
            "birth_date": person.birth_date,
            "gender": person.gender,
            "cccd": person.cccd,
        }
        if age >= min_age:
            row["registered"] = S.YES if rng.random() < 0.80 + 0.2 * person.quality else S.NO
            for criterion in criteria:
                row[criterion.code] = _criterion_value(rng, criterion, person.quality, progress)
            if attendees and row["registered"] == S.YES:
                row["votes"] = _votes(rng, attendees, person.quality)
        else:
            # Children are not candidates, but criteria that a roll-up counts over all members
            # (health insurance in the default catalogue) are assessed for them too.
            for criterion in criteria:
                if criterion.code in rolled_up:
                    row[criterion.code] = _assess(rng, 0.995, 1.0)
        # A baby born after the month reported on is not on that month's form. The row is drawn
        # all the same, so the other people's values do not change with the period.
        after = period.next()
        if person.birth_date < dt.date(after.year, after.month, 1):
            rows.append(row)
    return pd.DataFrame(rows)


def _votes(rng: random.Random, attendees: int, quality: float) -> int:
    share = min(1.0, max(0.2, rng.gauss(0.55 + 0.4 * quality, 0.12)))
    return min(attendees, round(attendees * share))


def _household_rows(
    catalogue: Catalogue,
    households: list[dict],
    people: list[_Person],
    rng: random.Random,
    progress: float,
    attendees: int | None,
) -> pd.DataFrame:
    criteria = catalogue.form_criteria(catalogue.household_title.code)
    quality = {p.household_code: p.quality for p in people}
    rows = []
    for household in households:
        q = quality.get(household["household_code"], 0.8)
        row = dict(household)
        row["registered"] = S.YES if rng.random() < 0.80 + 0.2 * q else S.NO
        for criterion in criteria:
            row[criterion.code] = _criterion_value(rng, criterion, q, progress)
        if attendees and row["registered"] == S.YES:
            row["votes"] = _votes(rng, attendees, q)
        rows.append(row)
    return pd.DataFrame(rows)


def _task_rows(
    catalogue: Catalogue, rng: random.Random, names: _Names, unit_quality: float, period: Period
) -> pd.DataFrame:
    by_code = {c.code: c for c in catalogue.criteria}
    rows = []
    for task in unit_task_rows(catalogue):
        criterion = by_code[str(task["criterion"])]
        planned = rng.randint(3, 10)
        done = planned <= period.month and rng.random() < (0.995 if unit_quality > 0.8 else 0.75)
        row = {
            "criterion": task["criterion"],
            "task": task["task"],
            "current_state": rng.choice(
                ["Đang triển khai", "Đã có kế hoạch", "Cơ bản hoàn thành", "Đã hoàn thành một phần"]
            ),
            "planned_month": planned,
            "responsible": names.person(rng.choice(names.family), rng.choice([S.MALE, S.FEMALE])),
            "self_assessment": S.PASS if done else S.FAIL,
        }
        if criterion.rules.numeric:
            row["value"] = _criterion_value(
                rng, criterion, 0.995 if unit_quality > 0.8 else 0.6, 1.0
            )
            row["self_assessment"] = None
        if period.month == 11 and not criterion.rules.numeric:
            # The Ban chỉ đạo's inspection mostly confirms, sometimes corrects.
            row["inspection"] = row["self_assessment"] if rng.random() < 0.97 else S.FAIL
        rows.append(row)
    return pd.DataFrame(rows)


def build_sample_town(
    catalogue: Catalogue,
    root: Path,
    seed: int = DEFAULT_SEED,
    periods: tuple[str, ...] = ("2021-10", "2021-11"),
) -> dict[str, list[Path]]:
    """Write the sample town's forms: `root/inbox/` for the last period, `root/<period>/` others."""
    written: dict[str, list[Path]] = {}
    parsed = [Period.parse(p) for p in periods]
    last = max(parsed)
    rng = random.Random(seed)
    names = _Names(rng, seed)
    year = last.year
    town = []
    for unit in catalogue.units:
        # About a quarter of the groups are strong candidates for the unit title.
        unit_quality = 0.9 if rng.random() < 0.28 else rng.uniform(0.3, 0.7)
        if unit.is_tdp:
            households, people = _households(unit, names, rng, year, unit_quality)
        else:
            households, people = [], _staff(unit, names, rng, year)
        town.append((unit, unit_quality, households, people))
    for period in sorted(parsed):
        folder = root / ("inbox" if period == last else str(period))
        # Each period draws from its own stream so adding a period does not reshuffle the others.
        prng = random.Random(f"{seed}-{period}")
        progress = 0.93 + 0.07 * (period.month / 11)
        paths = []
        for unit, unit_quality, households, people in town:
            november = period.month == 11
            attendees = prng.randint(35, 90) if november else None
            info = {
                "reporter": unit.head,
                "phone": f"09{prng.randint(10_000_000, 99_999_999)}",
                "report_date": dt.date(period.year, period.month, 20),
            }
            if november:
                info |= {
                    "meeting_date": dt.date(period.year, 11, prng.randint(10, 18)),
                    "attendees": attendees,
                    "chair": unit.head,
                    "secretary": names.person(prng.choice(names.family), S.FEMALE),
                }
            roster = Roster(
                citizens=_citizen_rows(catalogue, people, prng, period, progress, attendees),
                households=_household_rows(catalogue, households, people, prng, progress, attendees)
                if unit.is_tdp
                else pd.DataFrame(),
                tasks=_task_rows(catalogue, prng, names, unit_quality, period)
                if unit.is_tdp
                else pd.DataFrame(),
                info=info,
            )
            paths.append(
                write_form(catalogue, unit, period, folder / f"{unit.code}_{period}.xlsx", roster)
            )
        written[str(period)] = paths
    return written
