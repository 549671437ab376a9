"""What to do next: the moves, the indicators, the knowledge, the advisor and the strategy."""

from __future__ import annotations

import reflex as rx

from cockpit.components.common import TAP, banner, send_form, tr
from cockpit.state.live import CockpitState as S


def move_card(m: rx.Var) -> rx.Component:
    rating = m["rating"].to(int)
    return rx.card(
        rx.vstack(
            rx.badge(m["label"], variant="soft"),
            rx.text(m["text"], weight="medium"),
            rx.text(m["why"], size="1", color_scheme="gray"),
            rx.hstack(
                rx.icon_button(
                    rx.icon("thumbs_up"),
                    on_click=S.rate(m["id"], rx.cond(rating == 1, 0, 1)),  # pressed again: the vote taken back
                    variant=rx.cond(rating == 1, "solid", "soft"),
                    aria_label=tr("helpful"),
                    aria_pressed=rating == 1,
                    size="3",
                ),
                rx.icon_button(
                    rx.icon("thumbs_down"),
                    on_click=S.rate(m["id"], rx.cond(rating == -1, 0, -1)),
                    variant=rx.cond(rating == -1, "solid", "soft"),
                    color_scheme="gray",
                    aria_label=tr("not_helpful"),
                    aria_pressed=rating == -1,
                    size="3",
                ),
            ),
            spacing="2",
        ),
        width="100%",
        class_name="move-card",
    )


def next_moves() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(tr("next_move"), size="4", as_="h2"),
            rx.spacer(),
            rx.button(tr("other_moves"), on_click=S.other_moves, variant="outline", min_height=TAP),
            width="100%",
            align="center",
        ),
        banner(S.moves_note, "amber", "info"),
        rx.cond(
            S.moves.length() > 0,
            rx.grid(
                rx.foreach(S.moves, move_card), columns=rx.breakpoints(initial="1", sm="2"), spacing="2", width="100%"
            ),
            rx.text(tr("waiting_moves"), color_scheme="gray"),
        ),
        aria_live="polite",
        width="100%",
    )


def indicator_row(i: rx.Var) -> rx.Component:
    return rx.box(
        rx.button(
            rx.hstack(
                rx.text(i["label"], size="2"),
                rx.spacer(),
                rx.text(i["value"], weight="bold", class_name="indicator-value"),
                width="100%",
            ),
            on_click=S.toggle_explanation(i["name"]),
            variant="ghost",
            width="100%",
            min_height=TAP,
            aria_expanded=S.opened_explanation == i["name"],
        ),
        rx.progress(
            value=i["value"].to(int), color_scheme=rx.cond(i["risk"], "orange", "green"), aria_label=i["label"]
        ),
        rx.cond(
            S.opened_explanation == i["name"],
            rx.vstack(
                rx.foreach(i["because"].to(list[str]), lambda b: rx.text(b, size="1")), spacing="0", padding="0.5em"
            ),
        ),
        width="100%",
        class_name="indicator",
    )


def analysis() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("analysis"), size="4", as_="h2"),
            rx.foreach(S.indicators, indicator_row),
            rx.heading(tr("archetypes"), size="3", as_="h3"),
            banner(S.leader_note, "blue", "repeat"),
            rx.foreach(
                S.archetypes,
                lambda a: rx.hstack(
                    rx.text(a["name"], weight=rx.cond(a["leader"], "bold", "regular"), size="2"),
                    rx.spacer(),
                    rx.text(a["percent"], "%", size="2"),
                    width="100%",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def knowledge_card(k: rx.Var) -> rx.Component:
    opened = S.opened_knowledge == k["slug"]
    return rx.box(
        rx.button(
            rx.text(k["title"], weight="bold", align="left"),
            on_click=S.toggle_knowledge(k["slug"]),
            variant="ghost",
            width="100%",
            min_height=TAP,
            justify="start",
            aria_expanded=opened,
            class_name="knowledge-card",
        ),
        rx.text(k["summary"], size="2", color_scheme="gray"),
        rx.cond(opened, rx.vstack(rx.foreach(S.knowledge_facts, lambda f: rx.text("• ", f, size="2")), spacing="1")),
        width="100%",
    )


def knowledge_cards() -> rx.Component:
    return rx.vstack(
        rx.heading(tr("knowledge"), size="4", as_="h2"),
        rx.foreach(S.knowledge, knowledge_card),
        width="100%",
    )


def advisor_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("advisor"), size="4", as_="h2"),
            rx.vstack(
                rx.foreach(
                    S.advisor,
                    lambda m: rx.text(m["text"], size="2", weight=rx.cond(m["role"] == "me", "bold", "regular")),
                ),
                aria_live="polite",
                width="100%",
            ),
            send_form(S.ask_advisor, name="question", placeholder=tr("ask_advisor"), aria_label="advisor question"),
            width="100%",
        ),
        width="100%",
    )


SECTIONS = (
    "summary_and_motivations",
    "phrases_and_style",
    "script_and_next_steps",
    "objection_handling",
    "qualifying_questions",
)


def strategy_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(tr("strategy"), size="4", as_="h2"),
                rx.spacer(),
                rx.button("✕", on_click=S.close_strategy, variant="ghost", aria_label="close"),
            ),
            banner(S.strategy_note, "amber", "info"),
            rx.tabs.root(
                rx.tabs.list(*[rx.tabs.trigger(tr(key), value=key) for key in SECTIONS], wrap="wrap"),
                *[
                    rx.tabs.content(
                        rx.vstack(
                            rx.foreach(
                                S.strategy.get(key, []).to(list[str]), lambda line: rx.text("• ", line, size="2")
                            )
                        ),
                        value=key,
                    )
                    for key in SECTIONS
                ],
                default_value=SECTIONS[0],
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
    )
