"""Shared fixtures: the default catalogue and a builder of small unit workbooks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from processor.domain.catalogue import Catalogue, load_catalogue
from processor.domain.periods import Period
from processor.outputs.forms import Roster, write_form

ROOT = Path(__file__).resolve().parent.parent


def _temp_root_in_memory(root: Path = Path("/dev/shm"), room: int = 2 << 30) -> None:
    """tmp_path under /dev/shm (a RAM disk) where it has the room: the history store commits
    with synchronous=FULL and outputs are fsynced (publish.py), and on a shared machine's disk
    every fsync waits for the others' writes. Nothing a test checks depends on the disk: the
    kill tests kill processes, not the power. PYTEST_DEBUG_TEMPROOT set by hand wins; a small
    /dev/shm (a container's 64 MB) keeps pytest's own default."""
    if "PYTEST_DEBUG_TEMPROOT" in os.environ or not os.access(root, os.W_OK):
        return
    if shutil.disk_usage(root).free >= room:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(root)


_temp_root_in_memory()


def pytest_collection_finish(session: pytest.Session) -> None:
    """A selected test module's ``start_early(folder)`` runs now, before the first test: it may
    start slow work of its own processes (LibreOffice's conversions, tests/test_roundtrip.py)
    that then runs on the second core beside the modules before it, instead of holding the
    suite when its fixture asks for it. ``folder``: an empty folder of its own, removed when the
    session ends with no test failed."""
    if session.config.option.collectonly or "PYTEST_XDIST_WORKER" in os.environ:
        return  # under xdist every worker collects every module: the fixture starts its own
    modules = dict.fromkeys(getattr(item, "module", None) for item in session.items)
    for module in modules:
        start = getattr(module, "start_early", None)
        if start is not None:
            root = os.environ.get("PYTEST_DEBUG_TEMPROOT")
            folder = Path(tempfile.mkdtemp(prefix=f"kieumau-{module.__name__}-", dir=root))
            _early_folders.append(folder)
            start(folder)


_early_folders: list[Path] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests import libreoffice

    libreoffice.stop_all()
    for folder in _early_folders if not session.testsfailed else []:
        shutil.rmtree(folder, ignore_errors=True)


# Tests are deterministic: Hypothesis draws the same examples on every run and machine, so CI
# passes or fails on the code alone. To look for new cases: pytest --hypothesis-profile=explore
settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", max_examples=2_000)
settings.load_profile("default")


@pytest.fixture(scope="session", autouse=True)
def _no_user_settings(tmp_path_factory):
    """Module fixtures run before _own_settings: they too keep off the user's settings folder
    (a run remembers its store there; ~/.config/kieumau filled up with the tests' stores)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KIEUMAU_CAU_HINH", str(tmp_path_factory.mktemp("cau_hinh_chung")))
        yield


@pytest.fixture(autouse=True)
def _own_settings(tmp_path_factory, monkeypatch) -> None:
    """Each test has its own user settings folder (the stores a user has run, see
    processor.store.place) and no store set by the environment."""
    monkeypatch.setenv("KIEUMAU_CAU_HINH", str(tmp_path_factory.mktemp("cau_hinh")))
    monkeypatch.delenv("KIEUMAU_KHO", raising=False)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


ALL_PASS_CD = {f"CD0{i}": "Đạt" for i in range(1, 9)}
ALL_PASS_GD = {"GD01": 5, **{f"GD0{i}": "Đạt" for i in range(4, 10)}}


def citizen(household: str | None, name: str, born: dt.date, **values: object) -> dict:
    row: dict[str, object] = {
        "household_code": household,
        "full_name": name,
        "birth_date": born,
        "gender": "Nam",
        "registered": "Có",
        **ALL_PASS_CD,
    }
    row.update(values)
    return row


def household(code: str, head: str, **values: object) -> dict:
    row: dict[str, object] = {
        "household_code": code,
        "head_name": head,
        "address": "Phố Lê Lợi",
        "registered": "Có",
        **ALL_PASS_GD,
    }
    row.update(values)
    return row


def all_tasks_done(catalogue: Catalogue, **overrides: dict) -> pd.DataFrame:
    """Every task of the unit sheet passed, with passing values for number criteria."""
    from processor.domain.form_layout import unit_task_rows

    by_code = {c.code: c for c in catalogue.criteria}
    rows = []
    for task in unit_task_rows(catalogue):
        criterion = by_code[str(task["criterion"])]
        row = {
            "criterion": task["criterion"],
            "task": task["task"],
            "planned_month": 6,
            "self_assessment": "Đạt",
        }
        if criterion.kind in ("so", "diem"):
            row["self_assessment"] = None
            row["value"] = {
                "≥": criterion.threshold + 1,
                ">": criterion.threshold + 1,
                "<": criterion.threshold / 2,
                "≤": criterion.threshold / 2,
                None: criterion.points,
            }.get(criterion.comparator, criterion.threshold)
        row.update(overrides.get(str(task["task"] or task["criterion"]), {}))
        rows.append(row)
    return pd.DataFrame(rows)


def make_form(
    catalogue: Catalogue,
    folder: Path,
    unit_code: str,
    period: str,
    citizens: list[dict],
    households: list[dict] | None = None,
    tasks: pd.DataFrame | None = None,
    info: dict | None = None,
    name: str | None = None,
) -> Path:
    unit = catalogue.unit(unit_code)
    assert unit is not None
    roster = Roster(
        pd.DataFrame(citizens),
        pd.DataFrame(households or []),
        tasks if tasks is not None else pd.DataFrame(),
        info or {},
    )
    return write_form(
        catalogue,
        unit,
        Period.parse(period),
        folder / (name or f"{unit_code}_{period}.xlsx"),
        roster,
    )


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    """The rows of a generated sheet whose first row is its header, as label -> value."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


@pytest.fixture(scope="session")
def mail_certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for 127.0.0.1, shared by the test mail servers."""
    from tests.mailkit import self_signed

    return self_signed(tmp_path_factory.mktemp("chung_chi"))[0]


@pytest.fixture
def trusted(mail_certificate: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The servers' certificate trusted the way a clerk's own server would be: SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(mail_certificate))
    return mail_certificate


def require_aiosmtpd() -> None:
    """aiosmtpd (the test extras) is the SMTP server the sending tests talk to."""
    if importlib.util.find_spec("aiosmtpd") is None:
        mail_server_missing("aiosmtpd chưa được cài: pip install -e '.[test]'")


def mail_server_missing(reason: str) -> None:
    """Skip a test whose mail server is not installed here; fail it where the servers are
    required (``KIEUMAU_TEST_MAIL=required``, set by .ci/run), so CI never passes by skipping
    the mail tests."""
    if os.environ.get("KIEUMAU_TEST_MAIL") == "required":
        pytest.fail(f"{reason} (KIEUMAU_TEST_MAIL=required)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dovecot(mail_certificate: Path):
    """A Dovecot IMAP server on 127.0.0.1 for the session (tests/mailkit.py)."""
    from tests.mailkit import dovecot_binary, start_dovecot

    if dovecot_binary() is None:
        mail_server_missing("Dovecot (dovecot-imapd) chưa được cài: apt-get install dovecot-imapd")
    server = start_dovecot(mail_certificate)
    yield server
    server.stop()


@pytest.fixture
def smtp_server(mail_certificate: Path):
    """aiosmtpd over STARTTLS with a login, on 127.0.0.1 (tests/mailkit.py)."""
    require_aiosmtpd()
    from tests.mailkit import start_smtp

    server = start_smtp(mail_certificate)
    yield server
    server.stop()


@dataclasses.dataclass(frozen=True)
class SmallTownRun:
    """A `kieumau run` done once: its inbox, results folder and store."""

    inbox: Path
    out: Path
    kho: Path

    def options(self) -> list[str]:
        return ["--out", str(self.out), "--kho", str(self.kho)]

    def copy(self, folder: Path) -> SmallTownRun:
        """The run's results and store copied under ``folder``, for a test that writes to them
        (a copy is a few milliseconds, a run about a second)."""
        out, kho = folder / "out", folder / "kho"
        shutil.copytree(self.out, out)
        shutil.copytree(self.kho, kho)
        return SmallTownRun(self.inbox, out, kho)


@pytest.fixture(scope="session")
def small_town_november(tmp_path_factory, catalogue) -> SmallTownRun:
    """tests/test_batch.py's small town, run once for November for the tests that read the run
    (or a copy of it): every such test ran the same forms through the same command."""
    from click.testing import CliRunner

    from processor.cli import main
    from tests.test_batch import write_small_town

    root = tmp_path_factory.mktemp("thi_tran_nho")
    run = SmallTownRun(write_small_town(catalogue, root / "inbox"), root / "out", root / "kho")
    result = CliRunner().invoke(main, ["run", str(run.inbox), "--ky", "2021-11", *run.options()])
    assert result.exit_code == 0, result.output
    return run
