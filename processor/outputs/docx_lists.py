"""Long lists in the Word drafts: rendered once as a marked row, then written once per item.

docxtpl renders a template with each long list of its context (the rows of an annex, a Biên
bản's candidates, the certificates of a unit) cut down to one item whose fields are markers.
`expand` then writes the part of the document that holds a list's markers once per item, with
the item's values escaped as docxtpl's autoescape escapes them:

- a table row (`{%tr for r in … %}`): the row is repeated, as docxtpl would have;
- outside a table (the certificate is one page of ``{{ e.… }}`` tags): the whole page is
  repeated, each copy after the first on a new page.

docxtpl's own passes go over the whole rendered document several times with regular
expressions and build it as one lxml tree: for a district's decision of a hundred thousand names
that was minutes and gigabytes. Here the template renders small and each item costs one string
join. Inside a repeated row, use the row's own fields (``r.stt``), not ``loop.index``.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

OPEN, CLOSE = "\ue000", "\ue001"  # private-use characters: never in a name, valid in XML
_MARK = re.compile(f"{OPEN}(\\d+)\\.(\\w+){CLOSE}")
_ROW_START = re.compile(r"<w:tr[ >]")
_BODY = re.compile(r"<w:body>(.*)(<w:sectPr[ >].*</w:sectPr>)\s*</w:body>", re.DOTALL)
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PLAIN = re.compile("[^\x00-\x1f&<>\ufffe\uffff]*")  # nothing to escape, drop or break
_NEW_PAGE = (
    '<w:p><w:pPr><w:pageBreakBefore/><w:spacing w:before="0" w:after="0" w:line="20" '
    'w:lineRule="exact"/><w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>'
)
_BUFFER = 1 << 20  # characters of XML handed to the compressor at once
Lists = dict[int, list[dict[str, Any]]]


def marked(context: dict[str, Any]) -> tuple[dict[str, Any], Lists]:
    """A copy of ``context`` whose lists of rows are one row of markers each, and the lists.

    A list of dicts whose values hold no list is a list of rows (annex rows, candidates,
    certificates); a list of dicts holding lists (the annex's groups) is kept, its rows marked.
    The certificate's single entry ``e`` is marked the same way when given as ``danh_sach``.
    """
    lists: Lists = {}

    def walk(value: Any) -> Any:
        if not (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
            return value
        if any(isinstance(x, list) for x in value[0].values()):  # rows of a list share keys
            return [{key: walk(x) for key, x in item.items()} for item in value]
        number = len(lists)
        lists[number] = value
        return [{key: f"{OPEN}{number}.{key}{CLOSE}" for key in value[0]}]

    return {key: walk(value) for key, value in context.items()}, lists


def _text(value: Any) -> str:
    """A value as Word text: escaped, control characters dropped, line breaks and tabs kept."""
    text = "" if value is None else str(value)
    if _PLAIN.fullmatch(text):  # most names and numbers: one match instead of five passes
        return text
    text = _INVALID.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\n" in text or "\t" in text:
        text = text.replace("\n", '</w:t><w:br/><w:t xml:space="preserve">')
        text = text.replace("\t", '</w:t><w:tab/><w:t xml:space="preserve">')
    return text


def _filler(block: str) -> tuple[list[str], list[tuple[int, str]]]:
    """A block cut at its markers: the literal parts, and (list, field) between them."""
    parts, fields, last = [], [], 0
    for match in _MARK.finditer(block):
        parts.append(block[last : match.start()])
        fields.append((int(match.group(1)), match.group(2)))
        last = match.end()
    parts.append(block[last:])
    return parts, fields


def _copies(block: str, items: list[dict[str, Any]], separator: str = "") -> Iterator[str]:
    parts, fields = _filler(block)
    keys = [key for _, key in fields]
    # The block as one %-format: a copy is one formatting, not a join of its pieces.
    form = "%s".join(part.replace("%", "%%") for part in parts)
    for index, item in enumerate(items):
        copy = form % tuple([_text(item.get(key)) for key in keys])
        yield separator + copy if index and separator else copy


def _row(xml: str, position: int) -> tuple[int, int] | None:
    """The span of the table row around ``position``, or None outside a table."""
    start = None
    for match in _ROW_START.finditer(xml, 0, position):
        start = match.start()
    if start is None:
        return None
    end = xml.find("</w:tr>", position)
    if end < 0 or xml.rfind("</w:tr>", start, position) >= 0:
        return None
    return start, end + len("</w:tr>")


def _page(body: str) -> tuple[str, str]:
    """The body cut before a closing empty paragraph (Word ends a body with one after a table),
    which stays once after the last copy."""
    start = max(body.rfind("<w:p>"), body.rfind("<w:p "))
    last = body[start:] if start >= 0 else ""
    if last and "<w:t" not in last and "<w:br" not in last and "<w:tbl" not in last:
        return body[:start], last
    return body, ""


def _pieces(xml: str, lists: Lists) -> Iterator[str]:
    """The document with each marked row written once per item of its list."""
    done = 0
    while match := _MARK.search(xml, done):
        span = _row(xml, match.start())
        if span is None:  # the page itself repeats: the certificate
            body = _BODY.search(xml)
            if body is None:
                raise ValueError("docx_lists: a list outside a table and outside the body")
            page, tail = _page(body.group(1))
            yield xml[: body.start(1)]
            yield from _copies(page, lists[int(match.group(1))], _NEW_PAGE)
            yield tail + xml[body.end(1) :]
            return
        yield xml[done : span[0]]
        yield from _copies(xml[span[0] : span[1]], lists[int(match.group(1))])
        done = span[1]
    yield xml[done:]


def expand(rendered: bytes, lists: Lists, out: Path) -> None:
    """Write the .docx ``rendered`` (markers in) to ``out`` with every list written out."""
    with (
        zipfile.ZipFile(BytesIO(rendered)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != "word/document.xml" or not lists:
                target.writestr(info, source.read(info))
                continue
            xml = source.read(info).decode("utf-8")
            with target.open(info.filename, "w", force_zip64=True) as part:
                buffer: list[str] = []
                held = 0
                for piece in _pieces(xml, lists):
                    buffer.append(piece)
                    held += len(piece)
                    if held > _BUFFER:  # deflate large pieces: small writes cost more
                        part.write("".join(buffer).encode("utf-8"))
                        buffer, held = [], 0
                part.write("".join(buffer).encode("utf-8"))
