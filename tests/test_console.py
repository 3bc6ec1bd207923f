"""Every command prints its Vietnamese text when the console is not UTF-8 (issue 19): a
redirected output on Windows takes the locale's code page (cp1252), which has no ạ or ế."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from processor.cli import main
from tests.test_cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "inbox" / "TDP01_2021-11.xlsx"


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_of_every_command_prints_on_a_cp1252_console(command: str) -> None:
    result = CliRunner(charset="cp1252").invoke(main, [*command.split(), "--help"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 0
    # The runner decodes as cp1252 what the command wrote, now UTF-8: the Vietnamese is there.
    text = result.stdout_bytes.decode("utf-8")
    assert any(letter in text for letter in "ểộệịờứ") and "\ufffd" not in text


def test_check_redirected_to_a_file_under_cp1252_writes_utf8(tmp_path: Path) -> None:
    out = tmp_path / "ket_qua.txt"
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "PYTHONUTF8": "0"}
    with out.open("wb") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "processor.cli", "check", str(SAMPLE)],
            stdout=handle,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
    assert done.returncode in (0, 1), done.stderr.decode("utf-8", "replace")
    assert b"UnicodeEncodeError" not in done.stderr
    text = out.read_text(encoding="utf-8")
    assert "đơn vị TDP01" in text and "tệp sạch" in text


def test_an_error_message_prints_on_a_cp1252_console(tmp_path: Path) -> None:
    result = CliRunner(charset="cp1252").invoke(
        main, ["check", str(SAMPLE), "--bo-tieu-chi", str(tmp_path / "khong_co.xlsx")]
    )
    assert result.exit_code == 2
    assert "Lỗi" in result.stderr_bytes.decode("utf-8")
