"""Real JavaScript clients under Node: each package folder (tests/node, tests/node_*) pins its npm packages in a
package-lock.json and is installed with `npm ci` on first use; each scenario script prints JSON lines on stdout.

Use `node_package("node_cognito")` for a folder's path (installed), and `NodeScript` / the `run_node` fixture
(tests/node) or `start_node(folder, ...)` to run a script in it.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
NODE_DIR = TESTS_DIR / "node"
WAIT_SECONDS = 40.0  # liveness bound on one awaited line; the scripts stop themselves after 30 s


def node_package(folder: str = "node") -> Path:
    """tests/<folder> with its pinned packages installed (`npm ci` when node_modules is missing); skips without Node."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node 20 and npm are needed for the JavaScript client tests")
    directory = TESTS_DIR / folder
    if not (directory / "node_modules").is_dir():
        _npm_ci(npm, directory)
    return directory


def _npm_ci(npm: str, directory: Path, attempts: int = 2) -> None:
    """`npm ci` from the local cache where it can (the registry is slow at times here: revalidating every cached
    package once took over 10 minutes), with a second try after a failed or timed-out one."""
    command = [npm, "ci", "--prefix", str(directory), "--no-audit", "--no-fund", "--prefer-offline"]
    for attempt in range(1, attempts + 1):
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=900)
            return
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            shutil.rmtree(directory / "node_modules", ignore_errors=True)  # half an install is no install
            if attempt == attempts:
                raise


class NodeScript:
    """One scenario script running under Node; its stdout JSON lines are read as events."""

    def __init__(self, directory: Path, script: str, config: dict[str, Any], env: dict[str, str]) -> None:
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._process = subprocess.Popen(
            [shutil.which("node") or "node", str(directory / script), json.dumps(config)],
            cwd=directory,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith("{"):
                self._events.put(json.loads(line))
        self._events.put(None)

    def expect(self, event: str) -> dict[str, Any]:
        """The next line of kind `event`, skipping informational ones; fails on a terminal line of another kind."""
        while True:
            try:
                line = self._events.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                raise AssertionError(f"no {event!r} from the Node client; saw {self.seen}") from None
            if line is None:
                raise AssertionError(f"Node client ended before {event!r}; saw {self.seen}; {self.stderr()}")
            self.seen.append(line)
            if line["event"] == event:
                return line
            if line["event"] in {"error", "timeout", "crash", "done"}:
                raise AssertionError(f"expected {event!r}, got {line}; saw {self.seen}; {self.stderr()}")

    def send(self, message: dict[str, Any]) -> None:
        """One JSON line to the script's stdin (for scripts that take commands, e.g. a code read from the log)."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(message) + "\n")
        self._process.stdin.flush()

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def wait(self) -> int:
        return self._process.wait(timeout=WAIT_SECONDS)

    def stderr(self) -> str:
        if self._process.poll() is None or self._process.stderr is None:
            return ""
        return self._process.stderr.read()[-2000:]

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(timeout=WAIT_SECONDS)
        for stream in (self._process.stdin, self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()
        self._reader.join(timeout=WAIT_SECONDS)


StartNode = Callable[..., NodeScript]  # (script, config, token, **env) -> a running NodeScript
