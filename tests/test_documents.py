"""Word drafts (SPEC §6, DOCUMENT_FORMAT.md): open the generated .docx and check the letter of
Nghị định 30/2020 — page, fonts, header, căn cứ, Điều 1, annex order — and that names survive."""

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
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from processor.domain import schema as S
from processor.domain.catalogue import load_catalogue
from processor.domain.errors import TemplateError
from processor.domain.vietnamese import count_with_words, name_sort_key, nfc
from processor.outputs.documents import convert_to_pdf, write_decisions
from processor.outputs.word_templates import build_templates

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


def paragraphs(doc) -> list:
    """Every paragraph of the body, table cells included, in document order."""
    from docx.text.paragraph import Paragraph

    return [Paragraph(p, doc) for p in doc.element.body.iter(qn("w:p"))]


def texts(doc) -> list[str]:
    return [p.text for p in paragraphs(doc)]


def find(doc, text: str):
    matches = [p for p in paragraphs(doc) if p.text == text]
    assert matches, f"{text!r} not in {texts(doc)}"
    return matches[0]


def size(paragraph, doc) -> float:
    """Effective size in pt of the paragraph's first run (run, then paragraph style)."""
    run = paragraph.runs[0]
    if run.font.size is not None:
        return run.font.size.pt
    style = paragraph.style
    while style is not None and style.font.size is None:
        style = style.base_style
    return (style.font.size or Pt(11)).pt


def has_bottom_border(paragraph) -> bool:
    return paragraph._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None


def annex_tables(doc) -> list:
    """The annex: one bordered table per unit (or one for the tổ dân phố title)."""
    return [t for t in doc.tables if t.rows[0].cells[0].text == "STT"]


def annex_rows(doc) -> list[list[str]]:
    return [[c.text for c in row.cells] for t in annex_tables(doc) for row in t.rows[1:]]


def expected_citizens(results: Results) -> list[pd.Series]:
    recognised = results.citizens[results.citizens["outcome"] == S.ACHIEVED]
    rows = [row for _, row in recognised.iterrows()]
    return sorted(rows, key=lambda r: (r["unit_code"], name_sort_key(nfc(r["full_name"]))))


# --- files --------------------------------------------------------------------------------------


def test_files_per_title_and_unit(drafts):
    assert {
        "quyet_dinh_CD_2021.docx",
        "quyet_dinh_GD_2021.docx",
        "quyet_dinh_TDP_2021.docx",
        "giay_khen_CD_CQ01_2021.docx",
        "giay_khen_CD_TDP01_2021.docx",
        "giay_khen_CD_TDP02_2021.docx",
        "giay_khen_CD_TDP10_2021.docx",
        "giay_khen_GD_TDP01_2021.docx",
        "giay_khen_TDP_2021.docx",
    } <= set(drafts)
    assert "giay_khen_GD_CQ01_2021.docx" not in drafts  # a cơ quan has no households
    for unit in ("TDP01", "TDP02", "TDP10", "CQ01"):
        assert f"to_trinh_{unit}_2021.docx" in drafts
        assert f"bien_ban_{unit}_2021.docx" in drafts
    assert all(p.exists() and not p.name.startswith(".") for p in drafts.values())
    assert not [p for p in next(iter(drafts.values())).parent.iterdir() if p.name.startswith(".")]


def test_committed_templates_match_the_builder(tmp_path):
    """input_templates/*.docx are what word_templates builds (compared by meaning: the XML)."""
    built = build_templates(tmp_path)
    committed = Path(__file__).resolve().parent.parent / "input_templates"
    for path in built:
        with zipfile.ZipFile(path) as new, zipfile.ZipFile(committed / path.name) as old:
            for part in ("word/document.xml", "word/styles.xml", "word/header1.xml"):
                if part in new.namelist():
                    assert new.read(part) == old.read(part), f"{path.name}:{part}"


# --- page and fonts (Nghị định 30/2020, Phụ lục I) ---------------------------------------------


def test_page_a4_and_margins(drafts):
    for name, path in drafts.items():
        for section in Document(path).sections:
            landscape = name.startswith("giay_khen")
            assert section.orientation == (WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT)
            width, height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
            assert abs(section.page_width - width) < Mm(1) and abs(
                section.page_height - height
            ) < Mm(1)
            assert Mm(20) <= section.top_margin <= Mm(25)
            assert Mm(20) <= section.bottom_margin <= Mm(25)
            assert Mm(30) <= section.left_margin <= Mm(35)
            assert Mm(15) <= section.right_margin <= Mm(20)


def test_times_new_roman_everywhere(drafts):
    for path in drafts.values():
        with zipfile.ZipFile(path) as package:
            for part in package.namelist():
                if not part.endswith(".xml") or "theme" in part:
                    continue
                xml = package.read(part).decode()
                assert "Theme=" not in xml and "theme=" not in xml.replace("w:themeColor", ""), part
        doc = Document(path)
        fonts = doc.styles.element.iter(qn("w:rFonts"))
        for rfonts in [*fonts, *doc.element.body.iter(qn("w:rFonts"))]:
            for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
                assert rfonts.get(qn(f"w:{slot}")) == TNR, (path.name, slot)
        used = {p.style.name for p in paragraphs(doc)} | {"Normal"}
        for name in used:
            rfonts = doc.styles[name].element.rPr.rFonts
            assert rfonts.get(qn("w:eastAsia")) == TNR and rfonts.get(qn("w:ascii")) == TNR


def test_page_numbers_from_page_two(drafts):
    doc = Document(drafts["quyet_dinh_CD_2021.docx"])
    section = doc.sections[0]
    assert section.different_first_page_header_footer
    assert section.first_page_header.paragraphs[0].text == ""
    header = section.header.paragraphs[0]
    assert header.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert "PAGE" in "".join(header._p.itertext())
    assert 13 <= header.runs[0].font.size.pt <= 14


# --- the decision -------------------------------------------------------------------------------


def test_header_table(drafts, catalogue):
    doc = Document(drafts["quyet_dinh_GD_2021.docx"])
    header = doc.tables[0]
    assert len(header.columns) == 2 and header.style.name == "Normal Table"  # no borders
    assert header._tbl.find(f"{qn('w:tblPr')}/{qn('w:tblBorders')}") is None
    left, right = header.rows[0].cells
    ward = catalogue.setting("ten_xa").upper()
    assert [p.text for p in left.paragraphs][:2] == ["ỦY BAN NHÂN DÂN", ward]
    assert [p.text for p in right.paragraphs][:2] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    for cell in (left, right):
        assert all(r.bold for p in cell.paragraphs[:2] for r in p.runs)
        assert all(12 <= size(p, doc) <= 14 for p in cell.paragraphs[:2])
        assert has_bottom_border(cell.paragraphs[2]) and cell.paragraphs[2].text == ""
    number, date = header.rows[1].cells
    assert number.paragraphs[0].text == "Số:      /QĐ-UBND"
    assert not number.paragraphs[0].runs[0].bold and size(number.paragraphs[0], doc) == 13
    assert date.paragraphs[0].text == "Phong Sơn, ngày      tháng      năm 2021"
    assert date.paragraphs[0].runs[0].italic
    assert not any("___" in t for t in texts(doc))


def test_title_summary_and_authority(drafts):
    doc = Document(drafts["quyet_dinh_GD_2021.docx"])
    title = find(doc, "QUYẾT ĐỊNH")
    summary = find(doc, 'Về việc công nhận danh hiệu "Gia đình kiểu mẫu" năm 2021')
    authority = find(doc, "CHỦ TỊCH ỦY BAN NHÂN DÂN THỊ TRẤN PHONG SƠN")
    for p in (title, summary, authority, find(doc, "QUYẾT ĐỊNH:")):
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER and p.runs[0].bold
        assert 13 <= size(p, doc) <= 14
    elements = [p._p for p in paragraphs(doc)]
    following = paragraphs(doc)[elements.index(summary._p) + 1]
    assert has_bottom_border(following)


def test_can_cu_from_settings(drafts, catalogue):
    doc = Document(drafts["quyet_dinh_CD_2021.docx"])
    expected = [nfc(c).rstrip(";.") for c in catalogue.setting_list("can_cu")]
    found = [p for p in paragraphs(doc) if p.text.rstrip(";.") in expected]
    assert [p.text.rstrip(";.") for p in found] == expected
    assert all(p.text.endswith(";") for p in found[:-1]) and found[-1].text.endswith(".")
    assert all(r.italic for p in found for r in p.runs)
    assert all(size(p, doc) == 14 and p.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY for p in found)


def test_articles(drafts, results, catalogue):
    doc = Document(drafts["quyet_dinh_CD_2021.docx"])
    n = len(expected_citizens(results))
    article1 = next(p for p in paragraphs(doc) if p.text.startswith("Điều 1."))
    assert article1.runs[0].bold and article1.runs[0].text.strip() == "Điều 1."
    assert f"cho {count_with_words(n)} công dân (có danh sách kèm theo)." in article1.text
    article2 = next(p for p in paragraphs(doc) if p.text.startswith("Điều 2."))
    assert nfc(catalogue.setting("quyen_loi")).rstrip(".") in article2.text
    article3 = next(p for p in paragraphs(doc) if p.text.startswith("Điều 3."))
    assert article3.text.endswith("./.")
    assert article1.paragraph_format.first_line_indent is None  # from the Body Text style
    assert Pt(28) < doc.styles["Body Text"].paragraph_format.first_line_indent < Pt(37)
    assert doc.styles["Body Text"].paragraph_format.space_after >= Pt(6)


def test_recipients_and_signature_ket(drafts, catalogue):
    doc = Document(drafts["quyet_dinh_CD_2021.docx"])
    table = next(t for t in doc.tables if t.rows[0].cells[0].paragraphs[0].text == "Nơi nhận:")
    left, right = table.rows[0].cells
    heading = left.paragraphs[0]
    assert heading.runs[0].bold and heading.runs[0].italic and size(heading, doc) == 12
    lines = [p.text for p in left.paragraphs[1:]]
    assert len(lines) == len(catalogue.setting_list("noi_nhan"))
    assert all(line.startswith("- ") for line in lines)
    assert all(line.endswith(";") for line in lines[:-1]) and lines[-1] == "- Lưu: VT, BCĐ."
    assert all(size(p, doc) == 11 for p in left.paragraphs[1:])
    signed = [p.text for p in right.paragraphs if p.text]
    assert signed == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Công Hoan"]
    assert sum(1 for p in right.paragraphs if not p.text) >= 4  # room for signature and seal


def test_signature_tm(tmp_path, catalogue, results):
    settings = {
        **catalogue.settings,
        "tham_quyen_ky": ["TM."],
        "chuc_vu_ky": ["Chủ tịch"],
        "ten_xa": ["Xã Cẩm Tú"],
        "dia_danh": ["Cẩm Tú"],
    }
    paths = write_decisions(replace(catalogue, settings=settings), results, 2022, tmp_path)
    doc = Document(next(p for p in paths if p.name == "quyet_dinh_CD_2022.docx"))
    table = next(t for t in doc.tables if t.rows[0].cells[0].paragraphs[0].text == "Nơi nhận:")
    signed = [p.text for p in table.rows[0].cells[1].paragraphs if p.text]
    assert signed == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Công Hoan"]
    assert doc.tables[0].rows[0].cells[0].paragraphs[1].text == "XÃ CẨM TÚ"
    assert (
        doc.tables[0].rows[1].cells[1].paragraphs[0].text == "Cẩm Tú, ngày      tháng      năm 2022"
    )
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN XÃ CẨM TÚ" in texts(doc)


# --- the annex ----------------------------------------------------------------------------------


def test_annex_citizens(drafts, results, catalogue):
    doc = Document(drafts["quyet_dinh_CD_2021.docx"])
    heading = find(doc, "DANH SÁCH")
    assert heading.paragraph_format.page_break_before and heading.runs[0].bold
    assert (
        "(Kèm theo Quyết định số      /QĐ-UBND ngày      tháng      năm 2021 của Chủ tịch "
        "UBND thị trấn Phong Sơn)" in texts(doc)
    )
    tables = annex_tables(doc)
    assert len(tables) == 4  # one per unit, each under its heading
    for table in tables:
        assert [c.text for c in table.rows[0].cells] == [
            "STT",
            "Họ và tên",
            "Năm sinh",
            "Tổ dân phố / Đơn vị",
            "Ghi chú",
        ]
        assert table.style.name == "Table Grid"
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeats per page
        assert all(r.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs)
    expected = expected_citizens(results)
    in_tdp01 = sum(1 for e in expected if e["unit_code"] == "TDP01")
    assert f"Tổ dân phố số 1 ({in_tdp01} công dân)" in texts(doc)
    rows = annex_rows(doc)
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(expected) + 1)]
    assert [r[1] for r in rows] == [nfc(e["full_name"]) for e in expected]
    assert [r[2] for r in rows] == [str(e["birth_date"].year) for e in expected]
    assert [r[3] for r in rows] == [catalogue.unit(e["unit_code"]).name for e in expected]
    # Unit code order: the cơ quan CQ01 before TDP01, TDP02 before TDP10 (numbers as numbers).
    assert rows[0][3] == "Trường THCS Phong Sơn" and rows[-1][3] == "Tổ dân phố số 10"


def test_names_survive_escaping_and_nfd(drafts):
    doc = Document(drafts["quyet_dinh_CD_2021.docx"])
    names = [row[1] for row in annex_rows(doc)]
    assert "Trần Văn Ân & Con" in names and "Lê <Thị> Bé" in names
    assert "Nguyễn Thị Ước" in names  # NFD from the form, stray spaces collapsed
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    certificates = "\n".join(texts(Document(drafts["giay_khen_CD_TDP02_2021.docx"])))
    assert "Trần Văn Ân & Con" in certificates and "Lê <Thị> Bé" in certificates


def test_no_cccd_and_no_birth_date(drafts, results):
    cccds = set(results.citizens["cccd"])
    for path in drafts.values():
        with zipfile.ZipFile(path) as package:
            xml = package.read("word/document.xml").decode()
        assert not [c for c in cccds if c in xml], path.name
        for born in results.citizens["birth_date"]:
            assert born.strftime("%d/%m/%Y") not in xml and born.isoformat() not in xml


def test_annex_households_and_units(drafts, results):
    doc = Document(drafts["quyet_dinh_GD_2021.docx"])
    table = annex_tables(doc)[0]
    assert [c.text for c in table.rows[0].cells] == [
        "STT",
        "Họ và tên chủ hộ",
        "Địa chỉ",
        "Tổ dân phố",
        "Ghi chú",
    ]
    recognised = results.households[results.households["outcome"] == S.ACHIEVED]
    expected = sorted(
        recognised.itertuples(), key=lambda r: (r.unit_code, name_sort_key(r.head_name))
    )
    assert [row[1] for row in annex_rows(doc)] == [r.head_name for r in expected]
    article1 = next(p.text for p in paragraphs(doc) if p.text.startswith("Điều 1."))
    assert f"cho {count_with_words(len(expected))} gia đình" in article1

    doc = Document(drafts["quyet_dinh_TDP_2021.docx"])
    (table,) = annex_tables(doc)
    assert [c.text for c in table.rows[0].cells] == [
        "STT",
        "Tên tổ dân phố",
        "Số hộ",
        "Tỷ lệ hộ đạt Gia đình kiểu mẫu",
        "Ghi chú",
    ]
    assert [[c.text for c in row.cells][:4] for row in table.rows[1:]] == [
        ["1", "Tổ dân phố số 1", "6", "66,7%"],
        ["2", "Tổ dân phố số 2", "6", "66,7%"],
    ]
    assert "cho 2 (hai) tổ dân phố" in next(
        p.text for p in paragraphs(doc) if p.text.startswith("Điều 1.")
    )


# --- unit documents and certificates -----------------------------------------------------------


def test_proposal(drafts, results):
    doc = Document(drafts["to_trinh_TDP02_2021.docx"])
    header = doc.tables[0]
    assert header.rows[0].cells[0].paragraphs[1].text == "TỔ DÂN PHỐ SỐ 2"
    assert header.rows[1].cells[0].paragraphs[0].text == "Số:      /TTr-TDP"
    assert "Kính gửi: Ban chỉ đạo xây dựng các danh hiệu kiểu mẫu thị trấn Phong Sơn." in texts(doc)
    citizens = results.citizens
    mine = citizens[(citizens["unit_code"] == "TDP02") & (citizens["outcome"] == S.ACHIEVED)]
    expected = sorted((nfc(n) for n in mine["full_name"]), key=name_sort_key)
    listed = [row.cells[1].text for row in doc.tables[1].rows[1:]]
    assert listed == expected
    assert any(
        t.startswith('3. Danh hiệu "Tổ dân phố kiểu mẫu": đề nghị công nhận') for t in texts(doc)
    )


def test_proposal_of_an_agency_has_no_household_part(drafts):
    doc = Document(drafts["to_trinh_CQ01_2021.docx"])
    assert doc.tables[0].rows[1].cells[0].paragraphs[0].text == "Số:      /TTr-BVĐ"
    assert not any(t.startswith("2. Danh hiệu") for t in texts(doc))


def test_minutes(drafts, results):
    doc = Document(drafts["bien_ban_TDP01_2021.docx"])
    body = texts(doc)
    assert "Thời gian: ngày 05 tháng 11 năm 2021." in body
    assert "Chủ trì: Lê Văn Hùng." in body and "Thư ký: Lê Thị Thư." in body
    assert "Số người dự họp: 40 người." in body
    assert "Phong Sơn, ngày 05 tháng 11 năm 2021" in body
    assert any("trên 50% số người dự họp" in t for t in body)
    citizens = results.citizens[results.citizens["unit_code"] == "TDP01"]
    table = doc.tables[1]
    assert [c.text for c in table.rows[0].cells][-2:] == ["Số phiếu đồng ý", "Tỷ lệ (%)"]
    votes = {nfc(n): v for n, v in zip(citizens["full_name"], citizens["votes"], strict=True)}
    assert len(table.rows) - 1 == len(votes)
    for row in table.rows[1:]:
        vote = votes[row.cells[1].text]
        assert row.cells[3].text == str(int(vote))
        assert row.cells[4].text == f"{100 * vote / 40:.1f}".replace(".", ",")


def test_certificates_one_landscape_page_each(drafts, results):
    doc = Document(drafts["giay_khen_CD_TDP01_2021.docx"])
    n = sum(1 for e in expected_citizens(results) if e["unit_code"] == "TDP01")
    breaks = [p for p in paragraphs(doc) if p.paragraph_format.page_break_before]
    assert len(breaks) == n - 1
    assert texts(doc).count("GIẤY KHEN") == n
    names = [t for t in texts(doc) if t.startswith(("Ông ", "Bà "))]
    assert len(names) == n
    doc = Document(drafts["giay_khen_GD_TDP01_2021.docx"])
    assert any(
        t.endswith(", phố Mới, Tổ dân phố số 1, thị trấn Phong Sơn, huyện Cẩm Thủy")
        for t in texts(doc)
    )
    assert all(
        t.startswith("Gia đình ") for t in texts(doc) if "Nguyễn Văn" in t and "Số " not in t
    )


# --- templates: checked before rendering ------------------------------------------------------


def _copy_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "mau"
    shutil.copytree(
        Path(__file__).resolve().parent.parent / "input_templates",
        folder,
        ignore=shutil.ignore_patterns("*.xlsx"),
    )
    return folder


def test_clerk_reworded_template_still_renders(tmp_path, catalogue, results):
    folder = _copy_templates(tmp_path)
    doc = Document(folder / "quyet_dinh.docx")
    find(doc, "QUYẾT ĐỊNH:").runs[0].text = "QUYẾT ĐỊNH (đã sửa):"
    doc.save(folder / "quyet_dinh.docx")
    paths = write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)
    assert "QUYẾT ĐỊNH (đã sửa):" in texts(Document(paths[0]))


def test_unknown_tag_is_refused_before_rendering(tmp_path, catalogue, results):
    folder = _copy_templates(tmp_path)
    doc = Document(folder / "to_trinh.docx")
    doc.add_paragraph("Người lập: {{ nguoi_lap_bieu }}")
    doc.save(folder / "to_trinh.docx")
    with pytest.raises(TemplateError, match=r"to_trinh\.docx.*nguoi_lap_bieu"):
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)
    assert not list((tmp_path / "out").glob("*.docx"))  # checked before anything is written


def test_broken_or_missing_template(tmp_path, catalogue, results):
    folder = _copy_templates(tmp_path)
    (folder / "quyet_dinh.docx").write_bytes(b"not a word file")
    with pytest.raises(TemplateError, match=r"quyet_dinh\.docx"):
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)
    (folder / "quyet_dinh.docx").unlink()
    with pytest.raises(TemplateError, match="Không tìm thấy mẫu Word"):
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)


def test_syntax_error_in_template(tmp_path, catalogue, results):
    folder = _copy_templates(tmp_path)
    doc = Document(folder / "bien_ban.docx")
    doc.add_paragraph("{{ chu_tri }")
    doc.save(folder / "bien_ban.docx")
    with pytest.raises(TemplateError, match=r"bien_ban\.docx"):
        write_decisions(catalogue, results, 2021, tmp_path / "out", templates_dir=folder)


def test_nobody_recognised_no_decision(tmp_path, catalogue, results):
    nobody = Results(
        results.citizens.assign(outcome=S.NOT_ACHIEVED),
        results.households.assign(outcome=S.NOT_ACHIEVED),
        results.units.assign(outcome=S.NOT_ELIGIBLE),
    )
    names = {p.name for p in write_decisions(catalogue, nobody, 2021, tmp_path)}
    assert not [n for n in names if n.startswith(("quyet_dinh", "giay_khen"))]
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
    assert "Thời gian: ngày      tháng      năm 2021." in texts(minutes)


# --- PDF and speed ------------------------------------------------------------------------------


def test_pdf_without_libreoffice_is_a_warning(tmp_path, monkeypatch, drafts):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    warnings = convert_to_pdf([drafts["quyet_dinh_CD_2021.docx"]], tmp_path)
    assert len(warnings) == 1 and "LibreOffice" in warnings[0]
    assert not list(tmp_path.glob("*.pdf"))


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
    decision = ctx.decision_context(
        ctx.ward_context(catalogue, 2021), catalogue.citizen_title, rows
    )
    out = _Renderer(DEFAULT_TEMPLATES).render("quyet_dinh", decision, tmp_path / "qd.docx")
    assert len(annex_rows(Document(out))) == 10_000


def test_line_breaks_in_values_still_become_breaks() -> None:
    """The skip of docxtpl's listing pass must not lose a newline typed in a note."""
    from processor.outputs.documents import _Template

    template = _Template.__new__(_Template)  # resolve_listing needs no document
    plain = '<w:p><w:r><w:t xml:space="preserve">Nguyễn Văn An &amp; Lê Thị Bình</w:t></w:r></w:p>'
    assert template.resolve_listing(plain) == plain
    broken = template.resolve_listing("<w:p><w:r><w:t>Dòng một\nDòng hai</w:t></w:r></w:p>")
    assert "<w:br/>" in broken and "Dòng hai" in broken
