"""What was said: the observation terminal and the customer's bot chat."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cockpit.components.common import TAP, send_form, tr
from cockpit.state.live import CockpitState as S


def terminal() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.scroll_area(
                rx.vstack(
                    rx.foreach(S.history, lambda h: rx.text(h["text"], size="2", class_name="obs-" + h["kind"])),
                    spacing="1",
                ),
                max_height="22vh",
                type="auto",
                scrollbars="vertical",
            ),
            send_form(
                S.send_observation,
                id="observation",
                name="observation",
                placeholder=tr("observation"),
                aria_label="observation",
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
                wrap="wrap",
                spacing="2",
            ),
            rx.cond(S.pending > 0, rx.text(tr("pending"), ": ", S.pending, size="1", role="status")),
            width="100%",
        ),
        width="100%",
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
            rx.scroll_area(
                rx.vstack(
                    rx.foreach(S.customer_chat, chat_line),
                    spacing="1",
                    aria_live="polite",
                ),
                max_height="30vh",
                type="auto",
                scrollbars="vertical",
            ),
            rx.text(rx.cond(S.human_active, tr("you_answer"), tr("bot_answers")), size="1", color_scheme="gray"),
            send_form(S.reply_to_customer, name="reply", placeholder=tr("reply_customer"), aria_label="reply"),
            rx.cond(
                S.human_active,
                rx.button(tr("hand_back"), on_click=S.hand_back, variant="outline", min_height=TAP),
            ),
            width="100%",
        ),
        width="100%",
    )
