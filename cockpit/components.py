"""Small pieces every cockpit screen uses."""

from __future__ import annotations

import reflex as rx

from cockpit.state import CockpitState as S
from cockpit.texts import TEXTS

TAP = "44px"  # minimum tap target (WCAG 2.5.5)


def tr(key: str) -> rx.Var:
    """A text in the current language (both versions are known at compile time)."""
    return rx.cond(S.language == "en", TEXTS[key]["en"], TEXTS[key]["pl"])


def banner(text: rx.Var, color: str, icon: str) -> rx.Component:
    return rx.cond(
        text != "",
        rx.callout(text, icon=icon, color_scheme=color, role="status", width="100%"),
    )
