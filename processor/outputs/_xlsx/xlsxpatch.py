"""Mark cells of a unit's own .xlsx and add sheets to it by editing its XML parts (issue 7).

Loading a unit's workbook into openpyxl and saving it again took about a second per unit, the
largest cost of a district batch. A feedback workbook needs much less: a fill and a comment on
some cells, and a few new sheets in front. This module copies the package part by part and
edits only what it must, as text:

- `styles.xml`: two fills, three fonts and the cell formats below are appended; a marked cell
  gets a copy of its own format with the fill changed, so its number format, borders and
  protection stay as the unit had them;
- the marked sheets: the cell's `s` attribute (the cell or row is added when it was empty),
  and a `<legacyDrawing>` pointing at a comments part and its VML shapes (Excel needs both);
- `workbook.xml`, its relationships and `[Content_Types].xml`: the new sheets, first.

Text editing keeps every namespace prefix and `mc:Ignorable` list exactly as the producer
wrote them, which a parse-and-serialise round trip would not. Anything outside the layouts
Excel, LibreOffice and xlsxwriter write raises `Unsupported`: the caller then sends the list of
problems alone.

A workbook that is itself an earlier feedback (units are asked to correct it and send it back)
has its old feedback sheets, kieumau's comments and marking fills removed first, so each
feedback shows only the current problems.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from processor.domain.sheets import column_index, column_letter
from processor.domain.vietnamese import nfc
from processor.outputs._xlsx.book import FOOTER
from processor.outputs._xlsx.fastrows import (
    DEFLATE_LEVEL,
    cell_bodies,
    cell_body,
    escape_text,
    row_cells,
    row_elements,
    unescape,
    write_part,
)

AUTHOR = "kieumau"
ERROR_RGB = "FFFFC7CE"
WARNING_RGB = "FFFFEB9C"
_MARK_RGBS = (ERROR_RGB, WARNING_RGB)
HEADER_RGB = "FFDDEBF7"  # the summary's header shade (Book.header)

_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_WORKSHEET = _NS_REL + "/worksheet"
_REL_COMMENTS = _NS_REL + "/comments"
_REL_VML = _NS_REL + "/vmlDrawing"
_CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"

_ATTR = r'\s{name}="([^"]*)"'
_SHEET_ENTRY = re.compile(r"<sheet\b[^>]*?/>")
_REL_ENTRY = re.compile(r"<Relationship\b[^>]*?/>")
_ROW_START = re.compile(r'<row\b[^>]*?\br="(\d+)"[^>]*?/?>')
_CELL = re.compile(r'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)
_XF = re.compile(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.DOTALL)
_FILL = re.compile(r"<fill\b[^>]*?(?:/>|>.*?</fill>)", re.DOTALL)
_MERGE = re.compile(r'<mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_COL = re.compile(r"<col\b[^>]*?/>")
# Elements that come after <legacyDrawing> in CT_Worksheet, in schema order.
_AFTER_LEGACY = (
    "<legacyDrawingHF",
    "<picture",
    "<oleObjects",
    "<controls",
    "<webPublishItems",
    "<tableParts",
    "<extLst",
    "</worksheet>",
)
_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


class Unsupported(Exception):
    """The workbook is laid out in a way this module does not edit."""


@dataclass
class Mark:
    sheet: str  # as the unit's workbook names it (NFC)
    cell: str  # "H12"
    error: bool
    note: str


@dataclass
class NewSheet:
    """A sheet added in front of the unit's own: rows of values with a style per row."""

    name: str
    rows: list[list[object]]
    # "title", "heading" (bold), "text" or "header" per row; others are plain cells.
    row_styles: list[str]
    widths: dict[int, float] = field(default_factory=dict)
    wrap_columns: frozenset[int] = frozenset()
    center_columns: frozenset[int] = frozenset()  # numbers, centred as Book.number
    freeze_first_row: bool = False
    autofilter_from_row: int | None = None  # 1-based header row of an autofilter
    heights: dict[int, float] = field(default_factory=dict)  # row position -> points
    print_title_row: int | None = None  # 1-based row printed again at the top of every page
    pages_across: int = 1  # pages side by side the sheet is fitted to (book.pages_across)
    print_title_columns: int = 0  # first columns printed again on every page across
    # Plain rows after ``rows``, given column by column (a frame's columns, as read): made
    # into cells by column, they are not turned into rows to be taken apart again.
    table: list[list[object]] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.rows) + (len(self.table[0]) if self.table else 0)


def _opening(element: str) -> int:
    """Index just past the opening tag of ``element``."""
    end = element.find(">")
    return len(element) if end < 0 else end + 1


def _attr(element: str, name: str) -> str | None:
    match = re.search(_ATTR.format(name=re.escape(name)), element[: _opening(element)])
    return match.group(1) if match else None


def _set_attr(element: str, name: str, value: str) -> str:
    """``element`` with the attribute set on its opening tag (added or replaced)."""
    end = _opening(element)
    tag, rest = element[:end], element[end:]
    pattern = re.compile(_ATTR.format(name=re.escape(name)))
    if pattern.search(tag):
        return pattern.sub(f' {name}="{value}"', tag, count=1) + rest
    cut = end - 2 if tag.endswith("/>") else end - 1 if tag.endswith(">") else end
    return f'{tag[:cut]} {name}="{value}"{tag[cut:]}{rest}'


def _drop_attr(tag: str, name: str) -> str:
    return re.sub(_ATTR.format(name=re.escape(name)), "", tag)


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target))


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationships(xml: str) -> list[dict[str, str]]:
    out = []
    for tag in _REL_ENTRY.findall(xml):
        out.append({k: _attr(tag, k) or "" for k in ("Id", "Type", "Target", "TargetMode")})
    return out


def _add_relationship(xml: str | None, rel_id: str, rel_type: str, target: str) -> str:
    entry = f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="{target}"/>'
    if xml is None:
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships">{entry}</Relationships>'
        )
    if "</Relationships>" not in xml:
        raise Unsupported("relationships part without a closing tag")
    return xml.replace("</Relationships>", entry + "</Relationships>", 1)


def _bump_count(xml: str, element: str, added: int) -> str:
    match = re.search(rf"<{element}\b[^>]*>", xml)
    if match is None:
        raise Unsupported(f"styles.xml has no <{element}>")
    tag = match.group(0)
    count = int(_attr(tag, "count") or 0)
    return xml[: match.start()] + _set_attr(tag, "count", str(count + added)) + xml[match.end() :]


def _section(xml: str, element: str) -> tuple[int, int]:
    """Start and end (of the inner text) of ``<element ...>...</element>``."""
    match = re.search(rf"<{element}\b[^>]*>", xml)
    end = xml.find(f"</{element}>")
    if match is None or end < 0 or match.group(0).endswith("/>"):
        raise Unsupported(f"styles.xml has no <{element}> list")
    return match.end(), end


class _Styles:
    """styles.xml with formats appended as they are asked for."""

    def __init__(self, xml: str) -> None:
        if "<styleSheet" not in xml:
            raise Unsupported("styles.xml uses a namespace prefix")
        self.xml = xml
        start, end = _section(xml, "cellXfs")
        self.xfs = _XF.findall(xml[start:end])
        start, end = _section(xml, "fills")
        self.fills = _FILL.findall(xml[start:end])
        start, end = _section(xml, "fonts")
        self.font_count = len(re.findall(r"<font\b", xml[start:end]))
        start, end = _section(xml, "borders")
        self.border_count = len(re.findall(r"<border\b", xml[start:end]))
        self.new_fills: list[str] = []
        self.new_fonts: list[str] = []
        self.new_borders: list[str] = []
        self.new_xfs: list[str] = []
        self._clones: dict[tuple[int, bool], int] = {}
        self._named: dict[str, int] = {}
        self._fill_ids: dict[bool, int] = {}

    @property
    def xf_count(self) -> int:
        return len(self.xfs) + len(self.new_xfs)

    def _fill(self, error: bool) -> int:
        if error not in self._fill_ids:
            self._fill_ids[error] = self._solid(ERROR_RGB if error else WARNING_RGB)
        return self._fill_ids[error]

    def _solid(self, rgb: str) -> int:
        self.new_fills.append(
            f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/>'
            '<bgColor indexed="64"/></patternFill></fill>'
        )
        return len(self.fills) + len(self.new_fills) - 1

    def _thin_border(self) -> int:
        sides = "".join(
            f'<{side} style="thin"><color auto="1"/></{side}>'
            for side in ("left", "right", "top", "bottom")
        )
        self.new_borders.append(f"<border>{sides}<diagonal/></border>")
        return self.border_count + len(self.new_borders) - 1

    def marked(self, xf: int, error: bool) -> int:
        """A copy of format ``xf`` with the error or warning fill."""
        key = (xf, error)
        if key not in self._clones:
            if xf >= len(self.xfs):
                raise Unsupported(f"cell format {xf} is not in styles.xml")
            clone = _set_attr(self.xfs[xf], "fillId", str(self._fill(error)))
            self.new_xfs.append(_set_attr(clone, "applyFill", "1"))
            self._clones[key] = self.xf_count - 1
        return self._clones[key]

    def named(self, style: str) -> int:
        """The formats of the added sheets: Times New Roman like the unit's forms."""
        if style not in self._named:
            size, bold = {"title": (13, True), "header": (11, True), "heading": (11, True)}.get(
                style, (11, False)
            )
            font = (
                f'<font>{"<b/>" if bold else ""}<sz val="{size}"/>'
                '<name val="Times New Roman"/><family val="1"/></font>'
            )
            if font not in self.new_fonts:
                self.new_fonts.append(font)
            font_id = self.font_count + self.new_fonts.index(font)
            number = 'numFmtId="14" applyNumberFormat="1"' if style == "date" else 'numFmtId="0"'
            fill = border = "0"
            align = 'vertical="top"'
            if style == "center":
                align = 'horizontal="center" vertical="top"'
            if style == "header":  # as the summary's headers (Book.header): shaded, boxed
                fill, border = str(self._solid(HEADER_RGB)), str(self._thin_border())
                align = 'horizontal="center" vertical="center"'
            xf = (
                f'<xf {number} fontId="{font_id}" fillId="{fill}" borderId="{border}" xfId="0" '
                'applyFont="1" applyFill="1" applyBorder="1"'
            )
            # Top-aligned, as in the workbooks xlsxwriter writes: a row made tall by a wrapped
            # reason reads from its top line. A header may be longer than its column is wide.
            wrap = ' wrapText="1"' if style in ("wrap", "header") else ""
            xf += f' applyAlignment="1"><alignment {align}{wrap}/></xf>'
            self.new_xfs.append(xf)
            self._named[style] = self.xf_count - 1
        return self._named[style]

    def mark_formats(self) -> dict[int, int]:
        """Formats an earlier feedback added (marking fill), each to its unmarked twin."""
        ours = {i for i, fill in enumerate(self.fills) if any(rgb in fill for rgb in _MARK_RGBS)}
        if not ours:
            return {}

        def key(xf: str) -> str:
            return _drop_attr(_drop_attr(xf, "fillId"), "applyFill")

        plain: dict[str, int] = {}
        marked: list[int] = []
        for i, xf in enumerate(self.xfs):
            fill = int(_attr(xf, "fillId") or 0)
            if fill in ours:
                marked.append(i)
            else:
                plain.setdefault(key(xf), i)
        back = {}
        for i in marked:
            twin = plain.get(key(self.xfs[i]))
            if twin is None:  # the unmarked format is gone (re-saved elsewhere): recreate it
                xf = self.xfs[i]
                self.new_xfs.append(_set_attr(xf, "fillId", "0"))
                twin = plain[key(xf)] = self.xf_count - 1
            back[i] = twin
        return back

    def render(self) -> str:
        xml = self.xml
        for element, added in (
            ("fills", self.new_fills),
            ("fonts", self.new_fonts),
            ("borders", self.new_borders),
            ("cellXfs", self.new_xfs),
        ):
            if not added:
                continue
            _, end = _section(xml, element)
            xml = xml[:end] + "".join(added) + xml[end:]
            xml = _bump_count(xml, element, len(added))
        return xml


@dataclass
class _Sheet:
    name: str
    rel_id: str
    part: str


class _Package:
    """The parts of the unit's workbook, read lazily, with the edited ones kept as text."""

    def __init__(self, source: zipfile.ZipFile) -> None:
        self.zip = source
        self.names = set(source.namelist())
        self.edited: dict[str, str | bytes] = {}
        self.removed: set[str] = set()
        self.generated: set[str] = set()  # written whole by _sheet_xml, not edited

    def text(self, name: str) -> str:
        if name in self.edited:
            value = self.edited[name]
            return value if isinstance(value, str) else value.decode("utf-8")
        if name not in self.names:
            raise Unsupported(f"missing part {name}")
        data = self.zip.read(name)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        head = data[:100].lower()
        if b"encoding=" in head and b"utf-8" not in head:
            raise Unsupported(f"{name} is not UTF-8")
        return data.decode("utf-8")

    def exists(self, name: str) -> bool:
        return (name in self.names or name in self.edited) and name not in self.removed

    def put(self, name: str, value: str | bytes, *, generated: bool = False) -> None:
        self.edited[name] = value
        self.removed.discard(name)
        if generated:
            self.generated.add(name)

    def remove(self, name: str) -> None:
        self.removed.add(name)
        self.edited.pop(name, None)

    def write(self, dest: Path) -> None:
        with (
            open(dest, "wb") as file,
            zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL) as out,
        ):
            # [Content_Types].xml first, as Office writes it (some readers expect it), then the
            # unit's parts in their order and ours: the same inputs give the same file.
            new = sorted(set(self.edited) - self.names)
            parts = dict.fromkeys([*self.zip.namelist(), *new])
            order = sorted(parts, key=lambda n: n != "[Content_Types].xml")
            for name in order:
                if name in self.removed:
                    continue
                if name not in self.edited:
                    write_part(out, name, [self.zip.read(name)])
                    continue
                value = self.edited[name]
                data = value.encode("utf-8") if isinstance(value, str) else value
                # Parts cut and spliced by the regular expressions here are parsed before
                # they are written; a sheet made whole from escaped values (the listing,
                # the results) is not, as fastrows' sheets are not (tested instead).
                if name not in self.generated:
                    _check_well_formed(name, data)
                write_part(out, name, [data])


def _check_well_formed(name: str, data: bytes) -> None:
    """Every edited part must parse, namespaces included, or the unit gets a broken file."""
    parser = expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise Unsupported(f"{name} would not be well-formed: {exc}") from exc


@dataclass
class _Book:
    """The workbook-wide parts being edited, as text: what dropping, marking and adding sheets
    change together (workbook.xml, its relationships, the styles, the content types)."""

    package: _Package
    part: str  # xl/workbook.xml, as the package's relationships name it
    folder: str
    workbook: str
    rels_part: str
    rels: str
    styles_part: str
    styles: _Styles
    content_types: str

    @classmethod
    def open(cls, package: _Package) -> _Book:
        part = _office_document(package)
        folder = posixpath.dirname(part)
        rels_part = _rels_path(part)
        rels = package.text(rels_part)
        styles_part = next(
            (
                _resolve(folder, r["Target"])
                for r in _relationships(rels)
                if r["Type"].endswith("/styles")
            ),
            None,
        )
        if styles_part is None:
            raise Unsupported("no styles part")
        return cls(
            package,
            part,
            folder,
            package.text(part),
            rels_part,
            rels,
            styles_part,
            _Styles(package.text(styles_part)),
            package.text("[Content_Types].xml"),
        )

    def sheets(self) -> list[_Sheet]:
        targets = {r["Id"]: _resolve(self.folder, r["Target"]) for r in _relationships(self.rels)}
        return _sheets(self.workbook, targets)

    def put(self) -> None:
        """The edited parts back into the package, to be written."""
        self.package.put(self.part, self.workbook)
        self.package.put(self.rels_part, self.rels)
        self.package.put(self.styles_part, self.styles.render())
        self.package.put("[Content_Types].xml", self.content_types)


def mark_workbook(
    source: Path,
    dest: Path,
    marks: Sequence[Mark],
    new_sheets: Sequence[NewSheet],
    replace: Collection[str] = (),
    note_prefixes: tuple[str, ...] = (),
) -> None:
    """Write ``source`` to ``dest`` with ``marks`` and ``new_sheets`` (in front) applied.

    What an earlier feedback added is removed first: sheets named like a new sheet or in
    ``replace``, and comments by kieumau or starting with one of ``note_prefixes`` (LibreOffice
    drops a comment's author when it saves).
    """
    with zipfile.ZipFile(source) as archive:
        book = _Book.open(_Package(archive))
        sheets = book.sheets()
        # An earlier feedback sent back: its sheets go, its fills and comments are undone.
        ours = {nfc(name) for name in [*replace, *(s.name for s in new_sheets)]}
        dropped = [i for i, s in enumerate(sheets) if nfc(s.name) in ours]
        for i in dropped:
            _drop_sheet(book, sheets[i])
        kept = [s for i, s in enumerate(sheets) if i not in dropped]
        _mark_sheets(book, kept, marks, note_prefixes)
        _add_sheets(
            book, new_sheets, old_positions=[sheets.index(s) for s in kept], dropped=dropped
        )
        book.put()
        book.package.write(dest)


def _office_document(package: _Package) -> str:
    for rel in _relationships(package.text("_rels/.rels")):
        if rel["Type"].endswith("/officeDocument"):
            return _resolve("", rel["Target"])
    raise Unsupported("no officeDocument relationship")


def _sheets(workbook: str, targets: dict[str, str]) -> list[_Sheet]:
    if "<workbook" not in workbook:
        raise Unsupported("workbook.xml uses a namespace prefix")
    out = []
    for tag in _SHEET_ENTRY.findall(workbook):
        rel_id = re.search(r'\sr:id="([^"]*)"', tag)
        name = _attr(tag, "name")
        if rel_id is None or name is None or rel_id.group(1) not in targets:
            raise Unsupported("a <sheet> without its relationship")
        out.append(_Sheet(unescape(name), rel_id.group(1), targets[rel_id.group(1)]))
    return out


def _mark_sheets(
    book: _Book, sheets: list[_Sheet], marks: Sequence[Mark], prefixes: tuple[str, ...]
) -> None:
    """Each of ``sheets`` with its marks, and an earlier feedback's fills and comments undone."""
    unmark = book.styles.mark_formats()
    by_sheet: dict[str, list[Mark]] = defaultdict(list)
    for mark in marks:
        by_sheet[nfc(mark.sheet)].append(mark)
    vml_ids = _vml_ids_in_use(book.package)
    for sheet in sheets:
        _edit_sheet(book, sheet, by_sheet.pop(nfc(sheet.name), []), unmark, vml_ids, prefixes)


def _drop_sheet(book: _Book, sheet: _Sheet) -> None:
    entry = next(t for t in _SHEET_ENTRY.findall(book.workbook) if f'r:id="{sheet.rel_id}"' in t)
    book.workbook = book.workbook.replace(entry, "", 1)
    book.rels = re.sub(
        rf'<Relationship\b[^>]*?\sId="{re.escape(sheet.rel_id)}"[^>]*?/>', "", book.rels
    )
    package = book.package
    package.remove(sheet.part)
    sheet_rels = _rels_path(sheet.part)
    if package.exists(sheet_rels):
        # Only what our own sheets carry (nothing, or a table) is removed with them.
        for rel in _relationships(package.text(sheet_rels)):
            if rel["TargetMode"] != "External":
                part = _resolve(posixpath.dirname(sheet.part), rel["Target"])
                package.remove(part)
                book.content_types = _drop_override(book.content_types, part)
        package.remove(sheet_rels)
    book.content_types = _drop_override(book.content_types, sheet.part)


def _drop_override(content_types: str, part: str) -> str:
    return re.sub(rf'<Override\b[^>]*?PartName="/{re.escape(part)}"[^>]*?/>', "", content_types)


def _add_override(content_types: str, part: str, content_type: str) -> str:
    content_types = _drop_override(content_types, part)
    entry = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
    return content_types.replace("</Types>", entry + "</Types>", 1)


def _vml_ids_in_use(package: _Package) -> set[int]:
    used: set[int] = set()
    for name in package.names:
        if name.endswith(".vml"):
            for data in re.findall(r'<o:idmap\b[^>]*\bdata="([^"]*)"', package.text(name)):
                used.update(int(x) for x in re.findall(r"\d+", data))
    return used


def _edit_sheet(
    book: _Book,
    sheet: _Sheet,
    marks: list[Mark],
    unmark: dict[int, int],
    vml_ids: set[int],
    prefixes: tuple[str, ...],
) -> None:
    package = book.package
    ours = _has_our_comments(package, sheet, prefixes)
    if not (marks or unmark or ours):
        # Only the selected-tab flag may need to go: look at the sheet's head, not all of it.
        with package.zip.open(sheet.part) as stream:
            if b"tabSelected" not in stream.read(4096):
                return
    xml = package.text(sheet.part)
    if "<worksheet" not in xml:
        raise Unsupported(f"{sheet.part} uses a namespace prefix")
    original = xml
    # The tab flag is on <sheetView>, before the cells: searching the cells for it was slow (a
    # pattern starting with \s is tried at every character; benchmarks/README.md).
    cells = xml.find("<sheetData")
    cells = len(xml) if cells < 0 else cells
    xml = re.sub(r'\stabSelected="(?:1|true)"', "", xml[:cells], count=1) + xml[cells:]
    if unmark:
        numbers = "|".join(map(str, unmark))
        pattern = re.compile(r'(<(?:c|row|col)\b[^>]*?\s(?:s|style)=")(' + numbers + r')"')
        xml = pattern.sub(lambda m: f'{m.group(1)}{unmark[int(m.group(2))]}"', xml)
    kept_comments: list[tuple[str, str, str]] = []
    if marks or ours:
        kept_comments, xml = _old_comments(book, sheet, xml, prefixes)
    if marks:
        xml = _mark_cells(xml, marks, book.styles)
    comments = kept_comments + _merge_marks(marks, xml)
    if comments:
        xml = _attach_comments(book, sheet, xml, comments, vml_ids)
    if xml != original:
        package.put(sheet.part, xml)


def _has_our_comments(package: _Package, sheet: _Sheet, prefixes: tuple[str, ...]) -> bool:
    """Whether the sheet carries comments an earlier feedback wrote (by kieumau, or starting
    with one of ``prefixes``)."""
    rels_part = _rels_path(sheet.part)
    signs = (f"<author>{AUTHOR}</author>", *(escape_text(p) for p in prefixes))
    return package.exists(rels_part) and any(
        rel["Type"] == _REL_COMMENTS
        and any(
            sign in package.text(_resolve(posixpath.dirname(sheet.part), rel["Target"]))
            for sign in signs
        )
        for rel in _relationships(package.text(rels_part))
    )


def _old_comments(
    book: _Book, sheet: _Sheet, xml: str, prefixes: tuple[str, ...]
) -> tuple[list[tuple[str, str, str]], str]:
    """Comments the sheet already has, other than kieumau's; its comment parts are dropped."""
    package = book.package
    rels_part = _rels_path(sheet.part)
    legacy = re.search(r'<legacyDrawing\b[^>]*?r:id="([^"]*)"[^>]*?/>', xml)
    if not package.exists(rels_part):
        if legacy:
            raise Unsupported("legacyDrawing without relationships")
        return [], xml
    rels = package.text(rels_part)
    folder = posixpath.dirname(sheet.part)
    kept: list[tuple[str, str, str]] = []
    found = False
    for rel in _relationships(rels):
        if rel["Type"] == _REL_COMMENTS:
            found = True
            part = _resolve(folder, rel["Target"])
            kept += [
                (ref, body, author)
                for ref, body, author in _comments(package.text(part))
                if author != AUTHOR and not body.startswith(prefixes)
            ]
            package.remove(part)
            book.content_types = _drop_override(book.content_types, part)
            rels = rels.replace(_rel_tag(rels, rel["Id"]), "")
    for rel in _relationships(rels):
        if rel["Type"] == _REL_VML:
            if not found:
                raise Unsupported("VML drawing without comments (form controls?)")
            package.remove(_resolve(folder, rel["Target"]))
            rels = rels.replace(_rel_tag(rels, rel["Id"]), "")
            xml = re.sub(r"<legacyDrawing\b[^>]*?/>", "", xml)
    if found and legacy is None:
        raise Unsupported("comments without a legacyDrawing")
    package.put(rels_part, rels)
    return kept, xml


def _comments(xml: str) -> list[tuple[str, str, str]]:
    """(cell, text, author) of each comment in a comments part."""
    authors = [unescape(a) for a in re.findall(r"<author>(.*?)</author>", xml, re.DOTALL)]
    out = []
    for match in re.finditer(
        r'<comment\b[^>]*?ref="([A-Z]+\d+)"[^>]*?authorId="(\d+)"[^>]*>(.*?)</comment>',
        xml,
        re.DOTALL,
    ):
        author = authors[int(match.group(2))] if int(match.group(2)) < len(authors) else ""
        body = unescape("".join(re.findall(r"<t\b[^>]*>(.*?)</t>", match.group(3), re.DOTALL)))
        out.append((match.group(1), body, author))
    return out


def _rel_tag(rels: str, rel_id: str) -> str:
    return next(t for t in _REL_ENTRY.findall(rels) if f'Id="{rel_id}"' in t)


def _merged_origin(xml: str) -> dict[tuple[int, int], tuple[int, int]]:
    """Each cell inside a merged range (not its top-left) → the top-left (row, col)."""
    out = {}
    for c1, r1, c2, r2 in _MERGE.findall(xml):
        top, left = int(r1), column_index(c1)
        for row in range(top, int(r2) + 1):
            for col in range(left, column_index(c2) + 1):
                if (row, col) != (top, left):
                    out[(row, col)] = (top, left)
    return out


def _targets(marks: list[Mark], xml: str) -> dict[tuple[int, int], bool]:
    """(row, col) of each marked cell → whether an error is among its marks."""
    merged = _merged_origin(xml) if "<mergeCell" in xml else {}
    out: dict[tuple[int, int], bool] = {}
    for mark in marks:
        match = _REF.match(mark.cell)
        if match is None:
            continue
        at = (int(match.group(2)), column_index(match.group(1)))
        at = merged.get(at, at)
        out[at] = out.get(at, False) or mark.error
    return out


def _merge_marks(marks: list[Mark], xml: str) -> list[tuple[str, str, str]]:
    merged = _merged_origin(xml) if "<mergeCell" in xml else {}
    notes: dict[tuple[int, int], list[str]] = {}
    for mark in marks:
        match = _REF.match(mark.cell)
        if match is None:
            continue
        at = (int(match.group(2)), column_index(match.group(1)))
        notes.setdefault(merged.get(at, at), []).append(mark.note)
    return [
        (f"{column_letter(col)}{row}", "\n".join(lines), AUTHOR)
        for (row, col), lines in sorted(notes.items())
    ]


def _column_styles(xml: str) -> dict[int, int]:
    out = {}
    for tag in _COL.findall(xml):
        style = _attr(tag, "style")
        if style is None:
            continue
        for col in range(int(_attr(tag, "min") or 1), int(_attr(tag, "max") or 1) + 1):
            out[col - 1] = int(style)
            if len(out) > 16384:
                break
    return out


def _mark_cells(xml: str, marks: list[Mark], styles: _Styles) -> str:
    targets = _targets(marks, xml)
    start = xml.find("<sheetData")
    if start < 0:
        raise Unsupported("no sheetData")
    open_end = xml.index(">", start) + 1
    if xml[open_end - 2] == "/":  # <sheetData/>: an empty sheet
        body, close = "", open_end
        xml = xml[: open_end - 2] + "></sheetData>" + xml[open_end:]
        open_end -= 1
        close = open_end
    else:
        close = xml.index("</sheetData>", open_end)
        body = xml[open_end:close]
    col_styles = _column_styles(xml[:start])
    wanted = defaultdict(dict)
    for (row, col), error in targets.items():
        wanted[row][col] = error
    pieces: list[str] = []
    position = 0
    for row in sorted(wanted):
        at, match = _find(body, f'<row r="{row}"', _ROW_START, int, row, position)
        pieces.append(body[position:at])
        position = at
        if match is None:  # the row has no element: made, before the next row
            pieces.append(_new_row(row, wanted[row], col_styles, styles))
            continue
        end = match.end()
        if not match.group(0).endswith("/>"):
            end = body.index("</row>", end) + len("</row>")
        pieces.append(_edit_row(body[at:end], row, wanted[row], col_styles, styles))
        position = end
    pieces.append(body[position:])
    return xml[:open_end] + "".join(pieces) + xml[close:]


def _find(
    text: str,
    start_tag: str,
    pattern: re.Pattern[str],
    number: Callable[[str], int],
    wanted: int,
    position: int,
) -> tuple[int, re.Match[str] | None]:
    """Where the row or cell numbered ``wanted`` begins in ``text`` from ``position`` on (rows
    and cells ascend, as the schema asks), with its match of ``pattern``; else where it would
    go (before the first one numbered higher), and None. Producers write the reference first
    (``start_tag``): it is found at once, instead of going through every row or cell before it,
    which was most of the time spent marking a unit's sheet."""
    at = text.find(start_tag, position)
    match = pattern.match(text, at) if at >= 0 else None
    if match is not None and number(match.group(1)) == wanted:
        return at, match
    for match in pattern.finditer(text, position):
        found = number(match.group(1))
        if found >= wanted:
            return match.start(), match if found == wanted else None
    return len(text), None


def _new_row(
    number: int, cols: dict[int, bool], col_styles: dict[int, int], styles: _Styles
) -> str:
    cells = "".join(
        f'<c r="{column_letter(col)}{number}" s="{styles.marked(col_styles.get(col, 0), err)}"/>'
        for col, err in sorted(cols.items())
    )
    return f'<row r="{number}">{cells}</row>'


def _edit_row(
    row: str, number: int, cols: dict[int, bool], col_styles: dict[int, int], styles: _Styles
) -> str:
    head_end = row.index(">") + 1
    head = row[:head_end]
    row_style = None
    if _attr(head, "customFormat") in ("1", "true"):
        row_style = int(_attr(head, "s") or 0)
    if head.endswith("/>"):
        head = head[:-2] + ">"
        inner, tail = "", "</row>"
    else:
        inner, tail = row[head_end:-6], "</row>"
    if "<c" in inner and not _CELL.search(inner):
        raise Unsupported("cells without references")
    pieces: list[str] = []
    position = 0
    for col, err in sorted(cols.items()):
        ref = f"{column_letter(col)}{number}"
        at, match = _find(inner, f'<c r="{ref}"', _CELL, column_index, col, position)
        pieces.append(inner[position:at])
        position = at
        if match is None:  # an empty cell: made, before the next cell
            base = row_style if row_style is not None else col_styles.get(col, 0)
            pieces.append(f'<c r="{ref}" s="{styles.marked(base, err)}"/>')
            continue
        cell = match.group(0)
        base = int(_attr(cell, "s") or 0)
        pieces.append(_set_attr(cell, "s", str(styles.marked(base, err))))
        position = match.end()
    pieces.append(inner[position:])
    return head + "".join(pieces) + tail


def _attach_comments(
    book: _Book,
    sheet: _Sheet,
    xml: str,
    comments: list[tuple[str, str, str]],
    vml_ids: set[int],
) -> str:
    package = book.package
    index = 1
    while package.exists(f"xl/comments{index}.xml") or package.exists(
        f"xl/drawings/vmlDrawing{index}.vml"
    ):
        index += 1
    comments_part = f"xl/comments{index}.xml"
    vml_part = f"xl/drawings/vmlDrawing{index}.vml"
    idmap = max([0, *vml_ids]) + 1
    vml_ids.add(idmap)
    package.put(comments_part, _comments_xml(comments))
    package.put(vml_part, _vml(comments, idmap))
    rels_part = _rels_path(sheet.part)
    rels = package.text(rels_part) if package.exists(rels_part) else None
    existing = {r["Id"] for r in _relationships(rels or "")}
    comments_id = next(f"rIdKm{n}" for n in range(1, 1000) if f"rIdKm{n}" not in existing)
    existing.add(comments_id)
    vml_id = next(f"rIdKm{n}" for n in range(1, 1000) if f"rIdKm{n}" not in existing)
    folder = posixpath.dirname(sheet.part)
    rels = _add_relationship(
        rels, comments_id, _REL_COMMENTS, posixpath.relpath(comments_part, folder)
    )
    rels = _add_relationship(rels, vml_id, _REL_VML, posixpath.relpath(vml_part, folder))
    package.put(rels_part, rels)
    # Every element after <legacyDrawing> comes after the cells: looking for each of them
    # through a unit's cells cost more than the rest of marking them.
    tail = max(xml.rfind("</sheetData>"), 0)
    at = min((i for i in (xml.find(t, tail) for t in _AFTER_LEGACY) if i >= 0), default=-1)
    if at < 0:
        raise Unsupported("no </worksheet>")
    # Declared on the element: producers differ in where (and whether) they bind r:.
    xml = xml[:at] + f'<legacyDrawing xmlns:r="{_NS_REL}" r:id="{vml_id}"/>' + xml[at:]
    content_types = _add_override(book.content_types, comments_part, _CT_COMMENTS)
    if 'Extension="vml"' not in content_types:
        content_types = content_types.replace(
            "</Types>", f'<Default Extension="vml" ContentType="{_CT_VML}"/></Types>', 1
        )
    book.content_types = content_types
    return xml


def _vml(comments: list[tuple[str, str, str]], idmap: int) -> str:
    shapes = []
    for k, (ref, _, _) in enumerate(comments, start=1):
        match = _REF.match(ref)
        assert match is not None
        row, col = int(match.group(2)) - 1, column_index(match.group(1))
        top = max(row - 1, 0)
        shapes.append(
            f'<v:shape id="_x0000_s{idmap * 1024 + k}" type="#_x0000_t202" '
            'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:240pt;'
            'height:90pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
            '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
            '<div style="text-align:left"></div></v:textbox>'
            '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col + 1}, 15, {top}, 10, {col + 5}, 15, {top + 6}, 4</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column>"
            "</x:ClientData></v:shape>"
        )
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        + "".join(shapes)
        + "</xml>"
    )


def _comments_xml(comments: list[tuple[str, str, str]]) -> str:
    """A comments part: kieumau first among the authors."""
    authors = sorted({a for _, _, a in comments}, key=lambda a: (a != AUTHOR, a))
    entries = "".join(
        f'<comment ref="{ref}" authorId="{authors.index(author)}"><text>'
        f'<t xml:space="preserve">{escape_text(text)}</t></text></comment>'
        for ref, text, author in comments
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors>'
        + "".join(f"<author>{escape_text(a)}</author>" for a in authors)
        + f"</authors><commentList>{entries}</commentList></comments>"
    )


def _add_sheets(
    book: _Book,
    new_sheets: Sequence[NewSheet],
    *,
    old_positions: list[int],
    dropped: list[int],
) -> None:
    """``new_sheets`` in front of the unit's own, the first of them shown when it opens."""
    if not new_sheets:
        return
    entries = _new_sheet_parts(book, new_sheets)
    workbook = book.workbook
    match = re.search(r"<sheets\b[^>]*>", workbook)
    if match is None:
        raise Unsupported("workbook.xml has no <sheets>")
    workbook = workbook[: match.end()] + "".join(entries) + workbook[match.end() :]
    workbook = _local_names(workbook, old_positions, dropped, len(new_sheets))
    workbook = _add_print_titles(workbook, new_sheets)
    workbook = re.sub(r"<definedNames>\s*</definedNames>", "", workbook)
    view = re.search(r"<workbookView\b[^>]*?/?>", workbook)
    if view:
        tag = _set_attr(_set_attr(view.group(0), "activeTab", "0"), "firstSheet", "0")
        workbook = workbook[: view.start()] + tag + workbook[view.end() :]
    book.workbook = workbook


def _new_sheet_parts(book: _Book, new_sheets: Sequence[NewSheet]) -> list[str]:
    """Each new sheet's part, relationship and content type; its ``<sheet>`` entries."""
    existing_ids = {r["Id"] for r in _relationships(book.rels)}
    sheet_ids = [int(x) for x in re.findall(r'<sheet\b[^>]*?\ssheetId="(\d+)"', book.workbook)]
    next_sheet_id = max([0, *sheet_ids]) + 1
    entries = []
    n = 1
    for k, sheet in enumerate(new_sheets):
        while book.package.exists(f"{book.folder}/worksheets/sheet{n}.xml"):
            n += 1
        part = f"{book.folder}/worksheets/sheet{n}.xml"
        rel_id = next(f"rIdKm{i}" for i in range(1, 10000) if f"rIdKm{i}" not in existing_ids)
        existing_ids.add(rel_id)
        book.package.put(part, _sheet_xml(sheet, book.styles, selected=k == 0), generated=True)
        book.rels = _add_relationship(
            book.rels, rel_id, _REL_WORKSHEET, posixpath.relpath(part, book.folder)
        )
        book.content_types = _add_override(book.content_types, part, _CT_WORKSHEET)
        entries.append(
            f'<sheet xmlns:r="{_NS_REL}" name="{escape_text(sheet.name)}" '
            f'sheetId="{next_sheet_id}" r:id="{rel_id}"/>'
        )
        next_sheet_id += 1
    return entries


def _local_names(workbook: str, old_positions: list[int], dropped: list[int], added: int) -> str:
    """Sheet-local names (print titles, filters) refer to sheets by position: the kept sheets'
    move ``added`` places on, the dropped sheets' go."""
    position = {old: new + added for new, old in enumerate(old_positions)}

    def renumber(m: re.Match[str]) -> str:
        old = int(m.group(2))
        return f'{m.group(1)}"{position[old]}"' if old in position else m.group(0)

    def names(m: re.Match[str]) -> str:
        tag = m.group(0)
        local = re.search(r'localSheetId="(\d+)"', tag)
        if local and int(local.group(1)) in dropped:
            return ""
        return re.sub(r'(localSheetId=)"(\d+)"', renumber, tag)

    return re.sub(
        r"<definedName\b[^>]*?(?:/>|>.*?</definedName>)", names, workbook, flags=re.DOTALL
    )


def _add_print_titles(workbook: str, new_sheets: Sequence[NewSheet]) -> str:
    """The new sheets' rows repeated on every printed page (they come first: position k)."""
    names = ""
    for k, sheet in enumerate(new_sheets):
        name = quote_sheet(sheet.name)
        ranges = []
        if sheet.print_title_columns:
            ranges.append(f"{name}!$A:${column_letter(sheet.print_title_columns - 1)}")
        if sheet.print_title_row is not None:
            ranges.append(f"{name}!${sheet.print_title_row}:${sheet.print_title_row}")
        if ranges:
            names += (
                f'<definedName name="_xlnm.Print_Titles" localSheetId="{k}">'
                f"{escape_text(','.join(ranges))}</definedName>"
            )
    if not names:
        return workbook
    if "<definedNames>" in workbook:
        return workbook.replace("<definedNames>", "<definedNames>" + names, 1)
    if "<definedNames/>" in workbook:
        return workbook.replace("<definedNames/>", f"<definedNames>{names}</definedNames>", 1)
    end = workbook.find("</sheets>")
    if end < 0:
        raise Unsupported("workbook.xml has no </sheets>")
    end += len("</sheets>")
    return f"{workbook[:end]}<definedNames>{names}</definedNames>{workbook[end:]}"


def quote_sheet(name: str) -> str:
    """A sheet's name as a formula names it: 'Phản hồi' in quotes, a quote doubled."""
    return "'" + name.replace("'", "''") + "'"


@dataclass(frozen=True)
class _CellStyles:
    """The ` s="…"` attributes of an added sheet's plain cells, by column."""

    plain: str
    wrap: str
    center: str
    date: str

    def of_column(self, sheet: NewSheet, column: int) -> str:
        if column in sheet.wrap_columns:
            return self.wrap
        return self.center if column in sheet.center_columns else self.plain


def _sheet_xml(sheet: NewSheet, styles: _Styles, *, selected: bool) -> str:
    width = max((len(r) for r in sheet.rows), default=1)
    if sheet.table:
        width = max(width, len(sheet.table))
    plain = f' s="{styles.named("plain")}"'
    wrap = f' s="{styles.named("wrap")}"'
    center = f' s="{styles.named("center")}"' if sheet.center_columns else plain
    cell_styles = _CellStyles(plain, wrap, center, f' s="{styles.named("date")}"')
    rows = _sheet_rows(sheet, styles, cell_styles, [column_letter(c) for c in range(width)])
    last = f"{column_letter(width - 1)}{max(sheet.row_count, 1)}"
    return _worksheet(sheet, "".join(rows), last, selected=selected)


def _sheet_rows(
    sheet: NewSheet, styles: _Styles, cell_styles: _CellStyles, letters: list[str]
) -> list[str]:
    """The ``<row>`` elements: a styled row (title, heading, text, header) cell by cell, a run
    of plain rows (a unit's results: hundreds) at once."""
    rows: list[str] = []
    plain_run: list[list[object]] = []
    for values, kind in zip(sheet.rows, sheet.row_styles, strict=True):
        if kind not in ("title", "heading", "text", "header"):
            plain_run.append(values)
            continue
        if plain_run:
            rows += _plain_run(sheet, cell_styles, plain_run, len(rows) + 1)
            plain_run = []
        r = len(rows) + 1
        style = f' s="{styles.named(kind)}"'
        cells = []
        for c, value in enumerate(values):
            body = cell_body(value, style, style, "", as_text=False)
            if body:
                cells.append(f'<c r="{letters[c]}{r}"{body}')
        rows.append(f"{_row_tag(sheet, r)}{''.join(cells)}</row>")
    if plain_run:
        rows += _plain_run(sheet, cell_styles, plain_run, len(rows) + 1)
    if sheet.table:
        rows += _plain_rows(sheet, cell_styles, sheet.table, len(rows) + 1, len(sheet.table[0]))
    return rows


def _plain_run(
    sheet: NewSheet, cell_styles: _CellStyles, run: list[list[object]], first: int
) -> list[str]:
    """A run of plain rows given row by row, a short row's missing values blank."""
    columns = list(itertools.zip_longest(*run))
    return _plain_rows(sheet, cell_styles, columns, first, len(run))


def _plain_rows(
    sheet: NewSheet,
    cell_styles: _CellStyles,
    columns: Sequence[Sequence[object]],
    first: int,
    count: int,
) -> list[str]:
    """``count`` rows from ``first`` on, made from their ``columns``, each distinct value once,
    as fastrows makes the summary's. A blank cell is written with its column's style, as
    xlsxwriter writes the summary's: it looks the same, and rows without gaps take fastrows'
    quicker path."""
    bodies = []
    for c, values in enumerate(columns):
        style = cell_styles.of_column(sheet, c)
        bodies.append(cell_bodies(values, style, cell_styles.date, f"{style}/>", False))
    numbers = list(range(first, first + count))
    if bodies and all(map(all, bodies)):  # a blank cell has its column's style: always
        last = first + count
        tags = {i + 1: _row_tag(sheet, i + 1) for i in sheet.heights if first <= i + 1 < last}
        return row_elements(bodies, 0, numbers, tags)
    return [f"{_row_tag(sheet, r)}{cells}</row>" for r, cells in row_cells(bodies, 0, numbers)]


def _row_tag(sheet: NewSheet, number: int) -> str:
    height = sheet.heights.get(number - 1)
    if height is None:
        return f'<row r="{number}">'
    return f'<row r="{number}" ht="{height:g}" customHeight="1">'


def _worksheet(sheet: NewSheet, rows: str, last: str, *, selected: bool) -> str:
    """The sheet's XML around its rows: view, columns, filter, print setup (landscape, A4,
    fitted to ``pages_across`` pages wide) and the footer."""
    cols = "".join(
        f'<col min="{c + 1}" max="{c + 1}" width="{w}" customWidth="1"/>'
        for c, w in sorted(sheet.widths.items())
    )
    pane = (
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        if sheet.freeze_first_row
        else ""
    )
    view = (
        f"<sheetView{' tabSelected=' + chr(34) + '1' + chr(34) if selected else ''}"
        f' workbookViewId="0">{pane}</sheetView>'
    )
    order = ' pageOrder="overThenDown"' if sheet.pages_across > 1 else ""
    autofilter = ""
    if sheet.autofilter_from_row is not None and sheet.row_count >= sheet.autofilter_from_row:
        autofilter = f'<autoFilter ref="A{sheet.autofilter_from_row}:{last}"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_NS_REL}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}"/><sheetViews>{view}</sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{"<cols>" + cols + "</cols>" if cols else ""}'
        f"<sheetData>{rows}</sheetData>{autofilter}"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
        f'footer="0.3"/><pageSetup paperSize="9" orientation="landscape"{order} '
        f'fitToWidth="{sheet.pages_across}" fitToHeight="0"/>'
        f"<headerFooter><oddFooter>{escape_text(FOOTER)}</oddFooter></headerFooter></worksheet>"
    )
