"""The store: receipts, its place, who may read it, one run at a time."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from processor.cli import main
from processor.store.history import History
from processor.store.place import STORE_ENV, resolve_places
from tests.conftest import citizen, make_form

UTC = dt.UTC
ICT = dt.timezone(dt.timedelta(hours=7))


def test_receipts_keep_the_earliest_time_per_file(tmp_path: Path) -> None:
    with History(tmp_path / "ls.sqlite") as history:
        history.record_receipt("a" * 64, dt.datetime(2021, 11, 5, 10, tzinfo=ICT), source="thu",
                               message_id="<m1@x>", sender="tdp01@example.vn")  # fmt: skip
        history.record_receipt("a" * 64, dt.datetime(2021, 11, 5, 2, 30, tzinfo=UTC), source="thu",
                               message_id="<m1@x>")  # fmt: skip
        history.record_receipt("a" * 64, dt.datetime(2021, 11, 6, 9, tzinfo=UTC), source="hop_thu")
        history.record_receipt("b" * 64, dt.datetime(2021, 11, 7, 9, tzinfo=UTC), source="hop_thu")
        # The same receipt again changes nothing.
        history.record_receipt("b" * 64, dt.datetime(2021, 11, 7, 9, tzinfo=UTC), source="hop_thu")
        got = history.receipts(["a" * 64, "b" * 64, "c" * 64])
    # 10:00 in Hà Nội is 03:00 UTC: the later of the two mail times recorded for the message.
    assert got == {
        "a" * 64: dt.datetime(2021, 11, 5, 2, 30, tzinfo=UTC),
        "b" * 64: dt.datetime(2021, 11, 7, 9, tzinfo=UTC),
    }
    with History(tmp_path / "ls.sqlite") as history:
        rows = history.db.execute("SELECT COUNT(*) FROM receipts").fetchone()[0]
    assert rows == 3  # one per (file, source, message)


def test_the_history_and_the_archive_are_readable_by_their_owner_only(
    catalogue, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    make_form(catalogue, inbox, "TDP01", "2021-11",
              [citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 3, 2))])  # fmt: skip
    kho = tmp_path / "kho"
    result = CliRunner().invoke(
        main,
        ["run", str(inbox), "--ky", "2021-11", "--out", str(tmp_path / "out"), "--kho", str(kho),
         "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    private = [kho, kho / "lich_su.sqlite", *(kho / "luu_tru").rglob("*")]
    assert len(private) >= 4
    for path in private:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))


def test_the_store_does_not_follow_the_working_folder(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "thi_dua"
    (project / "input_templates").mkdir(parents=True)
    catalogue = project / "input_templates" / "bo_tieu_chi.xlsx"
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    places = resolve_places(catalogue)
    assert places.workspace == project.resolve() / "output" / "kho"
    assert places.output_root == project.resolve() / "output"
    assert places.history == places.workspace / "lich_su.sqlite"
    assert not places.explicit
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "kho_chung"))
    assert resolve_places(catalogue).workspace == tmp_path / "kho_chung"
    assert resolve_places(catalogue, workspace=tmp_path / "k").workspace == tmp_path / "k"


def test_a_run_that_would_start_a_new_store_says_where_the_months_are(
    catalogue, tmp_path: Path, monkeypatch
) -> None:
    """October ran on the project's store; November started from another folder with a
    catalogue copied elsewhere would make a new empty store: it stops and names the old one."""
    inbox = tmp_path / "inbox"
    make_form(catalogue, inbox, "TDP01", "2021-10",
              [citizen("TDP01-H001", "Nguyễn Văn An", dt.date(1970, 3, 2))])  # fmt: skip
    project = tmp_path / "du_an"
    (project / "input_templates").mkdir(parents=True)
    first = project / "input_templates" / "bo_tieu_chi.xlsx"
    first.write_bytes(Path(catalogue.path).read_bytes())
    monkeypatch.chdir(tmp_path)
    run = ["run", str(inbox), "--ky", "2021-10", "--workers", "1", "--bo-tieu-chi"]
    result = CliRunner().invoke(main, [*run, str(first)])
    assert result.exit_code == 0, result.output
    assert (project / "output" / "kho" / "lich_su.sqlite").is_file()
    copy = tmp_path / "ban_sao" / "bo_tieu_chi.xlsx"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    result = CliRunner().invoke(main, [*run, str(copy)])
    assert result.exit_code == 2
    assert str(project / "output" / "kho") in result.output and "--kho-moi" in result.output
    assert not (copy.parent / "output" / "kho" / "lich_su.sqlite").exists()
    result = CliRunner().invoke(main, [*run, str(copy), "--kho-moi"])
    assert result.exit_code == 0, result.output
    info = CliRunner().invoke(main, ["kho", "thong-tin", "--bo-tieu-chi", str(first)])
    assert "2021-10: Bộ tiêu chí" in info.output
    assert str(copy.parent / "output" / "kho") in info.output  # the other store is listed


@pytest.mark.skipif(os.name == "nt", reason="file modes are POSIX")
def test_deleting_a_year_removes_its_months_files_and_outputs(catalogue, tmp_path: Path) -> None:
    kho, out = tmp_path / "kho", tmp_path / "out"
    for period in ("2020-11", "2021-01"):
        inbox = tmp_path / period
        make_form(catalogue, inbox, "TDP01", period,
                  [citizen("TDP01-H001", f"Người {period}", dt.date(1970, 3, 2))])  # fmt: skip
        result = CliRunner().invoke(
            main, ["run", str(inbox), "--ky", period, "--out", str(out), "--kho", str(kho),
                   "--workers", "1"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    archived = sorted((kho / "luu_tru").rglob("*.xlsx"))
    assert len(archived) == 2
    result = CliRunner().invoke(
        main, ["kho", "xoa-nam", "2020", "--out", str(out), "--kho", str(kho)], input="\n"
    )
    assert "Không xóa gì" in result.output and (out / "2020-11").is_dir()
    result = CliRunner().invoke(
        main, ["kho", "xoa-nam", "2020", "--out", str(out), "--kho", str(kho)], input="2020\n"
    )
    assert result.exit_code == 0, result.output
    assert not (out / "2020-11").exists() and (out / "2021-01").is_dir()
    assert len(sorted((kho / "luu_tru").rglob("*.xlsx"))) == 1
    with History(kho / "lich_su.sqlite") as history:
        assert history.periods() == ["2021-01"]
        assert len(history.receipts([p.stem for p in archived])) == 1
    assert "Người 2020-11".encode() not in (kho / "lich_su.sqlite").read_bytes()
