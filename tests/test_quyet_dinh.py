"""`kieumau quyet-dinh` as the clerk runs it: one consistent set of drafts, replaced whole, from
the results and the catalogue that made them; what it prints; a kill at any moment."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document

from processor.cli import main
from processor.outputs.documents import recover_folder
from tests.conftest import SmallTownRun
from tests.docx_rules import texts
from tests.test_batch import small_town  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "input_templates" / "bo_tieu_chi.xlsx"


def _run(args: list[str]):
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.fixture()
def november(small_town_november: SmallTownRun, tmp_path: Path) -> dict[str, str]:
    """The small town's November run (a copy: quyet-dinh writes beside it), and the options
    that point quyet-dinh at it."""
    run = small_town_november.copy(tmp_path)
    return {"--out": str(run.out), "--kho": str(run.kho)}


def _flat(options: dict[str, str], catalogue: Path | None = None) -> list[str]:
    extra = {"--bo-tieu-chi": str(catalogue)} if catalogue else {}
    return [x for pair in {**options, **extra}.items() for x in pair]


def _folder(options: dict[str, str]) -> Path:
    return Path(options["--out"]) / "2021-12" / "quyet_dinh"


def _state(folder: Path) -> dict[str, str]:
    """Each draft's name and the hash of its body (what the clerk reads)."""
    state = {}
    for path in sorted(folder.iterdir()):
        with zipfile.ZipFile(path) as package:
            state[path.name] = hashlib.sha256(package.read("word/document.xml")).hexdigest()
    return state


def _edited_catalogue(tmp_path: Path, edit) -> Path:
    book = openpyxl.load_workbook(CATALOGUE)
    edit(book)
    path = tmp_path / "bo_tieu_chi_sua.xlsx"
    book.save(path)
    return path


def test_lists_every_file_and_counts_what_is_in_the_folder(november):
    result = _run(["quyet-dinh", "--nam", "2021", *_flat(november)])
    assert result.exit_code == 0, result.output
    folder = _folder(november)
    files = sorted(p.name for p in folder.iterdir())
    assert f"Đã lập {len(files)} văn bản dự thảo" in result.output
    for name in files:
        assert f"  - {name}" in result.output
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]
    # Units of the catalogue that sent nothing for November are named, and the placeholders.
    assert "chưa có số liệu kỳ 2021-11" in result.output and "TDP03" in result.output
    assert "chỗ trống (…) chưa điền" in result.output and "so_ke_hoach" in result.output


def test_the_set_is_replaced_whole(november):
    assert _run(["quyet-dinh", "--nam", "2021", *_flat(november)]).exit_code == 0
    folder = _folder(november)
    (folder / "quyet_dinh_CU_2020.docx").write_bytes(b"an old draft")
    result = _run(["quyet-dinh", "--nam", "2021", *_flat(november)])
    assert result.exit_code == 0
    names = sorted(p.name for p in folder.iterdir())
    assert "quyet_dinh_CU_2020.docx" not in names
    assert f"Đã lập {len(names)} văn bản" in result.output


def test_a_changed_threshold_stops_quyet_dinh_and_says_what_to_run(november, tmp_path):
    assert _run(["quyet-dinh", "--nam", "2021", *_flat(november)]).exit_code == 0
    before = _state(_folder(november))

    def threshold(book):
        sheet = book["Danh hiệu"]
        header = [c.value for c in sheet[1]]
        column = header.index("Ngưỡng phiếu bình xét (%)")
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == "CD":
                row[column].value = 70

    changed = _edited_catalogue(tmp_path, threshold)
    result = CliRunner().invoke(main, ["quyet-dinh", "--nam", "2021", *_flat(november, changed)])
    assert result.exit_code == 2
    assert "Bộ tiêu chí đã đổi" in result.output and "50 → 70" in result.output
    assert "--ky 2021-11" in result.output
    assert _state(_folder(november)) == before  # the previous set stays whole


def test_filling_a_placeholder_needs_no_new_scoring(november, tmp_path):
    def fill(book):
        for row in book["Cấu hình"].iter_rows(min_row=2):
            if row[0].value == "so_ke_hoach":
                row[2].value = "12/KH-UBND"

    filled = _edited_catalogue(tmp_path, fill)
    result = _run(["quyet-dinh", "--nam", "2021", *_flat(november, filled)])
    assert result.exit_code == 0, result.output
    decision = Document(_folder(november) / "quyet_dinh_CD_2021.docx")
    plan = "Căn cứ Kế hoạch số 12/KH-UBND ngày … tháng 01"
    assert any(t.startswith(plan) for t in texts(decision))


def test_a_removed_unit_gets_no_papers_and_a_renamed_one_its_new_name(november, tmp_path):
    def edit(book):
        sheet = book["Đơn vị"]
        for row in list(sheet.iter_rows(min_row=2)):
            if row[0].value == "CQ01":
                sheet.delete_rows(row[0].row)
                break
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == "TDP02":
                row[1].value = "Tổ dân phố Phú Sơn"

    edited = _edited_catalogue(tmp_path, edit)
    result = _run(["quyet-dinh", "--nam", "2021", *_flat(november, edited)])
    assert result.exit_code == 0, result.output
    folder = _folder(november)
    names = {p.name for p in folder.iterdir()}
    assert not [n for n in names if "CQ01" in n]
    assert "không còn trong Bộ tiêu chí" in result.output and "CQ01" in result.output
    assert "TDP02 đổi tên từ “Tổ dân phố số 2” thành “Tổ dân phố Phú Sơn”" in result.output
    annex = "\n".join(texts(Document(folder / "quyet_dinh_CD_2021.docx")))
    assert "Tổ dân phố Phú Sơn" in annex and "Tổ dân phố số 2" not in annex
    assert "Hoàng Văn Phúc" not in annex  # CQ01's member
    proposal = "\n".join(texts(Document(folder / "to_trinh_TDP02_2021.docx")))
    assert "TỔ DÂN PHỐ PHÚ SƠN" in proposal


def test_a_kill_between_the_two_renames_is_undone(tmp_path):
    target = tmp_path / "quyet_dinh"
    old = tmp_path / ".quyet_dinh.cu"
    old.mkdir()
    (old / "a.docx").write_bytes(b"previous")
    (tmp_path / ".quyet_dinh.moi-x").mkdir()  # a half-made set
    recover_folder(target)
    assert (target / "a.docx").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quyet_dinh"]


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split()[2] != "Z":
                    alive.append(pid)
        except FileNotFoundError:
            pass
    return alive


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().split()[3] == str(pid):
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc (Linux)")
def test_quyet_dinh_killed_at_several_moments(november):
    """Issue 24 items 6 and 12: killed at any moment, the folder holds the previous whole set
    or the new whole set, no worker outlives the command, and a re-run equals a clean run."""
    command = [sys.executable, "-m", "processor.cli", "quyet-dinh", "--nam", "2021"]
    command += [*_flat(november), "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run(command, env=env, capture_output=True, cwd=ROOT).returncode == 0
    folder = _folder(november)
    previous = _state(folder)
    for delay in (0.4, 0.9, 1.4, 2.0, 2.8):
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        workers = _children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive(workers) == [], delay
        if folder.exists():
            assert _state(folder) == previous, delay  # the same drafts: the previous set or
            # the new one, which is equal, never a part
        recover_folder(folder)
        assert _state(folder) == previous, delay
    assert subprocess.run(command, env=env, capture_output=True, cwd=ROOT).returncode == 0
    assert _state(folder) == previous
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_posting_lists_for_the_vote_meeting(november):
    """Issue 20: the list posted and read at each unit's meeting, from the latest month."""
    from tests import docx_rules as rules

    result = _run(["binh-xet", *_flat(november)])
    assert result.exit_code == 0, result.output
    folder = Path(november["--out"]) / "2021-11" / "binh_xet"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"binh_xet_{c}_2021-11.docx" for c in ("CQ01", "TDP01", "TDP02")]
    assert f"Đã lập {len(names)} danh sách bình xét" in result.output
    doc = Document(folder / "binh_xet_TDP01_2021-11.docx")
    assert rules.page(doc) == [] and rules.quotes_and_capitals(doc) == []
    assert rules.unit_paper(doc, unit="Tổ dân phố số 1") == []
    people, families = rules.annex_tables(doc)
    assert [c.text for c in people.rows[0].cells] == [
        "STT",
        "Họ và tên",
        "Năm sinh",
        "Chủ hộ",
        "Số phiếu đồng ý",
        "Ghi chú",
    ]
    rows = [[c.text for c in row.cells] for row in people.rows[1:]]
    # Registered and of age: Cúc (10 years old, not registered) is not a candidate.
    assert sorted(r[1] for r in rows) == sorted(
        ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Dũng", "Phạm Thị Em"]
    )
    assert {r[2] for r in rows} == {"1970", "1972", "1960", "1962"}
    assert all(r[4] == "" for r in rows)  # the votes are written at the meeting
    households = [[c.text for c in row.cells] for row in families.rows[1:]]
    assert sorted(r[1] for r in households) == ["Lê Văn Dũng", "Nguyễn Văn An"]
    xml = zipfile.ZipFile(folder / "binh_xet_TDP01_2021-11.docx").read("word/document.xml")
    assert b"1970-03-02" not in xml and b"02/03/1970" not in xml
    only = _run(["binh-xet", "--ky", "2021-11", "--don-vi", "TDP02", *_flat(november)])
    assert only.exit_code == 0, only.output
    assert sorted(p.name for p in folder.iterdir()) == names  # the others are kept


def test_a_household_whose_heads_name_was_refused_is_on_no_paper(small_town, tmp_path):  # noqa: F811
    """Issue 24 item 14: TDP02-H002's head typed as a formula (=1+1) is refused as a name; the
    household still reaches the title, but a decision cannot recognise a family by a blank, so
    it is on no paper and quyet-dinh names it and says what to fix."""
    form = small_town / "TDP02_2021-11.xlsx"
    book = openpyxl.load_workbook(form)
    sheet = book["Hộ gia đình"]
    head = next(c for row in sheet.iter_rows() for c in row if c.value == "Vũ Thị Lan")
    head.value = "=1+1"
    book.save(form)
    options = {"--out": str(tmp_path / "out"), "--kho": str(tmp_path / "kho")}
    ran = _run(["run", str(small_town), "--ky", "2021-11", *_flat(options)])
    assert ran.exit_code in (0, 1), ran.output
    result = _run(["quyet-dinh", "--nam", "2021", *_flat(options)])
    assert result.exit_code == 0, result.output
    assert "chưa có tên chủ hộ" in result.output and "TDP02-H002" in result.output
    folder = _folder(options)
    printed = "\n".join("\n".join(texts(Document(path))) for path in sorted(folder.glob("*.docx")))
    assert "=1+1" not in printed and "1+1" not in printed
    assert "TDP02-H002" not in printed
    decision = "\n".join(texts(Document(folder / "quyet_dinh_GD_2021.docx")))
    assert "Đỗ Văn Khoa" in decision  # TDP02-H001, named, still recognised
