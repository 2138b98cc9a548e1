"""A throwaway JupyterLab on loopback, and a headless Chromium to drive it.

:class:`LabServer` starts ``python -m jupyterlab`` from this interpreter's
environment on 127.0.0.1, a free port and a random token, serving a folder
the test prepared (a copy of the notebooks, so running them in the browser
never touches the committed files), with its own settings and workspaces
folders (no state from, or left for, anyone's own JupyterLab). :meth:`stop`
asks the server to shut down (which stops its kernels), then kills whatever
of its process tree is still alive: kernels run in their own sessions, so
killing the server's process group alone could leave them behind.

:func:`launch_chromium` starts Debian's Chromium through Playwright, never a
browser Playwright downloads, with the flags this machine needs: no sandbox
(we are root), and no background networking (the network is closed, and
Chromium would otherwise keep trying to reach its update and sync servers).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat

CHROMIUM = os.environ.get("ESDEMO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_missing_reason() -> str | None:
    """Why the browser test cannot run here (``None`` if it can)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (f"Chromium not found at {CHROMIUM}: install Debian's package (`apt-get install -y chromium`, "
                "as .ci/run does) or set ESDEMO_CHROMIUM to a Chromium binary")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed: `pip install -e '.[test]'` (never `playwright install`)"
    return None


def skip_unless_chromium() -> None:
    """Skip this module when Chromium cannot run here, or fail it when CI requires the browser test.

    ``.ci/run`` sets ``ESDEMO_REQUIRE_BROWSER=1``: there a missing browser is an error, never a
    silent skip, so a CI that stopped running the browser test cannot pass.
    """
    import pytest

    missing = chromium_missing_reason()
    if missing is None:
        return
    if os.environ.get("ESDEMO_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ESDEMO_REQUIRE_BROWSER=1 but the browser test cannot run: {missing}", pytrace=False)
    pytest.skip(missing, allow_module_level=True)


def launch_chromium(playwright, user_data_dir: Path):
    """A headless Debian Chromium with an empty profile in ``user_data_dir`` (a persistent context)."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
        viewport={"width": 1400, "height": 1000}, chromium_sandbox=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (JupyterLab takes it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """JupyterLab serving ``root`` on 127.0.0.1; use as a context manager (it always stops)."""

    def __init__(self, root: Path, state_dir: Path, *, startup_timeout: float = 120):
        self.root, self.state_dir = Path(root), Path(state_dir)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.startup_timeout = startup_timeout
        self.log_path = self.state_dir / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The server's base address, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, notebook: str) -> str:
        """The address that opens ``notebook`` (a path under the served folder) in JupyterLab, token included."""
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def start(self) -> LabServer:
        """Start JupyterLab and wait until its REST API answers (or fail with the end of its log)."""
        for sub in ("settings", "workspaces", "runtime", "config"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        env = {**os.environ,
               "JUPYTER_RUNTIME_DIR": str(self.state_dir / "runtime"),
               "JUPYTER_CONFIG_DIR": str(self.state_dir / "config"),
               "JUPYTERLAB_SETTINGS_DIR": str(self.state_dir / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(self.state_dir / "workspaces"),
               "PYTHONHASHSEED": "0"}
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            "--ServerApp.terminals_enabled=False", "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")   # CI runs as root; JupyterLab refuses to start otherwise
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode} before answering:\n{self.log()}")
            try:
                self.api("GET", "/api/status")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        raise TimeoutError(f"JupyterLab did not answer on {self.url} within {self.startup_timeout:.0f} s:\n{self.log()}")

    def api(self, method: str, path: str, timeout: float = 10) -> object:
        """One authenticated call to the server's REST API, e.g. ``api("GET", "/api/kernels")``."""
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log(self, tail: int = 4000) -> str:
        """The last ``tail`` characters of JupyterLab's output (for failure messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Shut JupyterLab and its kernels down, politely first, then by force; never raises."""
        process = self.process
        if process is None:
            return
        tree = _descendants(process.pid)
        if process.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=5)
                process.wait(timeout=20)
            except Exception:
                pass
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for pid in tree | _descendants(process.pid):   # kernels live in their own sessions
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._log.close()
        self.process = None

    def __enter__(self) -> LabServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _descendants(root: int) -> set[int]:
    """Every live process below ``root``, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def copy_notebooks(source: Path, target: Path) -> Path:
    """Copy the course notebooks (not the generated exercises) into ``target``; returns it."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("exercises", ".ipynb_checkpoints", "__pycache__"))
    return target


# -- driving a notebook page, as a learner does ------------------------------------------------------


def wait_for_kernel(page, timeout_s: float = 120) -> None:
    """Until the status bar says the notebook's Python kernel is connected and idle.

    Running cells before that can deliver their outputs before the widget manager
    is attached, and the widget then shows as plain text "VBox(...)". If JupyterLab
    asks which kernel to start (it may, when its kernel list arrives late), accept
    its proposal (the notebook's own ``python3``).
    """
    idle = page.get_by_text(re.compile(r"^Python 3.*\| Idle$"))
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if idle.count() and idle.first.is_visible():
            return
        if dialog.count() and dialog.first.is_visible():
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        page.wait_for_timeout(250)
    status = page.locator(".jp-StatusBar-Widget").first.text_content()
    raise AssertionError(f"the notebook's kernel was not connected and idle after {timeout_s:.0f} s; "
                         f"the status bar says {status!r}")



def click_menu(page, menu: str, command: str) -> None:
    """Click ``menu`` in JupyterLab's menu bar, then its item for ``command`` (what a learner clicks)."""
    page.locator("li.lm-MenuBar-item", has=page.get_by_text(menu, exact=True)).click()
    page.locator(f"li.lm-Menu-item[data-command='{command}']").click()



def code_cells(path: Path) -> int:
    return sum(1 for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code" and cell.source.strip())



def wait_until_every_cell_ran(page, expected: int, timeout_ms: float = 240_000) -> None:
    """Every non-empty code cell shows an execution count, and the kernel is idle again."""
    page.wait_for_function(
        """(expected) => {
            const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
                .map(p => p.textContent.trim());
            const done = prompts.filter(t => /^\\[\\d+\\]:$/.test(t)).length;
            const busy = prompts.some(t => t === '[*]:');
            const idle = document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']") !== null;
            return !busy && idle && done >= expected;
        }""",
        arg=expected, timeout=timeout_ms, polling=500,
    )



def quiet_settings(settings_dir: Path) -> None:
    """No "official Jupyter news?" toast over the notebook (there is no network here anyway)."""
    path = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"fetchNews": "false", "checkForUpdates": false}')
