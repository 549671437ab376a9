"""The live screen: a client's conversation, the next moves and the analysis, mobile-first."""

from __future__ import annotations

import reflex as rx

from cockpit.components.advice import advisor_panel, archetype_list, knowledge_cards, next_moves, strategy_panel
from cockpit.components.clients import client_panel, inbox_panel
from cockpit.components.common import TAP, banner, tr
from cockpit.components.conversation import customer_chat_panel, history_strip, note_bar
from cockpit.components.glance import glance
from cockpit.components.memory import client_memory
from cockpit.pages.review import review_panel
from cockpit.state.live import CockpitState as S
from cockpit.state.review import ReviewState as R


def header() -> rx.Component:
    return rx.hstack(
        rx.heading("Sufler", size="5", display=rx.breakpoints(initial="none", sm="block")),  # a phone needs the room
        rx.text(
            S.client_name,
            weight="bold",
            flex="1",
            min_width="0",
            white_space="nowrap",
            overflow="hidden",
            text_overflow="ellipsis",
        ),
        rx.button(
            tr("leads"),
            rx.badge(S.inbox.length(), color_scheme=rx.cond(S.inbox.length() > 0, "red", "gray")),
            on_click=S.toggle_inbox,
            variant="soft",
            min_height=TAP,
        ),
        rx.cond(
            S.is_lead,
            rx.button(tr("review"), on_click=R.toggle_review, variant="soft", min_height=TAP),
        ),
        rx.segmented_control.root(
            rx.segmented_control.item("PL", value="pl"),
            rx.segmented_control.item("EN", value="en"),
            value=S.language,
            on_change=[S.set_language_to, R.relabel_review],  # the review's rows are words too
            aria_label="language",
        ),
        rx.icon_button(rx.icon("log_out"), on_click=S.log_out, variant="ghost", aria_label=tr("logout"), size="3"),
        width="100%",
        align="center",
        wrap="wrap",
        padding_y="0.25em",
    )


def session_screen() -> rx.Component:
    """A client's conversation. What changed after Enter comes first (the leader, the indicators, the moves: in
    view on a phone without scrolling), the rest after; the note field is pinned to the bottom."""
    return rx.fragment(
        rx.grid(
            rx.vstack(glance(), next_moves(), width="100%", spacing="2"),
            rx.vstack(
                rx.cond(S.customer_channel != "", customer_chat_panel()),
                rx.cond(S.history.length() == 0, client_memory()),
                history_strip(),
                knowledge_cards(),
                archetype_list(),
                rx.cond(S.history.length() > 0, client_memory()),
                rx.hstack(
                    rx.button(tr("strategy"), on_click=S.open_strategy, variant="outline", min_height=TAP),
                    rx.button(tr("advisor"), on_click=S.toggle_advisor, variant="outline", min_height=TAP),
                    rx.button(tr("client"), on_click=S.choose_client, variant="ghost", min_height=TAP),
                    wrap="wrap",
                ),
                width="100%",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        strategy_panel(),
        advisor_panel(),
        note_bar(),
    )


def cockpit_page() -> rx.Component:
    return rx.container(
        rx.el.a(tr("skip_to_input"), href="#observation", class_name="skip-link"),
        rx.vstack(
            header(),
            banner(S.connection_note, "red", "wifi_off"),
            # one quiet line, not a banner: it stays for as long as the AI is away, above the moves
            rx.cond(
                S.llm_note != "",
                rx.text(S.llm_note, size="1", color_scheme="amber", high_contrast=True, role="status"),
            ),
            banner(S.rules_error, "red", "file_warning"),
            banner(S.error, "red", "triangle_alert"),
            rx.el.main(
                rx.cond(S.show_inbox, inbox_panel()),
                rx.cond(R.show_review, review_panel()),
                rx.cond(~R.show_review & (S.session_id == 0), client_panel()),
                rx.cond(~R.show_review & (S.session_id != 0), session_screen()),
                width="100%",
                display="flex",
                flex_direction="column",
                gap="var(--space-3)",
            ),
            spacing="2",
            width="100%",
            # room under the content for the pinned note field
            padding_bottom=rx.cond(~R.show_review & (S.session_id != 0), "9.5em", "1em"),
        ),
        size="4",
        padding_x="0.75em",
    )
