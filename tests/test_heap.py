"""`chatserver serve` tunes the garbage collector once started (chatserver/heap.py): what startup made is frozen,
young collections run less often, and garbage made afterwards is still collected."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc, weakref
from chatserver.heap import YOUNG_GENERATION_THRESHOLD, tune_for_serving

class Node:
    pass

startup = [Node() for _ in range(100)]
tune_for_serving()
assert gc.get_freeze_count() >= 100, gc.get_freeze_count()
assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD

cycle = Node()
cycle.self = cycle  # garbage only the collector can free
alive = weakref.ref(cycle)
del cycle
gc.collect()
assert alive() is None, "a cycle made after startup must still be collected"
print("ok")
"""


def test_tuning_freezes_startup_objects_and_still_collects_later_garbage() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
