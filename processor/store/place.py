"""Where the store (history and archive) lives, and the stores this user has used.

The store's place never follows the folder a command is run from: it is the ``--kho`` option,
else the ``KIEUMAU_KHO`` setting (an environment variable), else ``output/kho`` in the project
folder, the folder holding ``input_templates/bo_tieu_chi.xlsx`` (or the catalogue's own folder
when it is not in an ``input_templates`` folder). Every store a run has written is remembered
in the user's settings folder, so a run about to start a new, empty store while earlier months
are recorded elsewhere says so instead of silently starting the year again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from processor.domain.errors import KieumauError

STORE_ENV = "KIEUMAU_KHO"
SETTINGS_ENV = "KIEUMAU_CAU_HINH"  # the user's settings folder (tests point it elsewhere)
HISTORY_NAME = "lich_su.sqlite"
_KNOWN = "kho_da_dung.json"


@dataclass(frozen=True)
class Places:
    """The folders a command reads and writes: results, the store, the history file."""

    output_root: Path
    workspace: Path
    history: Path
    explicit: bool = False  # the store was named (option or setting), not the default


def project_folder(catalogue_path: Path) -> Path:
    """The folder of a kieumau project: the one holding ``input_templates/``, found from the
    catalogue's place."""
    folder = catalogue_path.resolve().parent
    return folder.parent if folder.name == "input_templates" else folder


def resolve_places(
    catalogue_path: Path,
    output_root: str | Path | None = None,
    workspace: str | Path | None = None,
    history: str | Path | None = None,
) -> Places:
    """The places for a command: what the options say, else the settings, else the project's."""
    project = project_folder(catalogue_path)
    out = Path(output_root) if output_root else project / "output"
    env = os.environ.get(STORE_ENV)
    if workspace:
        kho = Path(workspace)
    elif env:
        kho = Path(env)
    else:
        kho = project / "output" / "kho"
    explicit = bool(workspace or history or env)
    return Places(out, kho, Path(history) if history else kho / HISTORY_NAME, explicit)


def settings_folder() -> Path:
    if env := os.environ.get(SETTINGS_ENV):
        return Path(env)
    if sys.platform == "win32":  # pragma: no cover
        return Path(os.environ.get("APPDATA") or Path.home()) / "kieumau"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kieumau"


def _registry() -> Path:
    return settings_folder() / _KNOWN


def known_stores() -> list[Path]:
    """History files runs of this user have written, most recent first."""
    try:
        entries = json.loads(_registry().read_text(encoding="utf-8")).get("kho", [])
    except (OSError, ValueError, AttributeError):
        return []
    ordered = sorted(
        (e for e in entries if isinstance(e, dict) and e.get("lich_su")),
        key=lambda e: str(e.get("lan_cuoi", "")),
        reverse=True,
    )
    return [Path(e["lich_su"]) for e in ordered]


def remember_store(history: Path) -> None:
    """Add ``history`` to the stores this user has used. Best effort: a settings folder that
    cannot be written only loses the warning about new stores."""
    path = _registry()
    here = str(history.resolve())
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        try:
            entries = json.loads(path.read_text(encoding="utf-8")).get("kho", [])
        except (OSError, ValueError):
            entries = []
        entries = [e for e in entries if isinstance(e, dict) and e.get("lich_su") != here]
        entries.append({"lich_su": here, "lan_cuoi": dt.datetime.now().isoformat()})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"kho": entries}, ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, path)


def recorded_periods(history: Path) -> list[str]:
    """The periods a history file records, read without changing it ([] if unreadable)."""
    if not history.is_file():
        return []
    try:
        db = sqlite3.connect(f"{history.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return []
    try:
        return [row[0] for row in db.execute("SELECT period FROM runs ORDER BY period")]
    except sqlite3.Error:
        return []
    finally:
        db.close()


def other_store_with_months(history: Path, also: Iterable[Path] = ()) -> str | None:
    """When the store ``history`` does not exist yet while another store (one this user has
    used, or one of ``also``) records months: a Vietnamese line saying where. Else None."""
    if history.exists():
        return None
    here = history.resolve()
    for other in [*known_stores(), *also]:
        if other.resolve() == here:
            continue
        periods = recorded_periods(other)
        if periods:
            return (
                f"Kho lịch sử {history} chưa có, trong khi {len(periods)} kỳ trước "
                f"({periods[0]} đến {periods[-1]}) đã được ghi ở kho {other.parent}."
            )
    return None


def check_new_store(
    history: Path, *, allow_new: bool, explicit: bool, also: Iterable[Path] = ()
) -> str | None:
    """Refuse to start the store ``history`` by default when earlier months are recorded in
    another store; ``allow_new`` (the clerk's --kho-moi) says a new store is meant. A store
    named by the clerk (``explicit``: --kho, --lich-su or the setting) is started, and the
    returned line says where the earlier months are."""
    found = other_store_with_months(history, also)
    if found is None or allow_new:
        return found
    if explicit:
        return found + " Đã bắt đầu kho mới theo --kho; nếu nhầm, hãy xóa kho mới này."
    raise KieumauError(
        f"{found} Hãy chạy lại với --kho <thư mục kho cũ> (hoặc đặt biến môi trường "
        f"{STORE_ENV}), hoặc thêm --kho-moi nếu thật sự muốn bắt đầu một kho mới."
    )
