"""processor.outputs._xlsx.zipwrite: archives as zipfile writes them, deflated by ISA-L."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from processor.outputs._xlsx.zipwrite import TooLarge, ZipWriter

_MEMBERS = [
    ("[Content_Types].xml", b"<Types/>" * 40),
    ("xl/worksheets/sheet1.xml", "<row><c><v>Nguyễn Văn An</v></c></row>".encode() * 2000),
    ("xl/tài liệu.xml", b""),  # a non-ASCII name, and an empty part
]


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, (2021, 11, 30, 8, 15, 42))
    info.external_attr = 0o644 << 16
    return info


def test_with_zlib_the_archive_is_byte_for_byte_what_zipfile_writes() -> None:
    ours = io.BytesIO()
    with ZipWriter(ours, lambda: zlib.compressobj(1, zlib.DEFLATED, -15), zlib.crc32) as writer:
        for name, data in _MEMBERS:
            # Given whole or in pieces, a member is the same.
            writer.write(_info(name), data if len(data) < 5000 else iter([data[:999], data[999:]]))
    theirs = io.BytesIO()
    with zipfile.ZipFile(theirs, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in _MEMBERS:
            archive.writestr(_info(name), data, zipfile.ZIP_DEFLATED, 1)
    assert ours.getvalue() == theirs.getvalue()


def test_isal_members_read_back_whole() -> None:
    buffer = io.BytesIO()
    with ZipWriter(buffer) as writer:
        for name, data in _MEMBERS:
            writer.write(name, data)
    with zipfile.ZipFile(buffer) as archive:
        assert archive.testzip() is None
        assert [(i.filename, archive.read(i)) for i in archive.infolist()] == _MEMBERS
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        # A name alone gets a fixed date: the same inputs give the same file.
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_part_over_4_gib_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("processor.outputs._xlsx.zipwrite._LIMIT", 100)
    with pytest.raises(TooLarge):
        ZipWriter(io.BytesIO()).write("big.xml", b"x" * 101)


def test_a_copied_member_reads_back_as_it_was_without_being_inflated() -> None:
    packed_source = io.BytesIO()
    with zipfile.ZipFile(packed_source, "w") as archive:
        for (name, data), method in zip(
            _MEMBERS, (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED), strict=True
        ):
            archive.writestr(_info(name), data, method, 9)
        archive.writestr(_info("xl/media/a.bin"), b"\x00" * 100, zipfile.ZIP_BZIP2)
    # Bytes before the archive (as a self-extracting one has): zipfile shifts its offsets.
    source = io.BytesIO(b"MZ" * 50 + packed_source.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as archive, ZipWriter(buffer) as writer:
        copied = [writer.copy(source, info) for info in archive.infolist()]
        writer.write("xl/new.xml", b"<new/>")
        packed = {i.filename: i.compress_size for i in archive.infolist()}
    # bzip2 is left to write (which inflates it and deflates it again)
    assert copied == [True, True, True, False]
    with zipfile.ZipFile(buffer) as archive:
        assert archive.testzip() is None
        assert [(i.filename, archive.read(i)) for i in archive.infolist()] == [
            *_MEMBERS,
            ("xl/new.xml", b"<new/>"),
        ]
        # the bytes as the source packed them (level 9 here), not deflated again at level 1
        assert {i.filename: i.compress_size for i in archive.infolist()[:3]} == {
            name: packed[name] for name, _ in _MEMBERS
        }
        assert archive.getinfo("xl/worksheets/sheet1.xml").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo(_MEMBERS[0][0]).date_time == (2021, 11, 30, 8, 15, 42)
