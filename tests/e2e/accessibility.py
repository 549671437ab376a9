"""Accessibility checked the way a browser sees the page: axe-core (WCAG 2.1 A and AA rules, from the npm registry
into .tools/axe by scripts/bootstrap) on the screen as it is, and every visible control at least 44x44 px."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

AXE = Path(__file__).resolve().parents[2] / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TAP = 44

CONTROLS = ", ".join(
    ["button", "a[href]", "input", "select", "textarea", "summary"]
    + [f'[role="{role}"]' for role in ("button", "tab", "radio", "checkbox", "combobox")]
)
_SMALL_TARGETS = """
(args) => {
  // The page and every open shadow root in it (the web widget lives in one).
  const all = (root) => [...root.querySelectorAll(args.controls),
    ...[...root.querySelectorAll('*')].filter((e) => e.shadowRoot).flatMap((e) => all(e.shadowRoot))];
  return all(document)
  // A Radix text field's target is its whole frame (a tap anywhere in it focuses the input); a checkbox's is
  // its label (a tap on the label ticks it).
  .map((e) => e.closest('.rt-TextFieldRoot') || (e.type === 'checkbox' && e.closest('label')) || e)
  .filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden' && e.type !== 'hidden'
      && !e.closest('[aria-hidden="true"]') && !e.classList.contains('skip-link')
      && (r.width < args.tap - 0.5 || r.height < args.tap - 0.5);
  })
  .map((e) => {
    const r = e.getBoundingClientRect();
    const name = (e.getAttribute('aria-label') || e.textContent || e.name || '').trim().slice(0, 40);
    return `${e.tagName.toLowerCase()} "${name}" ${Math.round(r.width)}x${Math.round(r.height)}`;
  });
}
"""


async def axe_violations(page: Page) -> list[str]:
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a script tag: the pages' Content-Security-Policy rightly forbids inline scripts.
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found = await page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map((v) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`)",
        TAGS,
    )
    return list(found)


async def small_targets(page: Page) -> list[str]:
    return list(await page.evaluate(_SMALL_TARGETS, {"controls": CONTROLS, "tap": TAP}))


async def check_accessible(page: Page, screen: str) -> None:
    """Fails with every problem found on this screen, named, so that one run shows them all."""
    # A dialog or tab still fading in has its colours part-way (axe then reads a contrast the user never sees).
    await page.wait_for_function("document.getAnimations().every((a) => a.playState !== 'running')", timeout=5_000)
    problems = [*await axe_violations(page), *(f"target under 44x44: {t}" for t in await small_targets(page))]
    assert not problems, f"{screen} ({page.viewport_size}):\n  " + "\n  ".join(problems)
