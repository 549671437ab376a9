"""What to do next: the moves, the indicators, the knowledge, the advisor and the strategy."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from cockpit.components.common import TAP, banner, send_form, tr
from cockpit.state.live import CockpitState as S


def thumb(m: rx.Var, vote: int, icon: str, label: str) -> rx.Component:
    rating = m["rating"].to(int)
    return rx.icon_button(
        rx.icon(icon),
        on_click=S.rate(m["id"], rx.cond(rating == vote, 0, vote)),  # pressed again: the vote taken back
        variant=rx.cond(rating == vote, "solid", "soft"),
        color_scheme="gray" if vote < 0 else None,
        aria_label=tr(label),
        aria_pressed=rating == vote,
        size="3",
        min_width=TAP,
        min_height=TAP,
    )


def move_card(m: rx.Var) -> rx.Component:
    """The move's text first, its kind inline. The buttons (why, thumbs) float in the top corner and the text
    flows around and under them, so a card is as tall as its text: four moves fit a phone's screen. The "why"
    opens under the text on a tap (a phone) or is always there (a laptop)."""
    why_open = S.opened_why == m["id"]
    why = rx.text(m["why"], size="1", color_scheme="gray", class_name="move-why")
    return rx.card(
        rx.box(
            rx.hstack(
                rx.box(
                    rx.icon_button(
                        rx.icon("circle_help"),
                        on_click=S.toggle_why(m["id"]),
                        variant=rx.cond(why_open, "solid", "soft"),
                        color_scheme="gray",
                        aria_label=tr("why"),
                        aria_expanded=why_open,
                        size="3",
                        min_width=TAP,
                        min_height=TAP,
                    ),
                    display=rx.breakpoints(initial="block", md="none"),  # a laptop shows every why
                ),
                thumb(m, 1, "thumbs_up", "helpful"),
                thumb(m, -1, "thumbs_down", "not_helpful"),
                spacing="1",
            ),
            float="right",
            margin_left="0.5em",
            margin_bottom="0.25em",
        ),
        rx.text(
            rx.badge(m["label"], variant="soft", margin_right="0.4em"),
            m["text"],
            weight="medium",
            size="2",
            class_name="move-text",
        ),
        rx.box(why, display=rx.breakpoints(initial="none", md="block"), margin_top="0.25em"),
        rx.cond(why_open, rx.box(why, display=rx.breakpoints(initial="block", md="none"), margin_top="0.25em")),
        size="1",
        padding="0.5em",
        display="flow-root",  # the card holds its floating buttons
        width="100%",
        class_name="move-card",
    )


def next_moves() -> rx.Component:
    return rx.vstack(
        rx.heading(tr("next_move"), size="3", as_="h2"),
        # Only when the banner above does not say it already (the AI is up, yet these moves are the playbook's).
        rx.cond(
            (S.moves_note != "") & (S.llm_note == ""),
            rx.text(S.moves_note, size="1", color_scheme="amber", high_contrast=True),
        ),
        rx.cond(
            S.moves.length() > 0,
            rx.grid(
                rx.foreach(S.moves, move_card),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="2",
                width="100%",
                data_key=S.moves_key,  # which observation's moves these are (the browser tests wait on it)
                class_name="moves",
            ),
            rx.text(tr("waiting_moves"), color_scheme="gray"),
        ),
        # Under the moves, not beside the heading: the heading row stays low, and "others" is read after them.
        rx.button(tr("other_moves"), on_click=S.other_moves, variant="outline", min_height=TAP),
        aria_live="polite",
        spacing="2",
        width="100%",
    )


def archetype_list() -> rx.Component:
    """The whole distribution (the glance shows only the leader)."""
    return rx.card(
        rx.vstack(
            rx.heading(tr("archetypes"), size="3", as_="h2"),
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


def _focus_input() -> EventSpec:
    """Where focus goes when a panel closes: back to the note field, ready for the next sentence."""
    return rx.call_script("document.getElementById('observation')?.focus()")


def dialog(title: str, shown: rx.Var, on_open_change: object, *body: rx.Component, class_name: str) -> rx.Component:
    """A panel over the screen: opens in view with focus inside, closes with Escape or its close button, and
    gives focus back to the note field."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.dialog.title(tr(title), size="4", margin="0"),
                rx.spacer(),
                rx.dialog.close(
                    rx.icon_button(rx.icon("x"), variant="ghost", aria_label=tr("close"), min_width=TAP, min_height=TAP)
                ),
                align="center",
                width="100%",
            ),
            rx.dialog.description(tr(f"{title}_description"), size="1", color_scheme="gray"),
            *body,
            on_close_auto_focus=_focus_input(),
            max_height="85vh",
            overflow_y="auto",
            class_name=class_name,
        ),
        open=shown,
        on_open_change=on_open_change,
    )


def advisor_panel() -> rx.Component:
    return dialog(
        "advisor",
        S.show_advisor,
        S.advisor_open,
        rx.vstack(
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
            padding_top="0.5em",
        ),
        class_name="advisor-panel",
    )


SECTIONS = (
    "summary_and_motivations",
    "phrases_and_style",
    "script_and_next_steps",
    "objection_handling",
    "qualifying_questions",
)


def strategy_panel() -> rx.Component:
    return dialog(
        "strategy",
        S.show_strategy,
        S.strategy_open,
        banner(S.strategy_note, "amber", "info"),
        rx.tabs.root(
            rx.tabs.list(*[rx.tabs.trigger(tr(key), value=key) for key in SECTIONS], wrap="wrap"),
            *[
                rx.tabs.content(
                    rx.vstack(
                        rx.foreach(S.strategy.get(key, []).to(list[str]), lambda line: rx.text("• ", line, size="2"))
                    ),
                    value=key,
                )
                for key in SECTIONS
            ],
            default_value=SECTIONS[0],
            width="100%",
        ),
        class_name="strategy-panel",
    )
