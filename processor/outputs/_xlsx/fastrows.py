"""Bulk cell data written straight into xlsxwriter's sheet XML (issue: speed at district scale).

xlsxwriter's cost per cell (benchmarks/README.md) makes a town's summary, feedback and
next-month forms the slowest part of a batch. Everything around the
cells (styles, tables, validations, conditional formats, print setup, charts) stays xlsxwriter's;
only the `<row>` elements of large blocks are generated here, as inline strings, after the
workbook is closed, several times faster. Styles come from xlsxwriter Format objects, so a cell
looks exactly as if xlsxwriter had written it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import io
import itertools
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter.workbook
from xlsxwriter.format import Format

from processor.domain.sheets import column_index, column_letter
from processor.domain.vietnamese import nfc

_EPOCH = dt.datetime(1899, 12, 30)
_EPOCH_ORDINAL = _EPOCH.toordinal()  # a date's serial number is its ordinal less this
_ROW = re.compile(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.DOTALL)
_SHEET_DATA = re.compile(rb"<sheetData>(.*)</sheetData>|<sheetData/>", re.DOTALL)
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>')
# XML 1.0 forbids most control characters; Excel would refuse the file.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_TEXT = 32767  # Excel's limit for one cell
_NA, _NAT = pd.NA, pd.NaT  # compared by identity in cell_body
_NUMBERS = (bool, int, float, np.bool_, np.number)
_SEPARATOR = "\ue000"  # a private-use character, to escape many texts joined in one pass
_PRESERVE = ' xml:space="preserve"'
_SPACE_AFTER = re.compile(_SEPARATOR + r"\s")  # a text starting with a space, but the first
_FLUSH_BYTES = 1 << 20
_ROWS_PER_PIECE = 4096
_ZIP64_BYTES = 1 << 30


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML entities: xml.sax.saxutils.escape, whose module would
    import urllib.request, http.client and ssl into every run (start-up: benchmarks/README.md)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def unescape(text: str) -> str:
    """The five predefined entities back to their characters (``&amp;`` last)."""
    if "&" not in text:
        return text
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


def escape_text(text: str) -> str:
    text = _CONTROL.sub("", text)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return escape(text)


@dataclass
class Column:
    """One column of a block: its values, the format for text/numbers and the one for dates."""

    values: list
    fmt: Format | None
    date_fmt: Format | None = None
    text: bool = False  # write numbers as text too (codes, IDs)
    # Position -> (value, format): cells written with a format of their own instead of
    # ``values``' and ``fmt`` (a form's marked cells), so that a few such cells do not split
    # a block into many small ones, each with its cost per column.
    own: dict[int, tuple[object, Format]] = field(default_factory=dict)


@dataclass
class Block:
    first_row: int  # 0-based row of the first value
    first_col: int
    columns: list[Column]
    rows: int
    # Points high, by position in the block, of the rows that are not the default height.
    # Set here rather than by the sheet's set_row, which made xlsxwriter write each such row
    # for the merge to take apart again (100,000 rows in a district's outputs).
    heights: dict[int, float] = field(default_factory=dict)
    # The rows' own format, which a cell of the row that is not written takes (a form's list
    # rows are input cells across the sheet, so that a unit may delete one on a protected
    # sheet): set here rather than by set_row, for the reason above.
    row_format: Format | None = None

    def row_numbers(self) -> range:
        return range(self.first_row + 1, self.first_row + 1 + self.rows)


def register_formats(block: Block) -> None:
    """Give every format of ``block`` its style index now: styles.xml is written at close()."""
    for column in block.columns:
        for fmt in (column.fmt, column.date_fmt, *(fmt for _, fmt in column.own.values())):
            if fmt is not None:
                fmt._get_xf_index()
    if block.row_format is not None:
        block.row_format._get_xf_index()


# xlsxwriter's default row, in pixels: set_row writes no height for it.
_DEFAULT_ROW_PIXELS = 20


def row_tag(number: int, points: float, style: str = "") -> bytes:
    """The `<row>` start tag that ``set_row(number - 1, points)`` makes xlsxwriter write (its
    `spans` aside, which the merge drops): the height is rounded to whole pixels first.
    ``style``: the row's format (_row_style)."""
    pixels = int(points * 4.0 / 3.0 + 0.5)
    if pixels == _DEFAULT_ROW_PIXELS:
        return f'<row r="{number}"{style}>'.encode()
    return f'<row r="{number}" ht="{pixels * 0.75:.16g}" customHeight="1"{style}>'.encode()


def _row_style(block: Block) -> str:
    """The attributes of a `<row>` of ``block`` that give it its row format, if any."""
    fmt = block.row_format
    return f' s="{fmt._get_xf_index()}" customFormat="1"' if fmt is not None else ""


def _style(fmt: Format | None) -> str:
    return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""


def _cell_bodies(column: Column) -> list[str]:
    style = _style(column.fmt)
    date_style = _style(column.date_fmt or column.fmt)
    blank = f"{style}/>" if style else ""
    bodies = cell_bodies(column.values, style, date_style, blank, column.text)
    for i, (value, fmt) in column.own.items():
        own = _style(fmt)
        bodies[i] = cell_body(value, own, own, f"{own}/>" if own else "", column.text)
    return bodies


def cell_bodies(
    values: Sequence[object], style: str, date_style: str, blank: str, as_text: bool
) -> list[str]:
    """The part of each value's `<c>` element after its reference, made once per distinct value.

    A district summary has millions of cells but far fewer distinct values: pandas' factorize
    finds them in C (benchmarks/README.md, "Figures behind").
    """
    kinds = set(map(type, values))
    if kinds <= {type(None)}:  # a form's blank input rows
        return [blank] * len(values)
    if sum(issubclass(kind, _NUMBERS) for kind in kinds) > 1:
        # 1 == 1.0 == True: factorize would merge values that are written differently.
        return _cell_bodies_by_type(values, style, date_style, blank, as_text)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    try:
        codes, uniques = pd.factorize(array)
    except TypeError:  # an unhashable value
        return _cell_bodies_by_type(values, style, date_style, blank, as_text)
    bodies = _distinct_bodies(uniques.tolist(), style, date_style, blank, as_text)
    bodies.append(blank)  # code -1: None, NaN, NA, NaT
    return np.array(bodies, dtype=object)[codes].tolist()


def _distinct_bodies(
    distinct: list, style: str, date_style: str, blank: str, as_text: bool
) -> list[str]:
    """cell_body of each distinct value; a column of one common type is made without a call
    per value (a unit's names, CCCDs, birth dates and row numbers are nearly all distinct)."""
    kinds = set(map(type, distinct))
    if kinds == {str}:
        return _text_bodies(distinct, style, blank)
    if kinds == {int} and not as_text:
        return [f"{style}><v>{value}</v></c>" for value in distinct]
    if kinds == {dt.date}:
        return [f"{date_style}><v>{day.toordinal() - _EPOCH_ORDINAL}</v></c>" for day in distinct]
    texts = [i for i, v in enumerate(distinct) if v.__class__ is str]
    bodies = [
        None if v.__class__ is str else cell_body(v, style, date_style, blank, as_text)
        for v in distinct
    ]
    for i, body in zip(
        texts, _text_bodies([distinct[i] for i in texts], style, blank), strict=True
    ):
        bodies[i] = body
    return bodies


def _text_bodies(texts: list[str], style: str, blank: str) -> list[str]:
    """cell_body of each text, escaped in one pass over them all (a unit's results: thousands
    of names and reasons, each escaped on its own cost more than the rest of its cell)."""
    if not texts:
        return []
    joined = _SEPARATOR.join(texts)
    too_long = len(joined) > MAX_TEXT and max(map(len, texts)) > MAX_TEXT
    if joined.count(_SEPARATOR) != len(texts) - 1 or too_long:
        return [cell_body(t, style, style, blank, False) for t in texts]
    starts = not joined or joined[0].isspace() or _SPACE_AFTER.search(joined)
    ends = not joined or joined[-1].isspace() or _SPACE_AFTER.search(joined[::-1])
    if _CONTROL.search(joined):
        joined = _CONTROL.sub("", joined)
    escaped = escape(joined)
    if not (starts or ends):
        # No text starts or ends with a space (xml:space="preserve"): every body is made in
        # the pass that escapes them, by wrapping each at the separators.
        head, tail = f'{style} t="inlineStr"><is><t>', "</t></is></c>"
        wrapped = escaped.replace(_SEPARATOR, tail + _SEPARATOR + head)
        bodies = f"{head}{wrapped}{tail}".split(_SEPARATOR)
        if "" in texts:
            bodies = [body if text else blank for text, body in zip(texts, bodies, strict=True)]
        return bodies
    return [
        (
            f'{style} t="inlineStr"><is><t{_PRESERVE if text != text.strip() else ""}>'
            f"{xml}</t></is></c>"
        )
        if text
        else blank
        for text, xml in zip(texts, escaped.split(_SEPARATOR), strict=True)
    ]


def _cell_bodies_by_type(
    values: Sequence[object], style: str, date_style: str, blank: str, as_text: bool
) -> list[str]:
    cache: dict[tuple[type, object], str] = {}
    out = []
    for value in values:
        try:
            key = (type(value), value)
            body = cache.get(key)
        except TypeError:
            key, body = None, None
        if body is None:
            body = cell_body(value, style, date_style, blank, as_text)
            if key is not None:
                cache[key] = body
        out.append(body)
    return out


def cell_body(value: object, style: str, date_style: str, blank: str, as_text: bool) -> str:
    if value is None or value is _NA or value is _NAT:
        return blank
    if isinstance(value, bool):
        return f'{style} t="inlineStr"><is><t>{"Có" if value else "Không"}</t></is></c>'
    if isinstance(value, int | float) and not as_text:
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return blank
        # + 0.0 writes -0.0 as 0: equal values, found as one distinct value by factorize.
        return f"{style}><v>{repr(value + 0.0) if isinstance(value, float) else value}</v></c>"
    if isinstance(value, dt.datetime):
        serial = (value - _EPOCH).total_seconds() / 86400
        return f"{date_style}><v>{serial!r}</v></c>"
    if isinstance(value, dt.date):
        serial = (value - _EPOCH.date()).days
        return f"{date_style}><v>{serial}</v></c>"
    if isinstance(value, float) and math.isnan(value):
        return blank
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else nfc(str(value))
    if not text:
        return blank
    space = _PRESERVE if text != text.strip() else ""
    return f'{style} t="inlineStr"><is><t{space}>{escape_text(text)}</t></is></c>'


def _block_rows(block: Block) -> Iterator[tuple[int, bytes, bool]]:
    """(row number, cells, generated) for each row of ``block``, in order, made lazily."""
    bodies = [_cell_bodies(c) for c in block.columns]
    for number, cells in row_cells(bodies, block.first_col, block.row_numbers()):
        yield number, cells.encode("utf-8"), True


def row_cells(
    bodies: list[list[str]], first_col: int, numbers: Iterable[int]
) -> Iterator[tuple[int, str]]:
    """(row number, its `<c>` elements) from each column's cell bodies (see cell_bodies); an
    empty body is no cell at all."""
    letters = [column_letter(first_col + j) for j in range(len(bodies))]
    if bodies and all(map(all, bodies)):
        # Every cell is written (the usual block: every column has a format, so even a blank
        # cell has a body): one %-format per row, its arguments zipped in C, costs two thirds
        # of joining the cells one by one.
        numbers = list(numbers)
        yield from zip(numbers, _formatted_rows("", letters, bodies, numbers, ""), strict=True)
        return
    for i, number in enumerate(numbers):
        r = str(number)
        yield (
            number,
            "".join(
                f'<c r="{letter}{r}"{body[i]}'
                for letter, body in zip(letters, bodies, strict=True)
                if body[i]
            ),
        )


def _formatted_rows(
    head: str, letters: list[str], bodies: list[list[str]], numbers: list[int], tail: str
) -> Iterator[str]:
    """``head % number``, the cells of each row, then ``tail``, from column bodies none of
    which is empty: one %-format per row, its arguments zipped in C."""
    template = head + "".join(f'<c r="{letter}%s"%s' for letter in letters) + tail
    refs = list(map(str, numbers))
    arguments: list[list[str]] = [refs] if head else []  # template % (ref, ref, body, ...)
    for column in bodies:
        arguments += (refs, column)
    return map(template.__mod__, zip(*arguments, strict=True))


_SPANS = re.compile(rb' spans="[^"]*"')


def _sheet_pieces(xml: bytes, blocks: list[Block]) -> Iterator[bytes]:
    """The sheet XML with the blocks' rows merged in, as a stream of pieces.

    Streaming keeps a district summary (300,000 rows) from being held as one string.
    """
    match = _SHEET_DATA.search(xml)
    if match is None:
        raise ValueError("worksheet XML has no sheetData")
    ours: set[int] = set()
    for block in blocks:
        ours.update(block.row_numbers())
    kept: list[tuple[int, bytes, bool]] = []
    opening: dict[int, bytes] = {}
    for row in _ROW.finditer(match.group(1) or b""):
        number = int(row.group(1))
        if number in ours:
            # Keep what xlsxwriter set on the row (height, hidden); its cells are ours.
            tag = row.group(0)
            tag = tag[: tag.index(b">") + 1].replace(b"/>", b">")
            opening[number] = _SPANS.sub(b"", tag)
        else:
            kept.append((number, row.group(0), False))
    for block in blocks:
        for position, points in block.heights.items():
            number = block.first_row + 1 + position
            opening[number] = row_tag(number, points, _row_style(block))  # as set_row would
    last_row = max([*ours, *(n for n, _, _ in kept), 1])
    last_col = max(b.first_col + len(b.columns) - 1 for b in blocks)
    yield _widen_dimension(xml[: match.start()], last_row, last_col) + b"<sheetData>"
    ordered = sorted(blocks, key=lambda b: b.first_row)
    if all(a.first_row + a.rows <= b.first_row for a, b in itertools.pairwise(ordered)):
        yield from _stacked_pieces(kept, ordered, opening)
        yield b"</sheetData>" + xml[match.end() :]
        return
    for block in blocks:
        if block.row_format is not None:
            for number in block.row_numbers():
                opening.setdefault(number, row_tag(number, 15, _row_style(block)))
    streams = [iter(kept), *(_block_rows(b) for b in blocks)]
    merged = heapq.merge(*streams, key=itemgetter(0))
    for number, group in itertools.groupby(merged, key=itemgetter(0)):
        items = list(group)
        if not any(generated for _, _, generated in items):
            yield items[0][1]
            continue
        cells = b"".join(data for _, data, _ in items)
        if cells or number in opening:
            tag = opening.get(number, b'<row r="%d">' % number)
            yield tag + cells + b"</row>"
    yield b"</sheetData>" + xml[match.end() :]


def _stacked_pieces(
    kept: list[tuple[int, bytes, bool]], blocks: list[Block], opening: dict[int, bytes]
) -> Iterator[bytes]:
    """The rows of blocks one below another (every sheet we write), with xlsxwriter's other
    rows around them: the general merge above costs more per row than making the row does."""
    tags = {number: tag.decode("utf-8") for number, tag in opening.items()}
    position = 0
    for block in blocks:
        while position < len(kept) and kept[position][0] <= block.first_row:
            yield kept[position][1]
            position += 1
        bodies = [_cell_bodies(c) for c in block.columns]
        if bodies and all(map(all, bodies)):
            yield from _whole_rows(block, bodies, tags)
            continue
        buffer: list[str] = []
        style = _row_style(block)
        for number, cells in row_cells(bodies, block.first_col, block.row_numbers()):
            tag = tags.get(number)
            if cells or tag is not None or style:
                head = tag if tag is not None else f'<row r="{number}"{style}>'
                buffer.append(f"{head}{cells}</row>")
                if len(buffer) == _ROWS_PER_PIECE:
                    yield "".join(buffer).encode("utf-8")
                    buffer = []
        yield "".join(buffer).encode("utf-8")
    for _, row, _ in kept[position:]:
        yield row


def _whole_rows(block: Block, bodies: list[list[str]], tags: dict[int, str]) -> Iterator[bytes]:
    """The block's `<row>` elements when every cell has a body (see row_elements), made 4,096
    rows at a time, so a district summary's 300,000 rows are never held as strings together."""
    numbers = list(block.row_numbers())
    rows_of_block = block.row_numbers()
    tagged = sorted(number for number in tags if number in rows_of_block)
    for start in range(0, len(numbers), _ROWS_PER_PIECE):
        end = start + _ROWS_PER_PIECE
        chunk = numbers[start:end]
        low, high = bisect.bisect_left(tagged, chunk[0]), bisect.bisect_right(tagged, chunk[-1])
        rows = row_elements(
            [column[start:end] for column in bodies],
            block.first_col,
            chunk,
            {number: tags[number] for number in tagged[low:high]},
            _row_style(block),
        )
        yield "".join(rows).encode("utf-8")


def row_elements(
    bodies: list[list[str]],
    first_col: int,
    numbers: list[int],
    tags: dict[int, str],
    style: str = "",
) -> list[str]:
    """Each row's whole `<row>` element, from column bodies none of which is empty (see
    cell_bodies), made by one %-format, start and end tags included: half the time of making
    each row's element from its cells. A row numbered in ``tags`` gets that start tag (a
    height) instead. ``style``: the rows' format (_row_style)."""
    letters = [column_letter(first_col + j) for j in range(len(bodies))]
    rows = list(_formatted_rows(f'<row r="%s"{style}>', letters, bodies, numbers, "</row>"))
    first = numbers[0] if numbers else 0
    for number, tag in tags.items():
        row = rows[number - first]
        rows[number - first] = tag + row[len(f'<row r="{number}"{style}>') :]
    return rows


def _widen_dimension(xml: bytes, last_row: int, last_col: int) -> bytes:
    """Readers such as calamine size the sheet from <dimension>: cover the injected cells."""
    match = _DIMENSION.search(xml)
    if match is None:
        return xml
    end_col = column_index((match.group(3) or match.group(1)).decode())
    end_row = int(match.group(4) or match.group(2))
    ref = f"A1:{column_letter(max(end_col, last_col))}{max(end_row, last_row)}".encode()
    return xml[: match.start()] + b'<dimension ref="' + ref + b'"/>' + xml[match.end() :]


def close_and_inject(
    workbook: xlsxwriter.workbook.Workbook, path: Path, pending: dict[int, list[Block]]
) -> None:
    """Close ``workbook`` (made on ``path``, or on a BytesIO) and merge the pending blocks into
    its sheets, in ``path``.

    A workbook made on a BytesIO is merged from memory: no copy of it is written to disk, read
    back and replaced by the merged one.
    """
    memory = workbook.filename if isinstance(workbook.filename, io.BytesIO) else None
    workbook.close()
    if memory is None:
        inject(path, pending)
    elif pending:
        inject(path, pending, memory)
    else:
        path.write_bytes(memory.getvalue())


def inject(path: Path, pending: dict[int, list[Block]], source: io.BytesIO | None = None) -> None:
    """Rewrite the closed workbook at ``path`` (or write there the one in ``source``) with the
    pending blocks merged into their sheets."""
    if not pending:
        return
    names = {f"xl/worksheets/sheet{index + 1}.xml": blocks for index, blocks in pending.items()}
    tmp = path if source is not None else path.with_name(path.name + ".rows")
    with (
        zipfile.ZipFile(source if source is not None else path) as src,
        open(tmp, "wb") as out,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            blocks = names.get(info.filename)
            if blocks is None:
                write_part(dst, info.filename, [data])
                continue
            # A sheet that may pass 1 GiB of XML (at about 120 bytes a cell) gets zip64
            # headers, which zipfile must know of before it writes the part (older Excel
            # dislikes them, so only then).
            cells = sum(b.rows * len(b.columns) for b in blocks)
            write_part(dst, info.filename, _chunks(_sheet_pieces(data, blocks)), cells * 120)
    if tmp != path:
        tmp.replace(path)


# Deflate level of every part written here: faster than zlib's default (6), for files a
# little larger (benchmarks/README.md).
DEFLATE_LEVEL = 1


def write_part(
    archive: zipfile.ZipFile, name: str, pieces: Iterable[bytes], size_hint: int = 0
) -> None:
    """Add a part to ``archive`` (opened for writing with DEFLATE_LEVEL), from its bytes in
    pieces. Opened by name, the part is dated 1980-01-01 as xlsxwriter dates its own: the same
    inputs give the same file."""
    with archive.open(name, "w", force_zip64=size_hint > _ZIP64_BYTES) as member:
        for piece in pieces:
            member.write(piece)


def _chunks(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The pieces joined into about _FLUSH_BYTES each: fewer calls to deflate."""
    buffer: list[bytes] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size > _FLUSH_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    yield b"".join(buffer)
