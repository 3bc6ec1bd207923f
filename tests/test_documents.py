"""Word drafts (SPEC §6, DOCUMENT_FORMAT.md): open the generated .docx and check every rule of
Nghị định 30/2020 python-docx can see (tests/docx_rules.py), the papers against each other and
against the results, and that names survive."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import time
import unicodedata
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.domain import schema as S
from processor.domain.catalogue import load_catalogue
from processor.domain.errors import TemplateError
from processor.domain.vietnamese import count_with_words, name_sort_key, nfc
from processor.outputs.document_context import without_codes
from processor.outputs.documents import convert_to_pdf, write_decisions
from processor.outputs.word_templates import build_templates
from tests import docx_rules as rules
from tests.docx_rules import offices, paragraphs, texts

TNR = "Times New Roman"
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đỗ", "Bùi", "Vũ", "Đặng", "Ngô"]
MIDDLE = ["Văn", "Thị", "Công", "Đức", "Thu", "Minh"]
GIVEN = [
    "An",
    "Ánh",
    "Bình",
    "Bảo",
    "Châu",
    "Dũng",
    "Đạt",
    "Giang",
    "Hà",
    "Hải",
    "Lan",
    "Ước",
    "Yến",
    "Ba",
    "Bá",
    "Sơn",
    "Thắng",
    "Tâm",
    "Ơn",
    "Ân",
]


@dataclass
class Results:
    citizens: pd.DataFrame
    households: pd.DataFrame
    units: pd.DataFrame


def make_results(
    seed: int = 7,
    per_unit: int = 6,
    unit_codes: tuple[str, ...] = ("TDP02", "TDP01", "TDP10", "CQ01"),
) -> Results:
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
                citizens.append(
                    {
                        "unit_code": code,
                        "unit_name": unit.name,
                        "household_code": household,
                        "full_name": name,
                        "birth_date": born,
                        "birth_year": born.year,
                        "gender": gender if m == 0 else S.FEMALE,
                        "votes": float(rng.randrange(15, 40)),
                        "outcome": outcome,
                        "reason": "" if outcome == S.ACHIEVED else "CD03",
                        "cccd": f"0380{rng.randrange(10**8):08d}",
                        "CD01": "Đạt",
                    }
                )
            if is_tdp:
                outcome = S.ACHIEVED if rng.random() < 0.6 else S.NOT_ACHIEVED
                households.append(
                    {
                        "unit_code": code,
                        "unit_name": unit.name,
                        "household_code": household,
                        "head_name": head,
                        "address": f"Số {h + 1}, phố Mới",
                        "votes": 30.0,
                        "members": 2,
                        "members_achieved": 2,
                        "outcome": outcome,
                        "reason": "",
                        "GD01": "Đạt",
                    }
                )
        units.append(
            {
                "unit_code": code,
                "unit_name": unit.name,
                "kind": unit.kind,
                "households": per_unit if is_tdp else 0,
                "households_achieved": 4,
                "household_rate": 66.6667 if is_tdp else float("nan"),
                "citizens": 2 * per_unit,
                "citizens_achieved": 8,
                "attendees": float(attendees),
                "meeting_date": dt.date(2021, 11, 5),
                "chair": unit.head,
                "secretary": "Lê Thị Thư",
                "outcome": S.ACHIEVED if is_tdp and code != "TDP10" else S.NOT_ELIGIBLE,
                "reason": "",
                "TDP01": "Đạt",
            }
        )
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


# --- helpers --------------------------------------------------------------------------------------

WARD = "THỊ TRẤN PHONG SƠN"


def find(doc, text: str):
    matches = [p for p in paragraphs(doc) if p.text == text]
    assert matches, f"{text!r} not in {texts(doc)}"
    return matches[0]


def expected_citizens(results: Results) -> list[pd.Series]:
    recognised = results.citizens[results.citizens["outcome"] == S.ACHIEVED]
    rows = [row for _, row in recognised.iterrows()]
    return sorted(rows, key=lambda r: (r["unit_code"], name_sort_key(nfc(r["full_name"]))))


def with_settings(catalogue, **settings):
    return replace(catalogue, settings={**catalogue.settings, **settings})


# --- files --------------------------------------------------------------------------------------


def test_files_per_title_and_unit(drafts):
    assert {
        "quyet_dinh_CD_2021.docx",
        "quyet_dinh_GD_2021.docx",
        "to_trinh_huyen_TDP_2021.docx",
        "giay_cong_nhan_CD_CQ01_2021.docx",
        "giay_cong_nhan_CD_TDP01_2021.docx",
        "giay_cong_nhan_CD_TDP02_2021.docx",
        "giay_cong_nhan_CD_TDP10_2021.docx",
        "giay_cong_nhan_GD_TDP01_2021.docx",
    } <= set(drafts)
    # The district recognises the tổ dân phố title: no decision or certificate of the town.
    assert "quyet_dinh_TDP_2021.docx" not in drafts and "giay_cong_nhan_TDP_2021.docx" not in drafts
    assert "giay_cong_nhan_GD_CQ01_2021.docx" not in drafts  # a cơ quan has no households
    for unit in ("TDP01", "TDP02", "TDP10", "CQ01"):
        assert f"to_trinh_{unit}_2021.docx" in drafts
        assert f"bien_ban_{unit}_2021.docx" in drafts
    assert all(p.exists() and not p.name.startswith(".") for p in drafts.values())


def test_committed_templates_match_the_builder(tmp_path):
    """input_templates/*.docx are what word_templates builds (compared by meaning: the XML)."""
    built = build_templates(tmp_path)
    committed = Path(__file__).resolve().parent.parent / "input_templates"
    for path in built:
        with zipfile.ZipFile(path) as new, zipfile.ZipFile(committed / path.name) as old:
            for part in ("word/document.xml", "word/styles.xml", "word/header1.xml"):
                if part in new.namelist():
                    assert new.read(part) == old.read(part), f"{path.name}:{part}"


# --- every rule of DOCUMENT_FORMAT.md python-docx can see, on every draft ------------------------


def test_every_draft_follows_the_page_rules(drafts):
    for name, path in drafts.items():
        doc = Document(path)
        certificate = name.startswith(("giay_cong_nhan", "giay_khen"))
        problems = rules.page(doc, landscape=certificate) + rules.fonts(path)
        problems += rules.quotes_and_capitals(doc)
        if not certificate:
            problems += rules.body_style(doc)
            problems += rules.page_numbers(doc, annex=name.startswith(("quyet_dinh", "to_trinh_h")))
        assert problems == [], name


def test_the_rules_read_each_draft_as_python_docx_does(drafts):
    """docx_rules reads paragraphs and annex rows on its own (fast on 10,000 names): the same
    texts as python-docx's Paragraph.text and row.cells on every draft."""
    for name, path in drafts.items():
        doc = Document(path)
        assert texts(doc) == [p.text for p in paragraphs(doc)], name
        annex = [[c.text for c in row.cells] for t in rules.annex_tables(doc) for row in t.rows[1:]]
        assert rules.annex_rows(doc) == annex, name


def test_decisions(drafts, results):
    counts = {"CD": len(expected_citizens(results)), "GD": 0}
    counts["GD"] = int((results.households["outcome"] == S.ACHIEVED).sum())
    for code, noun in (("CD", "công dân"), ("GD", "gia đình")):
        doc = Document(drafts[f"quyet_dinh_{code}_2021.docx"])
        problems = rules.header(doc, symbol="QĐ-UBND") + rules.title(doc, "QUYẾT ĐỊNH")
        problems += rules.authority_and_signature(doc, ward=WARD) + rules.bases(doc)
        problems += rules.recipients(doc)
        problems += rules.articles(
            doc, noun=noun, count=count_with_words(counts[code]), instrument="Giấy công nhận"
        )
        problems += rules.annex(
            doc,
            noun=noun,
            count=counts[code],
            issuer="Chủ tịch Ủy ban nhân dân thị trấn Phong Sơn",
        )
        assert problems == [], code


def test_decision_text(drafts, catalogue):
    doc = Document(drafts["quyet_dinh_GD_2021.docx"])
    body = texts(doc)
    assert "Về việc công nhận danh hiệu “Gia đình kiểu mẫu” năm 2021" in body
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN THỊ TRẤN PHONG SƠN" in body
    two = next(t for t in body if t.startswith("Điều 2."))
    assert two == (
        "Điều 2. Các gia đình có tên tại Điều 1 được cấp Giấy công nhận danh hiệu "
        "“Gia đình kiểu mẫu” năm 2021."
    )
    three = next(t for t in body if t.startswith("Điều 3."))
    assert three.startswith("Điều 3. Quyết định này có hiệu lực kể từ ngày ký. Công chức Văn")
    assert "Tổ trưởng các tổ dân phố" in three and "các gia đình có tên tại Điều 1" in three
    # The defaults ship placeholders, never an invented number or day.
    plan = next(t for t in body if t.startswith("Căn cứ Kế hoạch"))
    assert plan.startswith("Căn cứ Kế hoạch số …/KH-UBND ngày … tháng 01 năm 2021 của Ủy ban")
    assert any(
        "09/2019/QĐ-UBND ngày 09 tháng 4 năm 2019 của Ủy ban nhân dân tỉnh" in t for t in body
    )
    assert body[body.index(plan) + 1].startswith("Xét đề nghị của Ban Chỉ đạo")
    assert offices(doc) == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]


SIGNINGS = [
    ("Chủ tịch", "CHỦ TỊCH ỦY BAN NHÂN DÂN XÃ CẨM TÚ", ["CHỦ TỊCH"]),
    ("KT. Chủ tịch", "CHỦ TỊCH ỦY BAN NHÂN DÂN XÃ CẨM TÚ", ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]),
    ("TM. Ủy ban nhân dân", "ỦY BAN NHÂN DÂN XÃ CẨM TÚ", ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]),
    (
        "TM. Ủy ban nhân dân, KT. Chủ tịch",
        "ỦY BAN NHÂN DÂN XÃ CẨM TÚ",
        ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"],
    ),
]


@pytest.mark.parametrize(("setting", "authority", "signed"), SIGNINGS)
def test_tham_quyen_ky_changes_authority_and_signature(
    tmp_path, catalogue, results, setting, authority, signed
):
    changed = with_settings(
        catalogue, tham_quyen_ky=[setting], ten_xa=["Xã Cẩm Tú"], dia_danh=["Cẩm Tú"]
    )
    paths = {p.name: p for p in write_decisions(changed, results, 2022, tmp_path)}
    doc = Document(paths["quyet_dinh_CD_2022.docx"])
    assert authority in texts(doc)
    assert offices(doc) == signed
    assert rules.authority_and_signature(doc, ward="XÃ CẨM TÚ") == []
    issuer = authority.capitalize().replace("nhân dân xã cẩm tú", "nhân dân xã Cẩm Tú")
    assert any(t.endswith(f"của {issuer.replace('Ủy', 'Ủy')})") for t in texts(doc)) or any(
        "của Chủ tịch Ủy ban nhân dân xã Cẩm Tú)" in t or "của Ủy ban nhân dân xã Cẩm Tú)" in t
        for t in texts(doc)
    )
    # The certificate is the chairman's whatever the decision: never TM. (§9).
    certificate = Document(paths["giay_cong_nhan_CD_TDP01_2022.docx"])
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN XÃ CẨM TÚ" in texts(certificate)
    assert not any(t.startswith("TM.") for t in texts(certificate))
    assert [t for t in texts(certificate) if t in ("CHỦ TỊCH", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")][
        : len(signed) - (1 if signed[0].startswith("TM.") else 0)
    ] == [s for s in signed if not s.startswith("TM.")]
    # The town's Tờ trình to the district is the body's: TM. ỦY BAN NHÂN DÂN.
    proposal = Document(paths["to_trinh_huyen_TDP_2022.docx"])
    assert offices(proposal)[0] == "TM. ỦY BAN NHÂN DÂN"


def test_a_wrong_tham_quyen_ky_is_refused_by_the_catalogue_check(tmp_path):
    from openpyxl import load_workbook

    from processor.domain.catalogue import load_catalogue as load
    from processor.domain.errors import CatalogueError

    book = load_workbook(
        Path(__file__).resolve().parent.parent / "input_templates/bo_tieu_chi.xlsx"
    )
    sheet = book["Cấu hình"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "tham_quyen_ky":
            row[2].value = "TM. Chủ tịch"  # the combination §4 forbids
    book.save(tmp_path / "bo.xlsx")
    with pytest.raises(CatalogueError) as caught:
        load(tmp_path / "bo.xlsx")
    assert any("tham" in p or "thẩm quyền ký" in p for p in caught.value.problems)


def test_instrument_is_a_setting_of_the_title(tmp_path, catalogue, results):
    titles = tuple(
        replace(t, certificate=S.CERTIFICATE_MERIT) if t.code == "CD" else t
        for t in catalogue.titles
    )
    paths = {
        p.name: p
        for p in write_decisions(replace(catalogue, titles=titles), results, 2021, tmp_path)
    }
    decision = Document(paths["quyet_dinh_CD_2021.docx"])
    two = next(t for t in texts(decision) if t.startswith("Điều 2."))
    assert "được tặng Giấy khen danh hiệu" in two
    assert "GIẤY KHEN" in texts(Document(paths["giay_khen_CD_TDP01_2021.docx"]))
    assert "GIẤY CÔNG NHẬN" in texts(Document(paths["giay_cong_nhan_GD_TDP01_2021.docx"]))


def test_district_proposal_for_the_unit_title(drafts, results):
    doc = Document(drafts["to_trinh_huyen_TDP_2021.docx"])
    problems = rules.header(doc, symbol="TTr-UBND") + rules.title(doc, "TỜ TRÌNH")
    problems += rules.recipients(doc, first="- Như trên;")
    problems += rules.annex(
        doc, noun="tổ dân phố", count=2, issuer="Ủy ban nhân dân thị trấn Phong Sơn"
    )
    assert problems == []
    assert "Kính gửi: Chủ tịch Ủy ban nhân dân huyện Cẩm Thủy." in texts(doc)
    assert offices(doc) == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert [r[:4] for r in rules.annex_rows(doc)] == [
        ["1", "Tổ dân phố số 1", "6", "66,7"],
        ["2", "Tổ dân phố số 2", "6", "66,7"],
    ]
    dossier = next(t for t in texts(doc) if t.startswith("- Tờ trình, Biên bản"))
    assert "Tổ dân phố số 1, Tổ dân phố số 2" in dossier and "Phong Sơn" not in dossier
    assert any(t.endswith("xem xét, quyết định./.") for t in texts(doc))


def test_register_numbers_do_not_repeat_across_titles(drafts, tmp_path, catalogue, results):
    def numbers(paths) -> list[str]:
        return [
            t.removeprefix("Số vào sổ: ")
            for p in paths
            if p.name.startswith(("giay_cong_nhan", "giay_khen"))
            for t in texts(Document(p))
            if t.startswith("Số vào sổ: ")
        ]

    shared = numbers(drafts.values())
    assert len(shared) == len(set(shared)) and sorted(map(int, shared)) == list(
        range(1, len(shared) + 1)
    )
    own = write_decisions(with_settings(catalogue, so_vao_so=["Riêng"]), results, 2021, tmp_path)
    cd = numbers(p for p in own if "_CD_" in p.name)
    gd = numbers(p for p in own if "_GD_" in p.name)
    assert sorted(map(int, cd)) == list(range(1, len(cd) + 1))
    assert sorted(map(int, gd)) == list(range(1, len(gd) + 1))


# --- the annex against the results --------------------------------------------------------------


def test_annex_names_are_the_achieved(drafts, results, catalogue):
    doc = Document(drafts["quyet_dinh_CD_2021.docx"])
    expected = expected_citizens(results)
    rows = rules.annex_rows(doc)
    assert [r[1] for r in rows] == [nfc(" ".join(e["full_name"].split())) for e in expected]
    assert [r[2] for r in rows] == [str(e["birth_date"].year) for e in expected]
    achieved = {
        nfc(" ".join(n.split()))
        for n in results.citizens.loc[results.citizens["outcome"] == S.ACHIEVED, "full_name"]
    }
    assert {r[1] for r in rows} == achieved
    in_tdp01 = sum(1 for e in expected if e["unit_code"] == "TDP01")
    assert f"Tổ dân phố số 1 ({in_tdp01} công dân)" in texts(doc)
    headings = [t for t in texts(doc) if t.endswith("công dân)")]
    # Unit code order: the cơ quan CQ01 before TDP01, TDP02 before TDP10 (numbers as numbers).
    assert headings[0].startswith("Trường THCS Phong Sơn") and headings[-1].startswith(
        "Tổ dân phố số 10"
    )
    households = Document(drafts["quyet_dinh_GD_2021.docx"])
    recognised = results.households[results.households["outcome"] == S.ACHIEVED]
    assert sorted(r[1] for r in rules.annex_rows(households)) == sorted(recognised["head_name"])


def test_names_survive_escaping_and_nfd(drafts):
    doc = Document(drafts["quyet_dinh_CD_2021.docx"])
    names = [row[1] for row in rules.annex_rows(doc)]
    assert "Trần Văn Ân & Con" in names and "Lê <Thị> Bé" in names
    assert "Nguyễn Thị Ước" in names  # NFD from the form, stray spaces collapsed
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    certificates = "\n".join(texts(Document(drafts["giay_cong_nhan_CD_TDP02_2021.docx"])))
    assert "Trần Văn Ân & Con" in certificates and "Lê <Thị> Bé" in certificates


def test_no_cccd_and_no_birth_date(drafts, results):
    cccds = set(results.citizens["cccd"])
    for path in drafts.values():
        with zipfile.ZipFile(path) as package:
            xml = package.read("word/document.xml").decode()
        assert not [c for c in cccds if c in xml], path.name
        for born in results.citizens["birth_date"]:
            assert born.strftime("%d/%m/%Y") not in xml and born.isoformat() not in xml


# --- unit papers --------------------------------------------------------------------------------


def test_unit_papers_follow_their_header(drafts, catalogue):
    for code in ("TDP01", "TDP02", "TDP10", "CQ01"):
        name = catalogue.unit(code).name
        proposal = Document(drafts[f"to_trinh_{code}_2021.docx"])
        problems = rules.unit_paper(proposal, unit=name) + rules.title(proposal, "TỜ TRÌNH")
        problems += rules.header(proposal, symbol="TTr-BVĐ")
        problems += rules.recipients(proposal, first="- Như trên;")
        assert problems == [], code
        assert f"Kính gửi: {catalogue.setting('ten_ban_chi_dao')}." in texts(proposal)
        assert any(t.endswith("./.") for t in texts(proposal))
        minutes = Document(drafts[f"bien_ban_{code}_2021.docx"])
        problems = rules.unit_paper(minutes, unit=name) + rules.minutes(minutes)
        problems += rules.header(minutes, symbol="BB-BVĐ", dated=False)
        assert problems == [], code


def test_minutes_conclude_on_every_candidate(drafts, results):
    doc = Document(drafts["bien_ban_TDP01_2021.docx"])
    body = texts(doc)
    assert "Thời gian bắt đầu: …… giờ ……, ngày 05 tháng 11 năm 2021." in body
    assert "Chủ trì (chủ tọa): Lê Văn Hùng." in body and "Thư ký: Lê Thị Thư." in body
    present = next(t for t in body if t.startswith("Thành phần tham dự: "))
    assert "Ban Vận động xây dựng các danh hiệu kiểu mẫu Tổ dân phố số 1" in present
    assert "tổng số 40 người" in present
    assert any(
        t.startswith("Cuộc họp kết thúc vào …… giờ ……, ngày 05 tháng 11 năm 2021") for t in body
    )
    citizens = results.citizens[results.citizens["unit_code"] == "TDP01"]
    table = rules.annex_tables(doc)[0]
    assert [c.text for c in table.rows[0].cells][-3:] == [
        "Số phiếu đồng ý",
        "Tỷ lệ (%)",
        "Kết luận",
    ]
    by_name = {nfc(n): r for n, r in zip(citizens["full_name"], citizens.itertuples(), strict=True)}
    assert len(table.rows) - 1 == len(by_name)
    for row in table.rows[1:]:
        person = by_name[row.cells[1].text]
        assert row.cells[3].text == str(int(person.votes))
        assert row.cells[4].text == f"{100 * person.votes / 40:.1f}".replace(".", ",")
        if person.outcome == S.ACHIEVED:
            assert row.cells[5].text == "Đề nghị"
        else:
            assert row.cells[5].text == f"Không đề nghị: {person.reason}"


def test_unit_papers_name_criteria_without_codes_that_read_as_units(tmp_path, catalogue, results):
    """In a tổ dân phố's paper "TDP01 - Hộ đạt GĐKM" reads as the unit TDP01 (issue 20): the
    papers print the criterion's name; the summary keeps the code."""
    citizens = results.citizens.copy()
    failed = (citizens["unit_code"] == "TDP01") & (citizens["outcome"] != S.ACHIEVED)
    assert failed.any()
    citizens.loc[failed, "reason"] = "không đạt: CD03 - Lao động, học tập; đạt 6/8 tiêu chí, cần 7"
    changed = replace(results, citizens=citizens)
    paths = {p.name: p for p in write_decisions(catalogue, changed, 2021, tmp_path)}
    body = "\n".join(
        c.text
        for t in Document(paths["bien_ban_TDP01_2021.docx"]).tables
        for r in t.rows
        for c in r.cells
    )
    assert "Không đề nghị: không đạt: Lao động, học tập; đạt 6/8 tiêu chí, cần 7" in body
    assert "CD03 - " not in body
    reason = (
        "không đạt: TDP01 - Hộ đạt GĐKM (bắt buộc): 57,71% (cần ≥ 70%); "
        "TDP04 - Giao thông, chiếu sáng"
    )
    assert without_codes(catalogue, reason) == (
        "không đạt: Hộ đạt GĐKM (bắt buộc): 57,71% (cần ≥ 70%); Giao thông, chiếu sáng"
    )
    # A unit spelt like a criterion code stays: only whole criterion labels lose their code.
    assert without_codes(catalogue, "Chấm tại TDP01 - nơi cư trú") == "Chấm tại TDP01 - nơi cư trú"


def test_proposal_lists_exactly_what_the_minutes_propose(drafts, results):
    """Every candidate the Biên bản proposes is in the Tờ trình, and no other (issue 20.4)."""
    for code in ("TDP01", "TDP02", "TDP10", "CQ01"):
        minutes = Document(drafts[f"bien_ban_{code}_2021.docx"])
        proposal = Document(drafts[f"to_trinh_{code}_2021.docx"])
        proposed = rules.proposed_by_minutes(minutes)
        assert sorted(rules.listed_in_proposal(proposal)) == sorted(proposed), code
        mine = results.citizens[results.citizens["unit_code"] == code]
        achieved = (mine["outcome"] == S.ACHIEVED).sum()
        if code.startswith("TDP"):
            households = results.households
            achieved += (
                (households["unit_code"] == code) & (households["outcome"] == S.ACHIEVED)
            ).sum()
        assert len(proposed) == achieved, code


def test_agency_papers_have_no_household_part(drafts):
    doc = Document(drafts["to_trinh_CQ01_2021.docx"])
    assert doc.tables[0].rows[1].cells[0].paragraphs[0].text == "Số:      /TTr-BVĐ"
    assert not any(t.startswith("2. Danh hiệu") for t in texts(doc))
    assert doc.tables[0].rows[0].cells[0].paragraphs[0].text == "TRƯỜNG THCS PHONG SƠN"


def test_certificates_one_landscape_page_each(drafts, results):
    doc = Document(drafts["giay_cong_nhan_CD_TDP01_2021.docx"])
    n = sum(1 for e in expected_citizens(results) if e["unit_code"] == "TDP01")
    breaks = [p for p in paragraphs(doc) if p.paragraph_format.page_break_before]
    assert len(breaks) == n - 1
    assert texts(doc).count("GIẤY CÔNG NHẬN") == n and texts(doc).count("CẤP") == n
    assert len([t for t in texts(doc) if t.startswith(("Ông ", "Bà "))]) == n
    doc = Document(drafts["giay_cong_nhan_GD_TDP01_2021.docx"])
    assert any(
        t.endswith(", phố Mới, Tổ dân phố số 1, thị trấn Phong Sơn, huyện Cẩm Thủy")
        for t in texts(doc)
    )


# --- templates: checked before rendering, rendered in the sandbox -------------------------------


def _copy_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "mau"
    shutil.copytree(
        Path(__file__).resolve().parent.parent / "input_templates",
        folder,
        ignore=shutil.ignore_patterns("*.xlsx"),
    )
    return folder


def _add_paragraph(folder: Path, template: str, text: str) -> None:
    doc = Document(folder / f"{template}.docx")
    doc.add_paragraph(text)
    doc.save(folder / f"{template}.docx")


def test_clerk_reworded_template_still_renders(tmp_path, catalogue, results):
    folder = _copy_templates(tmp_path)
    doc = Document(folder / "quyet_dinh.docx")
    find(doc, "QUYẾT ĐỊNH:").runs[0].text = "QUYẾT ĐỊNH (đã sửa):"
    doc.save(folder / "quyet_dinh.docx")
    paths = write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)
    assert "QUYẾT ĐỊNH (đã sửa):" in texts(Document(paths[0]))


def test_unknown_tag_is_refused_before_rendering(tmp_path, catalogue, results):
    folder = _copy_templates(tmp_path)
    _add_paragraph(folder, "to_trinh", "Người lập: {{ nguoi_lap_bieu }}")
    with pytest.raises(TemplateError, match=r"to_trinh\.docx.*nguoi_lap_bieu"):
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)
    assert not list((tmp_path / "out").glob("*.docx"))  # checked before anything is written


EXPLOITS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ten_xa.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ ten_xa|attr('__class__') }}",
    "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
]


@pytest.mark.parametrize("tag", EXPLOITS)
def test_a_template_reaching_outside_its_variables_is_refused(tmp_path, catalogue, results, tag):
    """Issue 24 item 9: the exploit that ran `id` during quyet-dinh; the marker must not appear."""
    folder = _copy_templates(tmp_path)
    marker = tmp_path / "MARKER"
    tag = tag.replace("MARKER", str(marker))
    _add_paragraph(folder, "quyet_dinh", f"Ghi chú: {tag}")
    with pytest.raises(TemplateError) as caught:
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)
    message = str(caught.value)
    assert "quyet_dinh.docx" in message and (
        "không được phép" in message or "không có dữ liệu" in message
    )
    assert not marker.exists()
    assert not list((tmp_path / "out").glob("*.docx"))


def test_the_sandbox_holds_even_without_the_check(tmp_path, catalogue, results):
    """Rendering itself refuses what the check would: the sandbox is the last wall."""
    from processor.outputs.documents import _Renderer

    folder = _copy_templates(tmp_path)
    marker = tmp_path / "MARKER"
    _add_paragraph(folder, "bien_ban", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    from processor.outputs import document_context as ctx

    context = ctx.unit_context(
        ctx.ward_context(catalogue, 2021), catalogue, results, "TDP01", proposal=False
    )
    with pytest.raises(TemplateError, match=r"bien_ban\.docx"):
        _Renderer(folder).render("bien_ban", context, tmp_path / "x.docx")
    assert not marker.exists()


def test_broken_tag_gets_a_vietnamese_message_with_the_paragraph(tmp_path, catalogue, results):
    folder = _copy_templates(tmp_path)
    _add_paragraph(folder, "bien_ban", "Người ghi: {{ chu_tri }")
    with pytest.raises(TemplateError) as caught:
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)
    message = str(caught.value)
    assert "bien_ban.docx" in message and "Người ghi: {{ chu_tri }" in message
    assert "thiếu dấu đóng" in message
    assert "unexpected" not in message.lower() and "expected" not in message.lower()


def test_broken_or_missing_template(tmp_path, catalogue, results):
    folder = _copy_templates(tmp_path)
    (folder / "quyet_dinh.docx").write_bytes(b"not a word file")
    with pytest.raises(TemplateError, match=r"quyet_dinh\.docx"):
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)
    (folder / "quyet_dinh.docx").unlink()
    with pytest.raises(TemplateError, match="Không tìm thấy mẫu Word"):
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)


def test_the_same_papers_in_one_process_as_in_workers(tmp_path, catalogue, results):
    """Each paper's context is made where the paper is rendered, a few units a task: where
    that is does not change a paper, nor the order of the list returned."""

    def bodies(paths: list[Path]) -> list[tuple[str, bytes]]:
        out = []
        for path in paths:
            with zipfile.ZipFile(path) as package:
                out.append((path.name, package.read("word/document.xml")))
        return out

    alone = write_decisions(catalogue, results, 2021, tmp_path / "alone", workers=1)
    pooled = write_decisions(catalogue, results, 2021, tmp_path / "pooled", workers=2)
    assert len(alone) > 12 and bodies(alone) == bodies(pooled)


def test_nobody_recognised_no_decision(tmp_path, catalogue, results):
    nobody = Results(
        results.citizens.assign(outcome=S.NOT_ACHIEVED),
        results.households.assign(outcome=S.NOT_ACHIEVED),
        results.units.assign(outcome=S.NOT_ELIGIBLE),
    )
    names = {p.name for p in write_decisions(catalogue, nobody, 2021, tmp_path)}
    assert not [n for n in names if n.startswith(("quyet_dinh", "giay_", "to_trinh_huyen"))]
    assert "to_trinh_TDP01_2021.docx" in names and "to_trinh_CQ01_2021.docx" not in names


def test_missing_values_do_not_print_nan(tmp_path, catalogue, results):
    citizens = results.citizens.copy()
    citizens["birth_year"] = pd.array([pd.NA] * len(citizens), dtype="Int64")
    citizens["birth_date"] = pd.NaT
    units = results.units.assign(attendees=float("nan"), meeting_date=pd.NaT, chair=None)
    sparse = Results(citizens, results.households.iloc[0:0], units)
    paths = write_decisions(catalogue, sparse, 2021, tmp_path)
    for path in paths:
        body = "\n".join(texts(Document(path)))
        assert "nan" not in body.lower().split() and "NaT" not in body and "None" not in body
    minutes = Document(tmp_path / "bien_ban_TDP01_2021.docx")
    assert "Thời gian bắt đầu: …… giờ ……, ngày      tháng      năm 2021." in texts(minutes)


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_without_libreoffice_is_a_warning(tmp_path, monkeypatch, drafts):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    warnings = convert_to_pdf([drafts["quyet_dinh_CD_2021.docx"]], tmp_path)
    assert len(warnings) == 1 and "LibreOffice" in warnings[0]
    assert not list(tmp_path.glob("*.pdf"))


def test_soffice_found_where_windows_installs_it(tmp_path, monkeypatch):
    """Issue 19: the Windows installer puts soffice.exe under Program Files, not on PATH."""
    from processor.outputs.documents import find_soffice

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    program = tmp_path / "Program Files" / "LibreOffice" / "program" / "soffice.exe"
    program.parent.mkdir(parents=True)
    program.write_bytes(b"")
    environ = {"ProgramFiles": str(tmp_path / "Program Files")}
    assert find_soffice(environ, "win32") == str(program)
    assert find_soffice({}, "win32") is None
    versioned = tmp_path / "x86" / "LibreOffice 7" / "program" / "soffice.exe"
    versioned.parent.mkdir(parents=True)
    versioned.write_bytes(b"")
    assert find_soffice({"ProgramFiles(x86)": str(tmp_path / "x86")}, "win32") == str(versioned)
    assert find_soffice({"KIEUMAU_SOFFICE": str(program)}, "linux") == str(program)


FAKE_SOFFICE = """#!/bin/sh
# Logs its arguments, then writes one small PDF per .docx after --outdir (SLEEP: then hangs).
echo "$@" >> "$LOG"
out=""; take=0
for a in "$@"; do
  if [ "$take" = 1 ]; then out="$a"; take=0; continue; fi
  [ "$a" = "--outdir" ] && take=1 && continue
  case "$a" in *.docx) n=$(basename "$a" .docx); printf '%%PDF-1.4' > "$out/$n.pdf";
    [ -n "$SLEEP" ] && sleep "$SLEEP";; esac
done
"""


@pytest.fixture
def fake_soffice(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "soffice"
    script.write_text(FAKE_SOFFICE)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    monkeypatch.setenv("LOG", str(tmp_path / "calls.log"))
    return tmp_path / "calls.log"


def test_pdf_one_call_with_files_and_fresh_profile(tmp_path, drafts, fake_soffice):
    sources = [p for n, p in drafts.items() if n.startswith("bien_ban")]
    assert convert_to_pdf(sources, tmp_path / "pdf") == []
    calls = fake_soffice.read_text().splitlines()
    assert len(calls) == 1  # one soffice for the whole batch
    arguments = calls[0].split()
    assert arguments[0].startswith("-env:UserInstallation=file:///")
    assert {"--headless", "--convert-to", "pdf"} <= set(arguments)
    assert sorted(a for a in arguments if a.endswith(".docx")) == sorted(str(p) for p in sources)
    assert sorted(p.name for p in (tmp_path / "pdf").iterdir()) == sorted(
        p.stem + ".pdf" for p in sources
    )


def test_pdf_timeout_keeps_finished_files(tmp_path, drafts, fake_soffice, monkeypatch):
    monkeypatch.setenv("SLEEP", "1")
    sources = [p for n, p in drafts.items() if n.startswith("to_trinh")]
    started = time.perf_counter()
    warnings = convert_to_pdf(sources, tmp_path / "pdf", timeout=2.5)
    assert time.perf_counter() - started < 10
    assert len(warnings) == 1 and "chưa xong sau" in warnings[0]
    made = list((tmp_path / "pdf").glob("*.pdf"))
    assert 1 <= len(made) < len(sources)  # the one being written when stopped is not kept
    assert not [p for p in (tmp_path / "pdf").iterdir() if p.name.startswith(".")]


@pytest.mark.libreoffice
def test_pdf_with_libreoffice(tmp_path, drafts):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not on PATH: install it to test the PDF export")
    sources = [drafts["quyet_dinh_CD_2021.docx"], drafts["bien_ban_TDP01_2021.docx"]]
    assert convert_to_pdf(sources, tmp_path) == []
    pdf = tmp_path / "quyet_dinh_CD_2021.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and (tmp_path / "bien_ban_TDP01_2021.pdf").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # staging cleaned
    if shutil.which("pdftotext"):
        import subprocess

        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "QUYẾT ĐỊNH" in text and "Trần Văn Ân & Con" in text
    if shutil.which("pdffonts"):
        import subprocess

        fonts = subprocess.run(
            ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
        # Times New Roman or its metric twin Liberation Serif, nothing else.
        names = [line.split()[0] for line in fonts.splitlines()[2:]]
        assert names and all(("Times" in n or "LiberationSerif" in n) for n in names), names


def test_ten_thousand_names_all_in_the_annex(tmp_path, catalogue):
    """Every name of a large decision is in its annex (its speed: benchmarks/decision_names.py)."""
    big = make_results(seed=3, per_unit=1250, unit_codes=("TDP01", "TDP02", "TDP03", "TDP04"))
    big = Results(
        big.citizens.assign(outcome=S.ACHIEVED), big.households.iloc[0:0], big.units.iloc[0:0]
    )
    assert len(big.citizens) == 10_000
    from processor.outputs import document_context as ctx
    from processor.outputs.documents import DEFAULT_TEMPLATES, _Renderer

    rows = ctx.recognised_rows(catalogue, big, catalogue.citizen_title)
    decision = ctx.title_context(ctx.ward_context(catalogue, 2021), catalogue.citizen_title, rows)
    out = _Renderer(DEFAULT_TEMPLATES).render("quyet_dinh", decision, tmp_path / "qd.docx")
    doc = Document(out)
    assert len(rules.annex_rows(doc)) == 10_000
    assert (
        rules.annex(
            doc, noun="công dân", count=10_000, issuer="Chủ tịch Ủy ban nhân dân thị trấn Phong Sơn"
        )
        == []
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\r", blacklist_categories=("Cs",))))
def test_a_list_value_reads_back_as_typed_less_what_xml_refuses(value):
    """`docx_lists` writes a value into `<w:t>` escaped, line breaks and tabs as Word's own
    elements, the characters XML refuses dropped (a carriage return XML itself reads as a line
    end, so it is left out here, as are surrogates, which no text read from a workbook holds)."""
    from lxml import etree

    from processor.outputs.docx_lists import _text

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    run = etree.fromstring(
        f'<w:r xmlns:w="{w}"><w:t xml:space="preserve">{_text(value)}</w:t></w:r>'
    )
    read = {f"{{{w}}}br": "\n", f"{{{w}}}tab": "\t"}
    back = "".join(read.get(element.tag, element.text or "") for element in run)
    refused = {*map(chr, range(0x20)), "\ufffe", "\uffff"} - {"\t", "\n"}
    assert back == "".join(c for c in value if c not in refused)


def test_list_values_keep_line_breaks_and_drop_control_characters(tmp_path, catalogue, results):
    """Rows are written after rendering (docx_lists): a newline typed in a note still breaks
    the line, an `&` survives, a control character that XML refuses is dropped."""
    from processor.outputs import document_context as ctx
    from processor.outputs.documents import DEFAULT_TEMPLATES, _Renderer

    rows = ctx.recognised_rows(catalogue, results, catalogue.citizen_title)
    rows[0]["ghi_chu"] = "Dòng một & hai\nDòng ba\x07"
    decision = ctx.title_context(ctx.ward_context(catalogue, 2021), catalogue.citizen_title, rows)
    out = _Renderer(DEFAULT_TEMPLATES).render("quyet_dinh", decision, tmp_path / "qd.docx")
    cell = rules.annex_tables(Document(out))[0].rows[1].cells[3]
    assert cell.text == "Dòng một & hai\nDòng ba"
    assert cell._tc.find(f".//{qn('w:br')}") is not None
