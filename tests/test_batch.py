"""End-to-end runs through the command line on a small town whose outcomes were worked by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor import batch
from processor.batch import run_batch
from processor.cli import main
from processor.domain import schema as S
from processor.domain.issues import make_issue
from processor.domain.periods import Period
from processor.domain.unit_report import deadline
from processor.outputs.feedback import LIST_COLUMNS
from processor.store.history import History
from tests.conftest import (
    SmallTownRun,
    all_tasks_done,
    citizen,
    household,
    make_form,
    sheet_rows,
)

NOV = {
    "attendees": 50,
    "meeting_date": dt.date(2021, 11, 12),
    "chair": "Lê Văn Hùng",
    "secretary": "Mai Thị Thu",
}


@pytest.fixture()
def small_town(tmp_path: Path, catalogue) -> Path:
    """The small town's November forms, the test's own to change (write_small_town)."""
    return write_small_town(catalogue, tmp_path / "inbox")


def write_small_town(catalogue, inbox: Path) -> Path:
    """TDP01: two households; TDP02: a strong group; CQ01: two staff. Outcomes, by hand:

    - An (H001, 40/50 votes): every criterion Đạt, 80% > 50% -> Đạt.
    - Bình (H001): fails CD01, mandatory -> Chưa đạt whatever else.
    - Cúc (H001, born 2011): 10 years old -> Chưa đủ điều kiện (age).
    - H001: 1 of its 2 adults is CDKM = 50% < 80% (GD02) -> Chưa đạt.
    - H002 (Dũng, Em: both Đạt) -> Đạt. TDP01: 1/2 households = 50% < 70% -> Chưa đạt.
    - TDP02: both households and all members pass, every task done -> Đạt.
    - CQ01 Phúc 30/50 = 60% -> Đạt; Giang 25/50 = 50%, not strictly greater -> Chưa đạt;
      Hà not registered -> Chưa đủ điều kiện.
    """
    tasks = all_tasks_done(catalogue)
    make_form(
        catalogue,
        inbox,
        "TDP01",
        "2021-11",
        [
            citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 3, 2), votes=40),
            citizen("TDP01-H001", "Trần Thị Bình", dt.date(1972, 5, 6), votes=45, CD01="Chưa đạt"),
            citizen("TDP01-H001", "Nguyễn Thị Cúc", dt.date(2011, 1, 1), registered=None),
            citizen("TDP01-H002", "Lê Văn Dũng", dt.date(1960, 1, 1), votes=41),
            citizen("TDP01-H002", "Phạm Thị Em", dt.date(1962, 2, 2), votes=42),
        ],
        [
            household("TDP01-H001", "Nguyễn Văn An", votes=44),
            household("TDP01-H002", "Lê Văn Dũng", votes=45),
        ],
        tasks,
        NOV,
    )
    make_form(
        catalogue,
        inbox,
        "TDP02",
        "2021-11",
        [
            citizen("TDP02-H001", "Đỗ Văn Khoa", dt.date(1980, 1, 1), votes=40),
            citizen("TDP02-H002", "Vũ Thị Lan", dt.date(1985, 1, 1), votes=40),
        ],
        [
            household("TDP02-H001", "Đỗ Văn Khoa", votes=40),
            household("TDP02-H002", "Vũ Thị Lan", votes=40),
        ],
        tasks,
        NOV,
    )
    make_form(
        catalogue,
        inbox,
        "CQ01",
        "2021-11",
        [
            citizen(None, "Hoàng Văn Phúc", dt.date(1990, 1, 1), votes=30),
            citizen(None, "Bùi Thị Giang", dt.date(1991, 1, 1), votes=25),
            citizen(None, "Cao Thị Hà", dt.date(1992, 1, 1), registered="Không"),
        ],
        info=NOV,
    )
    return inbox


def test_run_outcomes_match_hand_worked_cases(small_town_november: SmallTownRun) -> None:
    summary = small_town_november.out / "2021-11" / "tong_hop_2021-11.xlsx"
    people = {r["Họ và tên"]: r for r in sheet_rows(summary, "Công dân")}
    assert people["Nguyễn Văn An"]["Kết quả"] == "Đạt"
    assert people["Trần Thị Bình"]["Kết quả"] == "Chưa đạt"
    assert "CD01 - Chấp hành pháp luật (bắt buộc)" in people["Trần Thị Bình"]["Lý do"]
    assert people["Nguyễn Thị Cúc"]["Kết quả"] == "Chưa đủ điều kiện"
    assert "18 tuổi" in people["Nguyễn Thị Cúc"]["Lý do"]
    assert people["Hoàng Văn Phúc"]["Kết quả"] == "Đạt"
    assert people["Bùi Thị Giang"]["Kết quả"] == "Chưa đạt"
    assert "25/50 (50%)" in people["Bùi Thị Giang"]["Lý do"]
    assert people["Cao Thị Hà"]["Lý do"] == "Chưa đăng ký thi đua"
    houses = {r["Mã hộ"]: r for r in sheet_rows(summary, "Hộ gia đình")}
    assert houses["TDP01-H001"]["Kết quả"] == "Chưa đạt"
    assert "GD02" in houses["TDP01-H001"]["Lý do"] and "50%" in houses["TDP01-H001"]["Lý do"]
    assert houses["TDP01-H002"]["Kết quả"] == "Đạt"
    units = {r["Mã đơn vị"]: r for r in sheet_rows(summary, "Tổ dân phố")}
    assert units["TDP01"]["Kết quả"] == "Chưa đạt"
    assert "TDP01 - Hộ đạt GĐKM (bắt buộc): 50%" in units["TDP01"]["Lý do"]
    assert units["TDP02"]["Kết quả"] == "Đạt"
    # Public summary: no CCCD, no full birth date.
    book = CalamineWorkbook.from_path(str(summary))
    assert {
        "Tổng quan",
        "Công dân",
        "Hộ gia đình",
        "Tổ dân phố",
        "Lỗi dữ liệu",
        "Nguồn",
        "Tiến độ",
        "Chưa nộp",
        "Theo tiêu chí",
        "Theo đơn vị",
    } <= set(book.sheet_names)
    headers = book.get_sheet_by_name("Công dân").to_python()[0]
    assert "Số CCCD" not in headers and "Ngày sinh" not in headers
    # Tổng quan: one chart per title on a linear axis from zero (a log axis hid zeros).
    with zipfile.ZipFile(summary) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3
    assert all("logBase" not in c and '<c:min val="0"/>' in c for c in charts)
    # It names people: marked internal where Excel shows it (File > Info) and on every printed
    # page of the sheets that name them, not on the counts.
    marked = openpyxl.load_workbook(summary)
    assert marked.properties.category == "NỘI BỘ – có dữ liệu cá nhân"
    assert "Không niêm yết" in marked.properties.description
    for name in ("Công dân", "Hộ gia đình", "Lỗi dữ liệu"):
        assert "NỘI BỘ – CÓ DỮ LIỆU CÁ NHÂN" in marked[name].oddHeader.center.text
    assert not marked["Tổng quan"].oddHeader.center.text


def _names_nobody(summary: Path, sheets: list[str]) -> None:
    book = CalamineWorkbook.from_path(str(summary))
    assert set(book.sheet_names) == set(sheets) - {"Công dân", "Hộ gia đình", "Lỗi dữ liệu"}
    cells = " ".join(
        str(v)
        for n in book.sheet_names
        for row in book.get_sheet_by_name(n).to_python()
        for v in row
    )
    assert "Nguyễn Văn An" not in cells and "Trần Thị Bình" not in cells
    assert openpyxl.load_workbook(summary).properties.category == (
        "Số liệu tổng hợp – không có dữ liệu cá nhân"
    )


def _overview(summary: Path) -> list[list]:
    rows = CalamineWorkbook.from_path(str(summary)).get_sheet_by_name("Tổng quan").to_python()
    del rows[1]  # "Lập lúc 09:41 …": two runs may fall in two minutes
    return rows


def test_the_committee_gets_the_counts_and_no_names(small_town: Path, tmp_path: Path) -> None:
    """Every run writes the Ban chỉ đạo's copy beside the clerk's summary: the same counts,
    without the sheets that name people; --khong-du-lieu-ca-nhan writes only that kind."""
    out = tmp_path / "out"
    args = ["run", str(small_town), "--ky", "2021-11", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--kho", str(tmp_path / "kho")])
    assert result.exit_code == 0, result.output
    folder = out / "2021-11"
    whole = folder / "tong_hop_2021-11.xlsx"
    sheets = CalamineWorkbook.from_path(str(whole)).sheet_names
    committee = folder / "tong_hop_ban_chi_dao_2021-11.xlsx"
    _names_nobody(committee, sheets)
    counts = _overview(committee)
    assert counts == _overview(whole)
    assert openpyxl.load_workbook(whole).properties.category == "NỘI BỘ – có dữ liệu cá nhân"
    manifest = json.loads((folder / "nhat_ky.json").read_text(encoding="utf-8"))
    assert committee.name in json.dumps(manifest, ensure_ascii=False)

    result = CliRunner().invoke(
        main, [*args, "--kho", str(tmp_path / "kho2"), "--khong-du-lieu-ca-nhan"]
    )
    assert result.exit_code == 0, result.output
    _names_nobody(whole, sheets)
    assert _overview(whole) == counts
    assert not committee.exists()


def test_lỗi_dữ_liệu_shows_the_clerk_what_was_typed_and_the_mail_masks_it(
    tmp_path: Path, catalogue
) -> None:
    """The summary is the office's own (marked internal): its Lỗi dữ liệu quotes the birth date
    as typed, so the clerk can judge it; the message a mail carries out of the office masks it."""
    inbox = tmp_path / "inbox"
    make_form(
        catalogue,
        inbox,
        "TDP01",
        "2021-11",
        [
            citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 3, 2)),
            citizen("TDP01-H001", "Trần Văn Tương", dt.date(2030, 4, 5)),
        ],
        [household("TDP01-H001", "Nguyễn Văn An")],
        all_tasks_done(catalogue),
    )
    out = tmp_path / "out"
    args = ["run", str(inbox), "--ky", "2021-11", "--out", str(out), "--kho", str(tmp_path / "k")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # an impossible date is a cell to fix
    # The console names the units that sent nothing: the first ten, then how many more.
    units = [u for u in catalogue.units if u.code != "TDP01"]
    named = ", ".join(f"{u.code} ({u.name})" for u in units[:10])
    assert (
        f"Chưa nộp: {len(units)}/{len(catalogue.units)} đơn vị: {named} và "
        f"{len(units) - 10} đơn vị khác (sheet 'Chưa nộp')."
    ) in result.output
    rows = sheet_rows(out / "2021-11" / "tong_hop_2021-11.xlsx", "Lỗi dữ liệu")
    wrong = next(r for r in rows if r["Mã lỗi"] == "DATE_IMPLAUSIBLE")
    assert wrong["Nội dung"].startswith("Trần Văn Tương, Công dân!")
    assert "'05/04/2030' không thể đúng (sau ngày 31/12/2021" in wrong["Nội dung"]
    issue = make_issue("DATE_IMPLAUSIBLE", "TDP01_2021-11.xlsx", value="05/04/2030", detail="x")
    assert "05/04/2030" not in issue.public_message and "2030" in issue.public_message


def test_feedback_shows_values_as_the_person_typed_them(tmp_path: Path, catalogue) -> None:
    """A CCCD typed as a number is quoted as its digits (never '38092201283.0'), and a TRUE in
    Đăng ký is read as Có without a message (issue 21)."""
    inbox = tmp_path / "inbox"
    form = make_form(
        catalogue,
        inbox,
        "TDP01",
        "2021-11",
        [citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 3, 2))],
        [household("TDP01-H001", "Nguyễn Văn An")],
        all_tasks_done(catalogue),
    )
    book = openpyxl.load_workbook(form)
    book["Công dân"]["F4"] = 38092201283  # the person's row: header on row 3
    book["Công dân"]["G4"] = True
    book.save(form)
    out = tmp_path / "out"
    args = ["run", str(inbox), "--ky", "2021-11", "--out", str(out), "--kho", str(tmp_path / "k")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output  # a lost leading zero is read, with a warning
    feedback = openpyxl.load_workbook(out / "2021-11" / "phan_hoi" / "TDP01_2021-11.xlsx")
    lines = [
        " ".join(str(v) for v in row if v is not None)
        for row in feedback["Phản hồi"].iter_rows(values_only=True)
    ]
    quoted = [line for line in lines if "CCCD_LEADING_ZERO" in line]
    assert len(quoted) == 1
    assert (
        "Nguyễn Văn An (dòng 4) Công dân, ô F4 Xem lại Số CCCD '38092201283' bị mất số 0"
        in (quoted[0])
    )
    assert "đã đọc là 038092201283" in quoted[0] and ".0" not in quoted[0]
    assert not [line for line in lines if "G4" in line]
    people = sheet_rows(out / "2021-11" / "tong_hop_2021-11.xlsx", "Công dân")
    assert [p["Đăng ký"] for p in people] == ["Có"]


def test_run_accounts_for_every_row_and_file(small_town: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (small_town / "ghi_chu.txt").write_text("không phải bảng tính", encoding="utf-8")
    before = {p: p.read_bytes() for p in small_town.rglob("*") if p.is_file()}
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(small_town),
            "--ky",
            "2021-11",
            "--out",
            str(out),
            "--kho",
            str(tmp_path / "kho"),
        ],
    )
    assert result.exit_code == 1, result.output  # a file was rejected
    assert {p: p.read_bytes() for p in small_town.rglob("*") if p.is_file()} == before
    manifest = json.loads((out / "2021-11" / "nhat_ky.json").read_text(encoding="utf-8"))
    names = {f["ten"] for f in manifest["tep_dau_vao"]}
    assert names == {p.name for p in small_town.iterdir()}
    for entry in manifest["tep_dau_vao"]:
        assert entry["so_dong_doc"] == entry["so_dong_nhan"] + entry["so_dong_loai"]
    rejected = next(f for f in manifest["tep_dau_vao"] if f["ten"] == "ghi_chu.txt")
    assert rejected["trang_thai"] == "bị từ chối"
    issues = sheet_rows(out / "2021-11" / "tong_hop_2021-11.xlsx", "Lỗi dữ liệu")
    assert any(i["Mã lỗi"] == "FILE_NOT_SPREADSHEET" and i["Tệp"] == "ghi_chu.txt" for i in issues)
    assert (out / "2021-11" / "phan_hoi" / "TDP01_2021-11.xlsx").exists()
    assert (out / "2021-11" / "bieu_mau" / "TDP01_2021-12.xlsx").exists()


def test_decisions_name_the_recognised(small_town_november: SmallTownRun, tmp_path: Path) -> None:
    from docx import Document

    run = small_town_november.copy(tmp_path)
    out = run.out
    result = CliRunner().invoke(
        main, ["quyet-dinh", "--nam", "2021", *run.options()], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    folder = out / "2021-12" / "quyet_dinh"
    texts = {}
    for path in [*folder.glob("quyet_dinh_*.docx"), *folder.glob("to_trinh_huyen_*.docx")]:
        doc = Document(str(path))
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        texts[path.name] = "\n".join([p.text for p in doc.paragraphs] + cells)
    citizens = next(t for n, t in texts.items() if "CD" in n)
    for name in ("Nguyễn Văn An", "Lê Văn Dũng", "Phạm Thị Em", "Hoàng Văn Phúc"):
        assert name in citizens
    for name in ("Trần Thị Bình", "Bùi Thị Giang", "Cao Thị Hà", "Nguyễn Thị Cúc"):
        assert name not in citizens
    units = next(t for n, t in texts.items() if "TDP" in n)  # the district recognises them
    assert "Tổ dân phố số 2" in units and "Tổ dân phố số 1\n" not in units


def test_missing_history_is_a_clear_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["quyet-dinh", "--nam", "2021", "--kho", str(tmp_path)])
    assert result.exit_code == 2
    assert "kieumau run" in result.output


def test_an_inbox_of_agencies_alone_is_scored(catalogue, tmp_path: Path) -> None:
    """Early in a month only an agency may have sent its form: no household anywhere."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    make_form(
        catalogue,
        inbox,
        "CQ01",
        "2021-11",
        [citizen(None, "Lê Thị Hoa", dt.date(1985, 3, 4), votes=20)],
        info={"attendees": 25},
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["run", str(inbox), "--ky", "2021-11", "--out", str(out), "--kho", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    summary = out / "2021-11" / "tong_hop_2021-11.xlsx"
    (person,) = sheet_rows(summary, "Công dân")
    assert person["Họ và tên"] == "Lê Thị Hoa"
    assert sheet_rows(summary, "Hộ gia đình") == []


def _add_unit_with_a_refused_cell(catalogue, inbox: Path) -> None:
    """TDP03, whose one citizen has 'x?' for CD02: an error on a cell, so a marked feedback."""
    make_form(
        catalogue,
        inbox,
        "TDP03",
        "2021-11",
        [citizen("TDP03-H001", "Ngô Văn Sơn", dt.date(1975, 1, 1), votes=3, CD02="x?")],
        [household("TDP03-H001", "Ngô Văn Sơn", votes=45)],
        all_tasks_done(catalogue),
        NOV,
    )


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_worker_processes_write_what_one_process_writes(
    small_town: Path, tmp_path: Path, catalogue, monkeypatch, start: str
) -> None:
    """Reading (four files or more), forms and feedback in worker processes, which hold the
    catalogue from the pool's start and get the units' submissions without their rows: every
    part of every workbook is the one a single process writes, and every input is archived by
    its SHA-256 as it arrives. Also with workers started by spawn, as on Windows and macOS,
    where they inherit nothing and everything they get is pickled."""
    if start not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {start} here")
    context = multiprocessing.get_context(start)

    def pool(workers: int, held: object) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            workers, mp_context=context, initializer=batch._hold_catalogue, initargs=(held,)
        )

    monkeypatch.setattr(batch, "_pool", pool)
    _add_unit_with_a_refused_cell(catalogue, small_town)
    inputs = {
        hashlib.sha256(p.read_bytes()).hexdigest(): p.read_bytes()
        for p in small_town.iterdir()
        if p.suffix == ".xlsx"
    }
    written = {}
    for workers in (1, 2):
        # Receipt times are the store's clock (Nguồn shows them): both stores get the same ones,
        # or a run crossing a minute's boundary would differ from the other in that sheet.
        with History(tmp_path / f"h{workers}.sqlite") as history:
            for sha in inputs:
                history.record_receipt(
                    sha, dt.datetime(2021, 11, 30, 8), source=batch.RECEIPT_SOURCE
                )
        out = tmp_path / f"out{workers}"
        run_batch(
            small_town, Period.parse("2021-11"), catalogue, out, tmp_path / f"h{workers}.sqlite",
            tmp_path / f"kho{workers}", workers=workers, now=dt.datetime(2021, 11, 30, 9),
        )  # fmt: skip
        parts = {}
        for book in sorted((out / "2021-11").rglob("*.xlsx")):
            with zipfile.ZipFile(book) as z:
                for name in z.namelist():
                    if name != "docProps/core.xml":  # the time a feedback was written
                        parts[(str(book.relative_to(out)), name)] = z.read(name)
        written[workers] = parts
        kept = {
            p.stem: p.read_bytes() for p in (tmp_path / f"kho{workers}" / "luu_tru").rglob("*.*")
        }
        assert kept == inputs
    assert len(written[1]) > 100
    assert written[1].keys() == written[2].keys()
    assert [k for k in written[1] if written[1][k] != written[2][k]] == []


def test_a_layout_xlsxpatch_does_not_edit_gets_the_list_and_says_why(
    small_town: Path, tmp_path: Path, catalogue
) -> None:
    """A unit's .xlsx saved with prefixed SpreadsheetML (<x:styleSheet>, as some tools write
    it) is read, but xlsxpatch does not edit that layout: the feedback is the plain list of
    problems by sheet and cell, and its second line names the file and why its cells are not
    coloured. No other path edits the unit's workbook."""
    _add_unit_with_a_refused_cell(catalogue, small_town)
    form = small_town / "TDP03_2021-11.xlsx"
    prefixed = tmp_path / form.name
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(prefixed, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/styles.xml":
                data = (
                    data.replace(b"<styleSheet", b"<x:styleSheet")
                    .replace(b"</styleSheet>", b"</x:styleSheet>")
                    .replace(b'xmlns="', b'xmlns:x="', 1)
                )
            dst.writestr(info, data)
    prefixed.replace(form)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["run", str(small_town), "--ky", "2021-11", "--out", str(out),
         "--kho", str(tmp_path / "kho"), "--workers", "1"],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    book = openpyxl.load_workbook(out / "2021-11" / "phan_hoi" / "TDP03_2021-11.xlsx")
    assert S.FORM_CITIZENS.name not in book.sheetnames  # the list, not the unit's workbook
    rows = [[c.value for c in row] for row in book["Phản hồi"].iter_rows()]
    summary = " ".join(row[0] for row in rows[: rows.index(list(LIST_COLUMNS))] if row[0])
    assert "không tô màu được" in summary and "TDP03_2021-11.xlsx" in summary
    assert "styles.xml" in summary
    assert any(str(row[2]).startswith(f"{S.FORM_CITIZENS.name}, ô ") for row in rows)


def test_feedback_opens_with_a_summary_for_the_to_truong(
    small_town: Path, tmp_path: Path, catalogue
) -> None:
    """Phản hồi leads with what was received, how many reach each title (by hand, from the
    fixture: An, Dũng, Em Đạt of five, Cúc too young; H002 of two households), how many cells
    to fix and the deadline; then one line per problem naming the person, row and cell, in
    Vietnamese, its code last. Bình's Giới tính typed 'abc' is the one cell to fix."""
    form = small_town / "TDP01_2021-11.xlsx"
    book = openpyxl.load_workbook(form)
    sheet = book[S.FORM_CITIZENS.name]
    (row,) = [c.row for c in sheet["C"] if c.value == "Trần Thị Bình"]
    sheet[f"E{row}"] = "abc"  # Giới tính
    book.save(form)
    out = tmp_path / "out"
    args = ["run", str(small_town), "--ky", "2021-11", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--kho", str(tmp_path / "kho")])
    assert result.exit_code == 1, result.output  # a cell read as unknown is a cell to fix
    feedback = openpyxl.load_workbook(out / "2021-11" / "phan_hoi" / "TDP01_2021-11.xlsx")
    ws = feedback["Phản hồi"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header = rows.index(list(LIST_COLUMNS))
    summary = [r[0] for r in rows[:header] if r[0]]
    assert summary[0] == "PHẢN HỒI KẾT QUẢ TỔNG HỢP - TỔ DÂN PHỐ SỐ 1 - THÁNG 11/2021"
    assert summary[1] == "1. Đã nhận:"
    assert summary[2].startswith("   - TDP01_2021-11.xlsx (nhận lúc ")
    rows_sent = 5 + 2 + len(all_tasks_done(catalogue))  # people, households, tasks
    assert summary[2].endswith(f"đọc {rows_sent} dòng, nhận {rows_sent}, loại 0.")
    assert summary[3:7] == [
        "2. Kết quả đến tháng 11/2021:",
        f"   - {catalogue.citizen_title.name}: 3/5 người đạt (1 người chưa đủ điều kiện)",
        f"   - {catalogue.household_title.name}: 1/2 hộ đạt (0 hộ chưa đủ điều kiện)",
        f"   - {catalogue.unit_title.name}: Chưa đạt",
    ]
    assert summary[7] == "3. Cần sửa: 1 ô (dòng ghi Cần sửa ở danh sách dưới)."
    assert summary[-1] == "4. Hạn nộp biểu mẫu tháng 12/2021: trước ngày 25 tháng 12/2021."
    listed = rows[header + 1 :]
    assert listed[0][:4] == [1, f"Trần Thị Bình (dòng {row})", f"Công dân, ô E{row}", "Cần sửa"]
    assert listed[0][4].startswith("Giá trị 'abc' không đọc được.")
    assert listed[0][5] == "VALUE_NOT_ALLOWED"
    assert all(r[3] == "Xem lại" for r in listed[1:])  # what must be fixed comes first
    # Styled and printable: a bold shaded header repeated on every A4 landscape page, the
    # message wrapped in a column as wide as it was set.
    cell = ws.cell(header + 1, 1)
    assert cell.font.b and cell.fill.fgColor.rgb == "FFDDEBF7" and cell.border.left.style
    assert ws.print_title_rows == f"${header + 1}:${header + 1}"
    assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (9, "landscape")
    assert ws.cell(header + 2, 5).alignment.wrap_text
    assert feedback.sheetnames.index("Phản hồi") == 0


def test_the_feedbacks_deadline_comes_from_cau_hinh_or_is_left_out(catalogue) -> None:
    """The mail keeps the form guide's day 25 when Cấu hình has no han_nop; the feedback,
    which says it only when the catalogue gives it, has no deadline line then."""
    december = Period(2021, 12)
    assert deadline(catalogue, december, default="") == "ngày 25 tháng 12/2021"
    settings = {k: v for k, v in catalogue.settings.items() if k != "han_nop"}
    without = dataclasses.replace(catalogue, settings=settings)
    assert deadline(without, december, default="") == ""
    assert deadline(without, december) == "ngày 25 tháng 12/2021"


def _block_after(rows: list[list], label: str) -> list[dict]:
    """The table whose header row starts with ``label``, as label -> value, to its first blank
    row."""
    start = next(i for i, r in enumerate(rows) if r and r[0] == label)
    header = rows[start]
    table = []
    for row in rows[start + 1 :]:
        if not row or row[0] in ("", None):
            break
        table.append(dict(zip(header, row, strict=False)))
    return table


def test_summary_counts_match_the_hand_count(small_town_november: SmallTownRun, catalogue) -> None:
    """Tổng quan, Theo đơn vị, Theo tiêu chí and Chưa nộp against counts worked by hand from
    the fixture's docstring (not from the product):

    - Citizens: 10 read; Cúc (age) and Hà (not registered) are Chưa đủ điều kiện, so 8 are
      considered; An, Dũng, Em, Khoa, Lan, Phúc reach it: 6 of 8 = 75 %.
    - Households: TDP01's two and TDP02's two, all registered: 4 considered; H001 of TDP01 fails
      GD02, so 3 of 4 = 75 %.
    - Tổ dân phố: the two that sent a form; TDP02 reaches it, TDP01 (1 of 2 households) not:
      1 of 2 = 50 %. The catalogue's other units sent nothing and count nowhere.
    - Theo tiêu chí: every criterion 100 % but TDP01's CD01 (Bình of its 5 citizens: 80 %),
      its GD02 (H001 of 2 households: 50 %) and its TDP01 (a mandatory share it misses: 0 %).
    """
    summary = small_town_november.out / "2021-11" / "tong_hop_2021-11.xlsx"
    book = CalamineWorkbook.from_path(str(summary))
    sheet = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}

    titles = (catalogue.citizen_title, catalogue.household_title, catalogue.unit_title)
    overview = {r["Danh hiệu"]: r for r in _block_after(sheet["Tổng quan"], "Danh hiệu")}
    counted = {
        t.name: [
            overview[t.name][k]
            for k in ("Số được đánh giá", "Số đủ điều kiện xét", "Số đạt", "Tỷ lệ đạt (%)")
        ]
        for t in titles
    }
    assert counted == {
        catalogue.citizen_title.name: [10, 8, 6, 75.0],
        catalogue.household_title.name: [4, 4, 3, 75.0],
        catalogue.unit_title.name: [2, 2, 1, 50.0],
    }

    sent = {
        # unit: Nộp báo cáo, Số công dân, Công dân đạt, Số hộ, Hộ đạt, Kết quả TDP kiểu mẫu
        "TDP01": ["Đã nộp", 5, 3, 2, 1, "Chưa đạt"],
        "TDP02": ["Đã nộp", 2, 2, 2, 2, "Đạt"],
        "CQ01": ["Đã nộp", 3, 1, 0, 0, ""],
    }
    columns = ("Nộp báo cáo", "Số công dân", "Công dân đạt", "Số hộ", "Hộ đạt")
    outcome = f"Kết quả {catalogue.unit_title.name}"
    for name in ("Theo đơn vị", "Tổng quan"):  # Tổng quan repeats the table below its chart
        units = {r["Mã đơn vị"]: r for r in _block_after(sheet[name], "Mã đơn vị")}
        assert set(units) == {u.code for u in catalogue.units}, name
        for code, row in units.items():
            expected = sent.get(code, ["Chưa nộp", 0, 0, 0, 0, ""])
            assert [row[c] for c in columns] + [row[outcome] or ""] == expected, (name, code)

    rates: dict[str, dict[str, dict[str, float]]] = {}
    rows = sheet["Theo tiêu chí"]
    for title in titles:
        heading = next(i for i, r in enumerate(rows) if r and r[0] == title.name)
        block = _block_after(rows[heading + 1 :], "Mã đơn vị")
        rates[title.name] = {
            r["Mã đơn vị"]: {c.code: r[c.label] for c in catalogue.criteria_of(title.code)}
            for r in block
        }
    everything = {
        title.name: {c.code: 100.0 for c in catalogue.criteria_of(title.code)} for title in titles
    }
    expected_rates = {
        catalogue.citizen_title.name: {
            "CQ01": everything[catalogue.citizen_title.name],
            "TDP01": everything[catalogue.citizen_title.name] | {"CD01": 80.0},
            "TDP02": everything[catalogue.citizen_title.name],
        },
        catalogue.household_title.name: {
            "TDP01": everything[catalogue.household_title.name] | {"GD02": 50.0},
            "TDP02": everything[catalogue.household_title.name],
        },
        catalogue.unit_title.name: {
            "TDP01": everything[catalogue.unit_title.name] | {"TDP01": 0.0},
            "TDP02": everything[catalogue.unit_title.name],
        },
    }
    assert rates == expected_rates

    missing = _block_after(sheet["Chưa nộp"], "Mã đơn vị")
    assert [(r["Mã đơn vị"], r["Tên đơn vị"], r["Trưởng Ban vận động"]) for r in missing] == [
        (u.code, u.name, u.head) for u in catalogue.units if u.code not in sent
    ]
