"""Helpers for tests/test_serve_browser.py: `kubeflow-tui serve` seen by a real browser.

* ``ServeProcess`` starts ``python -m kubeflow_tui serve --host 127.0.0.1 --port N`` in its
  own process group (the server, and the app processes it starts for each browser) and
  kills the whole group when done.
* ``Chromium`` starts Debian's Chromium headless in its own process group, with a fresh
  profile and the flags that keep it off the network (no background requests, no
  component updates, every host name but 127.0.0.1 unresolvable), and talks to it with a
  tiny DevTools-protocol client over aiohttp's websocket (aiohttp comes with
  textual-serve, so the test needs no browser driver package).
* ``XTERM_TRAP`` / ``READ_SCREEN`` read what the page's terminal shows.  textual-serve draws
  with xterm.js through its WebGL or canvas renderer, so the rows are pixels, not DOM text;
  and its xterm ``Terminal`` lives in a local variable of textual.js.  The trap, installed
  before the page's scripts run, catches the Terminal when textual.js stores it
  (``this.terminal = new Terminal(...)``) and keeps it in ``window.__kftTerminal``;
  ``READ_SCREEN`` then reads xterm's own buffer: the text of every visible row and the
  colours of every cell.

Everything is bounded by timeouts; nothing outside 127.0.0.1 is contacted.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REQUIRE_ENV = "KUBEFLOW_TUI_REQUIRE_BROWSER"
CHROMIUM_ENV = "KUBEFLOW_TUI_CHROMIUM"

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    # A name lookup for anything but 127.0.0.1 fails inside the browser, so a page that
    # asks for an outside URL still shows up in the request log but never reaches out.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,800",
)


def browser_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def find_chromium() -> str | None:
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return shutil.which(explicit)
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_unavailable_reason() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    missing = []
    try:
        import aiohttp  # noqa: F401  (comes with textual-serve)
        import textual_serve  # noqa: F401
    except ImportError:
        missing.append("textual-serve (pip install '.[serve]')")
    if find_chromium() is None:
        missing.append("chromium (apt-get install chromium)")
    if missing:
        return "the browser test needs " + " and ".join(missing)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_group(proc: subprocess.Popen, grace: float = 2.0) -> None:
    """End ``proc`` and everything in its process group (it was started as a session leader)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Children (the app processes, chromium's renderers) may outlive the leader.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass


class ServeProcess:
    """``kubeflow-tui serve`` on 127.0.0.1:port, as a subprocess."""

    def __init__(
        self, workdir: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = workdir / f"serve-{self.port}.log"
        self.argv = [
            sys.executable, "-m", "kubeflow_tui",
            "serve", *args, "--host", "127.0.0.1", "--port", str(self.port),
        ]
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "ServeProcess":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            _kill_group(self.proc)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float) -> str:
        """Wait until the server answers GET /; return the page's HTML."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"serve exited with {self.proc.returncode} before answering:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(self.url, timeout=2) as resp:
                    return resp.read().decode("utf-8")
            except OSError as exc:
                last = exc
                time.sleep(0.1)
        raise TimeoutError(f"serve did not answer {self.url} within {timeout}s ({last}):\n{self.log()}")


class Chromium:
    """Headless Chromium with a DevTools-protocol connection to one page."""

    def __init__(self, workdir: Path):
        self.exe = find_chromium()
        assert self.exe is not None
        self.profile = workdir / "chromium-profile"
        self.profile.mkdir()
        self.log_path = workdir / "chromium.log"
        self.proc: subprocess.Popen | None = None
        self.events: list[dict[str, Any]] = []
        self._ws = None
        self._session = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None

    # -- process ---------------------------------------------------------------------

    def start(self) -> None:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)
        if hasattr(self, "_log"):
            self._log.close()

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    async def _devtools_port(self, timeout: float) -> int:
        """Chromium writes the port it picked to DevToolsActivePort in the profile."""
        assert self.proc is not None
        path = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}:\n{self.log()}")
            try:
                first = path.read_text().splitlines()[0]
                return int(first)
            except (OSError, IndexError, ValueError):
                await asyncio.sleep(0.05)
        raise TimeoutError(f"chromium did not open its DevTools port within {timeout}s:\n{self.log()}")

    # -- DevTools protocol -----------------------------------------------------------

    async def connect(self, timeout: float) -> None:
        import aiohttp

        port = await self._devtools_port(timeout)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
        deadline = time.monotonic() + timeout
        page_ws = None
        while page_ws is None:
            async with self._session.get(f"http://127.0.0.1:{port}/json/list") as resp:
                targets = await resp.json(content_type=None)
            page_ws = next(
                (t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"), None
            )
            if page_ws is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"chromium shows no page target: {targets}")
                await asyncio.sleep(0.05)
        self._ws = await self._session.ws_connect(page_ws, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def _read(self) -> None:
        import aiohttp

        async for msg in self._ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if "id" in data:
                fut = self._pending.pop(data["id"], None)
                if fut is not None and not fut.done():
                    fut.set_result(data)
            else:
                self.events.append(data)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("DevTools connection closed"))

    async def send(self, method: str, timeout: float = 10, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = fut
        await self._ws.send_str(json.dumps({"id": self._next_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(fut, timeout)
        if "error" in reply:
            raise RuntimeError(f"DevTools {method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    # -- what the page did -----------------------------------------------------------

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for: documents, scripts, styles, fonts, images,
        fetch/XHR (Network.requestWillBeSent) and websockets (Network.webSocketCreated)."""
        urls = []
        for ev in self.events:
            if ev.get("method") == "Network.requestWillBeSent":
                urls.append(ev["params"]["request"]["url"])
            elif ev.get("method") == "Network.webSocketCreated":
                urls.append(ev["params"]["url"])
        return urls

    def page_errors(self) -> list[str]:
        out = []
        for ev in self.events:
            if ev.get("method") == "Runtime.exceptionThrown":
                d = ev["params"]["exceptionDetails"]
                out.append(d.get("exception", {}).get("description") or d.get("text", "?"))
            elif ev.get("method") == "Network.loadingFailed":
                out.append(f"load failed: {ev['params'].get('errorText')}")
        return out


# Installed with Page.addScriptToEvaluateOnNewDocument, so it runs before textual.js.
XTERM_TRAP = r"""
(() => {
  const KEY = "terminal";
  Object.defineProperty(Object.prototype, KEY, {
    configurable: true,
    get() { return undefined; },
    set(value) {
      Object.defineProperty(this, KEY, {
        value, writable: true, configurable: true, enumerable: true,
      });
      try {
        if (!window.__kftTerminal && value && value.buffer && value.buffer.active
            && typeof value.buffer.active.getLine === "function") {
          window.__kftTerminal = value;
        }
      } catch (e) {}
    },
  });
})();
"""

# The visible rows of the page's terminal, and the colours its cells use.
READ_SCREEN = r"""
(() => {
  const t = window.__kftTerminal;
  if (!t) return null;
  const b = t.buffer.active;
  const lines = [];
  const colours = new Set();
  let cell = undefined;
  // A cell's colour: "#rrggbb" (truecolor) or "pN" (palette index N); default: none.
  const hex = (v) => "#" + v.toString(16).padStart(6, "0");
  for (let y = 0; y < t.rows; y++) {
    const line = b.getLine(b.viewportY + y);
    if (!line) { lines.push(""); continue; }
    lines.push(line.translateToString(true));
    for (let x = 0; x < t.cols; x++) {
      cell = line.getCell(x, cell);
      if (!cell) continue;
      if (!cell.isFgDefault()) colours.add(cell.isFgRGB() ? hex(cell.getFgColor()) : "p" + cell.getFgColor());
      if (!cell.isBgDefault()) colours.add(cell.isBgRGB() ? hex(cell.getBgColor()) : "p" + cell.getBgColor());
    }
  }
  return {cols: t.cols, rows: t.rows, lines, colours: [...colours].sort()};
})()
"""


def is_grey(colour: str) -> bool:
    """A colour READ_SCREEN reported ('#rrggbb' or 'pN', a palette index) is a grey."""
    if colour.startswith("#"):
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return max(r, g, b) - min(r, g, b) <= 2
    n = int(colour[1:])
    return n in (0, 7, 8, 15) or 232 <= n <= 255
