"""Small pieces every cockpit screen uses."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cockpit.state.live import CockpitState as S
from cockpit.texts import TEXTS

TAP = "44px"  # minimum tap target (WCAG 2.5.5)


def tr(key: str) -> rx.Var:
    """A text in the current language (both versions are known at compile time)."""
    return rx.cond(S.language == "en", TEXTS[key]["en"], TEXTS[key]["pl"])


def banner(text: rx.Var, color: str, icon: str) -> rx.Component:
    return rx.cond(
        text != "",
        # size 1: a banner must not push the moves out of a phone's screen; high contrast: readable on amber
        rx.callout(text, icon=icon, color_scheme=color, role="status", width="100%", size="1", high_contrast=True),
    )


def empty_note(items: Any, key: str) -> rx.Component:
    """What a list (a state var) says when it has nothing to show."""
    return rx.cond(items.length() == 0, rx.text(tr(key), color_scheme="gray"))


def send_form(on_submit: Any, **input_props: Any) -> rx.Component:
    """One text field and a Send button; Enter sends, and the field is emptied for the next message."""
    return rx.form(
        rx.hstack(
            rx.input(size="3", flex="1", **input_props),
            rx.button(tr("send"), type="submit", size="3", min_height=TAP),
            width="100%",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
        width="100%",
    )
