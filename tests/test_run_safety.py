"""Nothing lost when runs collide, fail or are killed (issue 24): one run at a time on a store,
outputs and history put in place together, every error of the disk a Vietnamese message and
exit 2, no worker left behind. Real subprocesses, real locks, real file systems."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from processor.cli import main
from processor.store.history import History
from tests.town import small_catalogue, town_inbox, unit_form

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = ROOT / "tests" / "run_and_die.py"
NOV = "2021-11"


@pytest.fixture(scope="module")
def months(tmp_path_factory) -> dict[str, Path]:
    """``first``: four units. ``second``: the same, TDP02 corrected (a member now fails CD01)
    and TDP04 new. The town's catalogue is beside them."""
    root = tmp_path_factory.mktemp("town")
    catalogue = small_catalogue(root / "bo_tieu_chi.xlsx")
    first = town_inbox(catalogue, root / "first", NOV, ("TDP01", "TDP02", "TDP03", "CQ01"))
    second = root / "second"
    shutil.copytree(first, second)
    (second / f"TDP02_{NOV}.xlsx").unlink()
    unit_form(catalogue, second, "TDP02", NOV, name=f"TDP02_{NOV}_sua.xlsx",
              **{"Đỗ Văn Khoa": {"CD01": "Chưa đạt"}})  # fmt: skip
    unit_form(catalogue, second, "TDP04", NOV)
    return {"first": first, "second": second}


def _args(inbox: Path, place: Path, *extra: str) -> list[str]:
    """``kieumau run`` of ``inbox`` (a month of the town: its catalogue is beside it)."""
    return ["run", str(inbox), "--ky", NOV, "--out", str(place / "out"),
            "--kho", str(place / "kho"), "--bo-tieu-chi", str(inbox.parent / "bo_tieu_chi.xlsx"),
            *extra]  # fmt: skip


def _run(inbox: Path, place: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, _args(inbox, place, "--workers", "1", *extra))
    return result.exit_code, result.output


def _launch(moment: str, inbox: Path, place: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(LAUNCHER), moment, *_args(inbox, place, *extra)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _killed(command: list[str], log: Path) -> str:
    """Run ``command`` (the launcher) to its death by SIGKILL; return what it wrote. The output
    goes to a file: a worker left alive would hold a pipe open and hang the reading."""
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        code = process.wait(timeout=120)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert code == -9, text[-3000:]
    return text


def _no_survivors(marker: str) -> None:
    """No process left whose command line holds ``marker``; any found is ended (they are this
    test's) and the test fails."""
    alive = _wait_for_no_survivors(marker)
    for pid in alive:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    assert alive == []


def _survivors(marker: str) -> list[int]:
    """Processes still alive whose command line holds ``marker`` (a forked worker keeps its
    parent's)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
            if marker in command and state != "Z":
                alive.append(int(entry.name))
    return alive


def _wait_for_no_survivors(marker: str, seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := _survivors(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _meaning(place: Path) -> dict:
    """What a run's outputs and history say, without the times and run ids that differ
    between two runs of the same inputs."""
    out = place / "out" / NOV
    seen: dict = {"files": sorted(_files(out))}
    for path in sorted(out.rglob("*.xlsx")):
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python()
            if name == "Tổng quan":
                rows = rows[4:]  # the run's time and its notices
            if name == "Nguồn":
                at = rows[1].index("Nhận lúc")
                rows = [r[:at] + r[at + 1 :] for r in rows[1:]]
            if name == "Phản hồi":  # when the store received each file
                rows = [[re.sub(r" \(nhận lúc [^)]*\)", "", str(v)) for v in r] for r in rows]
            seen[(str(path.relative_to(out)), name)] = rows
    manifest = json.loads((out / "nhat_ky.json").read_text(encoding="utf-8"))
    seen["tong"] = manifest["tong"]
    seen["tep"] = [{k: v for k, v in e.items() if k != "nhan_luc"} for e in manifest["tep_dau_vao"]]
    with History(place / "kho" / "lich_su.sqlite") as history:
        for level in ("citizens", "households", "units"):
            frame = history.load(NOV, "result", level)
            seen[level] = frame.astype(str).to_dict("list")
        seen["periods"] = history.periods()
        seen["stale"] = history.stale()
    return seen


def _history_whole(place: Path) -> str | None:
    """The history's run id of the month, after SQLite's own integrity check."""
    db = sqlite3.connect(place / "kho" / "lich_su.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        row = db.execute("SELECT run_id FROM runs WHERE period = ?", (NOV,)).fetchone()
    finally:
        db.close()
    return row[0] if row else None


@pytest.fixture(scope="module")
def clean(months, tmp_path_factory) -> dict:
    """The two months run one after the other on a store of their own, nothing killed."""
    place = tmp_path_factory.mktemp("clean")
    assert _run(months["first"], place)[0] == 0
    code, output = _run(months["second"], place)
    assert code == 0, output
    return _meaning(place)


@pytest.fixture(scope="module")
def after_first(months, tmp_path_factory) -> Path:
    place = tmp_path_factory.mktemp("after_first")
    assert _run(months["first"], place)[0] == 0
    return place


@pytest.mark.parametrize("moment", ["reading", "writing", "swapping", "committing", "finishing"])
def test_a_run_killed_at_any_moment_leaves_a_whole_state(
    moment: str, months, clean, after_first, tmp_path: Path
) -> None:
    """The second run is killed (SIGKILL) with two workers: no worker survives it; the month's
    folder is the previous set or the new set (or, killed between the two renames of the swap,
    absent with the previous set beside it); the history is whole and holds the previous run
    unless the new outputs were committed; the next run repairs what was left and gives what a
    run that was never killed gives."""
    place = tmp_path / "place"
    shutil.copytree(after_first, place)
    before = _files(place / "out" / NOV)
    previous_run = _history_whole(place)
    command = [sys.executable, str(LAUNCHER), moment, *_args(months["second"], place)]
    _killed([*command, "--workers", "2"], tmp_path / "log.txt")
    _no_survivors(str(place))
    now = _history_whole(place)
    out = place / "out" / NOV
    if moment == "finishing":
        assert now != previous_run
    else:
        assert now == previous_run
    if moment == "swapping":
        assert not out.exists()
        backups = list((place / "out").glob(".cu-*"))
        assert len(backups) == 1 and _files(backups[0]) == before
    elif moment in ("committing", "finishing"):
        manifest = json.loads((out / "nhat_ky.json").read_text(encoding="utf-8"))
        listed = {str(Path(p).relative_to(out)) for p in manifest["dau_ra"]}
        assert listed | {"nhat_ky.json"} == set(_files(out))  # the new set, whole
    else:
        assert _files(out) == before
    code, output = _run(months["second"], place)
    assert code == 0, output
    if moment in ("writing", "swapping", "committing"):
        assert "đã dừng giữa chừng" in output
    assert not list((place / "out").glob(".*-*"))  # no staging, backup or journal left
    assert _meaning(place) == clean


def test_quyet_dinh_killed_leaves_no_worker(months, after_first, tmp_path) -> None:
    place = tmp_path / "place"
    shutil.copytree(after_first, place)
    catalogue = months["first"].parent / "bo_tieu_chi.xlsx"
    _killed(
        [sys.executable, str(LAUNCHER), "drafting", "quyet-dinh", "--nam", "2021",
         "--out", str(place / "out"), "--kho", str(place / "kho"), "--bo-tieu-chi",
         str(catalogue)],
        tmp_path / "log.txt",
    )  # fmt: skip
    _no_survivors(str(place))
    assert _history_whole(place) == _history_whole(after_first)


def test_a_second_run_on_the_same_store_says_who_holds_it(months, after_first, tmp_path) -> None:
    """Two real processes on one store: the second exits 2 naming the first (machine, process,
    command, since when) and changes nothing; once the first is killed, a lock it left is
    noticed and the next run goes on."""
    place = tmp_path / "place"
    shutil.copytree(after_first, place)
    before = _files(place / "out" / NOV)
    first = _launch("hold", months["second"], place, "--workers", "1")
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "giu-kho"
        second = subprocess.run(
            [sys.executable, str(LAUNCHER), "never", *_args(months["second"], place)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 2, second.stderr
        message = second.stderr
        assert "đang được dùng" in message and f"tiến trình {first.pid}" in message
        assert "kieumau run" in message and os.uname().nodename in message
        assert "Traceback" not in message
        assert _files(place / "out" / NOV) == before
    finally:
        first.kill()
        first.communicate(timeout=30)
    code, output = _run(months["second"], place)
    assert code == 0, output
    assert f"tiến trình {first.pid}" in output and "đã dừng giữa chừng" in output


@contextlib.contextmanager
def _mounted(folder: Path, options: str):
    """A tmpfs at ``folder`` with mount ``options``; skips where the machine does not allow
    mounting (not root, or a container without the right)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_is_a_clear_exit_2_and_changes_nothing(months, after_first, tmp_path) -> None:
    """The results folder on a small file system that fills up while the outputs are written:
    a Vietnamese message, exit 2, no staging folder or temporary file left, the history and
    the previous outputs as they were."""
    place = tmp_path / "place"
    shutil.copytree(after_first / "kho", place / "kho")
    # Room for the previous outputs and a third of a new set.
    used = sum(p.stat().st_size for p in (after_first / "out").rglob("*") if p.is_file())
    with _mounted(place / "out", f"size={used * 4 // 3 // 1024 + 64}k"):
        shutil.copytree(after_first / "out", place / "out", dirs_exist_ok=True)
        before = _files(place / "out")
        run_before = _history_whole(place)
        result = CliRunner().invoke(main, _args(months["second"], place, "--workers", "1"))
        assert result.exit_code == 2, result.output
        assert "Ổ đĩa đã đầy" in result.output and "Traceback" not in result.output
        assert _files(place / "out") == before  # nothing left behind, nothing changed
        assert _history_whole(place) == run_before


def test_a_full_disk_under_the_store_leaves_no_partial_archive(months, tmp_path) -> None:
    place = tmp_path / "place"
    with _mounted(place / "kho", "size=80k"):
        result = CliRunner().invoke(main, _args(months["first"], place, "--workers", "1"))
        assert result.exit_code == 2, result.output
        assert "Ổ đĩa đã đầy" in result.output
        leftovers = [p for p in (place / "kho").rglob("*") if p.name.endswith(".tmp")]
        assert leftovers == []
        assert not (place / "out" / NOV).exists()


def test_a_read_only_folder_is_a_clear_exit_2(months, after_first, tmp_path) -> None:
    place = tmp_path / "place"
    shutil.copytree(after_first / "kho", place / "kho")
    with _mounted(place / "out", "size=4m"):
        shutil.copytree(after_first / "out", place / "out", dirs_exist_ok=True)
        subprocess.run(["mount", "-o", "remount,ro", str(place / "out")], check=True)
        result = CliRunner().invoke(main, _args(months["second"], place, "--workers", "1"))
        assert result.exit_code == 2, result.output
        assert "chỉ cho đọc" in result.output and "Traceback" not in result.output
        assert _history_whole(place) == _history_whole(after_first)


def test_an_output_held_open_keeps_the_previous_outputs(months, after_first, tmp_path) -> None:
    """Excel on Windows holds the workbooks it opens: the folder holding one cannot be renamed
    and the workbook cannot be opened for writing. The same refusal is made here with the
    immutable attribute: the run names the file to close, exits 2, changes nothing."""
    place = tmp_path / "place"
    shutil.copytree(after_first, place)
    out = place / "out" / NOV
    held = out / "phan_hoi" / f"TDP01_{NOV}.xlsx"
    before = _files(out)
    locked = [held, out]
    done = subprocess.run(["chattr", "+i", *map(str, locked)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not allowed here ({done.stderr.strip()})")
    try:
        result = CliRunner().invoke(main, _args(months["second"], place, "--workers", "1"))
    finally:
        subprocess.run(["chattr", "-i", *map(str, locked)], check=True)
    assert result.exit_code == 2, result.output
    assert f"Hãy đóng tệp {held.name}" in result.output
    assert _files(out) == before
    assert _history_whole(place) == _history_whole(after_first)
    assert not list((place / "out").glob(".*-*"))


def test_a_file_name_that_is_not_utf8_is_one_file(months, tmp_path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(months["first"], inbox)
    shutil.copy(months["first"].parent / "bo_tieu_chi.xlsx", tmp_path)
    odd = os.fsencode(inbox) + b"/b\xe1o c\xe1o.txt"  # Latin-1 bytes from an old zip
    with open(odd, "wb") as handle:
        handle.write(b"not a form")
    code, output = _run(inbox, tmp_path)
    assert code == 1, output
    manifest = json.loads((tmp_path / "out" / NOV / "nhat_ky.json").read_text(encoding="utf-8"))
    names = [e["ten"] for e in manifest["tep_dau_vao"]]
    assert "b\ufffdo c\ufffdo.txt" in names
    assert sum(1 for e in manifest["tep_dau_vao"] if e["trang_thai"].startswith("đã nhận")) == 4


def test_results_moved_by_the_clerk_are_still_replaced_whole(months, tmp_path) -> None:
    """The clerk moves the whole results folder (a new disk, a shared folder): a re-run there
    replaces what the earlier run wrote, rather than keeping it beside the new set because the
    earlier run's nhat_ky.json names the old place. Here the earlier run wrote the Ban chỉ đạo's
    copy; the re-run, without personal data, writes none, and the old one must not stay."""
    first, moved = tmp_path / "first", tmp_path / "moved"
    code, output = _run(months["first"], first)
    assert code == 0, output
    committee = f"tong_hop_ban_chi_dao_{NOV}.xlsx"
    assert (first / "out" / NOV / committee).exists()
    shutil.move(first, moved)
    code, output = _run(months["first"], moved, "--khong-du-lieu-ca-nhan")
    assert code == 0, output
    out = moved / "out" / NOV
    assert not (out / committee).exists()
    manifest = json.loads((out / "nhat_ky.json").read_text(encoding="utf-8"))
    listed = {str(Path(p).relative_to(out)) for p in manifest["dau_ra"]}
    assert listed | {"nhat_ky.json"} == set(_files(out))  # the new set, whole, nothing carried
