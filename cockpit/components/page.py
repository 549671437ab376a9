"""What every screen of the cockpit has besides its content: the keyboard's Escape, the page language, and the
few styles Radix does not give (the skip link)."""

from __future__ import annotations

import reflex as rx

from backend.domain.protocol.cockpit import MAX_TEXT
from cockpit.state.live import CockpitState as S

# Escape closes what is open inline (an indicator's why, a move's why, a knowledge card) and puts the cursor
# back in the note field; the dialogs (strategy, advisor) close themselves on Escape and do the same.
# The page's lang attribute follows the user's language (screen readers pronounce by it): a hidden element
# carries it, and the page copies it whenever it changes.
SCRIPT = """
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || document.querySelector('[role="dialog"]')) return;
  const open = document.querySelector('main [aria-expanded="true"]');
  if (open) { open.click(); document.getElementById('observation')?.focus(); }
});
const followLanguage = () => {
  const carrier = document.getElementById('ui-language');
  if (carrier && document.documentElement.lang !== carrier.dataset.lang) {
    document.documentElement.lang = carrier.dataset.lang;
  }
};
// Radix scroll areas (tables) scroll without a focusable element in them: make each reachable by keyboard.
const reachableScrolling = () => document.querySelectorAll('.rt-ScrollAreaViewport:not([tabindex])')
  .forEach((e) => e.setAttribute('tabindex', '0'));
new MutationObserver(reachableScrolling).observe(document.documentElement, {childList: true, subtree: true});
setInterval(followLanguage, 300);
// The note field shows its limit before it is reached (counted in the browser: no round trip per keystroke).
document.addEventListener('input', (event) => {
  if (event.target.id !== 'observation') return;
  const shown = document.getElementById('observation-limit');
  const length = event.target.value.trim().length;
  if (shown) shown.textContent = length > LIMIT_SHOWN_FROM ? `${length} / ${LIMIT}` : '';
});
"""
CSS = """
.skip-link { position: absolute; left: -9999px; top: 0; z-index: 100; padding: 0.75em 1em;
  background: var(--accent-9); color: var(--accent-contrast); border-radius: 4px; }
.skip-link:focus { left: 0.5em; top: 0.5em; }
.history-strip summary::-webkit-details-marker { display: none; }
/* every target at least 44x44 px (WCAG 2.5.5): Radix's fields, tabs and segmented controls are smaller */
.rt-TextFieldRoot { --text-field-height: 44px; min-height: 44px; }
.rt-TabsTrigger { min-height: 44px; }
.rt-TabsList { height: auto !important; }
.rt-SegmentedControlRoot { min-height: 44px; }
.rt-SelectTrigger { min-height: 44px; }
"""


def _script() -> str:
    return SCRIPT.replace("LIMIT_SHOWN_FROM", str(MAX_TEXT - 500)).replace("LIMIT", str(MAX_TEXT))


def page_extras() -> rx.Component:
    return rx.fragment(
        rx.el.div(id="ui-language", data_lang=S.language, hidden=True),
        rx.el.style(CSS),
        rx.script(_script()),
    )
