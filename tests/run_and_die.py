"""Run a kieumau command in this process and kill the process (SIGKILL: what the task manager,
a closed window or a power cut does, with no clean-up) at a named moment of the run. The
fault-injection tests start it as a real subprocess:

    python tests/run_and_die.py MOMENT run INBOX --ky 2021-11 …

MOMENT is one of MOMENTS, or "never" (run to the end); "hold" stops the run for good (a
sleep) once it has taken the store, for the test of two runs at once.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import processor.batch as batch
import processor.outputs.publish as publish
from processor.cli import main
from processor.store.history import History


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def after_calls(owner: object, name: str, calls: int, then=die) -> None:
    """``owner.name`` does ``then`` on its ``calls``-th call, before doing its work."""
    original = getattr(owner, name)
    count = [0]

    def wrapped(*args, **kwargs):
        count[0] += 1
        if count[0] == calls:
            then()
        return original(*args, **kwargs)

    setattr(owner, name, wrapped)


def before_renaming_the_staging_folder() -> None:
    """Between the two renames of the swap: the previous outputs moved aside, the new ones not
    yet in place."""
    rename = os.rename

    def wrapped(src, dst, *args, **kwargs):
        if ".dang-ghi-" in os.fspath(src):
            die()
        return rename(src, dst, *args, **kwargs)

    os.rename = wrapped


def hold() -> None:
    print("giu-kho", flush=True)
    time.sleep(600)


MOMENTS = {
    # The second file archived as it is read: the workers are reading the others.
    "reading": lambda: after_calls(batch, "archive", 2),
    # The history saved (not committed), the workers writing feedback and forms.
    "writing": lambda: after_calls(batch, "write_summary", 1),
    "swapping": before_renaming_the_staging_folder,
    # The new outputs in place, the history not yet committed.
    "committing": lambda: after_calls(History, "commit", 1),
    # Committed, the previous outputs not yet removed.
    "finishing": lambda: after_calls(publish, "_finish", 1),
    # quyet-dinh: the first draft awaited from the workers rendering them.
    "drafting": lambda: after_calls(concurrent.futures.Future, "result", 1),
    "hold": lambda: after_calls(batch, "_gather", 1, then=hold),
    "never": lambda: None,
}

if __name__ == "__main__":
    MOMENTS[sys.argv[1]]()
    sys.argv = ["kieumau", *sys.argv[2:]]  # as the installed command shows itself
    main(sys.argv[1:], prog_name="kieumau")
