"""The cockpit's screen logic, without a browser: protocol events in, display-ready lists out."""

from __future__ import annotations

from typing import Any

from cockpit import cockpit
from cockpit.view_models.live import Screen, apply, chips, relabel

INDICATORS = {
    "purchase_readiness": {
        "value": 35,
        "because": [{"rule": "asks-financing", "points": 10, "reason": "Pyta o finansowanie"}],
    },
    "churn_risk": {"value": 20, "because": []},
    "fun_drive_risk": {"value": 10, "because": []},
    "deal_potential": {"value": 45, "because": []},
    "archetype_confidence": {"value": 60, "because": []},
}
FAST = {
    "type": "fast_result",
    "seq": 2,
    "session_id": 7,
    "interaction_id": 11,
    "language": "pl",
    "archetypes": [
        {"slug": "family-guardian", "name": "Strażnik Rodziny", "probability": 0.6, "reasons": []},
        {"slug": "bargain-hunter", "name": "Łowca Okazji", "probability": 0.1, "reasons": []},
    ],
    "leader": "family-guardian",
    "leader_changed": True,
    "knowledge": [{"slug": "family-safety", "title": "Rodzina", "summary": "Foteliki", "score": 0.5, "triggers": []}],
    "cues": [],
    "indicators": INDICATORS,
    "rules_error": None,
}


def move(kind: str, batch: int = 0, iid: int = 11) -> dict[str, Any]:
    return {
        "type": "move",
        "interaction_id": iid,
        "batch": batch,
        "id": f"{iid}:{batch}:{kind}",
        "kind": kind,
        "text": f"{kind} {batch}",
        "why": "bo tak",
        "source": "llm",
    }


def test_fast_result_fills_indicators_archetypes_and_knowledge() -> None:
    screen = Screen()
    apply(screen, FAST)
    assert [i["name"] for i in screen.indicators][:2] == ["purchase_readiness", "deal_potential"]
    readiness = screen.indicators[0]
    assert readiness["label"] == "Gotowość zakupu" and readiness["value"] == 35
    assert readiness["because"] == ["+10 Pyta o finansowanie"]
    assert screen.indicators[-1]["risk"] is True
    assert screen.archetypes[0] == {
        "slug": "family-guardian",
        "name": "Strażnik Rodziny",
        "percent": 60,
        "leader": True,
    }
    assert screen.leader_note == "Zmiana archetypu: teraz Strażnik Rodziny"
    assert screen.knowledge == [{"slug": "family-safety", "title": "Rodzina", "summary": "Foteliki"}]
    assert screen.leading


def test_no_archetype_standing_out_is_no_leader() -> None:
    screen = Screen()
    apply(screen, {**FAST, "leader": None, "leader_changed": False})
    assert not screen.leading and not any(a["leader"] for a in screen.archetypes)


def test_moves_stream_in_order_and_other_suggestions_replace_them() -> None:
    screen = Screen(language="en")
    apply(screen, FAST)
    for kind in ("argument", "question"):
        apply(screen, move(kind))
    assert [m["kind"] for m in screen.moves] == ["question", "argument"]
    assert screen.moves[0]["label"] == "Question"
    apply(screen, move("question", batch=1))
    assert [m["text"] for m in screen.moves] == ["question 1"]  # the new batch replaces the old one
    apply(
        screen,
        {
            "type": "moves",
            "interaction_id": 11,
            "batch": 1,
            "mode": "degraded",
            "model": None,
            "reason": "x",
            "moves": [move(k, 1) for k in ("question", "argument", "objection_response", "action")],
        },
    )
    assert len(screen.moves) == 4 and screen.moves_note.startswith("Degraded mode")
    apply(screen, {**FAST, "interaction_id": 12})
    assert screen.moves == []  # a new observation: its moves stream in next


def test_advisor_streams_and_status_is_said_in_words() -> None:
    screen = Screen()
    for delta in ("Zapytaj ", "o dzieci"):
        apply(screen, {"type": "advisor_delta", "interaction_id": 3, "delta": delta})
    assert screen.advisor == [{"role": "advisor", "text": "Zapytaj o dzieci"}]
    apply(
        screen,
        {
            "type": "advisor_done",
            "interaction_id": 3,
            "mode": "llm",
            "model": "m",
            "text": "Zapytaj o dzieci.",
            "reason": None,
        },
    )
    assert screen.advisor[-1]["text"] == "Zapytaj o dzieci."
    apply(screen, {"type": "status", "llm": "degraded", "model": None, "detail": "x", "rules_error": "bad.toml"})
    assert "awaryjnym" in screen.llm_note and screen.rules_error == "bad.toml"
    apply(screen, {"type": "connection", "state": "reconnecting", "pending": 2})
    assert not screen.connected and screen.pending == 2 and "łączę ponownie" in screen.connection_note
    apply(screen, {"type": "error", "code": "database_unavailable", "message": "m"})
    assert "Baza danych" in screen.error


def test_a_session_snapshot_restores_the_screen() -> None:
    screen = Screen()
    apply(
        screen,
        {
            "type": "session",
            "seq": 9,
            "session_id": 7,
            "client": {"name": "Anna"},
            "summary": "",
            "key_facts": [],
            "earlier_sessions": 0,
            "ended": False,
            "history": [
                {"interaction_id": 11, "kind": "observation", "text": "Pyta o leasing"},
                {"interaction_id": 12, "kind": "advisor", "text": "Co dalej?"},
            ],
            "latest": {
                "interaction_id": 11,
                "fast_result": {
                    k: v for k, v in FAST.items() if k not in ("type", "seq", "session_id", "interaction_id")
                },
                "assessment": None,
                "moves": {
                    "interaction_id": 11,
                    "batch": 0,
                    "mode": "llm",
                    "model": "m",
                    "reason": None,
                    "moves": [move(k) for k in ("question", "argument", "objection_response", "action")],
                },
            },
        },
    )
    assert screen.session_id == 7 and screen.client_name == "Anna"
    assert [h["text"] for h in screen.history] == ["Pyta o leasing", "Co dalej?"]
    assert screen.advisor == [{"role": "me", "text": "Co dalej?"}]
    assert len(screen.moves) == 4 and screen.indicators and screen.archetypes


def test_quick_chips_follow_the_stage() -> None:
    screen = Screen(language="en")
    apply(screen, FAST)  # readiness 35: evaluating
    assert [c["key"] for c in chips(screen)][:2] == ["chip_compare", "chip_budget"]
    assessment = {"stage": "negotiation"}
    apply(
        screen,
        {"type": "assessment", "interaction_id": 11, "model": "m", "assessment": assessment, "indicators": INDICATORS},
    )
    assert "chip_order" in [c["key"] for c in chips(screen)]
    assert chips(Screen())[0] == {"key": "chip_family", "text": "Przyszedł z rodziną"}


def test_the_inbox_shows_each_lead_once_and_drops_claimed_ones() -> None:
    screen = Screen()
    card = {
        "id": 5,
        "channel": "telegram",
        "name": "Jan",
        "contact": "",
        "archetype": "",
        "reason": "high_intent",
        "last_message": "Chcę kupić",
        "status": "new",
        "created_at": None,
    }
    apply(screen, {"type": "hello", "user": {}, "status": {"llm": "up"}, "max_message_bytes": 1, "inbox": [card]})
    apply(screen, {"type": "lead", "lead": card})  # delivered again: still shown once
    apply(screen, {"type": "lead", "lead": {**card, "id": 6, "name": ""}})
    assert [(i["id"], i["title"]) for i in screen.inbox] == [(6, "telegram"), (5, "Jan")]
    assert screen.inbox[1]["detail"] == "telegram · Chcę kupić"
    apply(screen, {"type": "lead_claimed", "lead_id": 5, "by": "anna"})
    assert [i["id"] for i in screen.inbox] == [6]


def test_a_client_from_a_bot_shows_the_chat_live_and_who_answers_it() -> None:
    screen = Screen()
    chat = {"channel": "web", "human_active": False, "lines": [{"speaker": "customer", "text": "Dzień dobry"}]}
    session = {"type": "session", "session_id": 3, "client": {"name": "Ola"}, "history": [], "latest": None}
    apply(screen, {**session, "customer_chat": chat})
    assert screen.customer_channel == "web" and not screen.human_active
    assert screen.customer_chat == [{"speaker": "customer", "who": "Klient", "text": "Dzień dobry"}]
    apply(screen, {"type": "customer_channel", "action": "replied", "speaker": "salesperson", "text": "Tu Anna"})
    apply(screen, {"type": "customer_channel", "action": "said", "speaker": "customer", "text": "Super"})
    assert [line["who"] for line in screen.customer_chat] == ["Klient", "Ty", "Klient"] and screen.human_active
    apply(screen, {"type": "customer_channel", "action": "handed_back", "speaker": "", "text": ""})
    assert not screen.human_active and len(screen.customer_chat) == 3
    apply(screen, {**session, "session_id": 4})  # a client who did not come from a bot
    assert screen.customer_channel == "" and screen.customer_chat == []


def test_the_app_compiles_its_page() -> None:
    assert cockpit.index() is not None


def test_notes_follow_a_language_switch() -> None:
    from cockpit.view_models.live import relabel

    screen = Screen(language="pl")
    apply(screen, {"type": "connection", "state": "reconnecting", "pending": 0})
    apply(screen, {"type": "status", "seq": 1, "llm": "degraded", "model": None, "detail": "", "rules_error": None})
    polish = (screen.connection_note, screen.llm_note)
    assert all(polish)
    screen.language = "en"
    relabel(screen)
    english = (screen.connection_note, screen.llm_note)
    assert all(english) and english != polish
    screen.language = "pl"
    relabel(screen)
    assert (screen.connection_note, screen.llm_note) == polish


def test_a_returning_client_shows_the_earlier_visit_and_the_facts_in_the_language_chosen() -> None:
    screen = Screen(language="pl")
    visit = {
        "session_id": 2, "started_at": "2026-12-01T10:00:00+00:00", "summary": "Pytał o leasing",
        "key_facts": ["Budżet: do 250 tys. zł"], "archetype": "family-guardian",
        "archetype_names": {"pl": "Strażnik Rodziny", "en": "Family Guardian"},
        "indicators": {"churn_risk": 30, "purchase_readiness": 40},
    }  # fmt: skip
    apply(screen, {"type": "session", "session_id": 3, "client": {"name": "Ola"}, "history": [], "latest": None,
                   "key_facts": ["Budżet: do 250 tys. zł"], "earlier": [visit]})  # fmt: skip
    assert screen.key_facts == ["Budżet: do 250 tys. zł"]
    assert screen.earlier == [
        {"when": "2026-12-01", "archetype": "Strażnik Rodziny", "indicators": "Gotowość zakupu 40 · Ryzyko utraty 30",
         "summary": "Pytał o leasing", "facts": "Budżet: do 250 tys. zł"}
    ]  # fmt: skip
    screen.language = "en"
    relabel(screen)
    assert screen.earlier[0]["archetype"] == "Family Guardian"
    assert screen.earlier[0]["indicators"] == "Purchase readiness 40 · Churn risk 30"
    apply(screen, {"type": "memory", "summary": "", "key_facts": ["Rodzina: żona"]})
    assert screen.key_facts == ["Rodzina: żona"]
    apply(screen, {"type": "session", "session_id": 4, "client": {"name": "Nowy"}, "history": [], "latest": None})
    assert screen.earlier == [] and screen.key_facts == []


def test_an_explanation_reads_base_plus_points_equals_value() -> None:
    from cockpit.view_models.live import explained

    item = {
        "value": 65,
        "base": 20,
        "because": [
            {"rule": "wants-to-order", "points": 35, "reason": "Mówi o zamówieniu lub umowie"},
            {"rule": "asks-financing", "points": 10, "reason": "Pyta o finansowanie"},
        ],
    }
    assert explained(item, "pl") == [
        "20 wartość bazowa",
        "+35 Mówi o zamówieniu lub umowie",
        "+10 Pyta o finansowanie",
        "= 65",
    ]
    clamped = {"value": 100, "base": 20, "because": [{"rule": "r", "points": 95, "reason": "Podpisuje dziś"}]}
    assert explained(clamped, "en")[-1] == "= 100 (kept within 0-100)"
    assert explained({"value": 20, "because": []}, "en") == ["Base value — no rule applied yet"]


def test_past_the_24_hour_window_the_chat_says_call_and_a_new_message_opens_it() -> None:
    screen = Screen()
    chat = {"channel": "whatsapp", "human_active": False, "lines": [], "window": "closed"}
    session = {"type": "session", "session_id": 3, "client": {"name": "Ola"}, "history": [], "latest": None}
    apply(screen, {**session, "customer_chat": chat})
    assert screen.customer_window == "closed"
    apply(screen, {"type": "customer_channel", "action": "said", "speaker": "customer", "text": "Jestem"})
    assert screen.customer_window == "open"
    refused = {"type": "customer_channel", "action": "outside_window", "speaker": "salesperson", "text": "Oferta"}
    apply(screen, refused)
    assert screen.customer_window == "closed"
    assert screen.customer_chat[-1]["text"].startswith("⚠ Nie wysłano") and screen.customer_chat[-1]["text"].endswith(
        "Oferta"
    )
    template = {"type": "customer_channel", "action": "template_sent", "speaker": "salesperson", "text": "Oferta"}
    apply(screen, template)
    assert screen.human_active and "zatwierdzony szablon" in screen.customer_chat[-1]["text"]
