"""What was said: the observation terminal and the customer's bot chat."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cockpit.components.common import TAP, send_form, tr
from cockpit.state.live import CockpitState as S


def following(*children: rx.Component, label: str, max_height: str) -> rx.Component:
    """A scrolling box that keeps its newest (last) line in view as lines arrive: a column-reverse flex box starts
    scrolled to its end and stays there. Reachable by keyboard, named, as a scrollable region must be."""
    return rx.box(
        rx.vstack(*children, spacing="1", width="100%"),
        display="flex",
        flex_direction="column-reverse",
        overflow_y="auto",
        max_height=max_height,
        width="100%",
        tab_index=0,
        role="region",
        aria_label=tr(label),
    )


def history_strip() -> rx.Component:
    """The session's notes so far, folded to one line (the newest) until opened."""
    return rx.cond(
        S.history.length() > 0,
        rx.el.details(
            rx.el.summary(
                rx.text(
                    tr("history"),
                    " (",
                    S.history.length(),
                    "): ",
                    rx.text(S.history[-1]["text"], as_="span", color_scheme="gray"),
                    size="2",
                ),
                min_height=TAP,
                display="flex",
                align_items="center",
                cursor="pointer",
                white_space="nowrap",
                overflow="hidden",
                text_overflow="ellipsis",
            ),
            following(
                rx.foreach(S.history, lambda h: rx.text(h["text"], size="2", class_name="obs-" + h["kind"])),
                label="history",
                max_height="30vh",
            ),
            width="100%",
            class_name="history-strip",
        ),
    )


def note_bar() -> rx.Component:
    """Pinned to the bottom of the screen, where the thumb is: the note field, and the quick notes in one row."""
    return rx.box(
        rx.vstack(
            rx.cond(S.pending > 0, rx.text(tr("pending"), ": ", S.pending, size="1", role="status")),
            send_form(
                S.send_observation,
                id="observation",
                name="observation",
                placeholder=tr("observation"),
                aria_label=tr("observation"),
                auto_focus=True,
                auto_complete="off",
            ),
            rx.hstack(
                rx.foreach(
                    S.chips,
                    lambda c: rx.button(
                        c["text"], on_click=S.use_chip(c["text"]), variant="soft", size="2", min_height=TAP
                    ),
                ),
                spacing="2",
                overflow_x="auto",
                white_space="nowrap",
                width="100%",
                padding_bottom="2px",
                flex_wrap="nowrap",
                class_name="chips",
            ),
            spacing="2",
            width="100%",
            max_width="1136px",
            margin="0 auto",
        ),
        # Filled in by the page's script as the note nears its limit (cockpit/components/page.py); over the bar's
        # top edge, so that it takes no room from the moves.
        rx.text(
            "",
            id="observation-limit",
            size="1",
            aria_live="polite",
            position="absolute",
            top="-1.6em",
            right="0.75em",
            padding="0 0.4em",
            background="var(--color-panel-solid)",
            border_radius="4px",
        ),
        position="fixed",
        bottom="0",
        left="0",
        right="0",
        z_index="5",
        padding="0.5em 0.75em",
        background="var(--color-panel-solid)",
        border_top="1px solid var(--gray-a6)",
        id="note-bar",
    )


def chat_line(line: Any) -> rx.Component:
    return rx.text(rx.text.strong(line["who"], ": "), line["text"], size="2", class_name="chat-" + line["speaker"])


def customer_chat_panel() -> rx.Component:
    """For a client who came from a bot: the chat so far, live, a reply box and "hand back to the bot"."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(tr("customer_chat"), size="4", as_="h2"),
                rx.badge(S.customer_channel),
                align="center",
            ),
            rx.box(
                following(rx.foreach(S.customer_chat, chat_line), label="customer_chat", max_height="30vh"),
                aria_live="polite",
                width="100%",
            ),
            rx.text(rx.cond(S.human_active, tr("you_answer"), tr("bot_answers")), size="1", color_scheme="gray"),
            rx.cond(
                S.customer_window == "closed",
                rx.callout(
                    tr("window_closed"), icon="phone", color_scheme="amber", role="status", size="1", high_contrast=True
                ),
            ),
            send_form(S.reply_to_customer, name="reply", placeholder=tr("reply_customer"), aria_label="reply"),
            rx.cond(
                S.human_active,
                rx.button(tr("hand_back"), on_click=S.hand_back, variant="outline", min_height=TAP),
            ),
            width="100%",
        ),
        width="100%",
    )
