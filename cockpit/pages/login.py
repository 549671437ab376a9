"""The login screen."""

from __future__ import annotations

import reflex as rx

from cockpit.components.common import TAP, banner, tr
from cockpit.state.live import CockpitState as S


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Sufler", size="7"),
                    rx.el.label(tr("username"), html_for="username"),
                    rx.input(id="username", name="username", auto_complete="username", size="3", width="100%"),
                    rx.el.label(tr("password"), html_for="password"),
                    rx.input(id="password", name="password", type="password", size="3", width="100%"),
                    rx.button(tr("login"), type="submit", size="3", width="100%", min_height=TAP),
                    banner(S.login_error, "red", "triangle_alert"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.log_in,
            ),
            width="min(420px, 92vw)",
        ),
        min_height="100vh",
    )
