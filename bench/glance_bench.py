"""The glance: from Enter in the cockpit to the leader, the five indicators and the four moves' texts all inside
the viewport (not under the pinned note field), in a real browser against the real product.

Starts `sufler up` (embedded PostgreSQL, the shipped pack, fastembed, the production-built cockpit; no LLM, so the
moves are the playbook's — the default a new user has) and drives Debian's Chromium through Playwright: a new
client per round, the same ten-note Polish conversation as the browser test, at 390x844 and 1440x900, a note every
1.5 s (faster, the socket's rate limit of one note a second holds notes back and the times measure the limit).
The clock starts just before Enter and stops at the first animation frame where everything is in view.

    .venv/bin/python bench/glance_bench.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.product import running_product
from bench.stats import percentile
from tests.e2e.conftest import FLAGS, SIZES
from tests.e2e.glance import CONVERSATION, observe_and_glance


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(rounds: int, pause: float) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as data:
        env = {"SUFLER_COCKPIT_ENABLED": "true", "SUFLER_COCKPIT_PORT": str(free_port())}
        async with running_product(data, **env) as product, async_playwright() as p:
            assert product.cockpit, "sufler up did not start the cockpit"
            browser = await p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
            print(f"{'size':<8} {'Enters':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
            for size in ("phone", "laptop"):
                times: list[float] = []
                for number in range(rounds):
                    page = await browser.new_page(viewport=SIZES[size])  # type: ignore[arg-type]
                    await page.goto(product.cockpit)
                    await page.fill("#username", product.username)
                    await page.fill("#password", product.password)
                    await page.keyboard.press("Enter")
                    await page.get_by_label("client name").fill(f"Glance {size} {number}")
                    await page.get_by_role("button", name=re.compile("^(Nowy klient|New client)$")).click()
                    await page.locator("#observation").wait_for()
                    for note in CONVERSATION:
                        times.append(await observe_and_glance(page, note))
                        await asyncio.sleep(pause)  # a salesperson's pace (the socket allows 1 note/s steadily)
                    await page.close()
                print(
                    f"{size:<8} {len(times):>6} {statistics.median(times):>7.0f} {percentile(times, 95):>7.0f}"
                    f" {max(times):>7.0f}"
                )
            await browser.close()
    print(f"({os.cpu_count()} cores; no LLM: moves from the playbook; times include the browser's rendering)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="conversations of ten notes per screen size")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between two notes")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.pause))
