"""Choosing whom to talk to: the lead inbox and the client search."""

from __future__ import annotations

import reflex as rx

from cockpit.components.common import TAP, empty_note, tr
from cockpit.state.live import CockpitState as S


def inbox_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("leads"), size="4", as_="h2"),
            rx.foreach(
                S.inbox,
                lambda lead: rx.hstack(
                    rx.vstack(rx.text(lead["title"], weight="bold"), rx.text(lead["detail"], size="1"), spacing="0"),
                    rx.spacer(),
                    rx.button(tr("take_lead"), on_click=S.claim_lead(lead["id"]), min_height=TAP),
                    width="100%",
                    class_name="lead",
                ),
            ),
            empty_note(S.inbox, "no_leads"),
            width="100%",
        ),
        width="100%",
    )


def client_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("client"), size="4", as_="h2"),
            rx.input(
                placeholder=tr("search"),
                aria_label="search clients",
                value=S.search_text,
                on_change=S.search_clients.debounce(250),
                width="100%",
                size="3",
            ),
            rx.foreach(
                S.found,
                lambda c: rx.hstack(
                    rx.vstack(
                        rx.text(c["name"], weight="bold"),
                        rx.text(c["contact"], " ", c["archetype"], size="1", color_scheme="gray"),
                        spacing="0",
                    ),
                    rx.spacer(),
                    rx.cond(
                        S.show_archived,
                        rx.button(tr("restore"), on_click=S.restore_client(c["id"]), min_height=TAP),
                        rx.hstack(
                            rx.button(tr("open"), on_click=S.open_client(c["id"]), min_height=TAP),
                            rx.button(
                                tr("archive"),
                                on_click=S.archive_client(c["id"]),
                                variant="soft",
                                color_scheme="gray",
                                min_height=TAP,
                            ),
                        ),
                    ),
                    width="100%",
                    class_name="client-row",
                ),
            ),
            rx.cond(
                S.archived_id > 0,
                rx.hstack(
                    rx.text(S.archived_note, size="2", role="status"),
                    rx.button(tr("undo"), on_click=S.restore_client(S.archived_id), variant="soft", min_height=TAP),
                    align="center",
                ),
            ),
            rx.el.label(
                rx.checkbox(checked=S.show_archived, on_change=S.toggle_archived, size="3"),
                rx.text(tr("show_archived"), size="2"),
                display="flex",
                align_items="center",
                gap="8px",
                min_height=TAP,
            ),
            rx.form(
                rx.hstack(
                    rx.input(name="name", placeholder=tr("client_name"), aria_label="client name", size="3", flex="2"),
                    rx.input(name="contact", placeholder=tr("contact"), aria_label="contact", size="3", flex="2"),
                    rx.button(tr("new_client"), type="submit", size="3", min_height=TAP),
                    width="100%",
                    wrap="wrap",
                ),
                on_submit=S.create_client,
                reset_on_submit=True,
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
    )
