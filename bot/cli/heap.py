"""How `pmo-bot` spends less on Python's garbage collector, and how `serve`, a process that
runs for months, keeps its memory steady.

Python keeps the memory of its small objects in arenas of its own, and the C library (glibc on
Linux, the image's and CI's) keeps the rest: large objects, the database driver's buffers, the
threads' heaps. Left to their defaults, both keep what a digest of 5,000 projects once needed
(bench/serve_memory_bench.py measures it). Four settings:

* fewer_collections (every command): the collector runs its passes less often;
* set_aside_startup_heap: what start-up made is left out of the garbage collector's passes;
* steady_c_heap: glibc gives large blocks back when freed, and keeps two heaps, not one per
  thread;
* give_back_free_memory: after each tick (once a minute), glibc returns the free pages inside
  its heaps (malloc_trim).

On another C library the last two do nothing.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from functools import cache

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
M_ARENA_MAX = -8
LARGE_BLOCK = 128 * 1024  # glibc's own starting threshold
ARENAS = 2  # the GIL lets one thread at a time allocate Python objects
YOUNG_OBJECTS = 50_000  # allocations (less deallocations) between two young-generation passes


def fewer_collections() -> None:
    """Run the garbage collector's passes about seventy times less often than Python's default
    (a young pass every YOUNG_OBJECTS allocations, not every 700; older ones every ten young
    ones, as by default). A digest of 5,000 projects builds about a million objects that all
    live until it is sent; by default the collector walks the young ones 800 times and all of
    them two or three times meanwhile, a quarter of the digest's time (0.6 to 0.8 s here,
    charged as a pause to whatever runs: an App Home opening, the preview), and frees
    nothing. What it exists for, freeing reference cycles, still happens, later: at most
    YOUNG_OBJECTS objects (a few MB) wait for it."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)


def set_aside_startup_heap() -> None:
    """What start-up made (modules, the Bolt app, compiled templates: about 170,000 objects)
    lives as long as the process, so the garbage collector is told to leave it out of its
    passes (gc.freeze): a full pass otherwise walks all of it, 100 to 150 ms on the CI
    machine, charged to whichever request or tick it interrupts; with it set aside, a pass
    walks only what requests and ticks keep (the projects' copy, caches)."""
    gc.collect()
    gc.freeze()


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library the interpreter runs on, when it is glibc (musl has no such tuning)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (only glibc has it)
    except (OSError, AttributeError):
        return None
    return libc


def steady_c_heap() -> bool:
    """Tune glibc's allocator for a long-running Python process: blocks of LARGE_BLOCK and
    more (an export's file and its copies, a digest's long lists) are given back to the
    system once freed, and threads share ARENAS heaps rather than one each. glibc otherwise
    raises its mmap threshold, up to 32 MiB, each time such a block is freed, and serves the
    next ones from its heap, which it keeps (`serve` held 10 MB more after each export of
    5,000 projects, for good); and each thread that allocates (the web server's, the
    scheduler's) gets a heap of its own, which keeps what it once held. As
    MALLOC_MMAP_THRESHOLD_=131072 and MALLOC_ARENA_MAX=2 in the environment would; neither
    when the operator set either, and nothing elsewhere than on glibc (False)."""
    libc = _glibc()
    if libc is None or {"MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX"} & set(os.environ):
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)) and bool(
        libc.mallopt(M_ARENA_MAX, ARENAS)
    )


def give_back_free_memory() -> None:
    """Return the free pages inside glibc's heaps to the system (malloc_trim). glibc gives
    back on its own only what is free at the top of a heap; what a tick freed below it (the
    database driver's buffers of a digest's reads, about 8 MB at 5,000 projects on
    PostgreSQL) stays resident otherwise. About a millisecond; nothing elsewhere than on
    glibc."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
