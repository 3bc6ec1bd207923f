"""Putting a run's outputs in place as a whole, together with the history (SPEC §4 step 5).

A run writes its outputs into a staging folder beside the month's folder. Publishing swaps the
two folders by renaming, then commits the history: the month's folder holds the previous whole
set or the new whole set, and the history is committed only once the new set is in place. A
journal file beside them says what was under way, so a run killed half-way is finished or
undone by the next command that takes the output folder (``recover``): the history decides, as
the new set stands only if the history committed its run.

What else the month's folder holds (the December drafts, the mails to send, a clerk's own file)
is carried into the new folder by hard links (copies where the disk has none).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from processor.domain.errors import KieumauError

MANIFEST = "nhat_ky.json"
_JOURNAL = ".doi-cho-{}.json"
_STAGING = ".dang-ghi-{}-{}"
_BACKUP = ".cu-{}-{}"


class OutputHeld(KieumauError):
    """A file of the previous outputs could not be moved: another program holds it open."""


def path_under(folder: Path, *parts: str) -> Path:
    """``folder / parts…``, refused unless it lies inside ``folder`` (a unit code or a title
    code becomes part of a file name: none may lead elsewhere)."""
    path = folder.joinpath(*parts)
    base = os.path.abspath(folder)
    if os.path.commonpath([base, os.path.abspath(path)]) != base or any(
        p in ("", ".", "..") or "/" in p or "\\" in p for p in parts
    ):
        raise KieumauError(
            f"Tên tệp '{'/'.join(parts)}' dẫn ra ngoài thư mục {folder}: mã trong Bộ tiêu chí "
            "chỉ được gồm chữ cái không dấu, chữ số, '-' và '_' (chạy kieumau catalogue check)."
        )
    return path


def staging_folder(output_root: Path, period: str, run_id: str) -> Path:
    return output_root / _STAGING.format(period, run_id[:12])


def owned_by_run(out_dir: Path) -> set[str]:
    """Top-level names of ``out_dir`` a previous run wrote (its manifest lists them)."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(manifest, dict):
        return set()
    # The folder the run wrote into, as it was named then: the clerk may have moved or copied
    # the results since, and the paths listed still name the old place.
    folders = [out_dir]
    with contextlib.suppress(TypeError):
        folders.append(Path(manifest.get("thu_muc_ket_qua")))
    owned = {MANIFEST}
    for written in manifest.get("dau_ra", []):
        for folder in folders:
            with contextlib.suppress(ValueError, TypeError):
                owned.add(Path(written).relative_to(folder).parts[0])
                break
    return owned


def _carry(source: Path, target: Path) -> None:
    """``source`` (file or folder) re-created at ``target`` by hard links, else by copies."""
    if source.is_dir() and not source.is_symlink():
        target.mkdir()
        for entry in source.iterdir():
            _carry(entry, target / entry.name)
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def held_file(folder: Path) -> Path | None:
    """A file under ``folder`` another program holds open (Excel on Windows opens a workbook
    for writing and denies that to others): the first that cannot be opened for writing."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            try:
                with path.open("r+b"):
                    pass
            except OSError:
                return path
    return None


def _held_message(out_dir: Path, exc: OSError) -> OutputHeld:
    held = held_file(out_dir) if out_dir.is_dir() else None
    what = held if held is not None else out_dir
    return OutputHeld(
        f"Không thay được kết quả cũ trong {out_dir}: tệp {what} đang được mở hoặc bị khóa "
        f"({exc.strerror or exc}). Hãy đóng tệp {what.name} (Excel, LibreOffice) rồi chạy "
        "lại. Kết quả cũ và kho lịch sử được giữ nguyên."
    )


def publish(
    staging: Path, out_dir: Path, run_id: str, commit: Callable[[], None], produced: Iterable[str]
) -> None:
    """Swap ``staging`` in as ``out_dir`` and call ``commit`` (the history's), all or nothing.

    ``produced``: the top-level names the run wrote into ``staging``; the rest of ``out_dir``
    that no earlier run wrote is carried over. Raises OutputHeld when a previous output cannot
    be moved, leaving ``out_dir`` and the history as they were."""
    root = out_dir.parent
    backup = root / _BACKUP.format(out_dir.name, run_id[:12])
    journal = root / _JOURNAL.format(out_dir.name)
    replaced = owned_by_run(out_dir) | set(produced)
    if out_dir.is_dir():
        for entry in sorted(out_dir.iterdir()):
            if entry.name not in replaced and not (staging / entry.name).exists():
                _carry(entry, staging / entry.name)
    _write_journal(journal, run_id, staging, out_dir, backup)
    moved_old = False
    try:
        if out_dir.exists():
            try:
                os.rename(out_dir, backup)
            except OSError as exc:
                raise _held_message(out_dir, exc) from exc
            moved_old = True
        os.rename(staging, out_dir)
    except BaseException:
        if moved_old and not out_dir.exists():
            os.rename(backup, out_dir)
        journal.unlink(missing_ok=True)
        raise
    try:
        commit()
    except BaseException:
        # The history did not take the run: the previous outputs go back.
        os.rename(out_dir, staging)
        if moved_old:
            os.rename(backup, out_dir)
        journal.unlink(missing_ok=True)
        raise
    _finish(journal, backup)


def _write_journal(journal: Path, run_id: str, staging: Path, out: Path, backup: Path) -> None:
    tmp = journal.with_name(journal.name + ".tmp")
    data = {"lan_chay": run_id, "dang_ghi": staging.name, "ket_qua": out.name, "cu": backup.name}
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, journal)


def _finish(journal: Path, backup: Path) -> None:
    shutil.rmtree(backup, ignore_errors=True)
    journal.unlink(missing_ok=True)


def recover(output_root: Path, committed: Callable[[str], bool]) -> list[str]:
    """Finish or undo what a killed run left under ``output_root``; ``committed(run_id)`` says
    whether the history holds that run. Left-over staging and backup folders go. Returns a
    line per month folder repaired. Call with the output folder's lock held."""
    repaired = []
    if not output_root.is_dir():
        return repaired
    for journal in sorted(output_root.glob(_JOURNAL.format("*"))):
        try:
            data = json.loads(journal.read_text(encoding="utf-8"))
            run_id, staging, out_dir, backup = (
                data["lan_chay"],
                output_root / data["dang_ghi"],
                output_root / data["ket_qua"],
                output_root / data["cu"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            journal.unlink(missing_ok=True)
            continue
        if committed(run_id):
            if not out_dir.exists() and staging.exists():
                os.rename(staging, out_dir)
            repaired.append(f"{out_dir.name}: đã hoàn tất việc ghi kết quả của lần chạy bị dừng.")
        else:
            if not staging.exists() and out_dir.exists() and backup.exists():
                # The new outputs were in place but the history never took them.
                os.rename(out_dir, staging)
            if not out_dir.exists() and backup.exists():
                os.rename(backup, out_dir)
            repaired.append(f"{out_dir.name}: đã giữ lại kết quả trước lần chạy bị dừng.")
        shutil.rmtree(staging, ignore_errors=True)
        _finish(journal, backup)
    for leftover in [*output_root.glob(".dang-ghi-*"), *output_root.glob(".cu-*")]:
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
    for tmp in output_root.glob(".doi-cho-*.json.tmp"):
        tmp.unlink(missing_ok=True)
    return repaired
