"""The login screen, and the new-password form after an admin's reset."""

from __future__ import annotations

import reflex as rx

from cockpit.components.common import TAP, banner, tr
from cockpit.state.live import CockpitState as S


def _field(name: str, kind: str = "password", complete: str = "current-password") -> rx.Component:
    return rx.fragment(
        rx.el.label(tr(name), html_for=name),
        # the first field takes the cursor: a salesperson types the username at once
        rx.input(
            id=name,
            name=name,
            type=kind,
            auto_complete=complete,
            size="3",
            width="100%",
            auto_focus=name == "username",
        ),
    )


def _login_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Sufler", size="7"),
            _field("username", "text", "username"),
            _field("password"),
            rx.button(tr("login"), type="submit", size="3", width="100%", min_height=TAP),
            banner(S.login_error, "red", "triangle_alert"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.log_in,
    )


def _new_password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Sufler", size="7"),
            rx.text(tr("new_password_title")),
            _field("current_password"),
            _field("new_password", complete="new-password"),
            _field("repeat_password", complete="new-password"),
            rx.button(tr("save_password"), type="submit", size="3", width="100%", min_height=TAP),
            banner(S.login_error, "red", "triangle_alert"),
            spacing="3",
            width="100%",
        ),
        on_submit=S.set_new_password,
        reset_on_submit=True,
    )


def login_page() -> rx.Component:
    return rx.center(
        rx.card(rx.cond(S.must_change_password, _new_password_form(), _login_form()), width="min(420px, 92vw)"),
        min_height="100vh",
    )
