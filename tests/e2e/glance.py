"""After Enter, is what a glance needs inside the viewport — the leader, the five indicators and the four moves'
texts, not hidden under the pinned note field — and how long did it take? Used by the browser test (asserts it
after each observation) and by bench/glance_bench.py (reports the times)."""

from __future__ import annotations

from playwright.async_api import Page

# Runs in the page: resolves with the milliseconds from now until the moves of a new observation (a moves key
# other than the one on screen before) and everything else a glance needs are in view.
_WATCH = """
(before) => {
  const visible = (el, floor) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= floor && r.right <= innerWidth;
  };
  const inView = () => {
    const bar = document.getElementById('note-bar');
    const floor = bar ? bar.getBoundingClientRect().top : innerHeight;
    const moves = document.querySelector('.moves');
    if (!moves || moves.dataset.key === before || moves.dataset.key === '') return false;
    const leader = document.querySelector('.glance .leader');
    const indicators = [...document.querySelectorAll('.glance .indicator')];
    const texts = [...document.querySelectorAll('.move-card .move-text')];
    return leader && visible(leader, floor) && indicators.length === 5 && indicators.every((e) => visible(e, floor))
      && texts.length === 4 && texts.every((e) => visible(e, floor));
  };
  const started = performance.now();
  window.__glance = new Promise((resolve) => {
    const check = () => (inView() ? resolve(performance.now() - started) : requestAnimationFrame(check));
    requestAnimationFrame(check);
  });
}
"""


async def moves_key(page: Page) -> str:
    return str(await page.evaluate("document.querySelector('.moves')?.dataset.key ?? ''"))


async def observe_and_glance(page: Page, text: str, timeout_ms: float = 20_000) -> float:
    """Type ``text`` into the note field, press Enter, and wait until the glance is in view; the milliseconds."""
    before = await moves_key(page)
    field = page.locator("#observation")
    await field.fill(text)
    await page.evaluate(_WATCH, before)
    await field.press("Enter")
    elapsed: float = await page.evaluate(
        f"Promise.race([window.__glance, new Promise((_, no) => setTimeout(() => no('not in view'), {timeout_ms}))])"
    )
    return elapsed


CONVERSATION = (  # ten notes of one conversation, as a salesperson types them between sentences
    "Klientka z mężem, dwójka małych dzieci, szukają auta rodzinnego",
    "Pyta o foteliki Isofix i wyniki testów zderzeniowych",
    "Martwi się zasięgiem zimą, jeżdżą do dziadków 300 km",
    "Mają garaż, pytają o wallbox i koszt ładowania w domu",
    "Mąż pyta o leasing na firmę, prowadzi działalność",
    "Budżet do 250 tys. zł, chcą zdecydować do końca miesiąca",
    "Porównują z ofertą Skody, tam szybsza dostawa",
    "Pytają o gwarancję na baterię",
    "Chcą jazdę próbną w sobotę z dziećmi",
    "Dopytuje o termin dostawy i zaliczkę",
)
