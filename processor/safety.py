"""Checks on a file's bytes before any parser sees it (SPEC §7, issue: intake safety).

The real format comes from the magic bytes, not the extension. Zip-based formats are checked
for members that would inflate past a bound (without inflating them) and for XML that declares a
DOCTYPE (entity-expansion bombs); OLE files are checked for Excel's encryption streams.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A town form inflates to a few MB; a district-sized one to tens. Anything past this is refused.
MAX_INFLATED_BYTES = 400 * 1024 * 1024
MAX_RATIO = 200  # xlsx XML compresses ~10-20x; a bomb compresses thousands of times
_XML_PROLOG_BYTES = 4096


@dataclass(frozen=True)
class Verdict:
    kind: str | None  # 'xlsx' | 'ods' | 'xls' when readable
    code: str | None = None  # issue code when refused
    detail: str = ""


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def inspect_file(path: Path) -> Verdict:
    """Decide what ``path`` really is and whether it is safe to hand to calamine."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        return Verdict(None, "FILE_CORRUPT", str(exc))
    if not head:
        return Verdict(None, "FILE_EMPTY")
    if head.startswith(ZIP_MAGIC):
        return _inspect_zip(path)
    if head == OLE_MAGIC:
        data = path.read_bytes()
        # An encrypted .xlsx is an OLE container with these streams (MS-OFFCRYPTO).
        if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
            return Verdict(None, "FILE_PASSWORD")
        if _utf16("Workbook") in data or _utf16("Book") in data:
            return Verdict("xls")
        return Verdict(None, "FILE_NOT_SPREADSHEET", "tệp Office không phải bảng tính")
    described = _describe(head)
    return Verdict(None, "FILE_NOT_SPREADSHEET", described)


def _describe(head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "tệp PDF"
    if head[:3] in (b"\xff\xd8\xff",) or head.startswith(b"\x89PNG"):
        return "tệp ảnh"
    if head.lstrip().startswith((b"<", b"<?xml")):
        return "tệp HTML/XML"
    return "không nhận ra định dạng"


def _inspect_zip(path: Path) -> Verdict:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return Verdict(None, "FILE_CORRUPT", f"tệp nén hỏng: {exc}")
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        total = sum(info.file_size for info in infos)
        packed = sum(info.compress_size for info in infos) or 1
        # Declared sizes are checked before anything is inflated.
        if total > MAX_INFLATED_BYTES or (total > 50 * 1024 * 1024 and total / packed > MAX_RATIO):
            return Verdict(None, "FILE_TOO_LARGE", f"{total / 1024 / 1024:.0f} MB")
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            kind = "xlsx"
        elif "mimetype" in names:
            try:
                mimetype = archive.read("mimetype")[:100]
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                return Verdict(None, "FILE_CORRUPT", str(exc))
            if b"spreadsheet" not in mimetype:
                return Verdict(None, "FILE_NOT_SPREADSHEET", mimetype.decode("ascii", "replace"))
            kind = "ods"
        elif "word/document.xml" in names:
            return Verdict(None, "FILE_NOT_SPREADSHEET", "tệp Word")
        else:
            return Verdict(None, "FILE_NOT_SPREADSHEET", "tệp nén không phải bảng tính")
        for info in infos:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            try:
                with archive.open(info) as member:
                    prolog = member.read(_XML_PROLOG_BYTES)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
                return Verdict(None, "FILE_CORRUPT", f"{info.filename}: {exc}")
            if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                return Verdict(None, "FILE_UNSAFE_XML", info.filename)
    return Verdict(kind)
