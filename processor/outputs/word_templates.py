"""Build the editable Word templates of the December drafts (SPEC §6, DOCUMENT_FORMAT.md).

`build_templates(folder)` writes the docxtpl templates: ``quyet_dinh.docx`` (a decision of the
town and its annex), ``to_trinh_huyen.docx`` (the town's Tờ trình to the district for a title
the district recognises, with its annex), ``to_trinh.docx`` and ``bien_ban.docx`` (per unit,
from its Ban Vận động) and ``giay_khen.docx`` (one landscape certificate page: Giấy công nhận
or Giấy khen, per the title's setting), ``binh_xet.docx`` (a unit's list for its vote
meeting), ``bao_cao_ket_qua.docx`` and ``bao_cao_dang_ky.docx`` (the town's reports to the
district, filled by `outputs.year_report`). The clerk may reword them in Word as long as the Jinja
tags stay; the tags are Vietnamese without diacritics, like the catalogue's setting keys.
`outputs.documents` fills them in Jinja's sandbox and checks, before each batch, that every
tag a template uses is provided and reaches nothing else.

Tags (filled by `processor.outputs.document_context`):
- every template: ``ten_tinh``, ``ten_huyen``, ``ten_xa``, ``ten_xa_thuong`` (thị trấn Phong
  Sơn), ``dia_danh``, ``nam``, ``co_quan_ban_hanh``, ``co_quan_ban_hanh_ngan`` (UBND),
  ``ky_hieu`` (QĐ-UBND), ``ky_hieu_to_trinh`` (TTr-UBND), ``tham_quyen`` (the authority line:
  the chairman's office or the body), ``nguoi_ban_hanh`` (the same in normal case),
  ``chu_tich`` / ``chu_tich_hoa`` (the chairman's office), ``chuc_danh_ky`` (the signature's
  offices for a decision, a list: §4 of DOCUMENT_FORMAT), ``chuc_danh_ky_chu_tich`` (the
  chairman's, for certificates), ``chuc_danh_ky_tap_the`` (the body's, for the town's Tờ
  trình), ``nguoi_ky``, ``ten_ban_chi_dao``, ``ten_ban_van_dong``, ``kinh_gui``,
  ``kinh_gui_huyen``, ``can_cu`` / ``can_cu_to_trinh`` (lists), ``quyen_loi``, ``thi_hanh``,
  ``noi_nhan`` (list), ``ke_hoach``, ``ten_cd`` / ``ten_gd`` / ``ten_tdp``;
- quyet_dinh / to_trinh_huyen / giay_khen: ``cap`` (cong_dan, ho_gia_dinh, don_vi),
  ``doi_tuong``, ``ma_danh_hieu``, ``ten_danh_hieu``, ``hinh_thuc`` (Giấy công nhận / Giấy
  khen), ``cap_giay`` (cấp Giấy công nhận), ``dong_tu`` (CẤP / TẶNG), ``so_luong`` (123 (một
  trăm hai mươi ba)), ``danh_sach`` (rows: ``stt``, ``ho_ten``, ``nam_sinh``, ``chu_ho``,
  ``dia_chi``, ``don_vi``, ``ten``, ``so_ho``, ``ty_le``, ``ghi_chu``; certificates:
  ``nguoi_nhan``, ``noi_o``, ``so_vao_so``), ``nhom`` (per unit: ``ten``, ``so_luong``,
  ``danh_sach``), ``ho_so`` (to_trinh_huyen: the attached dossier, a list);
- to_trinh / bien_ban: ``ten_don_vi``, ``chu_quan``, ``la_to_dan_pho``, ``ban_van_dong``,
  ``ky_hieu_to_trinh_don_vi``, ``ky_hieu_bien_ban``, ``truong_ban``, ``cong_dan`` /
  ``gia_dinh`` (rows with ``so_phieu``, ``ty_le_phieu``, ``ket_luan``), ``so_cong_dan``,
  ``so_gia_dinh``, ``cong_dan_de_nghi``, ``gia_dinh_de_nghi``, ``de_nghi_to_dan_pho``,
  ``ngay_hop``, ``dia_diem``, ``thanh_phan``, ``chu_tri``, ``thu_ky``, ``so_nguoi_du_hop``,
  ``nguong_phieu``;
- bao_cao_ket_qua / bao_cao_dang_ky: ``nam_truoc``, ``ky`` (the period of the figures),
  ``ky_hieu_bao_cao``, ``nhan_xet`` (a sentence per title), ``tong_hop`` (rows per title:
  ``stt``, ``ten``, ``c1``…``c5``, the columns of REPORT_COLUMNS), ``nhom`` (per title:
  ``bang``, ``ten``, ``ghi_chu``, ``danh_sach``: the same rows per unit, then Cộng),
  ``ghi_chu`` (a list), ``bieu_do`` (the chart), ``noi_nhan_bao_cao`` (a list).

Rows of a list (``{%tr for r in … %}``) and the certificate page are written once per item
after rendering (`outputs.docx_lists`): inside them use the item's fields, not ``loop.index``.

The page follows Nghị định 30/2020/NĐ-CP, Phụ lục I: A4, margins 20/20/30/15 mm, Times New Roman
in every style (East Asian and complex-script slots too, or Word falls back for Vietnamese),
header and signature blocks as borderless two-column tables, lines drawn as paragraph borders,
an annex in a section of its own numbered from 1.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, Twips
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from processor.outputs.files import atomic_path

FONT = "Times New Roman"

# Nghị định 30/2020, Phụ lục I, mục II: margins (mm) within the allowed ranges.
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 20, 20, 30, 15
PORTRAIT_WIDTH = 21.0 - (MARGIN_LEFT + MARGIN_RIGHT) / 10  # text width, cm
LANDSCAPE_WIDTH = 29.7 - (MARGIN_LEFT + MARGIN_RIGHT) / 10
CELL_PADDING = 0.38  # Word's default left + right cell margins, cm

C, L, J = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.JUSTIFY
BLANK = "      "  # the room left for the clerk in `Số:      /QĐ-UBND` and the date
MOTTO = "Độc lập - Tự do - Hạnh phúc"
MOTTO_WIDTH = 5.6  # cm: the motto's own width in 13 pt bold Times New Roman (measured on the PDF)

Container = DocumentObject | _Cell


# --- page, styles, fonts -------------------------------------------------------------------------


def _rfonts(rpr) -> None:
    """Times New Roman in all four font slots, replacing theme fonts (Calibri, Cambria…)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        style = rpr.find(qn("w:rStyle"))
        rpr.insert(1 if style is not None else 0, rfonts)
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        rfonts.set(qn(f"w:{slot}"), FONT)


def _mm(mm: float) -> Twips:
    """Millimetres rounded up to Word's twips, so 15 mm is stored as 15.01 mm, never 14.99."""
    return Twips(math.ceil(mm * 1440 / 25.4))


def _new_document(*, landscape: bool = False, page_numbers: bool = True) -> DocumentObject:
    doc = Document()
    # Word 2010's copy of the styles (still on Calibri) and python-docx's sample thumbnail.
    for rels in (doc.part.rels, doc.part.package.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype.endswith(("/stylesWithEffects", "/thumbnail")):
                rels.pop(rid)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _rfonts(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "vi-VN")
    for style in doc.styles:
        if style.type in (WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER, WD_STYLE_TYPE.TABLE):
            _rfonts(style.element.get_or_add_rPr())
            if style.type != WD_STYLE_TYPE.TABLE:
                style.font.color.rgb = None  # automatic = black
    for rfonts in doc.styles.element.iter(qn("w:rFonts")):  # table styles' conditional parts
        _rfonts(rfonts.getparent())
    normal = doc.styles["Normal"]
    normal.font.size = Pt(14)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    body = doc.styles["Body Text"]
    body.font.size = Pt(14)
    body.paragraph_format.alignment = J
    body.paragraph_format.first_line_indent = Cm(1.27)
    body.paragraph_format.space_before = Pt(0)
    body.paragraph_format.space_after = Pt(6)
    body.paragraph_format.line_spacing = 1.0
    table_text = doc.styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    table_text.font.size = Pt(13)
    table_text.paragraph_format.space_before = Pt(2)
    table_text.paragraph_format.space_after = Pt(2)
    _rfonts(table_text.element.get_or_add_rPr())

    doc.core_properties.author = "kieumau"
    doc.core_properties.last_modified_by = "kieumau"
    doc.core_properties.title = ""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (
        (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    )
    section.top_margin, section.bottom_margin = _mm(MARGIN_TOP), _mm(MARGIN_BOTTOM)
    section.left_margin, section.right_margin = _mm(MARGIN_LEFT), _mm(MARGIN_RIGHT)
    section.header_distance = section.footer_distance = Mm(10)
    if page_numbers:
        _page_numbers(section)
    return doc


def _page_numbers(section) -> None:
    """Page number top centre, 13 pt, from page 2 on (a different, empty first-page header)."""
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False
    section.header.is_linked_to_previous = False
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = C
    for kind, text in (
        ("begin", None),
        (None, " PAGE "),
        ("separate", None),
        (None, "2"),
        ("end", None),
    ):
        run = paragraph.add_run()
        run.font.size = Pt(13)
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text


# --- paragraphs ---------------------------------------------------------------------------------

Segment = tuple[str, str]  # (text, flags): "b" bold, "i" italic


def _para(
    box: Container,
    *segments: Segment | str,
    size: float = 14,
    align=C,
    style: str | None = None,
    before: float = 0,
    after: float = 0,
    indent: float | None = None,
    keep_next: bool = False,
) -> Paragraph:
    """One paragraph of runs; a plain string is an upright, regular run."""
    paragraph = box.add_paragraph(style=style)
    fmt = paragraph.paragraph_format
    paragraph.alignment = align
    if style is None:
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if indent is not None:
        fmt.first_line_indent = Cm(indent)
    if keep_next:
        fmt.keep_with_next = True
    for segment in segments:
        text, flags = (segment, "") if isinstance(segment, str) else segment
        run = paragraph.add_run(text)
        run.font.size = Pt(size)
        run.bold = "b" in flags or None
        run.italic = "i" in flags or None
    return paragraph


def _tag(box: Container, tag: str) -> Paragraph:
    """A paragraph holding only a docxtpl block tag (`{%p … %}`); docxtpl removes it."""
    return _para(box, tag, size=11, align=L)


def _rule(box: Container, length: float, width: float, before: float = 0) -> Paragraph:
    """A solid line `length` cm long, centred in a box `width` cm wide: a bottom border.

    Nghị định 30/2020 wants lines drawn, not typed: no underscores.
    """
    paragraph = _para(box, size=1, before=before)
    side = max((width - length) / 2, 0)
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = Cm(side)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(2)
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "000000")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    ppr.insert_element_before(
        borders,
        "w:shd",
        "w:tabs",
        "w:suppressAutoHyphens",
        "w:spacing",
        "w:ind",
        "w:jc",
        "w:rPr",
        "w:sectPr",
        "w:pPrChange",
    )
    mark = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "2")
    mark.append(size)
    ppr.insert_element_before(mark, "w:sectPr", "w:pPrChange")
    return paragraph


def _page_break_before(paragraph: Paragraph) -> Paragraph:
    paragraph.paragraph_format.page_break_before = True
    return paragraph


# --- tables -------------------------------------------------------------------------------------


def _table(doc: DocumentObject, rows: int, widths: list[float], *, grid: bool) -> Table:
    table = doc.add_table(rows=rows, cols=len(widths))
    if grid:
        table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # <w:tblLayout w:type="fixed"/>: the widths below hold in Word and LO
    total = table._tbl.tblPr.find(qn("w:tblW"))
    total.set(qn("w:type"), "dxa")
    total.set(qn("w:w"), str(round(Cm(sum(widths)).twips)))
    for col, width in zip(table.columns, widths, strict=True):
        col.width = Cm(width)
        for cell in col.cells:
            cell.width = Cm(width)
    for row in table.rows:
        for cell in row.cells:  # drop the empty paragraph python-docx puts in each cell
            for p in cell.paragraphs:
                p._p.getparent().remove(p._p)
    return table


def _row_flag(row, flag: str) -> None:
    """`tblHeader` (repeat on each page) or `cantSplit` on a table row."""
    element = OxmlElement(f"w:{flag}")
    row._tr.get_or_add_trPr().append(element)


def _list_table(
    doc: DocumentObject,
    headers: list[str],
    cells: list[tuple[str, object]],
    widths: list[float],
    loop: str,
    *,
    height: float | None = None,
) -> Table:
    """A bordered list: a bold header row repeated on every page, then one row per item.

    `cells` are (Jinja expression, alignment) for the data row between `{%tr for %}` rows; an
    empty expression leaves the cell blank, to be written in by hand on a row at least
    ``height`` cm high.
    """
    table = _table(doc, 4, widths, grid=True)
    header, start, data, end = table.rows
    _row_flag(header, "tblHeader")
    _row_flag(data, "cantSplit")
    if height:
        data.height = Cm(height)
        data.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    for cell, label in zip(header.cells, headers, strict=True):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        _para(cell, (label, "b"), style="Table Text", align=C)
    _para(start.cells[0], f"{{%tr for r in {loop} %}}", style="Table Text", align=L)
    for cell, (expression, align) in zip(data.cells, cells, strict=True):
        _para(
            cell, f"{{{{ {expression} }}}}" if expression else "", style="Table Text", align=align
        )
    _para(end.cells[0], "{%tr endfor %}", style="Table Text", align=L)
    for row in (start, end):
        for cell in row.cells[1:]:
            _para(cell, style="Table Text")
    return table


def _header(
    doc: DocumentObject,
    width: float,
    left: list[Segment],
    number: str | None,
    date: str,
    *,
    left_width: float = 7.0,
    rule: float = 2.2,
) -> None:
    """The national header (Phụ lục I, mục II.1-5): issuer left, motto right, number and date.

    ``left`` is the chủ quản line (upright, not bold) when there is one, then the issuer's
    name (bold); the line under it is ``rule`` cm long, a third to a half of that name.
    """
    widths = [left_width, width - left_width]
    with_number = number is not None or bool(date)
    table = _table(doc, 2 if with_number else 1, widths, grid=False)
    top = table.rows[0]
    for text, flags in left:
        _para(top.cells[0], (text, flags), size=13)
    _rule(top.cells[0], rule, widths[0] - CELL_PADDING, before=1)
    _para(top.cells[1], ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "b"), size=12)
    _para(top.cells[1], (MOTTO, "b"), size=13)
    _rule(top.cells[1], MOTTO_WIDTH, widths[1] - CELL_PADDING, before=1)
    if with_number:
        bottom = table.rows[1]
        _para(bottom.cells[0], number or "", size=13, before=6)
        _para(bottom.cells[1], (date, "i"), size=14, before=6)


def _ward_header(doc: DocumentObject, w: float, symbol: str | None) -> None:
    """`ỦY BAN NHÂN DÂN` / `THỊ TRẤN PHONG SƠN`, with `Số:      /<symbol>` and the date."""
    _header(
        doc,
        w,
        [("{{ co_quan_ban_hanh|upper }}", "b"), ("{{ ten_xa|upper }}", "b")],
        f"Số:{BLANK}/{{{{ {symbol} }}}}" if symbol else None,
        f"{{{{ dia_danh }}}}, ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}" if symbol else "",
    )


def _title(
    doc: DocumentObject,
    width: float,
    title: str,
    summary: str,
    *,
    before: float = 18,
    rule: float = 5.0,
) -> None:
    _para(doc, (title, "b"), before=before, keep_next=True)
    _para(doc, (summary, "b"), keep_next=True)
    _rule(doc, rule, width, before=2)


def _no_left_padding(cell: _Cell) -> None:
    """Text flush with the table's edge: `Nơi nhận` at the left margin (PL I, II.9)."""
    tcpr = cell._tc.get_or_add_tcPr()
    margins = OxmlElement("w:tcMar")
    left = OxmlElement("w:left")
    left.set(qn("w:w"), "0")
    left.set(qn("w:type"), "dxa")
    margins.append(left)
    tcpr.append(margins)


def _signature(
    doc: DocumentObject,
    width: float,
    left: Callable[[_Cell], None],
    authority: list[tuple[str, str]],
    signer: str,
    *,
    left_width: float = 7.0,
) -> None:
    """Recipients left, signing authority right; four blank lines for signature and seal."""
    table = _table(doc, 1, [left_width, width - left_width], grid=False)
    _row_flag(table.rows[0], "cantSplit")  # a signature block is never cut by a page break
    left_cell, right_cell = table.rows[0].cells
    _no_left_padding(left_cell)
    left(left_cell)
    for line in authority:
        if line[1] == "tag":
            _tag(right_cell, line[0])
        else:
            _para(right_cell, line, size=14)
    for _ in range(4):
        _para(right_cell, size=14)
    _para(right_cell, (signer, "b"), size=14, before=12)


def _recipients(lines: list[str]) -> Callable[[_Cell], None]:
    def fill(cell: _Cell) -> None:
        _para(cell, ("Nơi nhận:", "bi"), size=12, align=L)
        for line in lines:
            if line.startswith("{%"):
                _tag(cell, line)
            else:
                _para(cell, line, size=11, align=L)

    return fill


def _offices(key: str) -> list[tuple[str, str]]:
    """The signer's offices, one bold line each, from a list the context computes (§4 table)."""
    return [(f"{{%p for line in {key} %}}", "tag"), ("{{ line }}", "b"), ("{%p endfor %}", "tag")]


def _body(doc: DocumentObject, *segments: Segment | str, keep_next: bool = False) -> Paragraph:
    return _para(doc, *segments, style="Body Text", align=J, keep_next=keep_next)


def _annex_section(doc: DocumentObject) -> None:
    """The annex on a new page, numbered on its own from 1 (PL I, III.1.đ)."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    numbering = OxmlElement("w:pgNumType")
    numbering.set(qn("w:start"), "1")
    section._sectPr.insert_element_before(
        numbering, "w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg"
    )


# --- lists ---------------------------------------------------------------------------------------

# Five digits of 13 pt Times New Roman and the cell's padding fit in 1.9 cm (§7: at least 18 mm).
STT = 1.9
TITLE_OF = "“{{ ten_danh_hieu }}”"


def _group_heading(doc: DocumentObject) -> Paragraph:
    return _para(
        doc,
        ("{{ g.ten }} ({{ g.so_luong }} {{ doi_tuong }})", "b"),
        size=13,
        align=L,
        before=6,
        after=3,
        keep_next=True,
    )


def _annex_lists(doc: DocumentObject) -> None:
    """The list of a title by its level: people and families grouped under their unit."""
    _tag(doc, '{%p if cap == "cong_dan" %}')
    _tag(doc, "{%p for g in nhom %}")
    _group_heading(doc)
    _list_table(
        doc,
        ["STT", "Họ và tên", "Năm sinh", "Ghi chú"],
        [("r.stt", C), ("r.ho_ten", L), ("r.nam_sinh", C), ("r.ghi_chu", L)],
        [STT, 7.6, 2.5, 4.5],
        "g.danh_sach",
    )
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, '{%p if cap == "ho_gia_dinh" %}')
    _tag(doc, "{%p for g in nhom %}")
    _group_heading(doc)
    _list_table(
        doc,
        ["STT", "Họ và tên chủ hộ", "Địa chỉ", "Ghi chú"],
        [("r.stt", C), ("r.chu_ho", L), ("r.dia_chi", L), ("r.ghi_chu", L)],
        [STT, 5.6, 6.0, 3.0],
        "g.danh_sach",
    )
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, '{%p if cap == "don_vi" %}')
    _list_table(
        doc,
        ["STT", "Tên tổ dân phố", "Số hộ", "Tỷ lệ hộ đạt “{{ ten_gd }}” (%)", "Ghi chú"],
        [("r.stt", C), ("r.ten", L), ("r.so_ho", C), ("r.ty_le", C), ("r.ghi_chu", L)],
        [STT, 4.6, 2.0, 4.8, 3.2],
        "danh_sach",
    )
    _tag(doc, "{%p endif %}")
    _para(doc, size=6)


def _annex(doc: DocumentObject, w: float, heading: str, attached_to: str) -> None:
    _annex_section(doc)
    _para(doc, ("DANH SÁCH", "b"), keep_next=True)
    _para(doc, (heading, "b"), keep_next=True)
    _para(doc, (attached_to, "i"), after=4, keep_next=True)
    _rule(doc, 5.0, w, before=0)
    _para(doc, size=6)
    _annex_lists(doc)


# --- the templates ------------------------------------------------------------------------------


def build_decision() -> DocumentObject:
    """Quyết định công nhận danh hiệu + Danh sách kèm theo (one template for every title the
    town recognises)."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _ward_header(doc, w, "ky_hieu")
    _title(doc, w, "QUYẾT ĐỊNH", f"Về việc công nhận danh hiệu {TITLE_OF} năm {{{{ nam }}}}")
    _para(doc, ("{{ tham_quyen }}", "b"), before=18, after=12)
    _tag(doc, "{%p for c in can_cu %}")
    _body(doc, ("{{ c }}", "i"))
    _tag(doc, "{%p endfor %}")
    _para(doc, ("QUYẾT ĐỊNH:", "b"), before=6, after=12)
    _body(
        doc,
        ("Điều 1. ", "b"),
        f"Công nhận danh hiệu {TITLE_OF} năm {{{{ nam }}}} cho "
        "{{ so_luong }} {{ doi_tuong }} (có danh sách kèm theo).",
    )
    _body(
        doc,
        ("Điều 2. ", "b"),
        "Các {{ doi_tuong }} có tên tại Điều 1 được {{ cap_giay }} danh hiệu "
        f"{TITLE_OF} năm {{{{ nam }}}}{{{{ quyen_loi }}}}.",
    )
    _body(
        doc,
        ("Điều 3. ", "b"),
        "Quyết định này có hiệu lực kể từ ngày ký. {{ thi_hanh }} và các {{ doi_tuong }} "
        "có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này./.",
        keep_next=True,  # the last article travels with the signature
    )
    _signature(
        doc,
        w,
        _recipients(["{%p for n in noi_nhan %}", "- {{ n }}", "{%p endfor %}"]),
        _offices("chuc_danh_ky"),
        "{{ nguoi_ky }}",
    )
    _annex(
        doc,
        w,
        "{{ doi_tuong|upper }} ĐƯỢC CÔNG NHẬN DANH HIỆU “{{ ten_danh_hieu|upper }}” NĂM {{ nam }}",
        f"(Kèm theo Quyết định số{BLANK}/{{{{ ky_hieu }}}} ngày{BLANK}tháng{BLANK}"
        "năm {{ nam }} của {{ nguoi_ban_hanh }})",
    )
    return doc


def build_district_proposal() -> DocumentObject:
    """Tờ trình of the town's UBND to the district's chairman, for a title the district
    recognises (DOCUMENT_FORMAT §10), with the list as its annex."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _ward_header(doc, w, "ky_hieu_to_trinh")
    _title(doc, w, "TỜ TRÌNH", f"Về việc đề nghị công nhận danh hiệu {TITLE_OF} năm {{{{ nam }}}}")
    _para(doc, "Kính gửi: {{ kinh_gui_huyen }}.", before=12, after=12)
    _tag(doc, "{%p for c in can_cu_to_trinh %}")
    _body(doc, ("{{ c }}", "i"))
    _tag(doc, "{%p endfor %}")
    _body(
        doc,
        "Căn cứ kết quả bình xét của các đơn vị và đề nghị của {{ ten_ban_chi_dao }}, "
        "{{ co_quan_ban_hanh }} {{ ten_xa_thuong }} kính đề nghị {{ kinh_gui_huyen }} xem xét, "
        f"công nhận danh hiệu {TITLE_OF} năm {{{{ nam }}}} cho {{{{ so_luong }}}} "
        "{{ doi_tuong }} (có danh sách kèm theo).",
    )
    _body(doc, "Hồ sơ kèm theo gồm:", keep_next=True)
    _tag(doc, "{%p for h in ho_so %}")
    _body(doc, "- {{ h }}")
    _tag(doc, "{%p endfor %}")
    _body(doc, "Kính đề nghị {{ kinh_gui_huyen }} xem xét, quyết định./.", keep_next=True)
    _signature(
        doc,
        w,
        _recipients(["- Như trên;", "- Lưu: VT, BCĐ."]),
        _offices("chuc_danh_ky_tap_the"),
        "{{ nguoi_ky }}",
    )
    _annex(
        doc,
        w,
        "{{ doi_tuong|upper }} ĐỀ NGHỊ CÔNG NHẬN DANH HIỆU “{{ ten_danh_hieu|upper }}” "
        "NĂM {{ nam }}",
        f"(Kèm theo Tờ trình số{BLANK}/{{{{ ky_hieu_to_trinh }}}} ngày{BLANK}tháng{BLANK}"
        "năm {{ nam }} của {{ co_quan_ban_hanh }} {{ ten_xa_thuong }})",
    )
    return doc


def _unit_header(doc: DocumentObject, w: float, number: str, date: str) -> None:
    """The unit's Ban Vận động, under the unit itself (DOCUMENT_FORMAT §8)."""
    _header(doc, w, [("{{ chu_quan }}", ""), ("BAN VẬN ĐỘNG", "b")], number, date, rule=1.6)


_VOTE_HEADERS = ["Số phiếu đồng ý", "Tỷ lệ (%)"]
_VOTE_CELLS = [("r.so_phieu", C), ("r.ty_le_phieu", C)]


def _candidates(doc: DocumentObject, loop: str, level: str, *, conclusion: bool) -> None:
    """The unit's candidates with their votes, and in the Biên bản the conclusion."""
    extra = (["Kết luận"], [("r.ket_luan", L)]) if conclusion else ([], [])
    if level == "cong_dan":
        widths = [1.4, 4.9, 1.8, 1.9, 1.6, 4.9] if conclusion else [1.4, 6.9, 2.4, 3.0, 2.8]
        _list_table(
            doc,
            ["STT", "Họ và tên", "Năm sinh", *_VOTE_HEADERS, *extra[0]],
            [("r.stt", C), ("r.ho_ten", L), ("r.nam_sinh", C), *_VOTE_CELLS, *extra[1]],
            widths,
            loop,
        )
    else:
        widths = [1.4, 4.1, 2.8, 1.9, 1.6, 4.7] if conclusion else [1.4, 5.3, 4.0, 3.0, 2.8]
        _list_table(
            doc,
            ["STT", "Chủ hộ", "Địa chỉ", *_VOTE_HEADERS, *extra[0]],
            [("r.stt", C), ("r.chu_ho", L), ("r.dia_chi", L), *_VOTE_CELLS, *extra[1]],
            widths,
            loop,
        )


def _candidate_parts(doc: DocumentObject, *, conclusion: bool) -> None:
    """1. citizens, 2. families (tổ dân phố only), 3. the unit's own title."""
    people = (
        "{{ so_cong_dan }} công dân được bình xét, đề nghị {{ cong_dan_de_nghi }} công dân"
        if conclusion
        else "{{ so_cong_dan }} công dân"
    )
    _body(doc, ("1. Danh hiệu “{{ ten_cd }}”: " + people + ".", "b"), keep_next=True)
    _tag(doc, "{%p if cong_dan %}")
    _candidates(doc, "cong_dan", "cong_dan", conclusion=conclusion)
    _para(doc, size=6)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if la_to_dan_pho %}")
    families = (
        "{{ so_gia_dinh }} gia đình được bình xét, đề nghị {{ gia_dinh_de_nghi }} gia đình"
        if conclusion
        else "{{ so_gia_dinh }} gia đình"
    )
    _body(doc, ("2. Danh hiệu “{{ ten_gd }}”: " + families + ".", "b"), keep_next=True)
    _tag(doc, "{%p if gia_dinh %}")
    _candidates(doc, "gia_dinh", "ho_gia_dinh", conclusion=conclusion)
    _para(doc, size=6)
    _tag(doc, "{%p endif %}")
    _body(doc, ("3. Danh hiệu “{{ ten_tdp }}”: ", "b"), "{{ de_nghi_to_dan_pho }}")
    _tag(doc, "{%p endif %}")


def build_proposal() -> DocumentObject:
    """Tờ trình: the unit's Ban Vận động proposes its candidates to the Ban Chỉ đạo."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _unit_header(
        doc,
        w,
        f"Số:{BLANK}/{{{{ ky_hieu_to_trinh_don_vi }}}}",
        f"{{{{ dia_danh }}}}, ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}",
    )
    _title(doc, w, "TỜ TRÌNH", "Về việc đề nghị công nhận các danh hiệu kiểu mẫu năm {{ nam }}")
    _para(doc, "Kính gửi: {{ kinh_gui }}.", before=12, after=12)
    _body(doc, "Căn cứ {{ ke_hoach }};")
    _body(
        doc, "Căn cứ kết quả họp bình xét {{ ngay_hop }} của {{ ten_don_vi }} (biên bản kèm theo),"
    )
    _body(
        doc,
        "{{ ban_van_dong }} kính đề nghị Ban Chỉ đạo xem xét, trình cấp có thẩm quyền công nhận:",
    )
    _candidate_parts(doc, conclusion=False)
    _body(doc, "Kính đề nghị Ban Chỉ đạo xem xét./.", keep_next=True)
    _signature(
        doc,
        w,
        _recipients(["- Như trên;", "- Lưu: BVĐ."]),
        [("TM. BAN VẬN ĐỘNG", "b"), ("TRƯỞNG BAN", "b")],
        "{{ truong_ban }}",
    )
    return doc


def build_minutes() -> DocumentObject:
    """Biên bản họp bình xét (PL III Mẫu 1.9): time, place, who attended, chair, secretary,
    the votes and the conclusion for every candidate, the closing hour."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _unit_header(doc, w, f"Số:{BLANK}/{{{{ ky_hieu_bien_ban }}}}", "")
    _title(doc, w, "BIÊN BẢN", "Họp bình xét các danh hiệu kiểu mẫu năm {{ nam }}")
    opening = _body(doc, ("Thời gian bắt đầu: ", "b"), "…… giờ ……, {{ ngay_hop }}.")
    opening.paragraph_format.space_before = Pt(12)
    _body(doc, ("Địa điểm: ", "b"), "{{ dia_diem }}.")
    _body(doc, ("Thành phần tham dự: ", "b"), "{{ thanh_phan }}.")
    _body(doc, ("Chủ trì (chủ tọa): ", "b"), "{{ chu_tri }}.")
    _body(doc, ("Thư ký: ", "b"), "{{ thu_ky }}.")
    _para(doc, ("NỘI DUNG CUỘC HỌP", "b"), before=6, after=6, keep_next=True)
    _body(
        doc,
        "Cuộc họp nghe Ban Vận động báo cáo kết quả thực hiện các tiêu chí của từng công dân, "
        "gia đình; thảo luận và bình xét bằng hình thức biểu quyết giơ tay. Danh hiệu được đề "
        "nghị khi đạt các tiêu chí của Bộ tiêu chí và số phiếu đồng ý trên {{ nguong_phieu }} "
        "số người dự họp. Kết quả như sau:",
    )
    _candidate_parts(doc, conclusion=True)
    _body(
        doc,
        "Cuộc họp kết thúc vào …… giờ ……, {{ ngay_hop }}. Biên bản đã được đọc lại trước "
        "cuộc họp và được nhất trí thông qua./.",
        keep_next=True,
    )
    table = _table(doc, 1, [w / 2, w / 2], grid=False)
    _row_flag(table.rows[0], "cantSplit")
    for cell, role, name in zip(
        table.rows[0].cells, ("THƯ KÝ", "CHỦ TỌA"), ("{{ thu_ky }}", "{{ chu_tri }}"), strict=True
    ):
        _para(cell, (role, "b"), before=12)
        for _ in range(4):
            _para(cell)
        _para(cell, (name, "b"), before=12)
    _para(doc, ("Nơi nhận:", "bi"), size=12, align=L, before=12)
    _para(doc, "- {{ ten_ban_chi_dao }} (kèm Tờ trình);", size=11, align=L)
    _para(doc, "- Lưu: BVĐ.", size=11, align=L)
    return doc


def build_certificate() -> DocumentObject:
    """Giấy công nhận or Giấy khen (the title's setting): one landscape page per recognised
    citizen, family or unit, granted by the chairman (DOCUMENT_FORMAT §9)."""
    doc = _new_document(landscape=True, page_numbers=False)
    w = LANDSCAPE_WIDTH
    _tag(doc, "{%p for e in danh_sach %}")
    _tag(doc, "{%p if not loop.first %}")
    _page_break_before(_para(doc, size=1))
    _tag(doc, "{%p endif %}")
    _header(
        doc,
        w,
        [("{{ co_quan_ban_hanh|upper }}", "b"), ("{{ ten_xa|upper }}", "b")],
        None,
        "",
        left_width=8.0,
    )
    _para(doc, ("{{ chu_tich_hoa }}", "b"), size=16, before=30)
    _para(doc, ("{{ dong_tu }}", "b"), size=16, before=12)
    _para(doc, ("{{ hinh_thuc|upper }}", "b"), size=36, before=12, after=18)
    _para(doc, ("{{ e.nguoi_nhan }}", "b"), size=22, after=6)
    _para(doc, ("{{ e.noi_o }}", "i"), size=14, after=18)
    _para(doc, (f"Đã đạt danh hiệu {TITLE_OF} năm {{{{ nam }}}}", "b"), size=18, after=18)
    table = _table(doc, 1, [w / 2, w / 2], grid=False)
    left, right = table.rows[0].cells
    left.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
    _para(
        left,
        f"Quyết định số{BLANK}/{{{{ ky_hieu }}}} ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}",
        size=13,
    )
    _para(left, "Số vào sổ: {{ e.so_vao_so }}", size=13, after=6)
    _para(right, (f"{{{{ dia_danh }}}}, ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}", "i"), after=4)
    for text, flags in _offices("chuc_danh_ky_chu_tich"):
        if flags == "tag":
            _tag(right, text)
        else:
            _para(right, (text, flags))
    for _ in range(3):
        _para(right)
    _para(right, ("{{ nguoi_ky }}", "b"), before=6)
    _tag(doc, "{%p endfor %}")
    _para(doc, size=1)
    return doc


def _posted_list(
    doc: DocumentObject, heading: str, loop: str, columns: list[tuple[str, str, object, float]]
) -> None:
    """A numbered part of the posted list: its heading, then (when it has anyone) a table of
    ``columns`` (header, Jinja expression, alignment, width in cm) with a row tall enough to
    write the votes in by hand (a column with no expression is left blank for it)."""
    _body(doc, (heading, "b"), keep_next=True)
    _tag(doc, f"{{%p if {loop} %}}")
    _list_table(
        doc,
        [header for header, _, _, _ in columns],
        [(expression, align) for _, expression, align, _ in columns],
        [width for _, _, _, width in columns],
        loop,
        height=0.8,
    )
    _para(doc, size=6)
    _tag(doc, "{%p endif %}")


def build_posting() -> DocumentObject:
    """The list posted at the unit and read at its vote meeting (niêm yết, bình xét): the
    candidates with birth year and household, never a CCCD or a full date, room for the votes."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _unit_header(doc, w, "", f"{{{{ dia_danh }}}}, ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}")
    _title(
        doc,
        w,
        "DANH SÁCH",
        "Công dân, gia đình đưa ra bình xét các danh hiệu kiểu mẫu năm {{ nam }}",
    )
    _para(
        doc,
        ("(Niêm yết công khai tại {{ dia_diem }} trước cuộc họp bình xét; số liệu {{ ky }})", "i"),
        before=6,
        after=6,
    )
    _posted_list(
        doc,
        "1. Đăng ký danh hiệu “{{ ten_cd }}”: {{ so_cong_dan }} công dân.",
        "cong_dan",
        [
            ("STT", "r.stt", C, 1.4),
            ("Họ và tên", "r.ho_ten", L, 4.6),
            ("Năm sinh", "r.nam_sinh", C, 1.8),
            ("Chủ hộ", "r.chu_ho", L, 4.2),
            ("Số phiếu đồng ý", "", C, 2.3),
            ("Ghi chú", "", L, 2.2),
        ],
    )
    _tag(doc, "{%p if la_to_dan_pho %}")
    _posted_list(
        doc,
        "2. Đăng ký danh hiệu “{{ ten_gd }}”: {{ so_gia_dinh }} gia đình.",
        "gia_dinh",
        [
            ("STT", "r.stt", C, 1.4),
            ("Chủ hộ", "r.chu_ho", L, 4.6),
            ("Địa chỉ", "r.dia_chi", L, 5.2),
            ("Số phiếu đồng ý", "", C, 2.8),
            ("Ghi chú", "", L, 2.5),
        ],
    )
    _tag(doc, "{%p endif %}")
    _body(doc, "Tổng số người dự họp: ………… người.", keep_next=True)
    _signature(
        doc,
        w,
        _recipients(["- Niêm yết tại {{ dia_diem }};", "- Lưu: BVĐ."]),
        [("TM. BAN VẬN ĐỘNG", "b"), ("TRƯỞNG BAN", "b")],
        "{{ truong_ban }}",
    )
    return doc


# The report's figures after STT and the name: this year's three, last year's two (c1…c5).
REPORT_COLUMNS = {
    "ket_qua": [
        "Đăng ký",
        "Đạt",
        "Tỷ lệ đạt (%)",
        "Đạt năm {{ nam_truoc }}",
        "Tăng, giảm",
    ],
    "dang_ky": [
        "Số trong danh sách",
        "Đăng ký",
        "Tỷ lệ đăng ký (%)",
        "Đăng ký năm {{ nam_truoc }}",
        "Đạt năm {{ nam_truoc }}",
    ],
}
_REPORT_WIDTHS = [1.4, 4.0, 2.3, 1.9, 2.2, 2.4, 2.3]  # cm: the portrait text width, 16.5


def _report_table(doc: DocumentObject, kind: str, name: str, loop: str) -> None:
    cells = [("r.stt", C), ("r.ten", L), *((f"r.c{i}", C) for i in range(1, 6))]
    _list_table(doc, ["STT", name, *REPORT_COLUMNS[kind]], cells, _REPORT_WIDTHS, loop)


def _part(doc: DocumentObject, text: str) -> Paragraph:
    return _para(doc, (text, "b"), align=L, before=12, after=6, keep_next=True)


def build_report(kind: str) -> DocumentObject:
    """The town's report to the district (``kind``: ket_qua, the year's results; dang_ky, the
    registration): figures per title and per unit beside last year's, and a chart."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _ward_header(doc, w, "ky_hieu_bao_cao")
    what = "kết quả xây dựng" if kind == "ket_qua" else "kết quả đăng ký xây dựng"
    subject = f"{what} các danh hiệu kiểu mẫu năm {{{{ nam }}}}"
    _title(doc, w, "BÁO CÁO", subject[0].upper() + subject[1:])
    intro = _body(
        doc,
        "Thực hiện {{ ke_hoach }}, {{ co_quan_ban_hanh }} {{ ten_xa_thuong }} báo cáo "
        f"{subject} (số liệu kỳ {{{{ ky }}}}, so sánh với năm {{{{ nam_truoc }}}}) như sau:",
    )
    intro.paragraph_format.space_before = Pt(12)
    _part(doc, "I. KẾT QUẢ CHUNG")
    _tag(doc, "{%p for c in nhan_xet %}")
    _body(doc, "- {{ c }}")
    _tag(doc, "{%p endfor %}")
    _para(doc, ("Bảng 1. Tổng hợp theo danh hiệu", "b"), size=13, before=6, after=6, keep_next=True)
    _report_table(doc, kind, "Danh hiệu", "tong_hop")
    picture = _para(doc, "{{ bieu_do }}", before=12, keep_next=True)
    picture.paragraph_format.keep_together = True
    _para(
        doc, ("Biểu đồ 1. So sánh với năm {{ nam_truoc }}, theo danh hiệu", "i"), size=13, after=6
    )
    _part(doc, "II. KẾT QUẢ THEO ĐƠN VỊ")
    _tag(doc, "{%p for g in nhom %}")
    _para(
        doc,
        ("Bảng {{ g.bang }}. Danh hiệu “{{ g.ten }}”", "b"),
        size=13,
        before=6,
        after=6,
        keep_next=True,
    )
    _tag(doc, "{%p if g.ghi_chu %}")
    _para(doc, ("{{ g.ghi_chu }}", "i"), size=13, after=6, keep_next=True)
    _tag(doc, "{%p endif %}")
    _report_table(doc, kind, "Đơn vị", "g.danh_sach")
    _para(doc, size=6)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p for n in ghi_chu %}")
    _body(doc, ("Ghi chú: {{ n }}", "i"))
    _tag(doc, "{%p endfor %}")
    _part(doc, "III. KIẾN NGHỊ")
    _body(doc, "…………………………………………………………………………")
    _body(
        doc,
        f"Trên đây là báo cáo {subject} của {{{{ co_quan_ban_hanh }}}} {{{{ ten_xa_thuong }}}}./.",
        keep_next=True,
    )
    _signature(
        doc,
        w,
        _recipients(["{%p for n in noi_nhan_bao_cao %}", "- {{ n }}", "{%p endfor %}"]),
        _offices("chuc_danh_ky_tap_the"),
        "{{ nguoi_ky }}",
    )
    return doc


BUILDERS: dict[str, Callable[[], DocumentObject]] = {
    "quyet_dinh": build_decision,
    "to_trinh_huyen": build_district_proposal,
    "to_trinh": build_proposal,
    "bien_ban": build_minutes,
    "giay_khen": build_certificate,
    "binh_xet": build_posting,
    "bao_cao_ket_qua": functools.partial(build_report, "ket_qua"),
    "bao_cao_dang_ky": functools.partial(build_report, "dang_ky"),
}


def _preserve_spaces(doc: DocumentObject) -> None:
    """Keep the blanks of `Số:      /QĐ-UBND`: mark runs of spaces `xml:space="preserve"`.

    Only where needed: every such attribute makes lxml slower to move a rendered body.
    """
    for text in doc.element.body.iter(qn("w:t")):
        value = text.text or ""
        if "  " in value or value != value.strip():
            text.set(qn("xml:space"), "preserve")


def build_templates(folder: Path) -> list[Path]:
    """Write the Word templates into ``folder`` (atomically); return their paths."""
    folder = Path(folder)
    paths = []
    for name, builder in BUILDERS.items():
        doc = builder()
        _preserve_spaces(doc)
        path = folder / f"{name}.docx"
        with atomic_path(path) as tmp:
            doc.save(str(tmp))
        paths.append(path)
    return paths
