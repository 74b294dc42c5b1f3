"""Fixtures for the browser tests: a private JupyterLab server and a headless Chromium.

The server runs from this interpreter's environment (the project's ``.venv``) on a free
loopback port, with a random token, temporary config/settings/runtime/data directories and
``WIDENETS_PROFILE=quick`` for its kernels. Chromium is Debian's (``/usr/bin/chromium``, or
``WIDENETS_CHROMIUM``) driven by Playwright; it never reaches the network.

Without Chromium (or Playwright) the tests are skipped with a one-line reason, unless
``WIDENETS_REQUIRE_BROWSER=1`` (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
BUILD_DIR = REPO_ROOT / "build"
SCREENSHOTS_DIR = BUILD_DIR / "screenshots"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--metrics-recording-only",
)
VIEWPORT = {"width": 1280, "height": 860}
SERVER_START_TIMEOUT_S = 90

# JupyterLab user settings: no autosave (the notebooks on disk stay output-free), no
# network requests for news or updates, and no notification toast over the screenshots.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True,
    },
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--notebooks", default=str(NOTEBOOKS_DIR), metavar="DIR",
                     help="directory whose NN_*.ipynb notebooks the browser tests open "
                          "(default: the repository's notebooks/)")


def notebooks_dir(config: pytest.Config) -> Path:
    return Path(config.getoption("--notebooks")).resolve()


def _browser_unavailable(reason: str) -> None:
    """Skip (laptop) or fail (CI, ``WIDENETS_REQUIRE_BROWSER=1``) for a missing browser."""
    if os.environ.get("WIDENETS_REQUIRE_BROWSER", "0").strip() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (required: WIDENETS_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of Debian's Chromium; skip or fail when it (or Playwright) is missing."""
    path = os.environ.get("WIDENETS_CHROMIUM") or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        _browser_unavailable(
            f"browser tests need Chromium at {path} (apt-get install chromium, "
            "or set WIDENETS_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _browser_unavailable("browser tests need Playwright (pip install -e '.[test]')")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: its base URL, token and log file."""

    url: str
    token: str
    log: Path

    def notebook_url(self, name: str) -> str:
        """URL opening ``name`` in a fresh workspace (no tabs restored from earlier tests)."""
        workspace = Path(name).stem
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        """Call the server's REST API; returns the decoded JSON (None when empty)."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut down every kernel, so each notebook starts from a fresh one."""
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _write_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def _running(name: str, command: list[str], env: dict[str, str], cwd: Path, log: Path,
             ready: Callable[[], object]) -> Iterator[None]:
    """Run a server until the block ends (then terminate it, killing it if it lingers);
    ``ready`` raises ``OSError`` until the server answers."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=cwd)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n"
                                       f"{log.read_text(errors='replace')[-4000:]}")
                try:
                    ready()
                    break
                except OSError as err:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} did not answer within "
                                           f"{SERVER_START_TIMEOUT_S} s:\n"
                                           f"{log.read_text(errors='replace')[-4000:]}"
                                           ) from err
                    time.sleep(0.5)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


@pytest.fixture(scope="session")
def lab(chromium_executable: str, tmp_path_factory: pytest.TempPathFactory,
        pytestconfig: pytest.Config) -> LabServer:
    """JupyterLab serving ``notebooks/``; always terminated at the end of the session."""
    root = notebooks_dir(pytestconfig)
    home = tmp_path_factory.mktemp("jupyter")
    dirs = {name: home / name
            for name in ("config", "settings", "runtime", "data", "checkpoints")}
    for path in dirs.values():
        path.mkdir()
    _write_settings(dirs["settings"])
    port, token = _free_port(), secrets.token_hex(24)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_PLATFORM_DIRS="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        WIDENETS_PROFILE="quick",
        PYTHONUNBUFFERED="1",
    )
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--FileCheckpoints.checkpoint_dir={dirs['checkpoints']}",
        "--ServerApp.allow_root=True",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LanguageServerManager.autodetect=False",
    ]
    BUILD_DIR.mkdir(exist_ok=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, BUILD_DIR / "browser-jupyterlab.log")
    with _running("JupyterLab", command, env, root, server.log, lambda: server.api("status")):
        yield server


@pytest.fixture(scope="session")
def browser_context(chromium_executable: str, tmp_path_factory: pytest.TempPathFactory):
    """Headless Chromium with a fresh profile directory; always closed at the end."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_executable, headless=True,
            args=list(CHROMIUM_FLAGS), viewport=VIEWPORT, device_scale_factor=1,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def lab_page(lab: LabServer, browser_context):
    """A new browser tab; closed, and every kernel shut down, after the test."""
    page = browser_context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        page.close()
        lab.shutdown_kernels()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS_DIR



@dataclass(frozen=True)
class VoilaServer:
    """A running Voila app server (``make app``): its base URL and log file."""

    url: str
    log: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/voila/render/{name}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@pytest.fixture(scope="session")
def voila(chromium_executable: str, tmp_path_factory: pytest.TempPathFactory,
          pytestconfig: pytest.Config) -> VoilaServer:
    """Voila serving ``notebooks/`` as apps, as ``make app`` does; terminated at the end."""
    root = notebooks_dir(pytestconfig)
    home = tmp_path_factory.mktemp("voila")
    port = _free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_PLATFORM_DIRS="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        WIDENETS_PROFILE="quick",
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1",
               f"--port={port}", "--Voila.port_retries=0", str(root)]
    BUILD_DIR.mkdir(exist_ok=True)
    server = VoilaServer(f"http://127.0.0.1:{port}", BUILD_DIR / "browser-voila.log")

    def ready() -> None:
        with urllib.request.urlopen(server.url, timeout=5):
            pass

    with _running("Voila", command, env, root, server.log, ready):
        yield server
