"""pmo-bot's garbage-collector and memory settings (bot/cli/heap.py): what each one changes, on
this machine's glibc (CI's and the image's C library)."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from bot.cli import main as cli
from bot.cli.heap import YOUNG_OBJECTS, set_aside_startup_heap, steady_c_heap


@pytest.mark.parametrize("variable", ["MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX"])
def test_serve_tunes_glibc_unless_the_operator_did(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "2")
    assert steady_c_heap() is False
    monkeypatch.delenv(variable)
    assert steady_c_heap() is True


def test_what_was_freed_below_the_heaps_top_goes_back_to_the_system() -> None:
    # 60 MB of 1 KB blocks (the C heap's, not Python's arenas: over 512 bytes each), all freed
    # but the last, which keeps the heap's top where it was: glibc keeps them resident until
    # asked to give them back. In a fresh process, whose heap holds nothing else to reuse.
    program = """
import gc
from pathlib import Path

from bot.cli.heap import give_back_free_memory


def resident_mb():
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


start = resident_mb()
blocks = [bytes(1000) + i.to_bytes(4, "little") for i in range(60_000)]
last = blocks[-1]
del blocks
gc.collect()
before = resident_mb()
give_back_free_memory()
print(before - start, before - resident_mb(), len(last))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    kept, given_back, size = done.stdout.split()
    assert float(kept) > 40, done.stdout  # freed, but still resident
    assert float(given_back) > 40, done.stdout
    assert size == "1004"


def test_serve_sets_its_startup_heap_aside_from_the_garbage_collector() -> None:
    """serve calls this once its app is built: what exists then is left out of the
    collector's passes (frozen), and what comes later is still collected."""
    try:
        set_aside_startup_heap()
        assert gc.get_freeze_count() > 10_000  # the modules and their functions, at least
        later = [[]]  # a cycle made afterwards is still found and freed
        later[0].append(later)
        del later
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()


def test_every_command_runs_the_collector_less_often() -> None:
    """In a fresh process, as `pmo-bot` starts: building 300,000 objects that all live (what a
    large digest does) costs a handful of collector passes, not hundreds, and a reference
    cycle is still freed afterwards."""
    program = """
import gc, sys
from bot.cli import main as cli

cli.run = lambda argv, environ: 0  # main() alone: its settings, no command
try:
    cli.main()
except SystemExit:
    pass
passes = gc.get_stats()[0]["collections"]
kept = [[i] for i in range(300_000)]
print(gc.get_threshold()[0], gc.get_stats()[0]["collections"] - passes, len(kept))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    threshold, passes, kept = map(int, done.stdout.split())
    assert threshold == YOUNG_OBJECTS
    assert passes <= 300_000 // YOUNG_OBJECTS + 1  # Python's default makes about 430 here
    assert kept == 300_000


def test_the_collector_setting_is_the_process_own_not_run_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tests call `run` in their own process: it leaves the collector as it found it."""
    before = gc.get_threshold()
    assert cli.run(["--version"], environ={}) == 0
    assert gc.get_threshold() == before
