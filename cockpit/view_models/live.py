"""What the cockpit shows, computed from protocol events — plain Python, tested without a browser.

The Reflex state (cockpit/state.py) holds a :class:`Screen` and applies every event from the backend to it
with :func:`apply`; the UI only renders these small, display-ready lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cockpit.texts import CHIPS, STAGE_CHIPS, t

INDICATOR_ORDER = ("purchase_readiness", "deal_potential", "archetype_confidence", "churn_risk", "fun_drive_risk")
RISKS = {"churn_risk", "fun_drive_risk"}  # high is bad: shown in warning colours
MOVE_KINDS = ("question", "argument", "objection_response", "action")


@dataclass
class Screen:
    language: str = "pl"
    session_id: int = 0
    client_name: str = ""
    history: list[dict[str, str]] = field(default_factory=list)  # {"kind", "text"}
    indicators: list[dict[str, Any]] = field(default_factory=list)
    archetypes: list[dict[str, Any]] = field(default_factory=list)
    leading: bool = False  # the first archetype stands out; else the glance says there is no leader yet
    leader_note: str = ""
    knowledge: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    moves_key: str = ""  # "<interaction_id>:<batch>" of the moves shown
    moves_note: str = ""  # e.g. degraded mode, said in words
    ratings: dict[str, int] = field(default_factory=dict)
    advisor: list[dict[str, str]] = field(default_factory=list)  # {"role": "me"|"advisor", "text"}
    strategy: dict[str, list[str]] = field(default_factory=dict)
    strategy_note: str = ""
    llm_state: str = ""
    llm_note: str = ""
    rules_error: str = ""
    error: str = ""
    connected: bool = False
    connection_state: str = ""  # the link's last state ("connected", "reconnecting", ...)
    connection_note: str = ""
    moves_mode: str = ""  # "llm" | "degraded" of the moves shown
    pending: int = 0
    stage: str = "discovery"  # which quick-observation chips fit now
    inbox: list[dict[str, Any]] = field(default_factory=list)  # open leads from the bots, newest first
    # a client who came from a bot: the chat with them ({"speaker", "who", "text"}), and who answers it now
    customer_channel: str = ""  # "telegram" | "web"; "": not from a bot
    customer_chat: list[dict[str, str]] = field(default_factory=list)
    human_active: bool = False
    customer_window: str = "open"  # "closed": 24 h since the customer last wrote (Meta's channels): call or e-mail
    # the client's memory: this visit's key facts (the salesperson can correct them) and the earlier visits
    key_facts: list[str] = field(default_factory=list)
    earlier: list[dict[str, str]] = field(default_factory=list)  # {"when", "archetype", "indicators", ...}
    _visits: list[dict[str, Any]] = field(default_factory=list)  # as the backend sent them (relabelled on a switch)
    _indicator_data: dict[str, dict[str, Any]] = field(default_factory=dict)  # the latest indicators as sent
    _before: dict[str, int] = field(default_factory=dict)  # the values shown before the latest observation


def chips(screen: Screen) -> list[dict[str, str]]:
    return [{"key": key, "text": t(screen.language, key)} for key in CHIPS[screen.stage]]


def indicators(
    data: dict[str, dict[str, Any]], language: str, before: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """The five indicators in order, each with its short name (the glance strip), its movement since the
    observation before (``before``: the values then) and why it stands where it does."""
    rows = []
    for name in INDICATOR_ORDER:
        item = data.get(name)
        if item is None:
            continue
        value = int(item["value"])
        because = explained(item, language)
        moved = value - before[name] if before and name in before else 0
        rows.append(
            {
                "name": name,
                "label": t(language, name),
                "short": t(language, f"{name}_short"),
                "value": value,
                "delta": f"{moved:+d}" if moved else "",
                "up": moved > 0,
                "risk": name in RISKS,
                "because": because or [t(language, "no_rules")],
            }
        )
    return rows


def explained(item: dict[str, Any], language: str) -> list[str]:
    """An indicator's sum, line by line: "20 base value", "+35 Talks about ordering", "= 55"."""
    rules = [f"{c['points']:+d} {c['reason']}" for c in item["because"]]
    base = item.get("base")
    if base is None:  # a response stored before the base was sent: the rules alone
        return rules or [t(language, "no_rules")]
    total = base + sum(int(c["points"]) for c in item["because"])
    end = f"= {item['value']}" + (f" ({t(language, 'kept_in_range')})" if not 0 <= total <= 100 else "")
    return [f"{base} {t(language, 'base_value')}", *rules, end]


def _show_indicators(screen: Screen, data: dict[str, dict[str, Any]]) -> None:
    screen._indicator_data = data
    screen.indicators = indicators(data, screen.language, screen._before)


def archetypes(items: list[dict[str, Any]], leader: str | None) -> list[dict[str, Any]]:
    return [
        {"slug": a["slug"], "name": a["name"], "percent": round(100 * a["probability"]), "leader": a["slug"] == leader}
        for a in items[:5]
    ]


def move_card(move: dict[str, Any], language: str) -> dict[str, Any]:
    return {
        "id": move["id"],
        "kind": move["kind"],
        "label": t(language, move["kind"]),
        "text": move["text"],
        "why": move["why"],
    }


def relabel(screen: Screen) -> None:
    """The notes said in words, in the screen's language now: after any event, and after a PL/EN switch (a note
    kept as text would stay in the language it was first said in)."""
    lang = screen.language
    state = screen.connection_state
    screen.connection_note = "" if not state or screen.connected else t(lang, f"connection_{state}")
    screen.llm_note = "" if screen.llm_state in ("", "up") else t(lang, f"llm_{screen.llm_state}")
    screen.moves_note = t(lang, "moves_degraded") if screen.moves_mode == "degraded" else ""
    screen.earlier = [earlier_visit(v, lang) for v in screen._visits]
    screen.indicators = indicators(screen._indicator_data, lang, screen._before)
    for move in screen.moves:
        move["label"] = t(lang, move["kind"])


def indicator_text(values: dict[str, int], language: str) -> str:
    """Indicator values in one line, in the usual order: "Gotowość zakupu 40 · Ryzyko utraty 30"."""
    return " · ".join(f"{t(language, name)} {values[name]}" for name in INDICATOR_ORDER if name in values)


def earlier_visit(visit: dict[str, Any], language: str) -> dict[str, str]:
    """One earlier visit as the screen says it: when, the archetype it ended with, its indicators, what was said."""
    values = visit.get("indicators") or {}
    return {
        "when": visit["started_at"][:10],
        "archetype": (visit.get("archetype_names") or {}).get(language) or t(language, "no_archetype"),
        "indicators": indicator_text(values, language),
        "summary": visit.get("summary", ""),
        "facts": " · ".join(visit.get("key_facts", [])),
    }


def apply(screen: Screen, event: dict[str, Any]) -> None:
    """Fold one backend event into what the screen shows."""
    _fold(screen, event)
    relabel(screen)


def _fold(screen: Screen, event: dict[str, Any]) -> None:
    kind = event["type"]
    lang = screen.language
    if kind == "connection":
        screen.connected = event["state"] == "connected"
        screen.connection_state = event["state"]
        screen.pending = event.get("pending", 0)
    elif kind == "lead":
        lead = _lead_row(event["lead"])
        if all(item["id"] != lead["id"] for item in screen.inbox):  # delivered at least once, shown once
            screen.inbox.insert(0, lead)
    elif kind == "lead_claimed":
        screen.inbox = [item for item in screen.inbox if item["id"] != event["lead_id"]]
    elif kind in ("hello", "status"):
        if kind == "hello":
            screen.inbox = [_lead_row(item) for item in event.get("inbox", [])]
        status = event["status"] if kind == "hello" else event
        screen.llm_state = status["llm"]
        screen.rules_error = status.get("rules_error") or ""
    elif kind == "error":
        screen.error = t(lang, f"error_{event['code']}", default=event["message"])
    elif kind == "session":
        _session(screen, event)
    elif kind == "ack":
        screen.error = ""
    elif kind == "fast_result":
        _fast(screen, event)
    elif kind == "assessment":
        _show_indicators(screen, event["indicators"])
        screen.stage = STAGE_CHIPS.get(event["assessment"].get("stage", ""), screen.stage)
    elif kind == "move":
        _streamed_move(screen, event)
    elif kind == "moves":
        screen.moves_key = f"{event['interaction_id']}:{event['batch']}"
        screen.moves = [move_card(m, lang) for m in event["moves"]]
        screen.moves_mode = event["mode"]
    elif kind == "feedback_saved":
        screen.ratings[event["suggestion_id"]] = event["rating"]
    elif kind == "advisor_delta":
        if not screen.advisor or screen.advisor[-1]["role"] != "advisor":
            screen.advisor.append({"role": "advisor", "text": ""})
        screen.advisor[-1]["text"] += event["delta"]
    elif kind == "advisor_done":
        if not screen.advisor or screen.advisor[-1]["role"] != "advisor":
            screen.advisor.append({"role": "advisor", "text": ""})
        screen.advisor[-1]["text"] = event["text"]
    elif kind == "customer_channel":
        if event["action"] == "handed_back":
            screen.human_active = False
        elif event["action"] in ("undelivered", "template_sent", "outside_window"):
            if event["action"] == "outside_window":
                screen.customer_window = "closed"
            said = t(lang, event["action"]) + event["text"]
            screen.customer_chat.append(chat_line(event["speaker"], said, lang))
            screen.human_active = screen.human_active or event["action"] == "template_sent"
        else:
            screen.customer_chat.append(chat_line(event["speaker"], event["text"], lang))
            screen.human_active = screen.human_active or event["action"] == "replied"
            if event["speaker"] == "customer":  # they wrote: the window is open again
                screen.customer_window = "open"
    elif kind == "memory":
        screen.key_facts = list(event["key_facts"])
    elif kind == "strategy":
        screen.strategy = event["sections"]
        screen.strategy_note = t(lang, "strategy_degraded") if event["mode"] == "degraded" else ""


def _lead_row(lead: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": lead["id"],
        "title": lead["name"] or lead["channel"],
        "detail": " · ".join(filter(None, [lead["channel"], lead["contact"], lead["last_message"]])),
    }


def chat_line(speaker: str, text: str, language: str) -> dict[str, str]:
    return {"speaker": speaker, "who": t(language, f"chat_{speaker}"), "text": text}


def _session(screen: Screen, event: dict[str, Any]) -> None:
    chat = event.get("customer_chat") or {}
    screen.customer_channel = chat.get("channel", "")
    screen.customer_chat = [chat_line(line["speaker"], line["text"], screen.language) for line in chat.get("lines", [])]
    screen.human_active = bool(chat.get("human_active"))
    screen.customer_window = chat.get("window", "open")
    screen.session_id = event["session_id"]
    screen.client_name = event["client"]["name"]
    screen.key_facts = list(event.get("key_facts", []))
    screen._visits = list(event.get("earlier", []))
    screen.history = [{"kind": h["kind"], "text": h["text"]} for h in event["history"]]
    screen.advisor = [{"role": "me", "text": h["text"]} for h in event["history"] if h["kind"] == "advisor"]
    screen.strategy = {}
    latest = event.get("latest") or {}
    if latest.get("fast_result"):
        _fast(screen, {"interaction_id": latest["interaction_id"], **latest["fast_result"]}, keep_moves=True)
    if latest.get("assessment"):
        _show_indicators(screen, latest["assessment"]["indicators"])
    if latest.get("moves"):
        apply(screen, {"type": "moves", **latest["moves"]})
    elif not latest:
        screen.moves, screen.indicators, screen.archetypes, screen.knowledge = [], [], [], []
        screen._indicator_data = {}


def _fast(screen: Screen, event: dict[str, Any], keep_moves: bool = False) -> None:
    lang = screen.language
    # The movement shown is against what the screen showed before this observation (none on a reload).
    screen._before = {} if keep_moves else {row["name"]: row["value"] for row in screen.indicators}
    _show_indicators(screen, event["indicators"])
    screen.archetypes = archetypes(event["archetypes"], event["leader"])
    screen.leading = any(a["leader"] for a in screen.archetypes)
    leader = event["archetypes"][0]["name"] if event["archetypes"] else ""
    screen.leader_note = t(lang, "leader_changed", name=leader) if event.get("leader_changed") else ""
    screen.knowledge = [
        {"slug": k["slug"], "title": k["title"], "summary": k["summary"]} for k in event["knowledge"][:4]
    ]
    screen.rules_error = event.get("rules_error") or ""
    readiness = event["indicators"].get("purchase_readiness", {}).get("value", 0)
    screen.stage = "closing" if readiness >= 60 else "evaluation" if readiness >= 35 else "discovery"
    if not keep_moves:
        screen.moves, screen.moves_key, screen.moves_mode = [], "", ""  # the new moves stream in next


def _streamed_move(screen: Screen, event: dict[str, Any]) -> None:
    key = f"{event['interaction_id']}:{event['batch']}"
    if key != screen.moves_key:  # a new observation or "generate others": its moves replace the shown ones
        screen.moves_key = key
        screen.moves = []
    card = move_card(event, screen.language)
    screen.moves = [m for m in screen.moves if m["kind"] != card["kind"]] + [card]
    screen.moves.sort(key=lambda m: MOVE_KINDS.index(m["kind"]))
