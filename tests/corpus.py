"""A corpus of bad inputs (SPEC §7), generated from good forms: no hand-made binaries.

Each `Case` builds one file in a folder, starting from a form written by the real form writer
(`tests.conftest.make_form`, i.e. `outputs.forms.write_form`) and mutating it the way units and
mail clients do: with openpyxl (what a user does in Excel) or zipfile (what damage and attacks do
to the bytes). It names the issues the reader must raise, with their sheet and cell.

The good forms every case runs beside (`write_good_forms`) are TDP01, TDP02 and CQ01; every case
that ends up accepted uses a unit of its own, so all cases can share one inbox.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from processor.domain import schema as S
from processor.domain.catalogue import Catalogue
from processor.domain.form_layout import HEADER_ROW, citizen_columns, household_columns
from processor.domain.sheets import column_letter
from processor.intake.submission import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
    DUPLICATE,
    IGNORED,
    OTHER_PERIOD,
    OTHER_UNIT,
    REJECTED,
    SUPERSEDED,
)
from tests.conftest import all_tasks_done, citizen, household, make_form

PERIOD = "2021-11"
NOV = {"attendees": 50, "meeting_date": dt.date(2021, 11, 12), "chair": "Lê Văn Hùng"}
FIRST = HEADER_ROW + 2  # Excel row of the first data row (4)
GOOD_UNITS = ("TDP01", "TDP02", "CQ01")
MILLION = 1_000_000


@dataclass(frozen=True)
class Ctx:
    catalogue: Catalogue
    folder: Path  # where the case writes its file; the good forms are already there
    cache: Path  # shared across cases: the million-row form is made once


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Ctx], Path]
    # (code, sheet, cell) the reader must report for this file; '' for a file-level problem.
    expect: tuple[tuple[str, str, str | Callable[[Catalogue], str]], ...]
    status: tuple[str, ...] = (ACCEPTED_WITH_ERRORS,)
    unit: str | None = None
    extra: dict = field(default_factory=dict)


def cccd(unit: str, i: int) -> str:
    """A 12-digit CCCD unique to (unit, i)."""
    digits = re.sub(r"\D", "", unit)
    return f"038{len(unit):01d}{digits:0>2}{i:06d}"[:12].ljust(12, "0")


def citizens_of(unit: str) -> list[dict]:
    tdp = unit.startswith("TDP")
    h1, h2 = (f"{unit}-H001", f"{unit}-H002") if tdp else (None, None)
    return [
        citizen(h1, "Nguyễn Văn An", dt.date(1970, 3, 2), votes=40, cccd=cccd(unit, 1)),
        citizen(h1, "Trần Thị Bình", dt.date(1972, 5, 6), votes=45, cccd=cccd(unit, 2)),
        citizen(h2, "Lê Văn Dũng", dt.date(1960, 1, 1), votes=41, cccd=cccd(unit, 3)),
    ]


def households_of(unit: str) -> list[dict]:
    return [
        household(f"{unit}-H001", "Nguyễn Văn An", votes=44),
        household(f"{unit}-H002", "Lê Văn Dũng", votes=45),
    ]


def good_form(ctx: Ctx, unit: str, name: str | None = None, period: str = PERIOD, **kw) -> Path:
    tdp = unit.startswith("TDP")
    return make_form(
        ctx.catalogue,
        ctx.folder,
        unit,
        period,
        kw.pop("citizens", citizens_of(unit)),
        households_of(unit) if tdp else None,
        all_tasks_done(ctx.catalogue) if tdp else None,
        NOV,
        name=name,
    )


def write_good_forms(catalogue: Catalogue, folder: Path) -> list[Path]:
    ctx = Ctx(catalogue, folder, folder)
    return [good_form(ctx, unit) for unit in GOOD_UNITS]


# --- cells, by header ---------------------------------------------------------------------


def col(catalogue: Catalogue, key: str, sheet: str = S.FORM_CITIZENS.name) -> str:
    columns = citizen_columns(catalogue) if sheet == S.FORM_CITIZENS.name else None
    columns = columns or household_columns(catalogue)
    return column_letter([c.key for c in columns].index(key))


def at(key: str, row: int = FIRST, sheet: str = S.FORM_CITIZENS.name):
    """The expected cell of column ``key`` on Excel row ``row``, resolved against the catalogue."""
    return lambda catalogue: f"{col(catalogue, key, sheet)}{row}"


def edit(path: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)
    return path


def set_cell(ctx: Ctx, unit: str, key: str, value: object, row: int = FIRST, **kw) -> Path:
    """A unit's good form with one citizen cell typed differently; openpyxl writes it as Excel
    would store what a user typed (a str stays text, a number a number)."""
    path = good_form(ctx, unit, **kw)
    letter = col(ctx.catalogue, key)

    def change(book: openpyxl.Workbook) -> None:
        cell = book[S.FORM_CITIZENS.name][f"{letter}{row}"]
        cell.value = value
        if isinstance(value, str) and not value.startswith("="):
            cell.data_type = "s"

    return edit(path, change)


def rewrite_zip(src: Path, dst: Path, parts: dict[str, bytes | None]) -> Path:
    """Copy a zip, replacing (bytes) or dropping (None) some members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in parts:
                if parts[info.filename] is not None:
                    zout.writestr(info.filename, parts[info.filename])
            else:
                zout.writestr(info, zin.read(info))
        for name, data in parts.items():
            if name not in zin.namelist() and data is not None:
                zout.writestr(name, data)
    return dst


def sheet_part(path: Path, sheet: str) -> str:
    """The zip member holding ``sheet`` (as the workbook and its relationships say)."""
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rel_id = re.search(rf'<sheet name="{re.escape(sheet)}"[^>]*r:id="(\w+)"', workbook)[1]
    target = re.search(rf'Id="{rel_id}"[^>]*Target="([^"]+)"', rels)
    target = target or re.search(rf'Target="([^"]+)"[^>]*Id="{rel_id}"', rels)
    return "xl/" + target[1].lstrip("/").removeprefix("xl/")


# --- a minimal OLE (compound file) writer ---------------------------------------------------


def ole_file(path: Path, streams: dict[str, bytes]) -> Path:
    """A version-3 compound file holding ``streams`` (each padded past the 4 KB mini-stream
    cutoff), enough for a reader that walks the directory like processor.intake.safety does."""
    end, free, fat_mark, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    data_sectors: list[bytes] = []
    entries = [("Root Entry", 5, end, 0)]
    fat = [fat_mark, end]  # sector 0: the FAT, sector 1: the directory
    for name, content in streams.items():
        content = content.ljust(4096, b"\0")
        content += b"\0" * (-len(content) % 512)
        start = 2 + len(data_sectors)
        count = len(content) // 512
        fat += [start + i + 1 for i in range(count - 1)] + [end]
        data_sectors += [content[i * 512 : (i + 1) * 512] for i in range(count)]
        entries.append((name, 2, start, len(content)))
    assert len(fat) <= 128 and len(entries) <= 4
    directory = b""
    for i, (name, kind, start, size) in enumerate(entries):
        raw = name.encode("utf-16-le")
        child = 1 if i == 0 and len(entries) > 1 else none
        right = i + 1 if 0 < i < len(entries) - 1 else none
        entry = raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw) + 2, kind, 1)
        entry += struct.pack("<III", none, right, child) + b"\0" * 36
        entry += struct.pack("<III", start, size, 0)
        directory += entry
    directory = directory.ljust(512, b"\0")
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    fat_sector = struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff")
    path.write_bytes(bytes(header) + fat_sector + directory + b"".join(data_sectors))
    return path


# --- the cases ------------------------------------------------------------------------------


def truncated(ctx: Ctx) -> Path:
    data = good_form(ctx, "TDP03", name="tmp.xlsx").read_bytes()
    (ctx.folder / "tmp.xlsx").unlink()
    path = ctx.folder / "bi_cat_cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def damaged_member(ctx: Ctx) -> Path:
    """Bytes flipped inside the citizen sheet's compressed data: the CRC no longer matches."""
    src = good_form(ctx, "TDP03", name="tmp.xlsx")
    with zipfile.ZipFile(src) as archive:
        info = archive.getinfo(sheet_part(src, S.FORM_CITIZENS.name))
    data = bytearray(src.read_bytes())
    src.unlink()
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    for i in range(start + 200, start + 260):
        data[i] ^= 0x5A
    path = ctx.folder / "hong_du_lieu.xlsx"
    path.write_bytes(bytes(data))
    return path


def docx_renamed(ctx: Ctx) -> Path:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Báo cáo của tổ dân phố (nhầm tệp)")
    path = ctx.folder / "bao_cao.xlsx"
    doc.save(str(path))
    return path


def pdf_renamed(ctx: Ctx) -> Path:
    path = ctx.folder / "bieu_mau_scan.xlsx"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
    return path


def text_file(ctx: Ctx) -> Path:
    path = ctx.folder / "danh_sach.csv"
    path.write_text("STT,Họ và tên\n1,Nguyễn Văn An\n", encoding="utf-8")
    return path


def doc_renamed_xls(ctx: Ctx) -> Path:
    return ole_file(ctx.folder / "cong_van.xls", {"WordDocument": b"\xec\xa5" + b"\0" * 100})


def encrypted_xlsx(ctx: Ctx) -> Path:
    """Saved with 'password to open': an OLE container around the encrypted package."""
    src = good_form(ctx, "TDP03", name="tmp.xlsx")
    path = ctx.folder / "co_mat_khau.xlsx"
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:  # the test extra installs it; the streams alone are what is checked
        ole_file(path, {"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"\0" * 64})
    else:
        with src.open("rb") as plain, path.open("wb") as out:
            OOXMLFile(plain).encrypt("matkhau", out)
    src.unlink()
    return path


def encrypted_xls(ctx: Ctx) -> Path:
    """An .xls with 'password to open': BOF then FILEPASS (RC4) at the start of its Workbook."""
    bof = struct.pack("<HH", 0x0809, 16) + struct.pack("<HHHHII", 0x0600, 5, 0, 0, 0, 0)
    filepass = struct.pack("<HH", 0x002F, 6) + struct.pack("<HHH", 1, 1, 1)
    return ole_file(ctx.folder / "co_mat_khau.xls", {"Workbook": bof + filepass})


def xlsb(ctx: Ctx) -> Path:
    path = ctx.folder / "nhi_phan.xlsb"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return path


def zip_bomb(ctx: Ctx) -> Path:
    """A sheet that inflates to 100 MB of zeros (about 100 KB packed, sizes declared truthfully):
    refused from its declared sizes (a thousand times compression), nothing inflated."""
    src = good_form(ctx, "TDP03", name="tmp.xlsx")
    part = sheet_part(src, S.FORM_CITIZENS.name)
    path = ctx.folder / "bom_nen.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != part:
                zout.writestr(info, zin.read(info))
                continue
            zeros = b"\0" * (1 << 20)
            with zout.open(part, "w", force_zip64=True) as member:
                for _ in range(100):
                    member.write(zeros)
    src.unlink()
    return path


def zip_bomb_lying(ctx: Ctx) -> Path:
    """A member that declares 2 KB but inflates to 20 MB: reading stops at the declared size and
    the CRC check fails, so it is refused as damaged without inflating the rest."""
    src = good_form(ctx, "TDP03", name="tmp.xlsx")
    part = sheet_part(src, S.FORM_CITIZENS.name)
    path = ctx.folder / "bom_nen_khai_gian.xlsx"
    rewrite_zip(src, path, {part: b"<" * (20 << 20)})
    src.unlink()
    data = bytearray(path.read_bytes())
    name = part.encode()
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := data.find(signature, at)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", data, at + size_at, 2048)
            at += 4
    path.write_bytes(bytes(data))
    return path


_LOL = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]>"
).replace("&lol0;", "&lol;")


def entity_bomb(ctx: Ctx) -> Path:
    src = good_form(ctx, "TDP03", name="tmp.xlsx")
    with zipfile.ZipFile(src) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    strings = strings.replace("?>", "?>" + _LOL, 1).replace("<t>STT</t>", "<t>&lol9;</t>", 1)
    path = rewrite_zip(src, ctx.folder / "bom_xml.xlsx", {"xl/sharedStrings.xml": strings.encode()})
    src.unlink()
    return path


def entity_bomb_hidden(ctx: Ctx) -> Path:
    """The DOCTYPE placed after 10 KB of comment, past a reader that only looks at 4 KB."""
    src = good_form(ctx, "TDP03", name="tmp.xlsx")
    with zipfile.ZipFile(src) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    padding = "<!--" + "x" * 10_000 + "-->"
    workbook = workbook.replace("?>", "?>" + padding + _LOL, 1)
    path = rewrite_zip(src, ctx.folder / "bom_xml_an.xlsx", {"xl/workbook.xml": workbook.encode()})
    src.unlink()
    return path


def ods_repeated_rows(ctx: Ctx) -> Path:
    """1.2 KB of .ods whose one filled row is repeated a million times (number-rows-repeated):
    calamine would expand it to a million rows, 2.4 GB, when the file is opened."""
    ns = "urn:oasis:names:tc:opendocument:xmlns"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<office:document-content xmlns:office="{ns}:office:1.0" '
        f'xmlns:table="{ns}:table:1.0" xmlns:text="{ns}:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{S.FORM_CITIZENS.name}">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>STT</text:p>'
        "</table:table-cell></table:table-row>"
        f'<table:table-row table:number-rows-repeated="{MILLION}">'
        '<table:table-cell table:number-columns-repeated="17" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    path = ctx.folder / "lap_dong.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        mimetype = "application/vnd.oasis.opendocument.spreadsheet"
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
    return path


def _biff(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def xls_far_cell(ctx: Ctx) -> Path:
    """An Excel 97-2003 file whose citizen sheet has one number at IV65536: calamine would
    build the full 65,536 x 256 grid (~0.5 GB a sheet) when opening it."""
    name = S.FORM_CITIZENS.name.encode("utf-16-le")
    bof = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0))
    eof = _biff(0x000A)
    boundsheet_length = 4 + 8 + len(name)
    sheet_at = len(bof) + boundsheet_length + len(eof)
    boundsheet = _biff(0x0085, struct.pack("<IBBBB", sheet_at, 0, 0, len(name) // 2, 1) + name)
    sheet = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0))
    sheet += _biff(0x0203, struct.pack("<HHHd", 65535, 255, 15, 1.0)) + eof
    workbook = bof + boundsheet + eof + sheet
    return ole_file(ctx.folder / "o_xa.xls", {"Workbook": workbook})


def empty_workbook(ctx: Ctx) -> Path:
    path = ctx.folder / "trong.xlsx"
    openpyxl.Workbook().save(path)
    return path


def zero_bytes(ctx: Ctx) -> Path:
    path = ctx.folder / "khong_byte.xlsx"
    path.write_bytes(b"")
    return path


def blank_form(ctx: Ctx) -> Path:
    return good_form(ctx, "CQ01", name="CQ01_de_trong.xlsx", citizens=[])


def lock_file(ctx: Ctx) -> Path:
    path = ctx.folder / "~$TDP01_2021-11.xlsx"
    path.write_bytes(b"\x0bNguyen Van A" + b"\0" * 40)
    return path


def meta_value(ctx: Ctx, unit: str, key: str, value: str, name: str | None = None) -> Path:
    path = good_form(ctx, unit, name=name)

    def change(book: openpyxl.Workbook) -> None:
        for row in book[S.FORM_META].iter_rows(max_col=2):
            if row[0].value == key:
                row[1].value = value

    return edit(path, change)


def other_units_form(ctx: Ctx) -> Path:
    """A CQ01 form whose Thông tin says TDP02: a unit filled in someone else's form."""
    path = good_form(ctx, "CQ01", name="CQ01_nham_don_vi.xlsx")
    return edit(path, lambda book: setattr(book[S.FORM_INFO.name]["B2"], "value", "TDP02"))


def unknown_unit(ctx: Ctx) -> Path:
    path = good_form(ctx, "CQ02", name="phuong_khac.xlsx")

    def change(book: openpyxl.Workbook) -> None:
        book[S.FORM_INFO.name]["B2"] = "TDP99"
        book[S.FORM_META]["B4"] = "TDP99"

    return edit(path, change)


def other_period(ctx: Ctx) -> Path:
    return good_form(ctx, "TDP01", name="TDP01_2021-10.xlsx", period="2021-10")


def renamed_sheet(ctx: Ctx) -> Path:
    path = good_form(ctx, "TDP04")
    return edit(path, lambda book: setattr(book[S.FORM_CITIZENS.name], "title", "DS cong dan"))


def renamed_sheet_accents(ctx: Ctx) -> Path:
    path = good_form(ctx, "TDP05")
    return edit(path, lambda book: setattr(book[S.FORM_HOUSEHOLDS.name], "title", "HO GIA DINH"))


def deleted_sheet(ctx: Ctx) -> Path:
    path = good_form(ctx, "TDP06")
    return edit(path, lambda book: book.remove(book[S.FORM_CITIZENS.name]))


def no_meta(ctx: Ctx) -> Path:
    """_meta and Thông tin deleted: the unit and period are read from the title line."""
    path = good_form(ctx, "TDP07")

    def change(book: openpyxl.Workbook) -> None:
        book.remove(book[S.FORM_META])
        book.remove(book[S.FORM_INFO.name])

    return edit(path, change)


def extra_column(ctx: Ctx) -> Path:
    path = good_form(ctx, "TDP08")
    position = citizen_columns(ctx.catalogue).index(S.FORM_CITIZENS.by_key("full_name")) + 2

    def change(book: openpyxl.Workbook) -> None:
        ws = book[S.FORM_CITIZENS.name]
        ws.insert_cols(position)
        ws.cell(HEADER_ROW + 1, position, "Số điện thoại")
        ws.cell(FIRST, position, "0912345678")

    return edit(path, change)


def reordered_columns(ctx: Ctx) -> Path:
    """'Họ và tên' and 'Ngày sinh' swapped, headers and values: read by header, no issue."""
    path = good_form(ctx, "TDP09")
    a = citizen_columns(ctx.catalogue).index(S.FORM_CITIZENS.by_key("full_name")) + 1

    def change(book: openpyxl.Workbook) -> None:
        ws = book[S.FORM_CITIZENS.name]
        for row in range(HEADER_ROW + 1, ws.max_row + 1):
            left, right = ws.cell(row, a), ws.cell(row, a + 1)
            left.value, right.value = right.value, left.value

    return edit(path, change)


def missing_column(ctx: Ctx) -> Path:
    path = good_form(ctx, "TDP10")
    position = citizen_columns(ctx.catalogue).index(S.FORM_CITIZENS.by_key("birth_date")) + 1
    return edit(path, lambda book: book[S.FORM_CITIZENS.name].delete_cols(position))


def merged_cells(ctx: Ctx) -> Path:
    path = good_form(ctx, "TDP11")
    letter = col(ctx.catalogue, "full_name")
    return edit(
        path,
        lambda book: book[S.FORM_CITIZENS.name].merge_cells(
            f"{letter}{FIRST + 1}:{letter}{FIRST + 2}"
        ),
    )


def far_cell(ctx: Ctx) -> Path:
    """One stray value at XFD20000: calamine would allocate 20,000 x 16,384 cells (~10 GB)."""
    path = good_form(ctx, "TDP12")
    return edit(path, lambda book: setattr(book[S.FORM_CITIZENS.name]["XFD20000"], "value", "x"))


def million_rows(ctx: Ctx) -> Path:
    """A CQ03 form whose citizen sheet holds 1,000,000 filled rows, streamed straight into the
    zip (xlsxwriter would need about a minute for the same rows). Built once per session."""
    cached = ctx.cache / "CQ03_trieu_dong.xlsx"
    if not cached.exists():
        src = good_form(Ctx(ctx.catalogue, ctx.cache, ctx.cache), "CQ03", name="base.xlsx")
        part = sheet_part(src, S.FORM_CITIZENS.name)
        with zipfile.ZipFile(src) as archive:
            xml = archive.read(part)
        head, tail = xml.split(b'<row r="4"', 1)
        tail = tail[tail.index(b"</sheetData>") :]
        head = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:D1000003"/>', head)
        tmp = cached.with_suffix(".tmp")
        with (
            zipfile.ZipFile(src) as zin,
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
        ):
            for info in zin.infolist():
                if info.filename != part:
                    zout.writestr(info, zin.read(info))
                    continue
                with zout.open(part, "w", force_zip64=True) as member:
                    member.write(head)
                    for block in range(FIRST, FIRST + MILLION, 10_000):
                        member.write(
                            "".join(
                                f'<row r="{r}"><c r="A{r}"><v>{r - 3}</v></c>'
                                f'<c r="C{r}" t="inlineStr"><is><t>Người số {r - 3}</t></is></c>'
                                f'<c r="D{r}"><v>{25000 + r % 9000}</v></c></row>'
                                for r in range(block, min(block + 10_000, FIRST + MILLION))
                            ).encode()
                        )
                    member.write(tail)
        tmp.replace(cached)
        src.unlink()
    path = ctx.folder / "CQ03_trieu_dong.xlsx"
    shutil.copyfile(cached, path)
    return path


DATE_SERIAL = (dt.date(1980, 1, 5) - dt.date(1899, 12, 30)).days  # 5 January 1980 in Excel


def date_as_serial(ctx: Ctx) -> Path:
    """A birth date pasted as a value into a cell reformatted as General: a bare number."""
    path = set_cell(ctx, "TDP18", "birth_date", DATE_SERIAL)
    cell = f"{col(ctx.catalogue, 'birth_date')}{FIRST}"
    return edit(
        path, lambda book: setattr(book[S.FORM_CITIZENS.name][cell], "number_format", "General")
    )


def nfd_and_spaces(ctx: Ctx) -> Path:
    path = good_form(ctx, "TDP19")
    name = col(ctx.catalogue, "full_name")

    def change(book: openpyxl.Workbook) -> None:
        book[S.FORM_CITIZENS.name][f"{name}{FIRST}"] = unicodedata.normalize("NFD", "Nguyễn Văn An")
        book[S.FORM_HOUSEHOLDS.name][f"C{FIRST}"] = "  Nguyễn   Văn An "

    return edit(path, change)


def dates_as_text(ctx: Ctx) -> Path:
    path = set_cell(ctx, "TDP15", "birth_date", "05/01/1980")
    letter = col(ctx.catalogue, "birth_date")
    return edit(
        path,
        lambda book: setattr(
            book[S.FORM_CITIZENS.name][f"{letter}{FIRST + 1}"], "value", "5-1-1980"
        ),
    )


def duplicate_citizen(ctx: Ctx) -> Path:
    rows = citizens_of("TDP22")
    return good_form(ctx, "TDP22", citizens=[*rows, dict(rows[0])])


def citizen_in_two_units(ctx: Ctx) -> Path:
    rows = citizens_of("CQ02")
    rows[0]["cccd"] = cccd("TDP01", 1)  # TDP01's Nguyễn Văn An also listed by his workplace
    return good_form(ctx, "CQ02", citizens=rows)


def household_row_unreadable(ctx: Ctx) -> Path:
    """TDP25's second household (Lê Văn Dũng's) with a code cell the reader cannot convert: a
    number no date can hold, in a date format. The row is lost whole, so his household code
    matches no row that was read."""
    path = good_form(ctx, "TDP25")
    letter = col(ctx.catalogue, "household_code", S.FORM_HOUSEHOLDS.name)

    def change(book: openpyxl.Workbook) -> None:
        cell = book[S.FORM_HOUSEHOLDS.name][f"{letter}{FIRST + 1}"]
        cell.value = -1e308
        cell.number_format = "dd/mm/yyyy"

    return edit(path, change)


def copy_of_good(ctx: Ctx) -> Path:
    original = ctx.folder / f"TDP01_{PERIOD}.xlsx"
    path = ctx.folder / "TDP01_gui_lai.xlsx"
    shutil.copyfile(original, path)
    later = original.stat().st_mtime + 60
    os.utime(path, (later, later))
    return path


def earlier_version(ctx: Ctx) -> Path:
    """A first version the unit saved an hour before its final form (the workbook's own saved
    time says so), arriving in the same run; the clerk then saved the attachments in the other
    order, so the file system's time says the opposite: it must not count."""
    final = ctx.folder / f"TDP02_{PERIOD}.xlsx"
    written = good_form(ctx, "TDP02", name="ban_dau.tmp", citizens=citizens_of("TDP02")[:2])
    with zipfile.ZipFile(final) as book:
        core = book.read("docProps/core.xml").decode()
    saved = re.search(r"<dcterms:modified[^>]*>([^<]+)<", core)
    assert saved is not None
    earlier = dt.datetime.fromisoformat(saved[1].replace("Z", "+00:00")) - dt.timedelta(hours=1)
    with zipfile.ZipFile(written) as book:
        own = book.read("docProps/core.xml").decode()
    own = re.sub(
        r"(<dcterms:modified[^>]*>)[^<]+(<)",
        rf"\g<1>{earlier:%Y-%m-%dT%H:%M:%SZ}\g<2>",
        own,
    )
    path = rewrite_zip(
        written, ctx.folder / "TDP02_ban_dau.xlsx", {"docProps/core.xml": own.encode()}
    )
    written.unlink()
    later = final.stat().st_mtime + 3600
    os.utime(path, (later, later))
    return path


CI, HH, INFO, META = S.FORM_CITIZENS.name, S.FORM_HOUSEHOLDS.name, S.FORM_INFO.name, S.FORM_META
CASES: list[Case] = [
    # the file as a whole
    Case("truncated", truncated, (("FILE_CORRUPT", "", ""),), (REJECTED,)),
    Case("damaged_member", damaged_member, (("FILE_CORRUPT", "", ""),), (REJECTED,)),
    Case("docx_renamed", docx_renamed, (("FILE_NOT_SPREADSHEET", "", ""),), (REJECTED,)),
    Case("pdf_renamed", pdf_renamed, (("FILE_NOT_SPREADSHEET", "", ""),), (REJECTED,)),
    Case("text_file", text_file, (("FILE_NOT_SPREADSHEET", "", ""),), (REJECTED,)),
    Case("doc_renamed_xls", doc_renamed_xls, (("FILE_NOT_SPREADSHEET", "", ""),), (REJECTED,)),
    Case("password_xlsx", encrypted_xlsx, (("FILE_PASSWORD", "", ""),), (REJECTED,)),
    Case("password_xls", encrypted_xls, (("FILE_PASSWORD", "", ""),), (REJECTED,)),
    Case("xlsb", xlsb, (("FILE_FORMAT_UNSUPPORTED", "", ""),), (REJECTED,)),
    Case("zip_bomb", zip_bomb, (("FILE_TOO_LARGE", "", ""),), (REJECTED,)),
    Case("zip_bomb_lying", zip_bomb_lying, (("FILE_CORRUPT", "", ""),), (REJECTED,)),
    Case("entity_bomb", entity_bomb, (("FILE_UNSAFE_XML", "", ""),), (REJECTED,)),
    Case("entity_bomb_hidden", entity_bomb_hidden, (("FILE_UNSAFE_XML", "", ""),), (REJECTED,)),
    Case(
        "ods_repeated_rows",
        ods_repeated_rows,
        (("TOO_MANY_ROWS", CI, f"A{MILLION + 1}"),),
        (REJECTED,),
    ),
    Case("xls_far_cell", xls_far_cell, (("SHEET_TOO_LARGE", CI, "IV65536"),), (REJECTED,)),
    Case("empty_workbook", empty_workbook, (("FILE_EMPTY", "", ""),), (REJECTED,)),
    Case("zero_bytes", zero_bytes, (("FILE_EMPTY", "", ""),), (REJECTED,)),
    Case("blank_form", blank_form, (("FILE_EMPTY", "", ""),), (REJECTED,), "CQ01"),
    Case("lock_file", lock_file, (("FILE_IGNORED", "", ""),), (IGNORED,)),
    Case("same_bytes_twice", copy_of_good, (("FILE_DUPLICATE", "", ""),), (DUPLICATE,), "TDP01"),
    Case("superseded", earlier_version, (("FILE_SUPERSEDED", "", ""),), (SUPERSEDED,), "TDP02"),
    # which form it is
    Case(
        "old_form_version",
        lambda ctx: meta_value(ctx, "TDP03", "catalogue_fingerprint", "bo-tieu-chi-2020"),
        (("FILE_OLD_VERSION", META, "B3"),),
        (ACCEPTED,),
        "TDP03",
    ),
    Case(
        "incompatible_form_version",
        lambda ctx: meta_value(ctx, "TDP01", "form_version", "0", "TDP01_phien_ban_0.xlsx"),
        (("FILE_INCOMPATIBLE_VERSION", META, "B2"),),
        (REJECTED,),
        "TDP01",
    ),
    Case("other_units_form", other_units_form, (("FILE_UNIT_MISMATCH", INFO, "B2"),), (REJECTED,)),
    Case("unknown_unit", unknown_unit, (("FILE_UNKNOWN_UNIT", META, "B4"),), (OTHER_UNIT,)),
    Case("other_period", other_period, (("FILE_OTHER_PERIOD", META, "B5"),), (OTHER_PERIOD,)),
    # sheets and columns
    Case(
        "renamed_sheet",
        renamed_sheet,
        (("SHEET_RENAMED", "DS cong dan", ""),),
        (ACCEPTED,),
        "TDP04",
    ),
    Case(
        "renamed_sheet_accents",
        renamed_sheet_accents,
        (("SHEET_RENAMED", "HO GIA DINH", ""),),
        (ACCEPTED,),
        "TDP05",
    ),
    Case("deleted_sheet", deleted_sheet, (("SHEET_MISSING", CI, ""),), unit="TDP06"),
    # Thông tin went with _meta: the votes typed have no attendees to be counted against.
    Case(
        "no_meta_sheet",
        no_meta,
        (("FILE_NO_META", "", ""), ("ATTENDEES_MISSING", INFO, "")),
        unit="TDP07",
    ),
    Case(
        "extra_column",
        extra_column,
        (("COLUMN_EXTRA", CI, lambda c: f"{col(c, 'birth_date')}{HEADER_ROW + 1}"),),
        (ACCEPTED,),
        "TDP08",
    ),
    Case("reordered_columns", reordered_columns, (), (ACCEPTED,), "TDP09"),
    Case("missing_column", missing_column, (("COLUMN_MISSING_KEPT", CI, "A3"),), unit="TDP10"),
    Case(
        "merged_cells",
        merged_cells,
        (("MERGED_CELLS", CI, at("full_name", FIRST + 1)),),
        unit="TDP11",
    ),
    Case("far_cell", far_cell, (("SHEET_TOO_LARGE", CI, "XFD20000"),), unit="TDP12"),
    Case("million_rows", million_rows, (("TOO_MANY_ROWS", CI, "A1000003"),), unit="CQ03"),
    # cells
    Case(
        "formula",
        lambda ctx: set_cell(ctx, "TDP13", "votes", "=20+20"),
        (("FORMULA", CI, at("votes")),),
        (ACCEPTED,),
        "TDP13",
    ),
    Case(
        "number_as_text",
        lambda ctx: set_cell(ctx, "TDP14", "votes", "40"),
        (("NUMBER_AS_TEXT", CI, at("votes")),),
        (ACCEPTED,),
        "TDP14",
    ),
    Case(
        "text_in_number",
        lambda ctx: set_cell(ctx, "TDP16", "votes", "bốn mươi"),
        (("NUMBER_INVALID", CI, at("votes")),),
        unit="TDP16",
    ),
    Case(
        "dates_as_text",
        dates_as_text,
        (("DATE_AS_TEXT", CI, at("birth_date")), ("DATE_AS_TEXT", CI, at("birth_date", FIRST + 1))),
        (ACCEPTED,),
        "TDP15",
    ),
    Case(
        "date_year_only",
        lambda ctx: set_cell(ctx, "TDP17", "birth_date", "1980"),
        (("DATE_YEAR_ONLY", CI, at("birth_date")),),
        (ACCEPTED,),
        "TDP17",
    ),
    Case(
        "date_excel_serial",
        date_as_serial,
        (("DATE_SERIAL", CI, at("birth_date")),),
        (ACCEPTED,),
        "TDP18",
    ),
    Case(
        "nfd_and_stray_spaces",
        nfd_and_spaces,
        (("TEXT_NORMALIZED", CI, at("full_name")), ("TEXT_NORMALIZED", HH, f"C{FIRST}")),
        (ACCEPTED,),
        "TDP19",
    ),
    Case(
        "cccd_wrong_length",
        lambda ctx: set_cell(ctx, "TDP20", "cccd", "03807000123"),
        (("CCCD_LENGTH", CI, at("cccd")),),
        unit="TDP20",
    ),
    Case(
        "cccd_lost_leading_zero",
        lambda ctx: set_cell(ctx, "TDP21", "cccd", int(cccd("TDP21", 1))),
        (("CCCD_LEADING_ZERO", CI, at("cccd")),),
        (ACCEPTED,),
        "TDP21",
    ),
    Case(
        "citizen_twice_in_one_unit",
        duplicate_citizen,
        (("CITIZEN_DUPLICATE", CI, at("full_name", FIRST + 3)),),
        unit="TDP22",
    ),
    Case(
        "citizen_in_two_units",
        citizen_in_two_units,
        (("CITIZEN_OTHER_UNIT", CI, at("cccd")),),
        (ACCEPTED,),
        "CQ02",
    ),
    Case(
        "household_not_in_roster",
        lambda ctx: set_cell(ctx, "TDP23", "household_code", "TDP23-H999"),
        (("HOUSEHOLD_UNKNOWN", CI, at("household_code")),),
        unit="TDP23",
    ),
    Case(
        "household_row_unreadable",
        household_row_unreadable,
        (
            ("ROW_UNREADABLE", HH, f"A{FIRST + 1}"),
            ("HOUSEHOLD_ROW_UNREADABLE", HH, f"A{FIRST + 1}"),
        ),
        unit="TDP25",
    ),
    Case(
        "votes_over_attendees",
        lambda ctx: set_cell(ctx, "TDP24", "votes", 60),
        (("VOTES_EXCEED", CI, at("votes")),),
        unit="TDP24",
    ),
]
