"""Machine checks of DOCUMENT_FORMAT.md (Nghị định 30/2020/NĐ-CP, Phụ lục I and III) with
python-docx: each function takes a generated .docx and returns the rules it breaks, as
`§n: what` strings, so a test can assert an empty list and show every problem at once.

What python-docx cannot see (where LibreOffice breaks a line, how long a drawn line looks
next to its text) is looked at on the rendered pages instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

TNR = "Times New Roman"
CENTER, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY
CHAIRMAN_LINES = ({"CHỦ TỊCH"}, {"KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"})


def paragraphs(doc: DocumentObject) -> list[Paragraph]:
    """Every paragraph of the body, table cells included, in document order."""
    return [Paragraph(p, doc) for p in doc.element.body.iter(qn("w:p"))]


def texts(doc: DocumentObject) -> list[str]:
    return [paragraph_text(p._p) for p in paragraphs(doc)]


_RUN, _HYPERLINK = qn("w:r"), qn("w:hyperlink")
_RUN_TEXT = tuple(qn(f"w:{t}") for t in ("br", "cr", "noBreakHyphen", "ptab", "t", "tab"))


def paragraph_text(p) -> str:
    """``Paragraph(p).text``, read as python-docx reads it (runs and hyperlinks' runs, a break
    as its str) without its XPath query per run, which made reading a 10,000-name annex the
    slowest part of its test."""
    parts = []
    for child in p.iterchildren(_RUN, _HYPERLINK):
        for run in (child,) if child.tag == _RUN else child.iterchildren(_RUN):
            parts.extend(str(e) for e in run.iterchildren(*_RUN_TEXT))
    return "".join(parts)


def size(paragraph: Paragraph) -> float:
    """Effective size in pt of the paragraph's first run (run, then paragraph style)."""
    run = paragraph.runs[0]
    if run.font.size is not None:
        return run.font.size.pt
    style = paragraph.style
    while style is not None and style.font.size is None:
        style = style.base_style
    return (style.font.size or Pt(11)).pt


def bold(paragraph: Paragraph) -> bool:
    return all(r.bold for r in paragraph.runs if r.text.strip())


def has_bottom_border(paragraph: Paragraph) -> bool:
    return paragraph._p.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}") is not None


def _cell_texts(cell) -> list[str]:
    return [p.text for p in cell.paragraphs if p.text.strip()]


# --- §1 page -----------------------------------------------------------------------------------


def page(doc: DocumentObject, *, landscape: bool = False) -> list[str]:
    problems = []
    for i, section in enumerate(doc.sections):
        expected = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        width, height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
        if section.orientation != expected:
            problems.append(f"§1: section {i} orientation")
        if abs(section.page_width - width) > Mm(1) or abs(section.page_height - height) > Mm(1):
            problems.append(f"§1: section {i} is not A4")
        for name, low, high in (
            ("top_margin", 20, 25),
            ("bottom_margin", 20, 25),
            ("left_margin", 30, 35),
            ("right_margin", 15, 20),
        ):
            if not Mm(low) <= getattr(section, name) <= Mm(high):
                problems.append(f"§1: {name} of section {i} outside {low}-{high} mm")
    return problems


def fonts(path: Path) -> list[str]:
    """Times New Roman in every font slot of every style and run; no theme fonts."""
    doc = Document(str(path))
    problems = []
    elements = [*doc.styles.element.iter(qn("w:rFonts")), *doc.element.body.iter(qn("w:rFonts"))]
    for rfonts in elements:
        for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
            if rfonts.get(qn(f"w:{slot}")) != TNR:
                problems.append(f"§1: font slot {slot} is {rfonts.get(qn(f'w:{slot}'))}")
    for style in {p.style.name for p in paragraphs(doc)} | {"Normal"}:
        color = doc.styles[style].font.color
        if color is not None and color.rgb not in (None,) and str(color.rgb) != "000000":
            problems.append(f"§1: style {style} is not black")
    return sorted(set(problems))


def page_numbers(doc: DocumentObject, *, annex: bool) -> list[str]:
    """Centred top, 13-14 pt, none on the first page; an annex numbered on its own from 1."""
    problems = []
    first = doc.sections[0]
    if not first.different_first_page_header_footer or first.first_page_header.paragraphs[0].text:
        problems.append("§1: a page number on the first page")
    header = first.header.paragraphs[0]
    if "PAGE" not in "".join(header._p.itertext()) or header.alignment != CENTER:
        problems.append("§1: no centred PAGE field in the header")
    elif not 13 <= header.runs[0].font.size.pt <= 14:
        problems.append("§1: page number not 13-14 pt")
    if annex:
        if len(doc.sections) != 2:
            problems.append("§7: the annex is not a section of its own")
        else:
            numbering = doc.sections[1]._sectPr.find(qn("w:pgNumType"))
            if numbering is None or numbering.get(qn("w:start")) != "1":
                problems.append("§7: the annex's page numbers do not start again at 1")
            kind = doc.sections[1]._sectPr.find(qn("w:type"))
            if kind is not None and kind.get(qn("w:val")) != "nextPage":
                problems.append("§7: the annex does not start on a new page")
    return problems


def body_style(doc: DocumentObject) -> list[str]:
    style = doc.styles["Body Text"].paragraph_format
    problems = []
    indent = style.first_line_indent
    if indent is None or not (abs(indent - Cm(1)) < Pt(1) or abs(indent - Cm(1.27)) < Pt(1)):
        problems.append("§1: first-line indent is not 1 cm or 1.27 cm")
    if (style.space_after or 0) < Pt(6) and (style.space_before or 0) < Pt(6):
        problems.append("§1: less than 6 pt between paragraphs")
    if doc.styles["Body Text"].font.size.pt not in (13, 14):
        problems.append("§1: body text not 13-14 pt")
    for p in paragraphs(doc):
        if p.style.name == "Body Text" and p.alignment not in (None, JUSTIFY):
            problems.append(f"§1: body paragraph not justified: {p.text[:40]}")
    return problems


def quotes_and_capitals(doc: DocumentObject) -> list[str]:
    problems = []
    for text in texts(doc):
        if '"' in text:
            problems.append(f"§1: straight quotes in “{text[:60]}”")
        if "Ban chỉ đạo" in text or "Ban vận động" in text:
            problems.append(f"§5: lower-case body name in “{text[:60]}”")
        if "___" in text:
            problems.append(f"§2: a line drawn with underscores in “{text[:60]}”")
    return problems


# --- §2 header ---------------------------------------------------------------------------------


def header(doc: DocumentObject, *, symbol: str, dated: bool = True) -> list[str]:
    """The borderless two-column header: issuer (and chủ quản), motto, number, date."""
    problems = []
    table = doc.tables[0]
    if (
        len(table.columns) != 2
        or table._tbl.find(f"{qn('w:tblPr')}/{qn('w:tblBorders')}") is not None
    ):
        return ["§2: the header is not a borderless two-column table"]
    if table.style is not None and table.style.name == "Table Grid":
        problems.append("§2: the header table has borders")
    left, right = table.rows[0].cells
    lines = [p for p in left.paragraphs if p.text.strip()]
    issuer = [p for p in lines if any(r.bold for r in p.runs)]
    above = lines[: lines.index(issuer[0])] if issuer else lines
    for p in above:  # the chủ quản line: capitals, not bold
        if p.text != p.text.upper() or any(r.bold for r in p.runs) or not 12 <= size(p) <= 13:
            problems.append(f"§2: chủ quản line “{p.text}” must be capitals, upright, not bold")
    if not issuer or lines[len(above) :] != issuer:
        return [*problems, f"§2: issuer lines {[p.text for p in lines]} must be bold"]
    for p in issuer:
        if p.text != p.text.upper() or not bold(p) or not 12 <= size(p) <= 13:
            problems.append(f"§2: issuer “{p.text}” must be bold capitals, 12-13 pt")
    elements = [q._p for q in left.paragraphs]
    rule = left.paragraphs[elements.index(issuer[-1]._p) + 1]
    if not has_bottom_border(rule) or rule.text:
        problems.append("§2: no drawn line under the issuer")
    motto = [p for p in right.paragraphs if p.text.strip()]
    if [p.text for p in motto][:2] != [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]:
        problems.append("§2: national title and motto")
    elif not (bold(motto[0]) and bold(motto[1]) and 12 <= size(motto[0]) <= 13):
        problems.append("§2: national title and motto must be bold")
    elif not 13 <= size(motto[1]) <= 14 or not has_bottom_border(right.paragraphs[2]):
        problems.append("§2: motto 13-14 pt with a line under it")
    number = table.rows[1].cells[0].paragraphs[0] if len(table.rows) > 1 else None
    if number is None or not re.fullmatch(rf"Số:\s+/{re.escape(symbol)}", number.text):
        problems.append(f"§2: no `Số:      /{symbol}`")
    elif any(r.bold for r in number.runs) or size(number) != 13:
        problems.append("§2: the number line is 13 pt, upright, not bold")
    date = table.rows[1].cells[1].paragraphs[0] if len(table.rows) > 1 else None
    if dated:
        if date is None or not re.fullmatch(r"\S.*, ngày .* năm \d{4}", date.text):
            problems.append("§2: no place-and-date line")
        elif not all(r.italic for r in date.runs) or not 13 <= size(date) <= 14:
            problems.append("§2: the date line is 13-14 pt italic")
    elif date is not None and date.text.strip():
        problems.append("§8: a Biên bản has no date line in its header")
    return problems


# --- §3-4 title, authority, signature ----------------------------------------------------------


def title(doc: DocumentObject, name: str) -> list[str]:
    found = [p for p in paragraphs(doc) if p.text == name]
    if not found:
        return [f"§3: no title {name}"]
    p = found[0]
    problems = []
    if not bold(p) or p.alignment != CENTER or not 13 <= size(p) <= 14:
        problems.append(f"§3: {name} must be bold, centred, 13-14 pt")
    following = paragraphs(doc)[[q._p for q in paragraphs(doc)].index(p._p) + 1]
    if not bold(following) or following.alignment != CENTER:
        problems.append("§3: the summary must be bold and centred")
    after = paragraphs(doc)[[q._p for q in paragraphs(doc)].index(following._p) + 1]
    if not has_bottom_border(after):
        problems.append("§3: no line under the summary")
    return problems


def signature_table(doc: DocumentObject) -> Table | None:
    for table in doc.tables:
        cells = table.rows[0].cells
        if len(cells) == 2 and cells[0].paragraphs and cells[0].paragraphs[0].text == "Nơi nhận:":
            return table
    return None


def offices(doc: DocumentObject) -> list[str]:
    """The bold capital lines of the signature block, above the blank lines."""
    table = signature_table(doc)
    if table is None:
        return []
    lines = []
    for p in table.rows[0].cells[1].paragraphs:
        if not p.text.strip():
            break
        lines.append(p.text)
    return lines


def authority_and_signature(doc: DocumentObject, *, ward: str) -> list[str]:
    """§3-4: the authority line names the chairman or the body; the signature agrees."""
    chairman_line = f"CHỦ TỊCH ỦY BAN NHÂN DÂN {ward}"
    body_line = f"ỦY BAN NHÂN DÂN {ward}"
    all_texts = texts(doc)
    signed = offices(doc)
    problems = []
    if chairman_line in all_texts:
        if any(line.startswith("TM.") for line in signed):
            problems.append("§4: TM. under a decision the chairman issues")
        if set(signed) not in CHAIRMAN_LINES:
            problems.append(f"§4: chairman's decision signed {signed}")
    elif body_line in all_texts:
        if signed[:1] != ["TM. ỦY BAN NHÂN DÂN"] or set(signed[1:]) not in CHAIRMAN_LINES:
            problems.append(f"§4: the body's decision signed {signed}")
    else:
        problems.append("§3: no authority line")
    for line in signed:
        if line != line.upper():
            problems.append(f"§4: office “{line}” not in capitals")
    return problems


def recipients(doc: DocumentObject, *, first: str | None = None) -> list[str]:
    table = signature_table(doc)
    if table is None:
        return ["§4: no signature table with Nơi nhận"]
    problems = []
    cell = table.rows[0].cells[0]
    heading = cell.paragraphs[0]
    run = heading.runs[0]
    if not (run.bold and run.italic and size(heading) == 12):
        problems.append("§4: `Nơi nhận:` is 12 pt bold italic")
    margin = cell._tc.find(f"{qn('w:tcPr')}/{qn('w:tcMar')}/{qn('w:left')}")
    if margin is None or margin.get(qn("w:w")) != "0":
        problems.append("§4: `Nơi nhận:` is not flush with the left margin")
    lines = [p for p in cell.paragraphs[1:] if p.text.strip()]
    if not lines:
        return [*problems, "§4: no recipients"]
    if first and lines[0].text != first:
        problems.append(f"§4: first recipient is {lines[0].text!r}, not {first!r}")
    for p in lines:
        if not p.text.startswith("- ") or size(p) != 11 or any(r.bold for r in p.runs):
            problems.append(f"§4: recipient “{p.text}” is `- …`, 11 pt, upright")
    if not all(p.text.endswith(";") for p in lines[:-1]):
        problems.append("§4: recipients end with `;`")
    if not re.fullmatch(r"- Lưu: .+\.", lines[-1].text):
        problems.append("§4: the last recipient is `- Lưu: …`.")
    room = sum(1 for p in table.rows[0].cells[1].paragraphs if not p.text.strip())
    if room < 4:
        problems.append("§4: less than 4 blank lines for the signature")
    name = table.rows[0].cells[1].paragraphs[-1]
    if not name.text or not bold(name) or name.text == name.text.upper():
        problems.append("§4: the signer's name, in normal case and bold, closes the block")
    return problems


# --- §5-6 căn cứ and articles ------------------------------------------------------------------


def bases(doc: DocumentObject) -> list[str]:
    found = [p for p in paragraphs(doc) if p.text.startswith(("Căn cứ", "Xét đề nghị"))]
    if not found:
        return ["§5: no căn cứ"]
    problems = []
    if not all(all(r.italic for r in p.runs) for p in found):
        problems.append("§5: căn cứ in italics")
    if not all(p.text.endswith(";") for p in found[:-1]) or not found[-1].text.endswith("."):
        problems.append("§5: each căn cứ ends with `;`, the last with `.`")
    for p in found:
        if not 13 <= size(p) <= 14:
            problems.append("§5: căn cứ 13-14 pt")
        if "01/KH-UBND ngày 15" in p.text:
            problems.append("§5: an invented plan number")
        if "09/2019/QĐ-UBND" in p.text and "Chủ tịch Ủy ban nhân dân tỉnh" in p.text:
            problems.append("§5: QĐ 09/2019 given to the provincial chairman")
    return problems


NOUNS = ("công dân", "gia đình", "tổ dân phố")


def articles(doc: DocumentObject, *, noun: str, count: str, instrument: str) -> list[str]:
    """§6: Điều 1 counts in digits and words with the annex; Điều 2 names only this decision's
    kind of recipient and its instrument; it takes effect on signing; Điều 3 the real posts."""
    found = {p.text[:6]: p for p in paragraphs(doc) if re.match(r"Điều \d\.", p.text)}
    problems = []
    for number in ("Điều 1", "Điều 2", "Điều 3"):
        p = found.get(number)
        if p is None:
            return [f"§6: no {number}"]
        if not p.runs[0].bold or p.runs[0].text.strip() != f"{number}.":
            problems.append(f"§6: {number}. is not bold")
        if p.style.name != "Body Text" or p.paragraph_format.first_line_indent not in (None,):
            problems.append(f"§6: {number} is not indented like the body")
    one, two, three = (found[f"Điều {n}"].text for n in (1, 2, 3))
    if f"cho {count} {noun} (có danh sách kèm theo)." not in one:
        problems.append(f"§6: Điều 1 reads {one!r}")
    others = [n for n in NOUNS if n != noun and n in two]
    if others or f"Các {noun} có tên tại Điều 1" not in two:
        problems.append(f"§6: Điều 2 names {others or 'not'} {noun}: {two!r}")
    if instrument not in two:
        problems.append(f"§6/§9: Điều 2 does not grant the {instrument}")
    if "có hiệu lực kể từ ngày ký" not in two + three:
        problems.append("§6: no `Quyết định này có hiệu lực kể từ ngày ký`")
    if "Văn phòng HĐND và UBND" in three or not three.endswith(
        "chịu trách nhiệm thi hành Quyết định này./."
    ):
        problems.append(f"§6: Điều 3 reads {three!r}")
    return problems


# --- §7 annex ----------------------------------------------------------------------------------


def annex_tables(doc: DocumentObject) -> list[Table]:
    return [t for t in doc.tables if t.rows[0].cells[0].text == "STT"]


def annex_rows(doc: DocumentObject) -> list[list[str]]:
    return [_row_texts(row) for t in annex_tables(doc) for row in t.rows[1:]]


_TC_PR, _SPANS = qn("w:tcPr"), (qn("w:gridSpan"), qn("w:vMerge"))


def _merged(tc) -> bool:
    pr = tc.find(_TC_PR)
    return pr is not None and any(pr.find(span) is not None for span in _SPANS)


def _row_texts(row) -> list[str]:
    """``[c.text for c in row.cells]``; a row without merged cells read cell by cell."""
    cells = row._tr.tc_lst
    if any(_merged(tc) for tc in cells):
        return [c.text for c in row.cells]
    return ["\n".join(paragraph_text(p) for p in tc.iterchildren(qn("w:p"))) for tc in cells]


ANNEX_COLUMNS = {
    "công dân": ["STT", "Họ và tên", "Năm sinh", "Ghi chú"],
    "gia đình": ["STT", "Họ và tên chủ hộ", "Địa chỉ", "Ghi chú"],
    "tổ dân phố": ["STT", "Tên tổ dân phố", "Số hộ", None, "Ghi chú"],
}


def annex(doc: DocumentObject, *, noun: str, count: int, issuer: str) -> list[str]:
    problems = []
    heading = [p for p in paragraphs(doc) if paragraph_text(p._p) == "DANH SÁCH"]
    if not heading or not bold(heading[0]) or heading[0].alignment != CENTER:
        return ["§7: no bold centred DANH SÁCH"]
    attached = [t for t in texts(doc) if t.startswith("(Kèm theo ")]
    if not attached or not attached[0].endswith(f"của {issuer})"):
        problems.append(f"§7: the annex is not attached to {issuer}: {attached}")
    tables = annex_tables(doc)
    if not tables:
        return [*problems, "§7: no table"]
    for table in tables:
        labels = [c.text for c in table.rows[0].cells]
        expected = ANNEX_COLUMNS[noun]
        if len(labels) != len(expected) or any(
            e and e != lab for lab, e in zip(labels, expected, strict=True)
        ):
            problems.append(f"§7: columns {labels}")
        if table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is None:
            problems.append("§7: header row not repeated on each page")
        if not all(r.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs):
            problems.append("§7: header row not bold")
        if any(
            row._tr.trPr is None or row._tr.trPr.find(qn("w:cantSplit")) is None
            for row in table.rows[1:]
        ):
            problems.append("§7: rows may split across pages")
        if table.columns[0].width < Mm(18) and Pt(12) < _table_size(table):
            problems.append("§7: the STT column is narrower than 18 mm")
    numbers = [r[0] for r in annex_rows(doc)]
    if numbers != [str(i) for i in range(1, count + 1)]:
        problems.append(f"§7: STT runs {numbers[:3]}…{numbers[-3:]}, not 1…{count}")
    return problems


def _table_size(table: Table) -> float:
    cell = table.rows[-1].cells[0].paragraphs[0]
    return Pt(size(cell))


# --- §8 unit papers ----------------------------------------------------------------------------


def unit_paper(doc: DocumentObject, *, unit: str) -> list[str]:
    """The header names the Ban Vận động under the unit, never the town's UBND as chủ quản,
    and a Tờ trình is signed TM. BAN VẬN ĐỘNG / TRƯỞNG BAN."""
    left = [p.text for p in doc.tables[0].rows[0].cells[0].paragraphs if p.text.strip()]
    problems = []
    if left != [unit.upper(), "BAN VẬN ĐỘNG"]:
        problems.append(f"§8: header {left}")
    if any("ỦY BAN NHÂN DÂN" in line or "UBND" in line for line in left):
        problems.append("§8: the town's UBND as the unit's chủ quản")
    signed = offices(doc)
    if signed and signed != ["TM. BAN VẬN ĐỘNG", "TRƯỞNG BAN"]:
        problems.append(f"§8: a Ban Vận động paper signed {signed}")
    return problems


def minutes(doc: DocumentObject) -> list[str]:
    """Mẫu 1.9: the record's parts, the conclusion of every candidate, the two signatures."""
    body = texts(doc)
    problems = []
    for start in (
        "Thời gian bắt đầu: ",
        "Địa điểm: ",
        "Thành phần tham dự: ",
        "Chủ trì (chủ tọa): ",
        "Thư ký: ",
        "Cuộc họp kết thúc vào ",
    ):
        if not any(t.startswith(start) for t in body):
            problems.append(f"§8: no `{start.strip()}`")
    for table in annex_tables(doc):
        labels = [c.text for c in table.rows[0].cells]
        if labels[-1] != "Kết luận":
            problems.append(f"§8: no Kết luận column in {labels}")
            continue
        for row in table.rows[1:]:
            verdict = row.cells[-1].text
            if verdict != "Đề nghị" and not verdict.startswith("Không đề nghị"):
                problems.append(f"§8: candidate {row.cells[1].text} has no conclusion")
    closing = [t for t in doc.tables if len(t.rows[0].cells) == 2]
    roles = [
        [p.text for p in c.paragraphs if p.text.strip()][:1] for c in closing[-1].rows[0].cells
    ]
    if roles != [["THƯ KÝ"], ["CHỦ TỌA"]]:
        problems.append(f"§8: signatures {roles}, not THƯ KÝ left and CHỦ TỌA right")
    return problems


def proposed_by_minutes(doc: DocumentObject) -> list[tuple[str, str]]:
    """(name, birth year or address) of every candidate a Biên bản proposes."""
    return [
        (row.cells[1].text, row.cells[2].text)
        for table in annex_tables(doc)
        for row in table.rows[1:]
        if row.cells[-1].text == "Đề nghị"
    ]


def listed_in_proposal(doc: DocumentObject) -> list[tuple[str, str]]:
    return [
        (row.cells[1].text, row.cells[2].text)
        for table in annex_tables(doc)
        for row in table.rows[1:]
    ]
