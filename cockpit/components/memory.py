"""What the cockpit remembers about the client: this visit's key facts (corrected by the salesperson: remove one,
add or reword one) and the earlier visits — when, the archetype and indicators they ended with, what was said."""

from __future__ import annotations

import reflex as rx

from cockpit.components.common import TAP, send_form, tr
from cockpit.state.live import CockpitState as S


def key_fact(fact: rx.Var, index: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(fact, size="2", flex="1", min_width="0"),
        rx.icon_button(
            rx.icon("x", size=16),
            on_click=S.remove_key_fact(index),
            variant="ghost",
            color_scheme="gray",
            aria_label=tr("remove_fact") + ": " + fact.to(str),
            min_width=TAP,
            min_height=TAP,
        ),
        width="100%",
        align="center",
        class_name="key-fact",
    )


def earlier_visit(visit: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(visit["when"], weight="bold", size="2"),
            rx.badge(visit["archetype"]),
            wrap="wrap",
            align="center",
        ),
        rx.cond(visit["indicators"] != "", rx.text(visit["indicators"], size="1")),
        rx.cond(visit["summary"] != "", rx.text(visit["summary"], size="2", color_scheme="gray")),
        rx.cond(visit["facts"] != "", rx.text(visit["facts"], size="1", color_scheme="gray")),
        spacing="1",
        width="100%",
        class_name="earlier-visit",
    )


def client_memory() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("client_memory"), size="4", as_="h2"),
            rx.cond(S.key_facts.length() == 0, rx.text(tr("key_facts_empty"), size="2", color_scheme="gray")),
            rx.foreach(S.key_facts, key_fact),
            send_form(
                S.add_key_fact, name="fact", placeholder=tr("add_fact"), aria_label=tr("add_fact"), max_length=200
            ),
            rx.cond(
                S.earlier.length() > 0,
                rx.vstack(
                    rx.heading(tr("earlier_visits"), size="3", as_="h3"),
                    rx.foreach(S.earlier, earlier_visit),
                    spacing="2",
                    width="100%",
                ),
            ),
            width="100%",
            spacing="2",
        ),
        width="100%",
        class_name="client-memory",
    )
