"""Build the editable Word templates of the December drafts (SPEC §6, DOCUMENT_FORMAT.md).

`build_templates(folder)` writes four docxtpl templates: ``quyet_dinh.docx`` (decision + annex),
``to_trinh.docx`` and ``bien_ban.docx`` (per unit) and ``giay_khen.docx`` (one landscape page per
recognised entity). The clerk may reword them in Word as long as the Jinja tags stay; the tags are
Vietnamese without diacritics, like the catalogue's setting keys. `outputs.documents` fills them
and checks, before each batch, that every tag a template uses is provided.

Tags (filled by `processor.outputs.document_context`):
- every template: ``ten_xa``, ``ten_xa_thuong`` (thị trấn Phong Sơn), ``dia_danh``, ``nam``,
  ``co_quan_ban_hanh``, ``co_quan_ban_hanh_ngan`` (UBND), ``ky_hieu`` (QĐ-UBND),
  ``nguoi_ban_hanh``, ``nguoi_ban_hanh_ngan`` (Chủ tịch UBND), ``ky_thay`` (KT.),
  ``thu_truong``, ``chuc_vu_ky``, ``nguoi_ky``, ``ten_ban_chi_dao``, ``kinh_gui``, ``can_cu``,
  ``quyen_loi``, ``noi_nhan``, ``ke_hoach``, ``ten_cd`` / ``ten_gd`` / ``ten_tdp``;
- quyet_dinh / giay_khen: ``cap`` (cong_dan, ho_gia_dinh, don_vi), ``doi_tuong``,
  ``ten_danh_hieu``, ``so_luong`` (123 (một trăm hai mươi ba)), ``danh_sach`` (rows: ``stt``,
  ``ho_ten``, ``nam_sinh``, ``chu_ho``, ``dia_chi``, ``don_vi``, ``ten``, ``so_ho``, ``ty_le``,
  ``ghi_chu``; certificates: ``nguoi_nhan``, ``noi_o``), ``nhom`` (per unit: ``ten``,
  ``so_luong``, ``danh_sach``);
- to_trinh / bien_ban: ``ten_don_vi``, ``la_to_dan_pho``, ``ky_hieu_to_trinh``, ``truong_ban``,
  ``cong_dan`` / ``gia_dinh`` (rows with ``so_phieu``, ``ty_le_phieu``), ``so_cong_dan``,
  ``so_gia_dinh``, ``de_nghi_to_dan_pho``, ``ngay_hop``, ``thoi_gian``, ``dia_diem``,
  ``chu_tri``, ``thu_ky``, ``so_nguoi_du_hop``, ``nguong_phieu``.

The page follows Nghị định 30/2020/NĐ-CP, Phụ lục I: A4, margins 20/20/30/15 mm, Times New Roman
in every style (East Asian and complex-script slots too, or Word falls back for Vietnamese),
header and signature blocks as borderless two-column tables, lines drawn as paragraph borders.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
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
) -> Table:
    """A bordered list: a bold header row repeated on every page, then one row per item.

    `cells` are (Jinja expression, alignment) for the data row between `{%tr for %}` rows.
    """
    table = _table(doc, 4, widths, grid=True)
    header, start, data, end = table.rows
    _row_flag(header, "tblHeader")
    _row_flag(data, "cantSplit")
    for cell, label in zip(header.cells, headers, strict=True):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        _para(cell, (label, "b"), style="Table Text", align=C)
    _para(start.cells[0], f"{{%tr for r in {loop} %}}", style="Table Text", align=L)
    for cell, (expression, align) in zip(data.cells, cells, strict=True):
        _para(cell, f"{{{{ {expression} }}}}", style="Table Text", align=align)
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
) -> None:
    """The national header (Phụ lục I, mục II.1-5): agency left, motto right, number and date."""
    widths = [left_width, width - left_width]
    with_number = number is not None or bool(date)
    table = _table(doc, 2 if with_number else 1, widths, grid=False)
    top = table.rows[0]
    for text, flags in left:
        _para(top.cells[0], (text, flags), size=13)
    _rule(top.cells[0], 2.2, widths[0] - CELL_PADDING, before=1)
    _para(top.cells[1], ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "b"), size=12)
    _para(top.cells[1], (MOTTO, "b"), size=13)
    _rule(top.cells[1], MOTTO_WIDTH, widths[1] - CELL_PADDING, before=1)
    if with_number:
        bottom = table.rows[1]
        _para(bottom.cells[0], number or "", size=13, before=6)
        _para(bottom.cells[1], (date, "i"), size=14, before=6)


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
        _para(cell, ("Nơi nhận:", "bi"), size=12, align=L, before=6)
        for line in lines:
            if line.startswith("{%"):
                _tag(cell, line)
            else:
                _para(cell, line, size=11, align=L)

    return fill


def _ward_authority() -> list[tuple[str, str]]:
    """`TM. ỦY BAN NHÂN DÂN` / (`KT. CHỦ TỊCH`) / `PHÓ CHỦ TỊCH`, from the settings."""
    return [
        ("TM. {{ co_quan_ban_hanh|upper }}", "b"),
        ("{%p if ky_thay %}", "tag"),
        ("KT. {{ thu_truong|upper }}", "b"),
        ("{%p endif %}", "tag"),
        ("{{ chuc_vu_ky|upper }}", "b"),
    ]


def _body(doc: DocumentObject, *segments: Segment | str, keep_next: bool = False) -> Paragraph:
    return _para(doc, *segments, style="Body Text", align=J, keep_next=keep_next)


# --- the four templates --------------------------------------------------------------------------


def build_decision() -> DocumentObject:
    """Quyết định công nhận danh hiệu + Danh sách kèm theo (one template for the three titles)."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _header(
        doc,
        w,
        [("{{ co_quan_ban_hanh|upper }}", "b"), ("{{ ten_xa|upper }}", "b")],
        f"Số:{BLANK}/{{{{ ky_hieu }}}}",
        f"{{{{ dia_danh }}}}, ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}",
    )
    _title(doc, w, "QUYẾT ĐỊNH", 'Về việc công nhận danh hiệu "{{ ten_danh_hieu }}" năm {{ nam }}')
    _para(doc, ("{{ nguoi_ban_hanh|upper }} {{ ten_xa|upper }}", "b"), before=18, after=12)
    _tag(doc, "{%p for c in can_cu %}")
    _body(doc, ("{{ c }}", "i"))
    _tag(doc, "{%p endfor %}")
    _para(doc, ("QUYẾT ĐỊNH:", "b"), before=6, after=12)
    _body(
        doc,
        ("Điều 1. ", "b"),
        'Công nhận danh hiệu "{{ ten_danh_hieu }}" năm {{ nam }} cho '
        "{{ so_luong }} {{ doi_tuong }} (có danh sách kèm theo).",
    )
    _body(doc, ("Điều 2. ", "b"), "{{ quyen_loi }}")
    _body(
        doc,
        ("Điều 3. ", "b"),
        "Văn phòng HĐND và UBND {{ ten_xa_thuong }}, {{ ten_ban_chi_dao }}, "
        "tổ trưởng các tổ dân phố, thủ trưởng các cơ quan, đơn vị liên quan và các {{ doi_tuong }} "
        "có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này./.",
        keep_next=True,  # the last article travels with the signature
    )
    _signature(
        doc,
        w,
        _recipients(["{%p for n in noi_nhan %}", "- {{ n }}", "{%p endfor %}"]),
        _ward_authority(),
        "{{ nguoi_ky }}",
    )

    _page_break_before(_para(doc, ("DANH SÁCH", "b")))
    _para(doc, ("{{ doi_tuong|upper }} ĐƯỢC CÔNG NHẬN DANH HIỆU", "b"))
    _para(doc, ('"{{ ten_danh_hieu|upper }}" NĂM {{ nam }}', "b"))
    _para(
        doc,
        (
            f"(Kèm theo Quyết định số{BLANK}/{{{{ ky_hieu }}}} ngày{BLANK}tháng{BLANK}"
            "năm {{ nam }} của {{ nguoi_ban_hanh_ngan }} {{ ten_xa_thuong }})",
            "i",
        ),
        after=4,
    )
    _rule(doc, 5.0, w, before=0)
    _para(doc, size=6)
    # People and families: one heading and one table per unit (see document_context._groups).
    _tag(doc, '{%p if cap == "cong_dan" %}')
    _tag(doc, "{%p for g in nhom %}")
    _group_heading(doc)
    _list_table(
        doc,
        ["STT", "Họ và tên", "Năm sinh", "Tổ dân phố / Đơn vị", "Ghi chú"],
        [("r.stt", C), ("r.ho_ten", L), ("r.nam_sinh", C), ("r.don_vi", L), ("r.ghi_chu", L)],
        [1.5, 4.8, 2.2, 5.8, 2.2],
        "g.danh_sach",
    )
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, '{%p if cap == "ho_gia_dinh" %}')
    _tag(doc, "{%p for g in nhom %}")
    _group_heading(doc)
    _list_table(
        doc,
        ["STT", "Họ và tên chủ hộ", "Địa chỉ", "Tổ dân phố", "Ghi chú"],
        [("r.stt", C), ("r.chu_ho", L), ("r.dia_chi", L), ("r.don_vi", L), ("r.ghi_chu", L)],
        [1.5, 4.1, 4.8, 4.0, 2.1],
        "g.danh_sach",
    )
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, '{%p if cap == "don_vi" %}')
    _list_table(
        doc,
        ["STT", "Tên tổ dân phố", "Số hộ", "Tỷ lệ hộ đạt Gia đình kiểu mẫu", "Ghi chú"],
        [("r.stt", C), ("r.ten", L), ("r.so_ho", C), ("r.ty_le", C), ("r.ghi_chu", L)],
        [1.5, 5.0, 2.2, 4.6, 3.2],
        "danh_sach",
    )
    _tag(doc, "{%p endif %}")
    _para(doc, size=6)
    return doc


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


def _unit_header(doc: DocumentObject, w: float, number: str | None, date: str) -> None:
    _header(
        doc,
        w,
        [("{{ co_quan_ban_hanh_ngan }} {{ ten_xa|upper }}", ""), ("{{ ten_don_vi|upper }}", "b")],
        number,
        date,
    )


_VOTE_HEADERS = ["Số phiếu đồng ý", "Tỷ lệ (%)"]
_VOTE_CELLS = [("r.so_phieu", C), ("r.ty_le_phieu", C)]


def _candidates(doc: DocumentObject, loop: str, level: str) -> None:
    """The unit's candidates with their votes (Tờ trình and Biên bản)."""
    if level == "cong_dan":
        _list_table(
            doc,
            ["STT", "Họ và tên", "Năm sinh", *_VOTE_HEADERS],
            [("r.stt", C), ("r.ho_ten", L), ("r.nam_sinh", C), *_VOTE_CELLS],
            [1.5, 6.2, 2.4, 3.2, 3.2],
            loop,
        )
    else:
        _list_table(
            doc,
            ["STT", "Chủ hộ", "Địa chỉ", *_VOTE_HEADERS],
            [("r.stt", C), ("r.chu_ho", L), ("r.dia_chi", L), *_VOTE_CELLS],
            [1.5, 4.9, 3.8, 3.2, 3.1],
            loop,
        )


def build_proposal() -> DocumentObject:
    """Tờ trình: the unit's Ban vận động proposes its candidates to the Ban chỉ đạo."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _unit_header(
        doc,
        w,
        f"Số:{BLANK}/{{{{ ky_hieu_to_trinh }}}}",
        f"{{{{ dia_danh }}}}, ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}",
    )
    _title(doc, w, "TỜ TRÌNH", "Về việc đề nghị công nhận các danh hiệu kiểu mẫu năm {{ nam }}")
    _para(doc, "Kính gửi: {{ kinh_gui }}.", before=12, after=12)
    _body(doc, "Căn cứ {{ ke_hoach }};")
    _body(doc, "Căn cứ kết quả họp bình xét {{ ngay_hop }} của {{ ten_don_vi }},")
    _body(
        doc,
        "Ban vận động xây dựng các danh hiệu kiểu mẫu {{ ten_don_vi }} kính đề nghị "
        "Ban chỉ đạo xem xét, trình {{ nguoi_ban_hanh }} {{ ten_xa_thuong }} công nhận:",
    )
    _body(doc, ('1. Danh hiệu "{{ ten_cd }}": {{ so_cong_dan }} công dân.', "b"), keep_next=True)
    _tag(doc, "{%p if cong_dan %}")
    _candidates(doc, "cong_dan", "cong_dan")
    _para(doc, size=6)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if la_to_dan_pho %}")
    _body(doc, ('2. Danh hiệu "{{ ten_gd }}": {{ so_gia_dinh }} gia đình.', "b"), keep_next=True)
    _tag(doc, "{%p if gia_dinh %}")
    _candidates(doc, "gia_dinh", "ho_gia_dinh")
    _para(doc, size=6)
    _tag(doc, "{%p endif %}")
    _body(doc, ('3. Danh hiệu "{{ ten_tdp }}": ', "b"), "{{ de_nghi_to_dan_pho }}")
    _tag(doc, "{%p endif %}")
    _body(doc, "Kính đề nghị Ban chỉ đạo xem xét./.", keep_next=True)
    _signature(
        doc,
        w,
        _recipients(["- Như trên;", "- Lưu: BVĐ."]),
        [("TM. BAN VẬN ĐỘNG", "b"), ("TRƯỞNG BAN", "b")],
        "{{ truong_ban }}",
    )
    return doc


def build_minutes() -> DocumentObject:
    """Biên bản họp bình xét: time, place, chair, secretary, attendees, votes per candidate."""
    doc = _new_document()
    w = PORTRAIT_WIDTH
    _unit_header(doc, w, None, "{{ dia_danh }}, {{ ngay_hop }}")
    _title(doc, w, "BIÊN BẢN", "Họp bình xét các danh hiệu kiểu mẫu năm {{ nam }}")
    _body(doc, ("Thời gian: ", "b"), "{{ thoi_gian }}.").paragraph_format.space_before = Pt(12)
    _body(doc, ("Địa điểm: ", "b"), "{{ dia_diem }}.")
    _body(doc, ("Chủ trì: ", "b"), "{{ chu_tri }}.")
    _body(doc, ("Thư ký: ", "b"), "{{ thu_ky }}.")
    _body(doc, ("Số người dự họp: ", "b"), "{{ so_nguoi_du_hop }}.")
    _para(doc, ("NỘI DUNG CUỘC HỌP", "b"), before=6, after=6, keep_next=True)
    _body(
        doc,
        "Cuộc họp nghe Ban vận động báo cáo kết quả thực hiện các tiêu chí của từng công dân, "
        "gia đình; thảo luận và bình xét bằng hình thức biểu quyết giơ tay. Danh hiệu được đề "
        "nghị khi số phiếu đồng ý trên {{ nguong_phieu }} số người dự họp. Kết quả như sau:",
    )
    _body(
        doc,
        ('1. Danh hiệu "{{ ten_cd }}": {{ so_cong_dan }} công dân được bình xét.', "b"),
        keep_next=True,
    )
    _tag(doc, "{%p if cong_dan %}")
    _candidates(doc, "cong_dan", "cong_dan")
    _para(doc, size=6)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if la_to_dan_pho %}")
    _body(
        doc,
        ('2. Danh hiệu "{{ ten_gd }}": {{ so_gia_dinh }} gia đình được bình xét.', "b"),
        keep_next=True,
    )
    _tag(doc, "{%p if gia_dinh %}")
    _candidates(doc, "gia_dinh", "ho_gia_dinh")
    _para(doc, size=6)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")
    _body(
        doc,
        "Cuộc họp kết thúc cùng ngày. Biên bản đã được đọc lại trước cuộc họp và được "
        "nhất trí thông qua./.",
        keep_next=True,
    )
    table = _table(doc, 1, [w / 2, w / 2], grid=False)
    _row_flag(table.rows[0], "cantSplit")
    for cell, role, name in zip(
        table.rows[0].cells, ("THƯ KÝ", "CHỦ TRÌ"), ("{{ thu_ky }}", "{{ chu_tri }}"), strict=True
    ):
        _para(cell, (role, "b"), before=12)
        for _ in range(4):
            _para(cell)
        _para(cell, (name, "b"), before=12)
    return doc


def build_certificate() -> DocumentObject:
    """Giấy khen: one landscape page per recognised citizen, family or unit."""
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
    _para(doc, ("{{ nguoi_ban_hanh|upper }} {{ ten_xa|upper }}", "b"), size=16, before=30)
    _para(doc, ("TẶNG", "b"), size=16, before=12)
    _para(doc, ("GIẤY KHEN", "b"), size=40, before=12, after=18)
    _para(doc, ("{{ e.nguoi_nhan }}", "b"), size=22, after=6)
    _para(doc, ("{{ e.noi_o }}", "i"), size=14, after=18)
    _para(doc, ('Đã đạt danh hiệu "{{ ten_danh_hieu }}" năm {{ nam }}', "b"), size=18, after=18)
    table = _table(doc, 1, [w / 2, w / 2], grid=False)
    left, right = table.rows[0].cells
    left.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
    _para(
        left,
        f"Quyết định số{BLANK}/{{{{ ky_hieu }}}} ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}",
        size=13,
    )
    _para(left, "Số vào sổ: {{ e.stt }}", size=13, after=6)
    _para(right, (f"{{{{ dia_danh }}}}, ngày{BLANK}tháng{BLANK}năm {{{{ nam }}}}", "i"), after=4)
    for text, flags in _ward_authority():
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


BUILDERS: dict[str, Callable[[], DocumentObject]] = {
    "quyet_dinh": build_decision,
    "to_trinh": build_proposal,
    "bien_ban": build_minutes,
    "giay_khen": build_certificate,
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
    """Write the four Word templates into ``folder`` (atomically); return their paths."""
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
