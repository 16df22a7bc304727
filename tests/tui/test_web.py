"""``lob tui --web``: the workstation served by textual-serve, loaded in headless Chromium."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.tui.browser import chromium_path, open_page, png_colours

SPLASH_COLOURS = 24
"""textual-serve's loading page has a handful of colours; the workstation has many more."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"lob tui --web exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")


@pytest.mark.skipif(
    chromium_path() is None,
    reason="needs Debian's chromium package (apt-get install -y chromium) to load the page",
)
def test_web_view_serves_the_workstation_to_a_browser() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lob.tui", "--web", "--port", str(port), "--symbols", "AAPL,MSFT"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # textual-serve's app children survive SIGTERM: kill the group
    )
    try:
        _wait_for_port(port, proc, 30)
        with open_page(f"http://127.0.0.1:{port}/") as page:
            deadline = time.monotonic() + 45
            colours = 0
            while time.monotonic() < deadline:
                colours = png_colours(page.screenshot())
                if colours > SPLASH_COLOURS:
                    break
                time.sleep(0.5)
            assert colours > SPLASH_COLOURS, f"the page stayed blank ({colours} colours)"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
