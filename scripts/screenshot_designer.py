"""Write docs/designer.png: the designer page on the bundled custom-layout sample.

Starts ``layoutkit design``'s server on a free port in this process, opens the page in
headless Chromium (Debian's chromium + chromedriver, through Selenium), selects a region and
saves a screenshot of the whole page::

    python scripts/screenshot_designer.py [-o docs/designer.png] [--scenario]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layoutkit.design import DesignServer, create_app  # noqa: E402
from tests.browser import save_full_page_screenshot, start_browser  # noqa: E402

WINDOW = (1440, 940)


def wait_rendered(driver, done_before: str | None, timeout: float = 20) -> None:
    """Wait until the page has answered an edit made after ``done_before``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = driver.execute_script("return document.body.dataset.done || null")
        complete = driver.execute_script(
            "const i = document.getElementById('picture'); return i.complete && i.naturalWidth > 0")
        if done is not None and done != done_before and complete:
            return
        time.sleep(0.05)
    raise TimeoutError("the designer page did not render")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "designer.png"))
    parser.add_argument("--scenario", action="store_true", help="the sample scenario instead")
    args = parser.parse_args()
    sample = ROOT / "samples" / ("scenario-demo.json" if args.scenario else "start-custom.json")
    server = DesignServer(create_app(sample)).start()
    driver = start_browser(window=WINDOW)
    try:
        driver.get(server.url)
        wait_rendered(driver, None)
        if args.scenario:
            before = driver.execute_script("return document.body.dataset.done")
            driver.execute_script("scrubTo(10.0)")
            wait_rendered(driver, before)
        else:
            before = driver.execute_script("return document.body.dataset.done")
            driver.execute_script(
                "document.getElementById('users-count').value = 3;"
                "document.getElementById('users-count').dispatchEvent(new Event('change'));")
            wait_rendered(driver, before)
            driver.execute_script("select(1)")
        time.sleep(0.3)
        path = save_full_page_screenshot(driver, args.output)
        print(f"wrote {path}")
    finally:
        driver.quit()
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
