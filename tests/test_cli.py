"""Every command has Vietnamese help, is in the README, and fails cleanly on bad options."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from processor.cli import main
from processor.cli_text import CATALOGUE, MESSAGES, compiled

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "inbox" / "TDP01_2021-11.xlsx"
_LANGUAGE_BEFORE = os.environ.get("LANGUAGE")


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


# --- Click's own texts in Vietnamese (issue 21) -----------------------------------------------


def _clicks_messages() -> set[str | tuple[str, str]]:
    """Every message the installed Click passes to gettext (its `_()` and `ngettext()` calls)."""
    found: set[str | tuple[str, str]] = set()
    for path in sorted(Path(click.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id == "_" and texts:
                found.add(texts[0])
            elif node.func.id == "ngettext" and len(texts) >= 2:
                found.add((texts[0], texts[1]))
    return found


def test_every_message_of_click_has_a_vietnamese_text() -> None:
    assert _clicks_messages() - set(MESSAGES) == set()


def test_the_compiled_catalogue_is_the_table() -> None:
    """processor/locale/…/kieumau.mo is built by `python -m processor.cli_text`."""
    assert CATALOGUE.read_bytes() == compiled()


# Click's English as a user would meet it: words of its messages, and its placeholders.
_ENGLISH = re.compile(
    r"\b(Usage|Options|Commands|Arguments|Error|Try|Show|Missing|Invalid|such|Got|unexpected"
    r"|required|default|Did you mean|does not|is not|exist|Aborted|OPTIONS|COMMAND|ARGS"
    r"|TEXT|PATH|FILE|DIRECTORY|INTEGER|FLOAT|BOOLEAN|value|option|argument)\b"
)


def _error_cases(command: str) -> list[list[str]]:
    """Arguments that make ``command`` fail before it does anything."""
    words = command.split()
    cases = [[*words, "--khong-co-tuy-chon"], [*words, "thua", "tham", "so"]]
    target = main
    for word in words:
        target = target.commands[word]  # type: ignore[attr-defined]
    for param in target.params:
        if not isinstance(param, click.Option) or param.is_flag or param.name == "help":
            continue
        cases.append([*words, param.opts[0]])  # the option without its value
        if isinstance(param.type, click.types.IntParamType):
            cases.append([*words, param.opts[0], "abc"])
        if isinstance(param.type, click.Path) and param.type.exists:
            cases.append([*words, param.opts[0], "/khong/co/duong/dan"])
    if any(isinstance(p, click.Argument) for p in target.params):
        cases.append(words)  # a required argument left out
        cases.append([*words, "/khong/co/duong/dan"])
    if any(p.name == "period" for p in target.params):
        cases.append([*words, "--ky", "2021-13"])
    return cases


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_and_errors_hold_no_english_of_clicks(command: str) -> None:
    runner = CliRunner()
    texts = [runner.invoke(main, [*command.split(), "--help"], prog_name="kieumau").output]
    assert texts[0].startswith("Cách dùng: kieumau")
    for args in _error_cases(command) if command else [["khong-co-lenh"], ["--sai"]]:
        result = runner.invoke(main, args, prog_name="kieumau")
        assert result.exit_code == 2, (args, result.output)
        texts.append(result.output)
        assert "Lỗi: " in result.output
    english = [(text, m.group(0)) for text in texts for m in _ENGLISH.finditer(text)]
    assert english == []
    assert os.environ.get("LANGUAGE") == _LANGUAGE_BEFORE  # put back after each command
