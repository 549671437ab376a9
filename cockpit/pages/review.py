"""The sales lead's review screen: the team's client files and their timelines, feedback statistics, knowledge
proposals, the fine-tuning export and the pack editor. Shown instead of the conversation while open."""

from __future__ import annotations

from typing import Any

import reflex as rx

from cockpit.components.common import TAP, banner, empty_note, tr
from cockpit.state.review import PACK_KINDS
from cockpit.state.review import ReviewState as R
from cockpit.texts import TEXTS
from cockpit.view_models.review import ANY, INDICATORS


def labelled_select(label: str, value: rx.Var, on_change: Any, *items: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(tr(label), size="1", color_scheme="gray"),
        rx.select.root(
            rx.select.trigger(aria_label=TEXTS[label]["en"], min_height=TAP),
            rx.select.content(*items),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )


def item(text_key: str, value: str) -> rx.Component:
    return rx.select.item(tr(text_key), value=value)


def client_filters() -> rx.Component:
    return rx.hstack(
        labelled_select(
            "salesperson",
            R.owner_filter,
            lambda v: R.set_filter("owner", v),
            item("any", ANY),
            rx.foreach(R.owners, lambda o: rx.select.item(o["name"], value=o["id"])),
        ),
        labelled_select(
            "archetype",
            R.archetype_filter,
            lambda v: R.set_filter("archetype", v),
            item("any", ANY),
            rx.foreach(R.archetype_choices, lambda a: rx.select.item(a, value=a)),
        ),
        labelled_select(
            "indicator",
            R.indicator_filter,
            lambda v: R.set_filter("indicator", v),
            item("any", ANY),
            *[item(name, name) for name in INDICATORS],
        ),
        rx.cond(
            R.indicator_filter != ANY,
            labelled_select(
                "at_least",
                R.minimum_filter,
                lambda v: R.set_filter("minimum", v),
                *[rx.select.item(v, value=v) for v in ("25", "50", "75", "90")],
            ),
        ),
        labelled_select(
            "active_in",
            R.period_filter,
            lambda v: R.set_filter("period", v),
            item("any", ANY),
            item("days_7", "7"),
            item("days_30", "30"),
            item("days_90", "90"),
        ),
        labelled_select(
            "archive_state",
            R.archived_filter,
            lambda v: R.set_filter("archived", v),
            item("active", "active"),
            item("archived_only", "archived"),
            item("any", ANY),
        ),
        wrap="wrap",
        spacing="3",
    )


def client_row(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.text(row["name"], weight="bold"), rx.badge(row["archetype"]), rx.text(row["archived"], size="1")
            ),
            rx.text(row["owner"], " · ", row["updated"], size="1", color_scheme="gray"),
            rx.text(row["indicators"], size="1"),
            spacing="1",
            min_width="0",
        ),
        rx.spacer(),
        rx.button(
            tr("timeline"), on_click=R.open_timeline(row["session_id"], row["name"]), variant="soft", min_height=TAP
        ),
        width="100%",
        align="center",
        class_name="team-client",
    )


def timeline_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(tr("timeline"), ": ", R.timeline_title, size="3", as_="h3"),
                rx.spacer(),
                rx.button(tr("close"), on_click=R.close_timeline, variant="ghost", min_height=TAP),
                width="100%",
            ),
            empty_note(R.timeline, "no_session"),
            rx.foreach(
                R.timeline,
                lambda r: rx.cond(
                    r["row"] == "step",
                    rx.vstack(
                        rx.text(r["at"], " ", r["text"], weight="bold"),
                        rx.text(r["detail"], size="1", color_scheme="gray"),
                        spacing="0",
                        padding_top="0.5em",
                        class_name="timeline-step",
                    ),
                    rx.hstack(
                        rx.text("→ ", r["text"], size="2"),
                        rx.spacer(),
                        rx.text(r["detail"], size="2"),
                        width="100%",
                        padding_left="1em",
                    ),
                ),
            ),
            width="100%",
            spacing="1",
        ),
        width="100%",
    )


def clients_tab() -> rx.Component:
    return rx.vstack(
        client_filters(),
        rx.cond(R.timeline_title != "", timeline_panel()),
        empty_note(R.team_clients, "no_clients"),
        rx.foreach(R.team_clients, client_row),
        width="100%",
        spacing="3",
    )


def stat_table(title: str, rows: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.heading(tr(title), size="3", as_="h3"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(""),
                    rx.table.column_header_cell(tr("helpful")),
                    rx.table.column_header_cell(tr("not_helpful")),
                    rx.table.column_header_cell(tr("share_up")),
                )
            ),
            rx.table.body(
                rx.foreach(
                    rows,
                    lambda r: rx.table.row(
                        rx.table.row_header_cell(r["key"]),
                        rx.table.cell(r["up"]),
                        rx.table.cell(r["down"]),
                        rx.table.cell(r["share"]),
                    ),
                )
            ),
            size="1",
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def feedback_tab() -> rx.Component:
    return rx.vstack(
        empty_note(R.by_kind, "no_feedback"),
        rx.grid(
            stat_table("by_archetype", R.by_archetype),
            stat_table("by_kind", R.by_kind),
            stat_table("by_rule", R.by_rule),
            stat_table("by_day", R.by_day),
            columns=rx.breakpoints(initial="1", md="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        rx.button(rx.icon("download"), tr("export"), on_click=R.export, variant="outline", min_height=TAP),
        width="100%",
        spacing="3",
    )


def proposal_card(p: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(p["text"], weight="bold"),
            rx.text(p["why"], size="2"),
            rx.text(p["context"], size="1", color_scheme="gray"),
            rx.text("„", p["observation"], "”", size="1", color_scheme="gray"),
            rx.hstack(
                rx.button(tr("approve"), on_click=R.decide(p["id"], True), color_scheme="green", min_height=TAP),
                rx.button(tr("reject"), on_click=R.decide(p["id"], False), variant="soft", min_height=TAP),
            ),
            spacing="2",
        ),
        width="100%",
        class_name="proposal",
    )


def proposals_tab() -> rx.Component:
    return rx.vstack(
        rx.cond(
            R.approved_draft != "",
            rx.callout.root(
                rx.callout.text(tr("approved_draft")),
                rx.el.pre(R.approved_draft, white_space="pre-wrap", font_size="0.85em", margin="0"),
                color_scheme="green",
                width="100%",
            ),
        ),
        empty_note(R.proposals, "no_proposals"),
        rx.foreach(R.proposals, proposal_card),
        width="100%",
        spacing="3",
    )


def pack_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.segmented_control.root(
                *[rx.segmented_control.item(tr(kind), value=kind) for kind in PACK_KINDS],
                value=R.pack_kind,
                on_change=R.choose_pack_kind,
                aria_label="pack file kind",
            ),
            rx.select.root(
                rx.select.trigger(aria_label=tr("pack_file"), min_height=TAP),
                rx.select.content(rx.foreach(R.pack_names, lambda name: rx.select.item(name, value=name))),
                value=R.pack_name,
                on_change=R.choose_pack_file,
            ),
            wrap="wrap",
            align="center",
        ),
        rx.form(
            rx.vstack(
                rx.text_area(
                    name="text",
                    default_value=R.pack_text,
                    key=R.pack_version,
                    rows="18",
                    font_family="monospace",
                    width="100%",
                    aria_label="pack file text",
                ),
                rx.button(tr("save"), type="submit", min_height=TAP),
                width="100%",
            ),
            on_submit=R.save_pack,
            width="100%",
        ),
        rx.cond(
            R.pack_error != "",
            rx.callout.root(
                rx.el.pre(R.pack_error, white_space="pre-wrap", margin="0"),
                color_scheme="red",
                role="alert",
                width="100%",
                class_name="pack-error",
            ),
        ),
        rx.cond(R.pack_may_force, rx.button(tr("save_anyway"), on_click=R.save_pack_anyway, color_scheme="amber")),
        banner(R.pack_note, "green", "check"),
        rx.cond(
            R.pack_versions.length() > 0,
            rx.vstack(
                rx.heading(tr("earlier_versions"), size="3", as_="h3"),
                rx.foreach(
                    R.pack_versions,
                    lambda v: rx.hstack(
                        rx.text(v["saved"], " UTC", size="2"),
                        rx.button(
                            tr("load"),
                            on_click=R.load_pack_version(v["name"], v["saved"]),
                            variant="ghost",
                            min_height=TAP,
                        ),
                        align="center",
                        class_name="pack-version",
                    ),
                ),
                spacing="1",
            ),
        ),
        width="100%",
        spacing="3",
    )


OPERATION_COLUMNS = ("ops_dialogs", "ops_llm_calls", "ops_llm_time", "ops_degraded", "ops_leads", "ops_claim_time")


def operations_table() -> rx.Component:
    """From a tablet up: one row per day."""
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(tr("ops_day")),
                    *[rx.table.column_header_cell(tr(name)) for name in OPERATION_COLUMNS],
                )
            ),
            rx.table.body(
                rx.foreach(
                    R.operations,
                    lambda r: rx.table.row(
                        rx.table.row_header_cell(r["day"], white_space="nowrap"),
                        *[rx.table.cell(r[name.removeprefix("ops_")]) for name in OPERATION_COLUMNS],
                        class_name="operations-day",
                    ),
                )
            ),
            size="1",
            width="100%",
        ),
        display=rx.breakpoints(initial="none", sm="block"),
        width="100%",
    )


def operations_card(r: rx.Var) -> rx.Component:
    """On a phone: one card per day, each number under its name (seven columns do not fit 390 px)."""
    return rx.card(
        rx.heading(r["day"], size="3", as_="h3"),
        rx.el.dl(
            *[
                rx.fragment(
                    rx.el.dt(tr(name), font_size="0.8em", color="var(--gray-11)", margin_top="0.4em"),
                    rx.el.dd(r[name.removeprefix("ops_")], margin="0"),
                )
                for name in OPERATION_COLUMNS
            ],
            margin="0",
        ),
        display=rx.breakpoints(initial="block", sm="none"),
        width="100%",
        class_name="operations-card",
    )


def operations_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            labelled_select(
                "operations_period",
                R.operations_days,
                R.set_operations_days,
                *[item(f"days_{n}", n) for n in ("7", "14", "30", "90")],
            ),
            rx.text(tr("operations_caption"), size="2", color_scheme="gray"),
            wrap="wrap",
            align="end",
            spacing="3",
        ),
        operations_table(),
        rx.foreach(R.operations, operations_card),
        width="100%",
        spacing="3",
    )


def row_with_action(title: rx.Component, detail: rx.Component, action: rx.Component, name: str) -> rx.Component:
    """A line of a list: what it is in bold, details under it in grey, its button on the right."""
    return rx.hstack(
        rx.vstack(title, detail, spacing="1", min_width="0"),
        rx.spacer(),
        action,
        width="100%",
        align="center",
        class_name=name,
    )


def webhook_row(w: rx.Var) -> rx.Component:
    return row_with_action(
        rx.text(w["url"], weight="bold", word_break="break-all"),
        rx.text(w["events"], " · ", w["personal"], " · ", w["active"], size="1", color_scheme="gray"),
        rx.button(tr("webhook_show_log"), on_click=R.show_deliveries(w["id"]), variant="soft", min_height=TAP),
        "webhook-endpoint",
    )


def delivery_row(d: rx.Var) -> rx.Component:
    """One delivery: the event and its state, when, how many tries, what the receiver last answered; send again."""
    tries = (tr("delivery_attempts"), ": ", d["attempts"], " ", d["answer"])
    return row_with_action(
        rx.text(d["event"], " — ", d["state"], weight="bold"),
        rx.text(d["at"], " · ", *tries, size="1", color_scheme="gray", word_break="break-all"),
        rx.button(tr("webhook_replay"), on_click=R.replay_delivery(d["id"]), variant="soft", min_height=TAP),
        "webhook-delivery",
    )


def integrations_tab() -> rx.Component:
    """CRM webhooks (admins): the receivers, a new one (its secret shown once), and a receiver's delivery log."""
    return rx.vstack(
        rx.text(tr("integrations_caption"), size="2", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.input(
                    name="url",
                    type="url",
                    required=True,
                    placeholder="https://crm.example/webhooks/sufler",
                    aria_label=tr("webhook_url"),
                    size="3",
                    width="100%",
                ),
                labelled_select(
                    "webhook_events_label",
                    R.webhook_events,
                    R.set_webhook_events,
                    item("webhook_all_events", "all"),
                    item("webhook_lead_events", "leads"),
                    item("webhook_client_events", "clients"),
                ),
                labelled_select(
                    "webhook_personal_label",
                    R.webhook_personal,
                    R.set_webhook_personal,
                    item("webhook_no_personal", "no"),
                    item("webhook_personal", "yes"),
                ),
                rx.button(tr("webhook_add"), type="submit", size="3", min_height=TAP),
                width="100%",
                wrap="wrap",
                align="end",
            ),
            on_submit=R.add_webhook,
            reset_on_submit=True,
            width="100%",
        ),
        rx.cond(
            R.webhook_secret != "",
            rx.callout(
                rx.text(tr("webhook_secret"), rx.code(R.webhook_secret, word_break="break-all")),
                icon="key_round",
                color_scheme="amber",
                role="status",
                width="100%",
                size="1",
                high_contrast=True,
            ),
        ),
        empty_note(R.webhooks, "webhook_none"),
        rx.foreach(R.webhooks, webhook_row),
        rx.cond(
            R.deliveries_of != "",
            rx.vstack(
                rx.heading(tr("webhook_log"), ": ", R.deliveries_url, size="3", as_="h3", word_break="break-all"),
                banner(R.webhook_note, "green", "check"),
                empty_note(R.deliveries, "webhook_log_empty"),
                rx.foreach(R.deliveries, delivery_row),
                width="100%",
                spacing="2",
            ),
        ),
        width="100%",
        spacing="3",
    )


def audit_tab() -> rx.Component:
    return rx.table.root(
        rx.table.body(
            rx.foreach(
                R.audit,
                lambda e: rx.table.row(
                    rx.table.cell(e["at"], white_space="nowrap"),
                    rx.table.cell(e["actor"]),
                    rx.table.cell(e["action"]),
                    rx.table.cell(e["target"], word_break="break-all"),
                    class_name="audit-entry",
                ),
            )
        ),
        size="1",
        width="100%",
    )


def review_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr("review"), size="5", as_="h2"),
            banner(R.review_error, "red", "triangle_alert"),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger(tr("review_clients"), value="clients"),
                    rx.tabs.trigger(tr("review_feedback"), value="feedback"),
                    rx.tabs.trigger(tr("review_proposals"), value="proposals"),
                    rx.tabs.trigger(tr("review_pack"), value="pack"),
                    rx.tabs.trigger(tr("review_operations"), value="operations"),
                    rx.cond(R.role == "admin", rx.tabs.trigger(tr("review_integrations"), value="integrations")),
                    rx.tabs.trigger(tr("review_audit"), value="audit"),
                    flex_wrap="wrap",  # on a phone the four tabs take two lines instead of scrolling out of sight
                ),
                rx.tabs.content(clients_tab(), value="clients", padding_top="1em"),
                rx.tabs.content(feedback_tab(), value="feedback", padding_top="1em"),
                rx.tabs.content(proposals_tab(), value="proposals", padding_top="1em"),
                rx.tabs.content(pack_tab(), value="pack", padding_top="1em"),
                rx.tabs.content(operations_tab(), value="operations", padding_top="1em"),
                rx.tabs.content(integrations_tab(), value="integrations", padding_top="1em"),
                rx.tabs.content(audit_tab(), value="audit", padding_top="1em"),
                value=R.review_tab,
                on_change=R.show_tab,
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
    )
