"""Every command has Vietnamese help, is in the README, and fails cleanly on bad options."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from processor.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "inbox" / "TDP01_2021-11.xlsx"


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix}{name} ")
        else:
            names.append(f"{prefix}{name}")
    return names


COMMANDS = _commands(main)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_documented(command: str) -> None:
    result = CliRunner().invoke(main, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert len(result.output.splitlines()) > 3
    assert f"kieumau {command}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_bad_period_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(tmp_path), "--ky", "2021-13"])
    assert result.exit_code == 2
    assert "tháng phải từ 1 đến 12" in result.output


def test_check_a_clean_sample_form() -> None:
    result = CliRunner().invoke(main, ["check", str(SAMPLE), "--ky", "2021-11"])
    assert result.exit_code == 0, result.output
    assert "SẠCH" in result.output and "1/1 tệp sạch" in result.output


def test_check_reports_a_wrong_period() -> None:
    result = CliRunner().invoke(main, ["check", str(SAMPLE), "--ky", "2021-10"])
    assert result.exit_code == 1
    assert "FILE_OTHER_PERIOD" in result.output


def test_forms_for_unknown_unit_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["forms", "--ky", "2021-12", "--out", str(tmp_path), "--don-vi", "XYZ", "--trong"]
    )
    assert result.exit_code == 2
    assert "XYZ" in result.output and "TDP01" in result.output
