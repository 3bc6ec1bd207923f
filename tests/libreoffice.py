"""LibreOffice for the tests: a headless `soffice --convert-to` with a profile of its own.

Each conversion gets a private profile (-env:UserInstallation) under the test's folder, so
tests never touch the user's LibreOffice and two conversions can run side by side. Every file
of one conversion goes in one soffice call: starting LibreOffice is most of its time.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TIMEOUT = 300  # seconds for one soffice call, whatever it converts


def require_soffice() -> None:
    """Skip when LibreOffice is not installed, or fail where it must be
    (``KIEUMAU_TEST_LO=required``, set by .ci/run): CI never passes by skipping."""
    if shutil.which("soffice") is not None:
        return
    reason = "needs LibreOffice: `soffice` is not on PATH (libreoffice-calc-nogui)"
    if os.environ.get("KIEUMAU_TEST_LO") == "required":
        pytest.fail(f"{reason} (KIEUMAU_TEST_LO=required)")
    pytest.skip(reason)


def start(
    files: list[Path], fmt: str, outdir: Path, profile: Path, registry: str = ""
) -> subprocess.Popen:
    """Start converting ``files`` to ``fmt`` in ``outdir``; ``registry``: the profile's
    registrymodifications.xcu (a locale, say), written before LibreOffice starts."""
    (profile / "user").mkdir(parents=True, exist_ok=True)
    if registry:
        (profile / "user" / "registrymodifications.xcu").write_text(registry, encoding="utf-8")
    command = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless"]
    command += ["--norestore", "--convert-to", fmt, "--outdir", str(outdir), *map(str, files)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _started.append(run)
    return run


_started: list[subprocess.Popen] = []
_queue: list[concurrent.futures.ThreadPoolExecutor] = []


class Queued:
    """A conversion queued to run in the background, one queued conversion at a time: while
    the tests keep one core busy, LibreOffice has the other. ``files``… as for ``start``."""

    def __init__(
        self, files: list[Path], fmt: str, outdir: Path, profile: Path, registry: str = ""
    ) -> None:
        self.args = (files, fmt, outdir, profile, registry)
        if not _queue:
            _queue.append(concurrent.futures.ThreadPoolExecutor(1, "libreoffice"))
        self.future = _queue[0].submit(self._convert)
        self.run: subprocess.Popen | None = None

    def _convert(self) -> list[Path]:
        files, fmt, outdir, *_ = self.args
        return finish(start(*self.args), files, fmt, outdir)

    def start_now(self) -> None:
        """Not started yet: start it at once, beside the one running (the tests wait)."""
        if self.future.cancel():
            self.run = start(*self.args)

    def result(self) -> list[Path]:
        files, fmt, outdir, *_ = self.args
        if self.run is not None:
            return finish(self.run, files, fmt, outdir)
        return self.future.result()


def stop_all() -> None:
    """Drop the queued conversions and kill those still running (a session stopped before
    its tests waited for them: -x, Ctrl-C); called when the session ends."""
    for queue in _queue:
        queue.shutdown(wait=False, cancel_futures=True)
    _queue.clear()
    for run in _started:
        if run.poll() is None:
            run.kill()
            run.communicate()
    _started.clear()


def finish(run: subprocess.Popen, files: list[Path], fmt: str, outdir: Path) -> list[Path]:
    """Wait for a conversion ``start`` began; the converted files, in the order of ``files``."""
    try:
        log = run.communicate(timeout=TIMEOUT)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        pytest.fail(f"soffice --convert-to {fmt} took more than {TIMEOUT} s")
    assert run.returncode == 0, log
    made = [outdir / f"{path.stem}.{fmt.split(':')[0]}" for path in files]
    missing = [p.name for p in made if not p.exists()]
    assert not missing, f"soffice made no {missing}: {log}"
    return made


def convert(files: list[Path], fmt: str, outdir: Path, profile: Path) -> list[Path]:
    """``files`` converted to ``fmt`` in one soffice call."""
    return finish(start(files, fmt, outdir, profile), files, fmt, outdir)
