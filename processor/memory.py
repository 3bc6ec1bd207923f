"""How the command line's batch asks the C allocator to keep freed memory (issue 7).

A batch allocates and frees hundreds of megabytes over and over: each file's rows, each
workbook's XML. glibc's malloc hands a freed block back to the system as soon as more than
128 KiB lies free at the top of its heap, and serves blocks from 128 KiB up (a growing
threshold) from fresh mappings; the next allocation then faults the same pages in again,
zeroed. A district run took 580,000-600,000 such page faults, 2.6-3.0 s of system time on
2 cores. With the settings below the memory stays in the processes for the next allocation.

Only for `kieumau run` and `kieumau demo`: the settings are process-wide, and a program that
calls run_batch itself keeps its own.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt(3) parameters, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_MIB = 1 << 20
SETTINGS = (
    (_M_TRIM_THRESHOLD, 512 * _MIB),  # free memory kept at the top of the heap
    (_M_TOP_PAD, 64 * _MIB),  # extra asked of the system each time the heap grows
    # Blocks below this come from the heap: 32 MiB is the largest every 64-bit glibc accepts.
    (_M_MMAP_THRESHOLD, 32 * _MIB),
)


def keep_freed_memory() -> bool:
    """Apply SETTINGS to this process (and so to the workers it forks); True if they were.

    Linux with glibc only: elsewhere (or without mallopt, as with musl) nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(mallopt(parameter, value) == 1 for parameter, value in SETTINGS)
