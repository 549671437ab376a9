"""What a glance between two sentences must catch, at the top of the screen: the leading archetype (and that it
changed), and the five indicators in a compact row with how far each moved since the observation before. A tap
on an indicator opens why it stands there, right below."""

from __future__ import annotations

import reflex as rx

from cockpit.components.common import TAP, tr
from cockpit.state.live import CockpitState as S


def compact_indicator(i: rx.Var) -> rx.Component:
    colour = rx.cond(i["risk"], rx.cond(i["up"], "red", "green"), rx.cond(i["up"], "green", "red"))
    return rx.button(
        rx.vstack(
            rx.text(i["short"], size="1", trim="both", class_name="indicator-name"),
            rx.hstack(
                rx.text(i["value"], weight="bold", size="4", class_name="indicator-value"),
                rx.cond(i["delta"] != "", rx.text(i["delta"], size="1", color_scheme=colour, high_contrast=True)),
                spacing="1",
                align="baseline",
            ),
            spacing="1",
            align="center",
        ),
        on_click=S.toggle_explanation(i["name"]),
        variant=rx.cond(S.opened_explanation == i["name"], "solid", "soft"),
        color_scheme=rx.cond(i["risk"], "orange", "grass"),
        aria_expanded=S.opened_explanation == i["name"],
        title=i["label"],  # the short name is the button's text (its accessible name); the full one on hover
        high_contrast=True,
        min_height=TAP,
        height="auto",
        padding="0.35em 0.1em",
        width="100%",
        class_name="indicator",
    )


def explanation() -> rx.Component:
    return rx.foreach(
        S.indicators,
        lambda i: rx.cond(
            S.opened_explanation == i["name"],
            rx.box(
                rx.text(i["label"], ": ", i["value"], weight="bold", size="2"),
                rx.foreach(i["because"].to(list[str]), lambda b: rx.text(b, size="1")),
                padding="0.5em",
                width="100%",
                class_name="explanation",
            ),
        ),
    )


def glance() -> rx.Component:
    leader = S.archetypes[0]
    return rx.cond(
        S.indicators.length() > 0,
        rx.vstack(
            rx.cond(
                S.leading,
                rx.hstack(
                    rx.text(leader["name"], weight="bold", size="3", class_name="leader"),
                    rx.text(leader["percent"], "%", size="2", color_scheme="gray"),
                    rx.cond(
                        S.leader_note != "",
                        rx.badge(
                            rx.icon("repeat", size=12),
                            tr("leader_changed_short"),
                            color_scheme="blue",
                            title=S.leader_note,
                            class_name="leader-note",
                        ),
                    ),
                    wrap="wrap",
                    align="center",
                    spacing="2",
                ),
                # No archetype stands out yet: saying so beats a leader at an even split's 10 %.
                rx.text(tr("no_leader_yet"), size="2", color_scheme="gray", class_name="leader"),
            ),
            rx.grid(rx.foreach(S.indicators, compact_indicator), columns="5", spacing="1", width="100%"),
            explanation(),
            spacing="2",
            width="100%",
            class_name="glance",
        ),
    )
