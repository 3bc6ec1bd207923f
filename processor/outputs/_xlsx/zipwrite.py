"""Zip archives for the workbooks kieumau writes, deflated by ISA-L (issue 7).

Deflating the parts of the summary, feedback and forms took about 3 CPU-seconds of a district
run with zlib at level 1. ISA-L's level 1 (python-isal) is four times faster here and packs
tighter (12.6% against 13.5% of a unit's feedback). The streams are plain deflate, which every
reader inflates; the archive itself is written as zipfile writes it (local headers rewritten
once the sizes are known, then the central directory), and a test compares the two byte for
byte with zlib in place of ISA-L. No zip64: a part or an archive past 4 GiB raises TooLarge,
and fastrows.inject leaves a sheet that might get near that to zipfile.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable, Iterable
from typing import BinaryIO, Protocol

try:  # wheels exist for the usual platforms; without one, zlib does the same job slower
    from isal import isal_zlib as _deflate
except ImportError:  # pragma: no cover - isal is a dependency
    import zlib as _deflate

LEVEL = 1  # level 1 deflates several times faster than 6, for files a little larger
_LIMIT = 0xFFFFFFFF  # past this a size or an offset needs zip64: not written here
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # APPNOTE 4.3.12, as zipfile.structCentralDir
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # APPNOTE 4.3.7, as zipfile.structFileHeader
_END = struct.Struct("<4s4H2LH")  # APPNOTE 4.3.16, as zipfile.structEndArchive
_UTF8_NAME = 0x800


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self) -> bytes: ...


def isal_compressor() -> Compressor:
    return _deflate.compressobj(LEVEL, _deflate.DEFLATED, -15)


class TooLarge(Exception):
    """A part or the archive would need zip64."""


class ZipWriter:
    """Write a zip archive, one deflated member at a time (use as a context manager)."""

    def __init__(
        self,
        file: BinaryIO,
        compressor: Callable[[], Compressor] = isal_compressor,
        crc32: Callable[[bytes, int], int] = _deflate.crc32,
    ) -> None:
        self.file = file
        self.compressor = compressor
        self.crc32 = crc32
        self.members: list[zipfile.ZipInfo] = []

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.close()

    def write(self, like: zipfile.ZipInfo | str, data: bytes | Iterable[bytes]) -> None:
        """Add a member named as ``like`` (its date and attributes kept when it is a ZipInfo),
        its bytes given whole or in pieces."""
        info = _new_info(like)
        info.header_offset = self.file.tell()
        if info.header_offset > _LIMIT:
            raise TooLarge(info.filename)
        self.file.write(info.FileHeader(zip64=False))  # rewritten below, the same length
        compressor = self.compressor()
        crc = size = packed = 0
        for piece in (data,) if isinstance(data, bytes | bytearray) else data:
            crc = self.crc32(piece, crc)
            size += len(piece)
            out = compressor.compress(piece)
            packed += len(out)
            self.file.write(out)
        out = compressor.flush()
        packed += len(out)
        self.file.write(out)
        if size > _LIMIT or packed > _LIMIT:
            raise TooLarge(info.filename)
        info.CRC, info.file_size, info.compress_size = crc, size, packed
        end = self.file.tell()
        self.file.seek(info.header_offset)
        self.file.write(info.FileHeader(zip64=False))
        self.file.seek(end)
        self.members.append(info)

    def copy(self, source: BinaryIO, info: zipfile.ZipInfo) -> bool:
        """Add ``info``'s member of another archive (``source``: that archive's file) as it is
        compressed there, neither inflated nor deflated again; False, and nothing added, when
        it is not a plain stored or deflated member (then read it and use write).

        Its bytes are not checked against its CRC here: the member goes on as it came.
        """
        plain = info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        if not plain or info.flag_bits & 0x1 or max(info.file_size, info.compress_size) > _LIMIT:
            return False  # another method, encrypted, or zip64
        source.seek(info.header_offset)
        header = source.read(_LOCAL.size)
        fields = _LOCAL.unpack(header) if len(header) == _LOCAL.size else None
        if fields is None or fields[0] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"no local header for {info.filename}")
        source.seek(fields[10] + fields[11], 1)  # the member's name and extra field
        data = source.read(info.compress_size)
        if len(data) != info.compress_size:
            raise zipfile.BadZipFile(f"{info.filename} is cut short")
        copied = _new_info(info)
        copied.compress_type = info.compress_type
        copied.CRC, copied.file_size, copied.compress_size = (
            info.CRC,
            info.file_size,
            info.compress_size,
        )
        copied.header_offset = self.file.tell()
        if copied.header_offset > _LIMIT:
            raise TooLarge(info.filename)
        self.file.write(copied.FileHeader(zip64=False))
        self.file.write(data)
        self.members.append(copied)
        return True

    def close(self) -> None:
        start = self.file.tell()
        for info in self.members:
            name, flags = _encoded_name(info)
            dostime, dosdate = _dos_time(info.date_time)
            self.file.write(
                _CENTRAL.pack(
                    b"PK\x01\x02",
                    info.create_version,
                    info.create_system,
                    info.extract_version,
                    info.reserved,
                    flags,
                    info.compress_type,
                    dostime,
                    dosdate,
                    info.CRC,
                    info.compress_size,
                    info.file_size,
                    len(name),
                    len(info.extra),
                    len(info.comment),
                    0,  # disk number start
                    info.internal_attr,
                    info.external_attr,
                    info.header_offset,
                )
                + name
                + info.extra
                + info.comment
            )
        end = self.file.tell()
        if end > _LIMIT or len(self.members) > 0xFFFF:
            raise TooLarge("central directory")
        count = len(self.members)
        self.file.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, end - start, start, 0))


def _new_info(like: zipfile.ZipInfo | str) -> zipfile.ZipInfo:
    """A fresh ZipInfo for a deflated member: name, date and attributes of ``like`` only (its
    sizes, CRC, flags and extra fields belong to another archive)."""
    if isinstance(like, str):
        info = zipfile.ZipInfo(like, (1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o600 << 16  # as zipfile.writestr gives a name without a date
    else:
        info = zipfile.ZipInfo(like.filename, like.date_time)
        info.create_system = like.create_system
        info.external_attr = like.external_attr
    info.compress_type = zipfile.ZIP_DEFLATED
    info.extract_version = info.create_version = 20  # deflate
    info.CRC = info.compress_size = info.file_size = 0  # until the member is written
    return info


def _encoded_name(info: zipfile.ZipInfo) -> tuple[bytes, int]:
    try:
        return info.filename.encode("ascii"), info.flag_bits
    except UnicodeEncodeError:
        return info.filename.encode("utf-8"), info.flag_bits | _UTF8_NAME


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day
