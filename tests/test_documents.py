"""Word drafts (SPEC §6, DOCUMENT_FORMAT.md): open the generated .docx and check the letter of
Nghị định 30/2020 — page, fonts, header, căn cứ, Điều 1, annex order — and that names survive."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass

import pandas as pd
import pytest

from processor import schema as S
from processor.catalogue import load_catalogue
from processor.documents import write_decisions

TNR = "Times New Roman"
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đỗ", "Bùi", "Vũ", "Đặng", "Ngô"]
MIDDLE = ["Văn", "Thị", "Công", "Đức", "Thu", "Minh"]
GIVEN = ["An", "Ánh", "Bình", "Bảo", "Châu", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Lan", "Ước",
         "Yến", "Ba", "Bá", "Sơn", "Thắng", "Tâm", "Ơn", "Ân"]


@dataclass
class Results:
    citizens: pd.DataFrame
    households: pd.DataFrame
    units: pd.DataFrame


def make_results(seed: int = 7, per_unit: int = 6,
                 unit_codes: tuple[str, ...] = ("TDP02", "TDP01", "TDP10", "CQ01")) -> Results:
    """A small town: three tổ dân phố and a cơ quan, some names with `&`, `<` and in NFD."""
    rng = random.Random(seed)
    catalogue = load_catalogue()
    citizens, households, units = [], [], []
    for code in unit_codes:
        unit = catalogue.unit(code)
        is_tdp = unit.is_tdp
        attendees = 40
        for h in range(per_unit):
            household = f"{code}-H{h:03d}"
            head = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            gender = rng.choice([S.MALE, S.FEMALE])
            for m, name in enumerate((head, f"{rng.choice(SURNAMES)} Thị {rng.choice(GIVEN)}")):
                outcome = S.ACHIEVED if rng.random() < 0.7 else S.NOT_ACHIEVED
                born = dt.date(1950 + rng.randrange(50), rng.randrange(1, 13), rng.randrange(1, 28))
                citizens.append({
                    "unit_code": code, "unit_name": unit.name, "household_code": household,
                    "full_name": name, "birth_date": born, "birth_year": born.year,
                    "gender": gender if m == 0 else S.FEMALE, "votes": float(rng.randrange(15, 40)),
                    "outcome": outcome, "reason": "" if outcome == S.ACHIEVED else "CD03",
                    "cccd": f"0380{rng.randrange(10**8):08d}", "CD01": "Đạt",
                })
            if is_tdp:
                outcome = S.ACHIEVED if rng.random() < 0.6 else S.NOT_ACHIEVED
                households.append({
                    "unit_code": code, "unit_name": unit.name, "household_code": household,
                    "head_name": head, "address": f"Số {h + 1}, phố Mới", "votes": 30.0,
                    "members": 2, "members_achieved": 2, "outcome": outcome, "reason": "",
                    "GD01": "Đạt",
                })
        units.append({
            "unit_code": code, "unit_name": unit.name, "kind": unit.kind,
            "households": per_unit if is_tdp else 0, "households_achieved": 4,
            "household_rate": 66.6667 if is_tdp else float("nan"), "citizens": 2 * per_unit,
            "citizens_achieved": 8, "attendees": float(attendees),
            "meeting_date": dt.date(2021, 11, 5), "chair": unit.head, "secretary": "Lê Thị Thư",
            "outcome": S.ACHIEVED if is_tdp and code != "TDP10" else S.NOT_ELIGIBLE, "reason": "",
            "TDP01": "Đạt",
        })
    cit = pd.DataFrame(citizens)
    # Names a form may bring: an ampersand, a "<", decomposed Unicode (macOS), stray spaces.
    cit.loc[0, "full_name"] = "Trần Văn Ân & Con"
    cit.loc[1, "full_name"] = "Lê <Thị> Bé"
    cit.loc[2, "full_name"] = unicodedata.normalize("NFD", "  Nguyễn Thị   Ước ")
    for i in range(3):
        cit.loc[i, "outcome"] = S.ACHIEVED
    cit["birth_year"] = cit["birth_year"].astype("Int64")
    return Results(cit, pd.DataFrame(households), pd.DataFrame(units))


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def results():
    return make_results()


@pytest.fixture(scope="module")
def drafts(tmp_path_factory, catalogue, results):
    out = tmp_path_factory.mktemp("quyet_dinh")
    paths = write_decisions(catalogue, results, 2021, out)
    return {p.name: p for p in paths}
