"""processor.memory: the allocator settings of the command line's batch."""

from __future__ import annotations

import platform
import sys

import pytest

from processor.memory import keep_freed_memory


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt's settings are glibc's",
)
def test_glibc_takes_every_setting() -> None:
    """mallopt returns 0 for a value glibc refuses: each setting must be taken."""
    assert keep_freed_memory() is True


def test_nothing_is_changed_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    assert keep_freed_memory() is False
