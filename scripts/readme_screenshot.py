"""The README's screenshot of a benchmark's page, taken from a finished demo.

    .venv/bin/python scripts/readme_screenshot.py DEMO_WORKDIR [docs/benchmark-page.png]

Serves the demo's database again on loopback, logs in as the committee (the demo's
benchmark releases its results to participants only), opens the benchmark's page in
Debian's Chromium through Playwright (``medval[browser]``) and writes the PNG.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from medval.core.api import PREFIX
from medval.demo.play import DEMO_PASSWORD
from medval.server.serve import BackgroundServer
from medval.server.settings import ServerSettings

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main(workdir: Path, out: Path) -> int:
    data_dir = workdir / "server"
    if not (data_dir / "medval.db").is_file():
        print(f"error: no finished demo in {workdir} (run: medval demo --workdir {workdir})")
        return 2
    settings = ServerSettings(data_dir=data_dir, port=0)
    with BackgroundServer(settings) as server:
        login = httpx.post(
            f"{server.url}{PREFIX}/auth/token",
            json={"username": "committee", "password": DEMO_PASSWORD},
        )
        login.raise_for_status()
        token = login.json()["token"]
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            context = browser.new_context(
                viewport={"width": 1280, "height": 1150},
                extra_http_headers={"Authorization": f"Bearer {token}"},
            )
            page = context.new_page()
            page.goto(f"{server.url}/benchmarks/1")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))  # the top: facts, leaderboard, forest plot
            browser.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2].strip())
        sys.exit(2)
    target = Path(sys.argv[2]) if len(sys.argv) == 3 else Path("docs/benchmark-page.png")
    sys.exit(main(Path(sys.argv[1]), target))
