"""Synthetic inboxes at town, district and larger scale, as filled unit forms (SPEC §8).

Each scale is a catalogue copy whose `Đơn vị` register lists the generated units (TDP001…,
CQ001…) and one November 2021 inbox of filled forms written by the package's own writer
(`processor.outputs.forms.write_form`), so the benchmark reads exactly what units send back.

    /work/venv/bin/python benchmarks/generate.py --scale town
    /work/venv/bin/python benchmarks/generate.py --scale district
    /work/venv/bin/python benchmarks/generate.py --scale large      # ~1,000,000 citizens, slow

Output (git-ignored): ``benchmarks/_data/<scale>/{bo_tieu_chi.xlsx, inbox/, manifest.json}``.
A scale already generated with the same parameters is reused; ``--force`` rewrites it.
Everything is driven by ``--seed`` and the unit's index, so the result does not depend on the
number of worker processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from processor.domain import schema as S  # noqa: E402
from processor.domain.catalogue import (  # noqa: E402
    DEFAULT_CATALOGUE,
    Catalogue,
    Criterion,
    Unit,
    load_catalogue,
)
from processor.domain.form_layout import unit_task_rows  # noqa: E402
from processor.domain.periods import Period  # noqa: E402
from processor.outputs.forms import Roster, write_form  # noqa: E402

GENERATOR_VERSION = 1
DATA_DIR = Path(__file__).resolve().parent / "_data"
PERIOD = "2021-11"
STAFF_PER_AGENCY = (28, 60)
MEAN_STAFF = sum(STAFF_PER_AGENCY) / 2
# Household make-up (as in processor.demo): head, spouse 85%, 0-4 children, an elder 20%.
CHILDREN = ([0, 1, 2, 3, 4], [0.08, 0.22, 0.40, 0.22, 0.08])
MEAN_HOUSEHOLD = 1 + 0.85 + sum(n * p for n, p in zip(*CHILDREN, strict=True)) + 0.2


@dataclass(frozen=True)
class Scale:
    name: str
    tdp: int  # tổ dân phố (households, citizens, tasks)
    agencies: int  # cơ quan (staff only)
    citizens: int  # target; the generated count is within a few percent

    @property
    def units(self) -> int:
        return self.tdp + self.agencies

    @property
    def households_per_tdp(self) -> float:
        return (self.citizens - self.agencies * MEAN_STAFF) / (self.tdp * MEAN_HOUSEHOLD)


SCALES = {
    "town": Scale("town", 27, 3, 25_000),  # SPEC §8: ~30 units, ~25,000 citizens
    "district": Scale("district", 370, 30, 300_000),  # SPEC §8: ~400 units, ~300,000
    "large": Scale("large", 1_110, 90, 1_000_000),  # a big district / small province
}


# --- the catalogue copy ------------------------------------------------------------------------


def make_units(scale: Scale, names: _Names, rng: np.random.Generator) -> tuple[Unit, ...]:
    units = []
    for i in range(1, scale.tdp + 1):
        code = f"TDP{i:03d}"
        head = names.full(rng, S.MALE if rng.random() < 0.7 else S.FEMALE)
        email = f"{code.lower()}@x.vn"
        units.append(Unit(code, f"Tổ dân phố số {i}", S.UNIT_KIND_TDP, head, email))
    for i in range(1, scale.agencies + 1):
        code = f"CQ{i:03d}"
        head = names.full(rng, S.MALE if rng.random() < 0.6 else S.FEMALE)
        email = f"{code.lower()}@x.vn"
        units.append(Unit(code, f"Cơ quan số {i}", S.UNIT_KIND_AGENCY, head, email))
    return tuple(units)


def write_catalogue(
    units: tuple[Unit, ...], target: Path, source: Path = DEFAULT_CATALOGUE
) -> Path:
    """A copy of the catalogue workbook whose `Đơn vị` register lists ``units``."""
    import openpyxl

    book = openpyxl.load_workbook(source)
    sheet = book[S.CAT_UNITS.name]
    header = [str(c.value or "") for c in sheet[1]]
    order = {column.label: column.key for column in S.CAT_UNITS.columns}
    if sheet.max_row > 1:
        sheet.delete_rows(2, sheet.max_row - 1)
    for unit in units:
        record = asdict(unit)
        sheet.append([record.get(order.get(label, ""), None) for label in header])
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


# --- rosters -----------------------------------------------------------------------------------


class _Names:
    """Vietnamese names from Faker's vi_VN lists, composed family + middle + given."""

    def __init__(self) -> None:
        from faker import Faker

        provider = Faker("vi_VN").provider("faker.providers.person")
        self.family = np.array(list(provider.last_names), dtype=object)
        self.male = np.array(list(provider.first_names_male), dtype=object)
        self.female = np.array(list(provider.first_names_female), dtype=object)
        self.middle = np.array(list(provider.middle_names), dtype=object)

    def many(self, rng: np.random.Generator, family: np.ndarray, male: np.ndarray) -> list[str]:
        n = len(family)
        common = np.where(male, "Văn", "Thị")
        middle = np.where(
            rng.random(n) < 0.45, common, self.middle[rng.integers(0, len(self.middle), n)]
        )
        given = np.where(
            male,
            self.male[rng.integers(0, len(self.male), n)],
            self.female[rng.integers(0, len(self.female), n)],
        )
        return [f"{a} {b} {c}" for a, b, c in zip(family, middle, given, strict=True)]

    def families(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.family[rng.integers(0, len(self.family), n)]

    def full(self, rng: np.random.Generator, gender: str) -> str:
        return self.many(rng, self.families(rng, 1), np.array([gender == S.MALE]))[0]


def _birth_dates(rng: np.random.Generator, ages: np.ndarray, year: int) -> list[dt.date]:
    days = rng.integers(0, 365, len(ages))
    return [
        dt.date(year - int(a), 1, 1) + dt.timedelta(days=int(d))
        for a, d in zip(ages, days, strict=True)
    ]


# Province codes (Thông tư 59/2021) used in turn, so that a million generated IDs stay unique.
_PROVINCES = ("038", "037", "040", "036", "035", "027")
PEOPLE_PER_UNIT_MAX = 4_000


def _cccd(index: int, births: list[dt.date], male: np.ndarray) -> list[str]:
    """Unique 12-digit IDs: province, century and sex digit, year, 6-digit serial.

    Random serials collide (a district has ~1,500 people per birth year and sex); real IDs never
    do, and a collision would show up as a cross-unit duplicate. The serial is the person's
    global number instead, moving to the next province code past a million.
    """
    ids = []
    for i, (birth, is_male) in enumerate(zip(births, male, strict=True)):
        number = index * PEOPLE_PER_UNIT_MAX + i
        province = _PROVINCES[number // 1_000_000]
        sex_digit = (0 if birth.year < 2000 else 2) + (0 if is_male else 1)
        ids.append(f"{province}{sex_digit}{birth.year % 100:02d}{number % 1_000_000:06d}")
    return ids


def _values(
    rng: np.random.Generator, criterion: Criterion, quality: np.ndarray, progress: float
) -> np.ndarray:
    """One criterion's cells for many rows, better with ``quality`` (as processor.demo)."""
    n = len(quality)
    meets = rng.random(n) < quality * progress
    if criterion.kind == "dat":
        return np.where(meets, S.PASS, S.FAIL).astype(object)
    if criterion.kind == "diem":
        points = criterion.points or 10
        share = np.minimum(1.0, quality * progress + rng.uniform(-0.15, 0.1, n))
        return np.round(points * np.maximum(share, 0)).astype(float)
    threshold = criterion.threshold or 0
    if criterion.comparator in ("≥", ">"):
        good = threshold + rng.integers(1, 5, n)
        bad = np.maximum(0, threshold - rng.integers(1, 3, n))
        return np.where(meets, good, bad).astype(float)
    good = np.round(threshold * rng.uniform(0.2, 0.9, n), 1)
    bad = np.round(threshold * rng.uniform(1.05, 1.8, n), 1)
    return np.where(meets, good, bad)


def _votes(
    rng: np.random.Generator, attendees: int, quality: np.ndarray, registered: np.ndarray
) -> list[int | None]:
    share = np.clip(rng.normal(0.55 + 0.4 * quality, 0.12), 0.2, 1.0)
    votes = np.minimum(attendees, np.round(attendees * share)).astype(int)
    return [int(v) if r else None for v, r in zip(votes, registered, strict=True)]


def _people_of_households(rng: np.random.Generator, n_households: int, year: int):
    """Members of ``n_households`` households: household index, role, male flag, age."""
    head_male = rng.random(n_households) < 0.8
    spouse = rng.random(n_households) < 0.85
    children = rng.choice(CHILDREN[0], n_households, p=CHILDREN[1])
    elder = rng.random(n_households) < 0.2
    size = 1 + spouse + children + elder
    household = np.repeat(np.arange(n_households), size)
    starts = np.repeat(np.cumsum(size) - size, size)
    position = np.arange(len(household)) - starts
    role = np.full(len(household), "child", dtype=object)
    role[position == 0] = "head"
    role[(position == 1) & spouse[household]] = "spouse"
    role[(position == size[household] - 1) & elder[household] & (position > 0)] = "elder"
    male = rng.random(len(household)) < 0.5
    male[role == "head"] = head_male[household[role == "head"]]
    male[role == "spouse"] = ~head_male[household[role == "spouse"]]
    low = np.select([role == "head", role == "spouse", role == "elder"], [28, 25, 70], 0)
    high = np.select([role == "head", role == "spouse", role == "elder"], [78, 75, 92], 30)
    age = rng.integers(low, high + 1)
    return household, role, male, age


def unit_roster(
    catalogue: Catalogue,
    unit: Unit,
    index: int,
    scale: Scale,
    names: _Names,
    seed: int,
    period: Period,
    dirty: float,
) -> Roster:
    """The filled form of one unit: deterministic in (seed, index)."""
    rng = np.random.default_rng([seed, index])
    year = period.year
    progress = 0.93 + 0.07 * (period.month / 11)
    unit_quality = 0.9 if rng.random() < 0.28 else rng.uniform(0.3, 0.7)
    attendees = int(rng.integers(35, 91))
    info = {
        "reporter": unit.head,
        "phone": f"09{rng.integers(10_000_000, 100_000_000)}",
        "report_date": dt.date(year, period.month, 20),
        "meeting_date": dt.date(year, period.month, int(rng.integers(10, 19))),
        "attendees": attendees,
        "chair": unit.head,
        "secretary": names.full(rng, S.FEMALE),
    }
    households = pd.DataFrame()
    tasks = pd.DataFrame()
    if unit.is_tdp:
        mean = scale.households_per_tdp
        n_households = int(rng.integers(int(mean * 0.88), int(mean * 1.12) + 1))
        household, role, male, age = _people_of_households(rng, n_households, year)
        codes = np.array([f"{unit.code}-H{h + 1:04d}" for h in range(n_households)], dtype=object)
        family = names.families(rng, n_households)[household]
        is_spouse = role == "spouse"
        family[is_spouse] = names.families(rng, int(is_spouse.sum()))
        model = rng.random(n_households) < unit_quality
        base = np.where(model, 0.997, rng.beta(6, 1.6, n_households))
        jitter = np.where(model[household], 0.0, rng.uniform(-0.05, 0.05, len(household)))
        quality = np.minimum(1.0, base[household] + jitter)
        household_code = codes[household]
    else:
        n = int(rng.integers(STAFF_PER_AGENCY[0], STAFF_PER_AGENCY[1] + 1))
        male = rng.random(n) < 0.5
        age = rng.integers(23, 60, n)
        family = names.families(rng, n)
        quality = rng.beta(12, 1.2, n)
        household_code = np.full(n, None, dtype=object)
        role = np.full(n, "staff", dtype=object)
    full_name = names.many(rng, family, male)
    births = _birth_dates(rng, age, year)
    cccd = np.array(_cccd(index, births, male), dtype=object)
    cccd[age < 14] = None
    citizens = pd.DataFrame(
        {
            "household_code": household_code,
            "full_name": full_name,
            "birth_date": pd.Series(births, dtype=object),
            "gender": np.where(male, S.MALE, S.FEMALE),
            "cccd": cccd,
        }
    )
    adult = age >= (catalogue.citizen_title.min_age or 0)
    registered = adult & (rng.random(len(age)) < 0.80 + 0.2 * quality)
    citizens["registered"] = np.where(adult, np.where(registered, S.YES, S.NO), None)
    rolled_up = {c.source for c in catalogue.criteria if c.kind == "tong_hop"}
    for criterion in catalogue.form_criteria(catalogue.citizen_title.code):
        values = _values(rng, criterion, quality, progress).astype(object)
        # Children are not candidates, but criteria a roll-up counts over every member (health
        # insurance in the default catalogue) are assessed for them too.
        if criterion.code not in rolled_up:
            values[~adult] = None
        citizens[criterion.code] = values
    citizens["votes"] = _votes(rng, attendees, quality, registered)
    _dirty(rng, citizens, dirty, year)

    if unit.is_tdp:
        heads = np.flatnonzero(role == "head")
        head_quality = quality[heads]
        head_registered = rng.random(n_households) < 0.80 + 0.2 * head_quality
        streets = np.array(
            ["Phố Lê Lợi", "Phố Trần Phú", "Đường Hoàng Văn Thụ", "Phố Nguyễn Trãi", "Ngõ Văn Hóa"],
            dtype=object,
        )
        numbers = rng.integers(1, 301, n_households)
        street = streets[rng.integers(0, len(streets), n_households)]
        households = pd.DataFrame(
            {
                "household_code": codes,
                "head_name": [full_name[i] for i in heads],
                "address": [
                    f"Số {n}, {s}, {unit.name}" for n, s in zip(numbers, street, strict=True)
                ],
                "registered": np.where(head_registered, S.YES, S.NO),
            }
        )
        for criterion in catalogue.form_criteria(catalogue.household_title.code):
            households[criterion.code] = _values(rng, criterion, head_quality, progress)
        households["votes"] = _votes(rng, attendees, head_quality, head_registered)
        tasks = _task_rows(catalogue, rng, names, unit_quality, period)
    return Roster(citizens=citizens, households=households, tasks=tasks, info=info)


def _dirty(rng: np.random.Generator, citizens: pd.DataFrame, share: float, year: int) -> None:
    """A few cells as units really get them wrong: impossible dates, short CCCDs, dates as text."""
    if share <= 0 or citizens.empty:
        return
    picked = np.flatnonzero(rng.random(len(citizens)) < share)
    for i, kind in zip(picked, rng.integers(0, 3, len(picked)), strict=True):
        if kind == 0:
            citizens.at[i, "birth_date"] = f"31/02/{year - 40}"  # error: row rejected
        elif kind == 1 and isinstance(citizens.at[i, "cccd"], str):
            citizens.at[i, "cccd"] = str(citizens.at[i, "cccd"])[:11]  # error: 11 digits as text
        else:
            birth = citizens.at[i, "birth_date"]
            if isinstance(birth, dt.date):
                citizens.at[i, "birth_date"] = birth.strftime("%d/%m/%Y")  # warning: date as text


def _task_rows(
    catalogue: Catalogue,
    rng: np.random.Generator,
    names: _Names,
    unit_quality: float,
    period: Period,
) -> pd.DataFrame:
    by_code = {c.code: c for c in catalogue.criteria}
    states = ["Đang triển khai", "Đã có kế hoạch", "Cơ bản hoàn thành", "Đã hoàn thành một phần"]
    rows = []
    strong = unit_quality > 0.8
    for task in unit_task_rows(catalogue):
        criterion = by_code[str(task["criterion"])]
        planned = int(rng.integers(3, 11))
        done = planned <= period.month and rng.random() < (0.995 if strong else 0.75)
        row: dict[str, object] = {
            "criterion": task["criterion"],
            "task": task["task"],
            "current_state": states[int(rng.integers(0, len(states)))],
            "planned_month": planned,
            "responsible": names.full(rng, S.MALE if rng.random() < 0.5 else S.FEMALE),
            "self_assessment": S.PASS if done else S.FAIL,
        }
        if criterion.kind in ("so", "diem"):
            row["value"] = float(
                _values(rng, criterion, np.array([0.995 if strong else 0.6]), 1.0)[0]
            )
            row["self_assessment"] = None
        if period.month == 11 and criterion.kind == "dat":
            # The Ban chỉ đạo's inspection mostly confirms, sometimes corrects.
            row["inspection"] = row["self_assessment"] if rng.random() < 0.97 else S.FAIL
        rows.append(row)
    return pd.DataFrame(rows)


# --- parallel writing --------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(catalogue: Catalogue, scale: Scale, seed: int, inbox: Path, dirty: float) -> None:
    _WORKER.update(
        catalogue=catalogue, scale=scale, seed=seed, inbox=inbox, dirty=dirty, names=_Names()
    )


def _write_unit(index: int) -> dict[str, int | str]:
    catalogue: Catalogue = _WORKER["catalogue"]  # type: ignore[assignment]
    unit = catalogue.units[index]
    period = Period.parse(PERIOD)
    roster = unit_roster(
        catalogue,
        unit,
        index,
        _WORKER["scale"],  # type: ignore[arg-type]
        _WORKER["names"],  # type: ignore[arg-type]
        _WORKER["seed"],  # type: ignore[arg-type]
        period,
        _WORKER["dirty"],  # type: ignore[arg-type]
    )
    path = Path(_WORKER["inbox"]) / f"{unit.code}_{period}.xlsx"  # type: ignore[arg-type]
    write_form(catalogue, unit, period, path, roster)
    return {
        "unit": unit.code,
        "citizens": len(roster.citizens),
        "households": len(roster.households),
        "tasks": len(roster.tasks),
        "bytes": path.stat().st_size,
    }


def generate(
    scale: Scale,
    root: Path = DATA_DIR,
    seed: int = 2021,
    workers: int | None = None,
    dirty: float = 0.001,
    force: bool = False,
) -> dict:
    """Write (or reuse) the inbox of ``scale``; return its manifest."""
    folder = root / scale.name
    manifest_path = folder / "manifest.json"
    params = {
        "generator_version": GENERATOR_VERSION,
        "scale": asdict(scale),
        "seed": seed,
        "dirty": dirty,
        "period": PERIOD,
    }
    if manifest_path.exists() and not force:
        manifest = json.loads(manifest_path.read_text())
        inbox = folder / "inbox"
        if manifest.get("params") == params and len(list(inbox.glob("*.xlsx"))) == scale.units:
            return manifest
    if folder.exists():
        shutil.rmtree(folder)
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    started = time.perf_counter()
    rng = np.random.default_rng([seed, 10**9])
    units = make_units(scale, _Names(), rng)
    catalogue_path = write_catalogue(units, folder / "bo_tieu_chi.xlsx")
    # The forms are written with the catalogue `kieumau run --bo-tieu-chi` will load; it must be
    # the default catalogue with only the register replaced (same fingerprint, same criteria).
    catalogue = load_catalogue(catalogue_path)
    expected = replace(load_catalogue(), units=units)
    assert catalogue.units == expected.units, "the catalogue copy does not list the units"
    assert catalogue.fingerprint == expected.fingerprint
    workers = workers or os.cpu_count() or 1
    per_unit = []
    with multiprocessing.get_context("fork").Pool(
        workers, _init_worker, (catalogue, scale, seed, inbox, dirty)
    ) as pool:
        for i, done in enumerate(
            pool.imap_unordered(_write_unit, range(len(catalogue.units)), chunksize=1), start=1
        ):
            per_unit.append(done)
            if sys.stderr.isatty() or i % 50 == 0 or i == len(catalogue.units):
                print(f"\r{scale.name}: {i}/{len(catalogue.units)} forms", end="", file=sys.stderr)
    print(file=sys.stderr)
    per_unit.sort(key=lambda r: str(r["unit"]))
    totals = {k: sum(int(r[k]) for r in per_unit) for k in ("citizens", "households", "tasks")}
    manifest = {
        "params": params,
        "catalogue": str(catalogue_path),
        "inbox": str(inbox),
        "files": len(per_unit),
        "units": {"tdp": scale.tdp, "agencies": scale.agencies},
        **totals,
        "data_rows": sum(totals.values()),
        "bytes": sum(int(r["bytes"]) for r in per_unit),
        "seconds": round(time.perf_counter() - started, 1),
        "workers": workers,
        "per_unit": per_unit,
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        action="append",
        help="repeatable; default: town and district",
    )
    parser.add_argument(
        "--large", action="store_true", help="also the large scale (~1M citizens, slow)"
    )
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--workers", type=int, default=None, help="default: number of cores")
    parser.add_argument(
        "--dirty", type=float, default=0.001, help="share of citizen rows with a bad cell"
    )
    parser.add_argument("--force", action="store_true", help="rewrite even if cached")
    args = parser.parse_args(argv)
    names = args.scale or ["town", "district"]
    if args.large and "large" not in names:
        names.append("large")
    for name in names:
        m = generate(SCALES[name], args.data_dir, args.seed, args.workers, args.dirty, args.force)
        print(
            f"{name}: {m['files']} files, {m['citizens']:,} citizens, {m['households']:,} "
            f"households, {m['bytes'] / 1e6:.1f} MB in {m['inbox']} "
            f"(generated in {m['seconds']} s; catalogue {m['catalogue']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
