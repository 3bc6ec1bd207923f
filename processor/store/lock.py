"""One run at a time on a store: an exclusive lock held by the operating system (SPEC §4).

The lock is a small file holding who took it (machine, process, command, since when). The
operating system releases the lock itself when its holder ends, however it ends: a lock file
still naming a holder when the lock is free is what a crashed run left (``previous``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
from pathlib import Path

from processor.domain.errors import KieumauError

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    # Windows locks byte ranges and forbids others to read a locked one: the lock is taken on
    # a byte far past the holder's description, which others then read.
    _FAR = 1 << 20

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _FAR, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _FAR, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    # A POSIX record lock belongs to the process: the workers it forks do not hold it, so it
    # ends with the run even if a worker outlives it for a moment.
    def _try_lock(fd: int) -> bool:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # EAGAIN or EACCES: held by another process
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.lockf(fd, fcntl.LOCK_UN)


class StoreBusy(KieumauError):
    """Another run holds the store."""


def _describe(holder: dict) -> str:
    since = holder.get("tu_luc", "?")
    with contextlib.suppress(ValueError, TypeError):
        since = dt.datetime.fromisoformat(since).strftime("%H:%M:%S ngày %d/%m/%Y")
    return (
        f"máy {holder.get('may', '?')}, tiến trình {holder.get('tien_trinh', '?')}, "
        f"lệnh `{holder.get('lenh', '?')}`, từ {since}"
    )


class StoreLock:
    """Exclusive use of what ``path`` guards (a store, an output folder); a context manager.

    ``what`` names it in messages ("kho lịch sử …"). Entering raises StoreBusy, naming the
    holder, when another process holds it; ``previous`` is then the description a holder that
    ended without releasing left behind (None after a clean release)."""

    def __init__(self, path: Path, what: str, command: str | None = None) -> None:
        self.path = path
        self.what = what
        self.command = command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
        self.previous: dict | None = None
        self._fd: int | None = None

    @property
    def previous_text(self) -> str:
        return _describe(self.previous or {})

    def __enter__(self) -> StoreLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            holder = _read(fd)
            os.close(fd)
            raise StoreBusy(
                f"{self.what} đang được dùng bởi một lần chạy khác ({_describe(holder)}). "
                "Hãy đợi lần chạy đó xong rồi chạy lại; nếu tiến trình đó đã bị tắt, lệnh "
                "sẽ tự nhận ra và chạy được."
            )
        self._fd = fd
        self.previous = _read(fd) or None
        mine = {
            "may": socket.gethostname(),
            "tien_trinh": os.getpid(),
            "lenh": self.command,
            "tu_luc": dt.datetime.now().replace(microsecond=0).isoformat(),
        }
        _write(fd, json.dumps(mine, ensure_ascii=False).encode("utf-8", "replace"))
        return self

    def __exit__(self, *exc: object) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            _write(fd, b"")  # released cleanly: the next holder finds nothing to report
        _unlock(fd)
        os.close(fd)


def _read(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, 4096)
    try:
        holder = json.loads(data.decode("utf-8", "replace")) if data.strip() else {}
    except ValueError:
        return {"lenh": "?"}
    return holder if isinstance(holder, dict) else {"lenh": "?"}


def _write(fd: int, data: bytes) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    os.write(fd, data)
