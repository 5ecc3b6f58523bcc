"""A real headless browser for tests: Debian's Chromium driven by Selenium.

``browser`` (a pytest fixture, imported by conftest.py) yields a WebDriver with a 1280x1600
window, or skips when Chromium, chromedriver or Selenium is missing.  The browser and driver
are Debian's (``/usr/bin/chromium``, ``/usr/bin/chromedriver``), given to Selenium explicitly
so Selenium Manager never tries to download one.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("LAYOUTKIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("LAYOUTKIT_CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW = (1280, 1600)
MISSING = "chromium/chromedriver not installed: apt-get install chromium chromium-driver"


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def start_browser(*, window: tuple[int, int] = WINDOW) -> Any:
    """Start headless Chromium (one tab, device scale 1); ``pytest.skip`` when unavailable."""
    if not (_executable(CHROMIUM) and _executable(CHROMEDRIVER)):
        pytest.skip(MISSING)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium not installed: python -m pip install -e '.[test]'")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager go online
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--mute-audio",
                f"--window-size={window[0]},{window[1]}"):
        options.add_argument(arg)
    service = Service(executable_path=CHROMEDRIVER, log_output=os.devnull)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception as exc:  # a broken install: say so and skip, as when it is missing
        pytest.skip(f"{MISSING} (it failed to start: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''})")
    driver.set_window_size(*window)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Yield a headless Chromium WebDriver (window 1280x1600), shared by the session's tests."""
    driver = start_browser()
    try:
        yield driver
    finally:
        driver.quit()


def open_file(driver: Any, path: str | os.PathLike[str]) -> None:
    """Load a local file (``file://`` URL) and wait until it has loaded."""
    driver.get(Path(path).resolve().as_uri())
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (document.readyState === 'complete') done(true);"
        "else window.addEventListener('load', () => done(true));")


def save_full_page_screenshot(driver: Any, path: str | os.PathLike[str]) -> Path:
    """Save a screenshot of the whole page (beyond the window) as a PNG at ``path``.

    Uses the DevTools protocol's ``Page.captureScreenshot`` with the page's content size, at
    CSS pixel scale 1.
    """
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width, height = round(size["width"]), round(size["height"])
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "fromSurface": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    tmp.write_bytes(base64.b64decode(shot["data"]))
    os.replace(tmp, dest)
    return dest


def have_browser() -> bool:
    """Tell whether Chromium, chromedriver and Selenium are all installed."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return _executable(CHROMIUM) and _executable(CHROMEDRIVER)
