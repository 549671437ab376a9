"""The cockpit app: one screen, mobile-first. State lives in cockpit/state.py, words in cockpit/texts.py."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.http_headers import with_security_headers
from cockpit.components import TAP, banner, empty_note, tr
from cockpit.review_page import review_panel
from cockpit.review_state import ReviewState as R
from cockpit.state import CockpitState as S


def header() -> rx.Component:
    return rx.hstack(
        rx.heading("Sufler", size="5"),
        rx.text(S.client_name, weight="bold", truncate=True),
        rx.spacer(),
        rx.button(
            tr("leads"),
            rx.badge(S.inbox.length(), color_scheme=rx.cond(S.inbox.length() > 0, "red", "gray")),
            on_click=S.toggle_inbox,
            variant="soft",
            aria_label="lead inbox",
            min_height=TAP,
        ),
        rx.cond(
            S.is_lead,
            rx.button(tr("review"), on_click=R.toggle_review, variant="soft", aria_label="review", min_height=TAP),
        ),
        rx.segmented_control.root(
            rx.segmented_control.item("PL", value="pl"),
            rx.segmented_control.item("EN", value="en"),
            value=S.language,
            on_change=S.set_language_to,
            aria_label="language",
        ),
        rx.icon_button(rx.icon("log_out"), on_click=S.log_out, variant="ghost", aria_label=tr("logout"), size="3"),
        width="100%",
        align="center",
        wrap="wrap",
        padding_y="0.5em",
    )


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
                    rx.button(tr("open"), on_click=S.open_client(c["id"]), min_height=TAP),
                    rx.button(
                        tr("archive"),
                        on_click=S.archive_client(c["id"]),
                        variant="soft",
                        color_scheme="gray",
                        min_height=TAP,
                    ),
                    width="100%",
                ),
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


def send_form(on_submit: Any, **input_props: Any) -> rx.Component:
    """One text field and a Send button; Enter sends, and the field is emptied for the next message."""
    return rx.form(
        rx.hstack(
            rx.input(size="3", flex="1", **input_props),
            rx.button(tr("send"), type="submit", size="3", min_height=TAP),
            width="100%",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
        width="100%",
    )


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
                    on_click=S.rate(m["id"], 1),
                    variant=rx.cond(rating == 1, "solid", "soft"),
                    aria_label=tr("helpful"),
                    aria_pressed=rating == 1,
                    size="3",
                ),
                rx.icon_button(
                    rx.icon("thumbs_down"),
                    on_click=S.rate(m["id"], -1),
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


def cockpit_page() -> rx.Component:
    return rx.container(
        rx.vstack(
            header(),
            banner(S.connection_note, "red", "wifi_off"),
            banner(S.llm_note, "amber", "bot"),
            banner(S.rules_error, "red", "file_warning"),
            banner(S.error, "red", "triangle_alert"),
            rx.cond(S.show_inbox, inbox_panel()),
            rx.cond(R.show_review, review_panel()),
            rx.cond(~R.show_review & (S.session_id == 0), client_panel()),
            rx.cond(
                ~R.show_review & (S.session_id != 0),
                rx.grid(
                    rx.vstack(
                        rx.cond(S.customer_channel != "", customer_chat_panel()),
                        terminal(),
                        next_moves(),
                        width="100%",
                    ),
                    rx.vstack(
                        analysis(),
                        knowledge_cards(),
                        rx.hstack(
                            rx.button(tr("strategy"), on_click=S.open_strategy, variant="outline", min_height=TAP),
                            rx.button(tr("advisor"), on_click=S.toggle_advisor, variant="outline", min_height=TAP),
                            rx.button(tr("client"), on_click=S.choose_client, variant="ghost", min_height=TAP),
                            wrap="wrap",
                        ),
                        rx.cond(S.show_strategy, strategy_panel()),
                        rx.cond(S.show_advisor, advisor_panel()),
                        width="100%",
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        size="4",
        padding_x="0.75em",
    )


def index() -> rx.Component:
    return rx.cond(S.logged_in, cockpit_page(), login_page())


app = rx.App(api_transformer=with_security_headers)  # page, assets and state socket all pass through it
app.add_page(index, title="Sufler", on_load=S.on_load)
