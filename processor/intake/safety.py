"""Checks on a file's bytes before any parser sees it (SPEC §7, issue: intake safety).

The real format comes from the magic bytes, not the extension. Nothing here inflates more than
the archive declares, and nothing holds more than a chunk of a part in memory:

- zip-based formats (.xlsx, .xlsm, .ods): the entry count and declared sizes are checked before
  anything is inflated (zip bombs); every XML part's prolog is checked for a DOCTYPE (entity
  bombs); every worksheet is then streamed once to learn its extent (rows, right-most column),
  which calamine would otherwise allocate densely — one cell typed at XFD20000 costs it ~10 GB —
  and which cells hold formulas. Streaming also checks each part's CRC, so a damaged file is
  refused here rather than half-read later;
- OLE files (.xls, and encrypted Office files): the directory is read to tell an Excel 97-2003
  workbook from a Word document or a password-protected workbook (MS-OFFCRYPTO streams
  `EncryptionInfo` / `EncryptedPackage`, or a BIFF `FILEPASS` record).

The XML we parse ourselves (the workbook's sheet list, ODS content) goes through defusedxml.
"""

from __future__ import annotations

import posixpath
import re
import struct
import sys
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from processor.domain.sheets import cell_name
from processor.domain.vietnamese import nfc

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A town form is well under 1 MB; a district's largest unit a few MB. Past these, refuse.
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_INFLATED_BYTES = 256 * 1024 * 1024
MAX_PART_BYTES = 64 * 1024 * 1024  # any part calamine loads whole (shared strings, ODS content)
MAX_ZIP_ENTRIES = 5_000  # an xlsx holds a few dozen parts
MAX_RATIO = 200  # xlsx XML compresses ~10-50x; a bomb compresses thousands of times
# What one sheet may hold before calamine is asked to load it. calamine builds a dense
# rows x columns grid (~32 bytes a cell) whatever is really filled in.
MAX_ROWS = 200_000
MAX_CELLS = 6_000_000  # ~200 MB of calamine grid; MAX_ROWS x 26 columns fits
MAX_FORMULA_CELLS = 200  # formula cells remembered per sheet (the count is always exact)
_CHUNK = 1 << 20
_PROLOG_LIMIT = 64 * 1024
_MAX_CARRY = 16 * _CHUNK


@dataclass(frozen=True)
class SheetScan:
    """What one worksheet holds, learned without loading it."""

    rows: int = 0  # row elements (xlsx) or rows with content (ods)
    # Rows holding at least one value, counted only in a sheet too large to load (its rows
    # are all rejected, and the accounting needs how many).
    value_rows: int = 0
    last_row: int = 0  # 1-based number of the last row
    last_column: int = 0  # 1-based number of the right-most column with a cell
    far_cell: str = ""  # the cell that sets the right-most column, for messages
    formulas: tuple[str, ...] = ()  # cells holding a formula ('H12'), the first MAX_FORMULA_CELLS
    formula_count: int = 0

    @property
    def too_many_rows(self) -> bool:
        return max(self.rows, self.last_row) > MAX_ROWS

    @property
    def cells(self) -> int:
        """The grid calamine would allocate (26 columns when none past Z was seen)."""
        return max(self.rows, self.last_row) * max(self.last_column, 26)

    @property
    def too_many_cells(self) -> bool:
        return self.cells > MAX_CELLS

    @property
    def corner(self) -> str:
        """The cell that sets the extent, for messages."""
        return self.far_cell or f"A{max(self.rows, self.last_row)}"


@dataclass(frozen=True)
class Verdict:
    kind: str | None  # 'xlsx' | 'ods' | 'xls' when readable
    code: str | None = None  # issue code when refused
    detail: str = ""
    # NFC sheet name -> its scan, learned without loading it.
    sheets: dict[str, SheetScan] = field(default_factory=dict)
    sheet: str = ""  # where the refusal comes from, when it is one sheet
    cell: str = ""
    value: str = ""


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _refuse_oversized(kind: str, sheets: dict[str, SheetScan]) -> Verdict:
    """.xls and .ods are parsed whole when calamine opens them (a 6 KB .xls with a cell at
    IV65536 on two sheets costs ~1 GB at open), so one oversized sheet refuses the file."""
    for name, scan in sheets.items():
        last = max(scan.rows, scan.last_row)
        if scan.too_many_rows:
            limit = _thousands(MAX_ROWS)
            return Verdict(None, "TOO_MANY_ROWS", limit, sheets, name, f"A{last}", _thousands(last))
    if sheets and sum(scan.cells for scan in sheets.values()) > MAX_CELLS:
        name, scan = max(sheets.items(), key=lambda item: item[1].cells)
        return Verdict(None, "SHEET_TOO_LARGE", scan.corner, sheets, name, scan.corner)
    return Verdict(kind, sheets=sheets)


def inspect_file(path: Path) -> Verdict:
    """Decide what ``path`` really is and whether it is safe to hand to calamine."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        return Verdict(None, "FILE_CORRUPT", str(exc))
    if not head:
        return Verdict(None, "FILE_EMPTY")
    if size > MAX_FILE_BYTES:
        return Verdict(None, "FILE_TOO_LARGE", f"{size / 1024 / 1024:.0f} MB")
    if head.startswith(ZIP_MAGIC):
        return _inspect_zip(path)
    if head.startswith(OLE_MAGIC):
        return _inspect_ole(path, size)
    return Verdict(None, "FILE_NOT_SPREADSHEET", _describe(head))


def _describe(head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "tệp PDF"
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8")):
        return "tệp ảnh"
    if head.startswith(b"{\\rtf"):
        return "tệp RTF"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "tệp HTML/XML"
    try:
        head[:400].decode("utf-8")
    except UnicodeDecodeError:
        return "không nhận ra định dạng"
    return "tệp văn bản (CSV/TXT)"


# --- OLE (compound file) ----------------------------------------------------------------------
_OLE_LAST = 0xFFFFFFFA  # sector numbers from here on are markers (end of chain, free, ...)
_BIFF_FILEPASS = 0x002F


def _inspect_ole(path: Path, size: int) -> Verdict:
    try:
        with path.open("rb") as handle:
            ole = _Ole(handle, size)
            entries = ole.directory()
            names = {name for name, _, _ in entries}
            # An encrypted .xlsx is an OLE container with these streams (MS-OFFCRYPTO 2.3.4).
            if {"EncryptionInfo", "EncryptedPackage"} & names:
                return Verdict(None, "FILE_PASSWORD")
            book = next((e for e in entries if e[0] in ("Workbook", "Book")), None)
            if book is not None:
                if _biff_encrypted(ole, book[1], book[2]):
                    return Verdict(None, "FILE_PASSWORD")
                return _refuse_oversized("xls", _scan_xls(ole, book[1], book[2]))
    except (OSError, ValueError, IndexError, struct.error) as exc:
        return Verdict(None, "FILE_CORRUPT", f"tệp Office hỏng: {exc}")
    if "WordDocument" in names:
        return Verdict(None, "FILE_NOT_SPREADSHEET", "tệp Word .doc")
    if "PowerPoint Document" in names:
        return Verdict(None, "FILE_NOT_SPREADSHEET", "tệp PowerPoint .ppt")
    return Verdict(None, "FILE_NOT_SPREADSHEET", "tệp Office không phải bảng tính")


class _Ole:
    def __init__(self, handle: IO[bytes], size: int) -> None:
        header = handle.read(512) if handle.seek(0) == 0 else b""
        if len(header) < 512:
            raise ValueError("thiếu phần đầu tệp")
        shift = struct.unpack_from("<H", header, 0x1E)[0]
        if shift not in (9, 12):
            raise ValueError("kích thước sector không hợp lệ")
        self.handle, self.sector = handle, 1 << shift
        self.max_sectors = size // self.sector + 1
        self.first_dir = struct.unpack_from("<I", header, 0x30)[0]
        self.mini_sector = 1 << struct.unpack_from("<H", header, 0x20)[0]
        self.mini_cutoff, self.first_mini_fat = struct.unpack_from("<II", header, 0x38)
        self.root = (_OLE_LAST, 0)  # the root entry's stream holds the mini stream
        difat_next, n_difat = struct.unpack_from("<II", header, 0x44)
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _OLE_LAST]
        for _ in range(min(n_difat, self.max_sectors)):
            if difat_next >= _OLE_LAST:
                break
            more = struct.unpack(f"<{self.sector // 4}I", self.read(difat_next))
            fat_sectors += [s for s in more[:-1] if s < _OLE_LAST]
            difat_next = more[-1]
        if len(fat_sectors) > self.max_sectors:
            raise ValueError("bảng FAT không hợp lệ")
        self.fat = array("I")  # 4-byte items on every platform CPython supports
        for number in fat_sectors:
            self.fat.frombytes(self.read(number))
        if sys.byteorder == "big":
            self.fat.byteswap()

    def read(self, number: int) -> bytes:
        if number >= self.max_sectors:
            raise ValueError("sector ngoài tệp")
        self.handle.seek((number + 1) * self.sector)
        data = self.handle.read(self.sector)
        if len(data) < self.sector:
            raise ValueError("tệp bị cắt cụt")
        return data

    def chain(self, start: int):
        """Sector numbers of a chain, refusing loops."""
        number, steps = start, 0
        while number < _OLE_LAST:
            if steps > self.max_sectors or number >= len(self.fat):
                raise ValueError("chuỗi sector không hợp lệ")
            yield number
            number, steps = self.fat[number], steps + 1

    def directory(self) -> list[tuple[str, int, int]]:
        """(name, first sector, size) of every storage and stream in the compound file."""
        entries = []
        for number in self.chain(self.first_dir):
            data = self.read(number)
            for offset in range(0, self.sector, 128):
                length = struct.unpack_from("<H", data, offset + 0x40)[0]
                if data[offset + 0x42] in (1, 2, 5) and 2 <= length <= 64:
                    name = data[offset : offset + length - 2].decode("utf-16-le", "replace")
                    start, stream_size = struct.unpack_from("<II", data, offset + 0x74)
                    entries.append((name, start, stream_size))
                    if data[offset + 0x42] == 5:
                        self.root = (start, stream_size)
        return entries

    def stream(self, start: int, size: int):
        """A stream's bytes, piece by piece (a sector, or a 64-byte mini sector when the stream
        is under the cutoff and lives in the root's mini stream)."""
        if size >= self.mini_cutoff:
            for number in self.chain(start):
                if size <= 0:
                    return
                data = self.read(number)[:size]
                size -= len(data)
                yield data
            return
        mini_fat = array("I")
        for number in self.chain(self.first_mini_fat):
            mini_fat.frombytes(self.read(number))
        if sys.byteorder == "big":
            mini_fat.byteswap()
        container = list(self.chain(self.root[0]))
        number, steps = start, 0
        while number < _OLE_LAST and size > 0:
            at = number * self.mini_sector
            if steps > len(mini_fat) or number >= len(mini_fat) or at >= self.root[1]:
                raise ValueError("chuỗi mini sector không hợp lệ")
            sector = self.read(container[at // self.sector])
            data = sector[at % self.sector :][: min(self.mini_sector, size)]
            size -= len(data)
            yield data
            number, steps = mini_fat[number], steps + 1


# BIFF records whose data starts with (row, column): values, formulas, blanks.
_BIFF_CELLS = {0x00FD, 0x0203, 0x027E, 0x0006, 0x0205, 0x0204, 0x00D6, 0x0201}
_BIFF_MULTI = {0x00BD, 0x00BE}  # MULRK, MULBLANK: row, first column, ..., last column
_BIFF_BLANKS = {0x0201, 0x00BE}
_BIFF_FORMULA, _BIFF_BOF, _BIFF_BOUNDSHEET = 0x0006, 0x0809, 0x0085


def _stream_records(ole: _Ole, start: int, size: int):
    """(offset, type, data) of every BIFF record of a stream, reading it piece by piece."""
    buffer, offset = b"", 0
    pieces = ole.stream(start, size)
    while True:
        while len(buffer) < 4 or len(buffer) < 4 + struct.unpack_from("<H", buffer, 2)[0]:
            data = next(pieces, None)
            if data is None:
                return
            buffer += data
        kind, length = struct.unpack_from("<HH", buffer, 0)
        yield offset, kind, buffer[4 : 4 + length]
        buffer, offset = buffer[4 + length :], offset + 4 + length


def _scan_xls(ole: _Ole, start: int, size: int) -> dict[str, SheetScan]:
    """Each sheet's extent from its cell records (the DIMENSIONS record may lie)."""
    names: dict[int, str] = {}
    stats: dict[str, list] = {}  # name -> [value rows, last row, last column, far cell, formulas]
    current: list | None = None
    biff8 = True
    for offset, kind, data in _stream_records(ole, start, size):
        if kind == _BIFF_BOF:
            if offset == 0:
                biff8 = len(data) >= 2 and struct.unpack_from("<H", data)[0] == 0x0600
            name = names.get(offset)
            current = stats.setdefault(name, [set(), 0, 0, "", []]) if name else None
        elif kind == _BIFF_BOUNDSHEET and len(data) >= 8:
            position, length = struct.unpack_from("<I", data)[0], data[6]
            if biff8 and data[7] & 1:
                name = data[8 : 8 + 2 * length].decode("utf-16-le", "replace")
            else:
                name = data[8 if biff8 else 7 :][:length].decode("latin-1")
            names[position] = nfc(name)
        elif (
            current is not None and (kind in _BIFF_CELLS or kind in _BIFF_MULTI) and len(data) >= 4
        ):
            row, column = struct.unpack_from("<HH", data)
            if kind in _BIFF_MULTI and len(data) >= 6:
                column = struct.unpack_from("<H", data, len(data) - 2)[0]
            if kind not in _BIFF_BLANKS:
                current[0].add(row)
            current[1] = max(current[1], row + 1)
            if column + 1 > current[2]:
                current[2], current[3] = column + 1, cell_name(row, column)
            if kind == _BIFF_FORMULA and len(current[4]) < MAX_FORMULA_CELLS:
                current[4].append(cell_name(row, column))
    return {
        name: SheetScan(
            len(rows), len(rows), last, width, far if width > 26 else "", tuple(f), len(f)
        )
        for name, (rows, last, width, far, f) in stats.items()
    }


def _biff_encrypted(ole: _Ole, start: int, stream_size: int) -> bool:
    """An .xls saved with a password to open has a FILEPASS record right after its first BOF."""
    if start >= _OLE_LAST or stream_size <= 0:
        return False
    data = b""
    for piece in ole.stream(start, stream_size):  # a sector, or 64-byte mini sectors
        data += piece
        if len(data) >= 512:
            break
    offset = 0
    for _ in range(8):  # BOF, then FILEPASS among the first few records when encrypted
        if offset + 4 > len(data):
            break
        kind, length = struct.unpack_from("<HH", data, offset)
        if kind == _BIFF_FILEPASS:
            return True
        offset += 4 + length
    return False


# --- zip (xlsx, ods) --------------------------------------------------------------------------


class _Refused(Exception):
    """A zip member that makes the whole file unusable: (issue code, detail)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code, self.detail = code, detail


_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError)
_EOCD = b"PK\x05\x06"
_XML_PART = (".xml", ".rels", ".vml")


def _declared_entries(path: Path) -> int | None:
    """Entry count from the end-of-central-directory record, before zipfile reads the directory
    (a crafted directory of millions of entries would cost gigabytes as ZipInfo objects)."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - 22 - 65535))
        tail = handle.read()
    at = tail.rfind(_EOCD)
    if at < 0 or at + 12 > len(tail):
        return None  # zipfile will say what is wrong
    return struct.unpack_from("<H", tail, at + 10)[0]


def _inspect_zip(path: Path) -> Verdict:
    try:
        entries = _declared_entries(path)
        if entries is not None and entries > MAX_ZIP_ENTRIES:
            return Verdict(None, "FILE_TOO_LARGE", f"{entries} thành phần nén")
        archive = zipfile.ZipFile(path)
    except (*_ZIP_ERRORS, struct.error) as exc:
        return Verdict(None, "FILE_CORRUPT", f"tệp nén hỏng: {exc}")
    with archive:
        try:
            return _inspect_archive(archive)
        except _Refused as refused:
            return Verdict(None, refused.code, refused.detail)
        except _ZIP_ERRORS as exc:
            return Verdict(None, "FILE_CORRUPT", f"tệp nén hỏng: {exc}")


def _inspect_archive(archive: zipfile.ZipFile) -> Verdict:
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _Refused("FILE_TOO_LARGE", f"{len(infos)} thành phần nén")
    # Declared sizes are checked before anything is inflated; reading never goes past them
    # (zipfile stops at the declared size and then checks the CRC).
    total = sum(info.file_size for info in infos)
    if total > MAX_INFLATED_BYTES:
        raise _Refused("FILE_TOO_LARGE", f"{total / 1024 / 1024:.0f} MB khi giải nén")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 10 * 1024 * 1024 and ratio > MAX_RATIO:
            raise _Refused("FILE_TOO_LARGE", f"{info.filename} nén {ratio:.0f} lần")
        if info.flag_bits & 0x1:
            raise _Refused("FILE_PASSWORD")
    names = {info.filename for info in infos}
    kind = _zip_kind(archive, names)
    sheet_parts = xlsx_sheet_parts(archive) if kind == "xlsx" else {}
    streamed = set(sheet_parts.values()) | ({"content.xml"} if kind == "ods" else set())
    for info in infos:
        if info.filename.lower().endswith(_XML_PART) and info.filename not in streamed:
            with archive.open(info) as member:
                _check_prolog(info.filename, member.read(_PROLOG_LIMIT), info.file_size)
            if info.file_size > MAX_PART_BYTES:
                raise _Refused("FILE_TOO_LARGE", f"{info.filename}: {info.file_size // 2**20} MB")
    if kind == "ods":
        return _refuse_oversized("ods", _scan_ods(archive))
    sheets = {}
    for name, part in sheet_parts.items():
        if part in names:
            sheets[name] = _scan_xlsx_sheet(archive, archive.getinfo(part))
    # calamine loads an .xlsx sheet only when asked, so an oversized sheet is refused alone
    # (intake); the ones it may load must still fit together.
    loadable = {n: s for n, s in sheets.items() if not (s.too_many_rows or s.too_many_cells)}
    if sum(scan.cells for scan in loadable.values()) > 2 * MAX_CELLS:
        name, scan = max(loadable.items(), key=lambda item: item[1].cells)
        # The whole file is refused: the rows of every sheet are rejected, and counted.
        counted = {
            n: replace(s, value_rows=_value_rows(archive, archive.getinfo(sheet_parts[n])))
            if n in loadable
            else s
            for n, s in sheets.items()
        }
        return Verdict(None, "SHEET_TOO_LARGE", scan.corner, counted, name, scan.corner)
    return Verdict("xlsx", sheets=sheets)


def _zip_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        raise _Refused("FILE_FORMAT_UNSUPPORTED", "Excel nhị phân .xlsb")
    if "mimetype" in names:
        mimetype = archive.read("mimetype")[:100].decode("ascii", "replace")
        if mimetype.endswith("opendocument.spreadsheet"):
            return "ods"
        if "opendocument.text" in mimetype:
            raise _Refused("FILE_NOT_SPREADSHEET", "tệp văn bản .odt")
        raise _Refused("FILE_NOT_SPREADSHEET", mimetype or "tệp nén")
    if "word/document.xml" in names:
        raise _Refused("FILE_NOT_SPREADSHEET", "tệp Word .docx")
    if "ppt/presentation.xml" in names:
        raise _Refused("FILE_NOT_SPREADSHEET", "tệp PowerPoint .pptx")
    raise _Refused("FILE_NOT_SPREADSHEET", "tệp nén không phải bảng tính")


_PROLOG_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
_ROOT_START = re.compile(rb"\s*<[A-Za-z_]")


def _check_prolog(name: str, first: bytes, size: int, sheet: bool = False) -> None:
    """Refuse a part that declares a DOCTYPE (the only place entities can be declared).

    The prolog is walked up to the root element, so comments or processing instructions placed
    before a DOCTYPE do not hide it.
    """
    if first.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first[:4]:
        if sheet:  # worksheets are scanned as UTF-8 bytes; Excel and LibreOffice write nothing else
            raise _Refused("FILE_UNSAFE_XML", f"{name} (mã UTF-16)")
        first = first[: len(first) // 2 * 2].decode("utf-16", "replace").encode("utf-8")
    data = first.removeprefix(b"\xef\xbb\xbf")
    pos = 0
    while (match := _PROLOG_SKIP.match(data, pos)) and match.end() > pos:
        pos = match.end()
    if data[pos:].lstrip()[:9].upper() == b"<!DOCTYPE":
        raise _Refused("FILE_UNSAFE_XML", f"{name} (khai báo DOCTYPE/ENTITY)")
    if _ROOT_START.match(data, pos) is None and (data[pos:].strip() or len(first) < size):
        raise _Refused("FILE_UNSAFE_XML", f"{name} (phần mở đầu XML bất thường)")


def _small_xml(archive: zipfile.ZipFile, name: str):
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _Refused("FILE_CORRUPT", f"thiếu {name}") from None
    if info.file_size > MAX_PART_BYTES:
        raise _Refused("FILE_TOO_LARGE", f"{name}: {info.file_size // 2**20} MB")
    data = archive.read(info)
    _check_prolog(name, data[:_PROLOG_LIMIT], len(data))
    try:
        return SafeET.fromstring(data)
    except DefusedXmlException:
        raise _Refused("FILE_UNSAFE_XML", name) from None
    except SafeET.ParseError as exc:
        raise _Refused("FILE_CORRUPT", f"{name}: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xlsx_sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """NFC sheet name -> its part ('xl/worksheets/sheet1.xml'), as calamine resolves them."""
    rels = _small_xml(archive, "xl/_rels/workbook.xml.rels")
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in rels.iter()
        if _local(rel.tag) == "Relationship"
    }
    parts = {}
    for sheet in _small_xml(archive, "xl/workbook.xml").iter():
        if _local(sheet.tag) != "sheet":
            continue
        rel_id = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rel_id)
        if not target:
            continue
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        parts[nfc(sheet.get("name", ""))] = posixpath.normpath(part)
    return parts


_ROOT_PREFIX = re.compile(rb"<(\w+:)?(?:worksheet|chartsheet|dialogsheet|macroSheet)\b")
# The patterns below come in two forms: one that also takes namespace-prefixed tags (<x:row>,
# which calamine reads by local name), and one for the usual piece without any, which starts
# with a literal and so lets the regex engine skip ahead instead of trying every '<' or space:
# faster (benchmarks/README.md), and the matches are the same when the piece has no prefixed tag.
# Every tag the slow form alone matches has ':' then r (row), c, v or f: without one, the piece
# is plain. The root's own xmlns:r is skipped.
_PREFIX_HINT = re.compile(rb":[rcvf]")
_ANY = rb"(?:\w+:)?"
# A row without any cell sets no extent: LibreOffice writes one as the sheet's last row
# (<row r="1048576" ...></row>) after a row is deleted, and calamine's grid ignores it.
_ROW_NUMBER = re.compile(
    rb"<" + _ANY + rb"row\s[^>]*?\br=\"(\d+)\"[^>]*(?<!/)>(?!\s*</" + _ANY + rb"row>)"
)
_ROW_NUMBER_PLAIN = re.compile(rb"<row\s[^>]*?\br=\"(\d+)\"[^>]*(?<!/)>(?!\s*</row>)")
# Cell references that can set a large extent: two or three column letters, or a 6+ digit row.
# (The look-behind is for the space before r=, placed after the literal it follows.)
_FAR_COLUMN = re.compile(rb'r="(?<=\sr=")([A-Z]{2,3})(\d+)"')
_FAR_ROW = re.compile(rb'r="(?<=\sr=")[A-Z]{1,3}(\d{6,})"')  # a cell's own row, should its row lie
# Either of the two, or an attribute merely ending in r: cheap to rule out on a narrow sheet.
_FAR_HINT = re.compile(rb'r="[A-Z](?:[A-Z]{1,2}\d|\d{6})')
# A row with no cell, or with only formatted empty cells: <c s="3"/>, <c s="3"></c> (openpyxl),
# <c><v></v></c>.


def _blank_row(prefix: bytes) -> re.Pattern[bytes]:
    empty_v = rb"(?:<" + prefix + rb"v\s*/>|<" + prefix + rb"v>\s*</" + prefix + rb"v>)?"
    cell = rb"<" + prefix + rb"c\b[^>]*?(?:/>|>\s*" + empty_v + rb"\s*</" + prefix + rb"c>)"
    return re.compile(
        rb"<" + prefix + rb"row\b[^>]*?(?:/>|>(?:\s*" + cell + rb")*\s*</" + prefix + rb"row>)"
    )


_BLANK_ROW = _blank_row(_ANY)
_BLANK_ROW_PLAIN = _blank_row(b"")
# In a cell, <f> comes first (CT_Cell: f, v, is), so a formula cell opens as <c ...><f.
_FORMULA_CELL = re.compile(rb"<" + _ANY + rb"c\s([^>]*)>\s*<" + _ANY + rb"f[\s>/]")
_FORMULA_CELL_PLAIN = re.compile(rb"<c\s([^>]*)>\s*<f[\s>/]")
_FORMULA_TAG_PLAIN = re.compile(rb"<f[\s>/]")  # no formula cell without one
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3}\d+)"')
# LibreOffice saves a TRUE or FALSE typed in a cell as the formula TRUE() (FALSE()), its value
# beside it: a constant whose value can be trusted, so it is a value, not a formula to warn of.
_CONSTANT_FORMULA = re.compile(rb"[^>]*>\s*(?:TRUE|FALSE)(?:\(\))?\s*</")
_ODS_CONSTANT_FORMULAS = {"OF:=TRUE()", "OF:=FALSE()", "=TRUE()", "=FALSE()"}


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _segments(member: IO[bytes], name: str, size: int):
    """The part's bytes in pieces that never split a tag, nor a cell from its <f>.

    A piece ends just before a row start tag ('<row'), so every row (and so every cell) before
    the cut is whole. A piece without any (one huge row) is carried into the next, up to
    _MAX_CARRY; past that it is cut after its last '>'.
    """
    chunk = member.read(_CHUNK)
    _check_prolog(name, chunk[:_PROLOG_LIMIT], size, sheet=True)
    root = _ROOT_PREFIX.search(chunk[:_PROLOG_LIMIT])
    prefix = (root and root[1]) or b""
    row_start = b"<" + prefix + b"row"
    carry = b""
    while chunk:
        buf = carry + chunk
        cut = buf.rfind(row_start)
        if cut <= 0:
            cut = buf.rfind(b">") + 1 if len(buf) > _MAX_CARRY else 0
        if cut > 0:
            yield buf[:cut]
        carry = buf[cut:]
        chunk = member.read(_CHUNK)
    if carry:
        yield carry


def _is_plain(piece: bytes, skip: tuple[int, int]) -> bool:
    """True when ``piece`` has no namespace-prefixed row, cell, value or formula tag outside
    ``skip`` (the root's start tag, where xmlns:r is declared)."""
    pos = 0
    while (hint := _PREFIX_HINT.search(piece, pos)) is not None:
        if not skip[0] <= hint.start() < skip[1]:
            return False
        pos = hint.end()
    return True


def _sheet_pieces(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo
) -> Iterator[tuple[bytes, bool, re.Pattern[bytes]]]:
    """(piece, plain, row start pattern) for each piece of a worksheet part (see _segments)."""
    row_tag: re.Pattern[bytes] | None = None
    with archive.open(info) as member:
        for piece in _segments(member, info.filename, info.file_size):
            root_tag = (0, 0)
            if row_tag is None:
                root = _ROOT_PREFIX.search(piece)
                row_tag = re.compile(b"<" + re.escape((root and root[1]) or b"") + rb"row[\s>/]")
                if root is not None:
                    root_tag = (root.start(), piece.find(b">", root.end()) % (len(piece) + 1))
            yield piece, _is_plain(piece, root_tag), row_tag


def _value_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Rows holding at least one value: rows holding only formatted blank cells don't count."""
    count = 0
    for piece, plain, row_tag in _sheet_pieces(archive, info):
        count += len(row_tag.findall(piece))  # rows are whole in a piece
        if b'"/>' in piece or b'"></' in piece:  # an empty cell or row may be here
            count -= len((_BLANK_ROW_PLAIN if plain else _BLANK_ROW).findall(piece))
    return count


def _scan_xlsx_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> SheetScan:
    rows = last_row = last_column = formula_count = 0
    far_cell = ""
    formulas: list[str] = []
    bounded = True  # past the limits only rows are counted (for the accounting)
    for piece, plain, row_tag in _sheet_pieces(archive, info):
        rows += len(row_tag.findall(piece))
        if not bounded:
            continue
        numbers = (_ROW_NUMBER_PLAIN if plain else _ROW_NUMBER).findall(piece)
        if numbers:
            last_row = max(last_row, *map(int, numbers))
        if _FAR_HINT.search(piece) is None:
            far = []
        else:
            numbers = _FAR_ROW.findall(piece)
            if numbers:
                last_row = max(last_row, *map(int, numbers))
            far = _FAR_COLUMN.findall(piece)
        if far:
            # Only the first cell of the right-most column names the extent; every far
            # cell's row counts, as its row may lie.
            widest = max({letters for letters, _ in far}, key=lambda c: (len(c), c))
            if _column_number(widest.decode()) > last_column:
                last_column = _column_number(widest.decode())
                digits = next(d for letters, d in far if letters == widest)
                far_cell = f"{widest.decode()}{int(digits)}"
            last_row = max(last_row, *(int(d) for _, d in far))
        if plain and _FORMULA_TAG_PLAIN.search(piece) is None:
            matches = ()
        else:
            matches = (_FORMULA_CELL_PLAIN if plain else _FORMULA_CELL).finditer(piece)
        for match in matches:
            if _CONSTANT_FORMULA.match(piece, match.end() - 1):
                continue
            formula_count += 1
            if len(formulas) < MAX_FORMULA_CELLS:
                ref = _CELL_REF.search(match[1])
                formulas.append(ref[1].decode() if ref else "")
        scan = SheetScan(rows, 0, last_row, last_column, far_cell)
        bounded = not (scan.too_many_rows or scan.too_many_cells)
    # Only the rows of a sheet too large to load are all rejected and need counting one by
    # one: looking for blank rows in every sheet was a quarter of the scan of every file.
    value_rows = 0 if bounded else _value_rows(archive, info)
    return SheetScan(
        rows, value_rows, last_row, last_column, far_cell, tuple(formulas), formula_count
    )


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODS_CELLS = (f"{_ODS_TABLE}table-cell", f"{_ODS_TABLE}covered-table-cell")


def _repeat(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


class _OdsTable:
    """What one table of an .ods holds, counted as its cells and rows go by."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.row = self.col = 0
        self.row_has = False
        self.rows = self.last_row = self.last_column = self.formula_count = 0
        self.far_cell = ""
        self.formulas: list[str] = []

    def start_row(self) -> None:
        self.col, self.row_has = 0, False

    def cell(self, elem) -> None:
        repeat = _repeat(elem.get(f"{_ODS_TABLE}number-columns-repeated"))
        if elem.get(f"{_ODS_OFFICE}value-type") is not None or len(elem):
            self.row_has = True
            if self.col + repeat > self.last_column:
                self.last_column = self.col + repeat
                self.far_cell = cell_name(self.row, self.col + repeat - 1)
        formula = elem.get(f"{_ODS_TABLE}formula")
        if formula is not None and formula.upper() not in _ODS_CONSTANT_FORMULAS:
            self.formula_count += 1
            if len(self.formulas) < MAX_FORMULA_CELLS:
                self.formulas.append(cell_name(self.row, self.col))
        self.col += repeat

    def end_row(self, elem) -> None:
        repeat = _repeat(elem.get(f"{_ODS_TABLE}number-rows-repeated"))
        if self.row_has:
            self.rows, self.last_row = self.rows + repeat, self.row + repeat
        self.row += repeat

    def scan(self) -> SheetScan:
        far = self.far_cell if self.last_column > 26 else ""
        return SheetScan(
            self.rows,
            self.rows,
            self.last_row,
            self.last_column,
            far,
            tuple(self.formulas),
            self.formula_count,
        )


def _scan_ods(archive: zipfile.ZipFile) -> dict[str, SheetScan]:
    """Rows and columns that hold something, per table, counting LibreOffice's repeats
    (a row repeated a million times is one element but a million rows to calamine)."""
    try:
        info = archive.getinfo("content.xml")
    except KeyError:
        raise _Refused("FILE_CORRUPT", "thiếu content.xml") from None
    if info.file_size > MAX_PART_BYTES:
        raise _Refused("FILE_TOO_LARGE", f"content.xml: {info.file_size // 2**20} MB")
    scans: dict[str, SheetScan] = {}
    stack: list = []
    table = _OdsTable("")
    with archive.open(info) as member:
        _check_prolog("content.xml", member.read(_PROLOG_LIMIT), info.file_size)
    try:
        with archive.open(info) as member:
            for event, elem in SafeET.iterparse(member, events=("start", "end")):
                tag = elem.tag
                if event == "start":
                    stack.append(elem)
                    if tag == f"{_ODS_TABLE}table":
                        table = _OdsTable(elem.get(f"{_ODS_TABLE}name", ""))
                    elif tag == f"{_ODS_TABLE}table-row":
                        table.start_row()
                    continue
                stack.pop()
                if tag in _ODS_CELLS:
                    table.cell(elem)
                    elem.clear()
                    continue
                if tag == f"{_ODS_TABLE}table-row":
                    table.end_row(elem)
                elif tag == f"{_ODS_TABLE}table":
                    scans[nfc(table.name)] = table.scan()
                else:
                    continue
                # Parsed elements are dropped as they end: a million rows stay a few in memory.
                elem.clear()
                if stack:
                    stack[-1].remove(elem)
    except DefusedXmlException:
        raise _Refused("FILE_UNSAFE_XML", "content.xml") from None
    except SafeET.ParseError as exc:
        raise _Refused("FILE_CORRUPT", f"content.xml: {exc}") from None
    return scans
