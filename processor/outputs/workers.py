"""Worker processes that end with their parent: a run killed half-way (the clerk closes the
window, the machine's task manager ends it) leaves no workers behind holding memory and files.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor


def _end_with_parent(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        sentinel = parent.sentinel

        def watch() -> None:
            # The sentinel is ready when the parent has ended: nothing is left to work for.
            multiprocessing.connection.wait([sentinel])
            os._exit(1)

        threading.Thread(target=watch, name="kieumau-parent-watch", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def worker_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()
) -> ProcessPoolExecutor:
    """A process pool whose workers end as soon as the process that made them ends."""
    return ProcessPoolExecutor(
        workers, initializer=_end_with_parent, initargs=(initializer, initargs)
    )
