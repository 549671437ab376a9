"""The review screen's logic as plain Python: the /review answers turned into the flat rows the UI renders
(Reflex renders lists of string dicts best), and the filters turned into query parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.texts import t
from cockpit.view_models.live import INDICATOR_ORDER, indicator_text

INDICATORS = INDICATOR_ORDER  # the filter offers them in the order the cockpit shows them
ANY = "all"  # the value of a filter that filters nothing (a select cannot hold an empty string)
PERIODS = {"7": 7, "30": 30, "90": 90}  # "active in the last N days"
VOTES = (("helpful", "up"), ("not_helpful", "down"))


def filter_params(
    owner: str, archetype: str, archived: str, indicator: str, minimum: str, period: str, now: datetime | None = None
) -> dict[str, Any]:
    """The /review/clients query for the screen's filter selects."""
    params: dict[str, Any] = {}
    if owner != ANY:
        params["owner_id"] = int(owner)
    if archetype != ANY:
        params["archetype"] = archetype
    if archived != ANY:
        params["archived"] = str(archived == "archived").lower()
    if indicator != ANY:
        params["indicator"] = indicator
        params["min"] = int(minimum)
    if period in PERIODS:
        since = (now or datetime.now(UTC)) - timedelta(days=PERIODS[period])
        params["since"] = since.isoformat()
    return params


def client_rows(files: list[dict[str, Any]], language: str) -> list[dict[str, str]]:
    rows = []
    for f in files:
        values = f.get("indicators") or {}
        rows.append(
            {
                "id": str(f["id"]),
                "name": f["name"],
                "owner": f["owner"],
                "archetype": f.get("archetype") or "—",
                "archived": t(language, "archived") if f.get("archived") else "",
                "indicators": indicator_text(values, language),
                "updated": f["updated_at"][:10],
                "session_id": str(f.get("latest_session_id") or ""),
            }
        )
    return rows


def choices(files: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[str]]:
    """The salespeople and archetypes seen in the team's files, for the filter selects."""
    owners = {str(f["owner_id"]): f["owner"] for f in files}
    archetypes = sorted({f["archetype"] for f in files if f.get("archetype")})
    return [{"id": k, "name": v} for k, v in sorted(owners.items(), key=lambda kv: kv[1])], archetypes


def timeline_rows(timeline: dict[str, Any], language: str) -> list[dict[str, str]]:
    """One row per observation (with the archetype and indicators after it), then one per suggestion shown."""
    rows = []
    for step in timeline["steps"]:
        values = step["indicators"]
        said = step["text"] if step["kind"] == "observation" else f"{t(language, step['kind'])}: {step['text']}"
        rows.append(
            {
                "row": "step",
                "at": step["at"][11:16],
                "text": said,
                "detail": " · ".join(filter(None, [step["archetype"] or "—", indicator_text(values, language)])),
            }
        )
        for move in step["moves"]:
            # Words, not emoji: a browser without an emoji font shows boxes.
            votes = [f"{t(language, word)} {move[side]}" for word, side in VOTES if move[side]]
            rows.append(
                {
                    "row": "move",
                    "at": "",
                    "text": f"{t(language, move['kind'])}: {move['text']}",
                    "detail": " ".join(votes),
                }
            )
    return rows


def stat_rows(stats: dict[str, Any], group: str, language: str) -> list[dict[str, str]]:
    """Thumbs up/down of one group (archetype, kind, rule or day) with the share of thumbs up."""
    rows = []
    for entry in stats.get(f"by_{group}", []):
        total = entry["up"] + entry["down"]
        name = t(language, entry["key"], default=entry["key"]) if group == "kind" else entry["key"]
        rows.append(
            {
                "key": name,
                "up": str(entry["up"]),
                "down": str(entry["down"]),
                "share": f"{round(100 * entry['up'] / total)}%" if total else "—",
            }
        )
    return rows


def proposal_rows(proposals: list[dict[str, Any]], language: str) -> list[dict[str, str]]:
    return [
        {
            "id": p["suggestion_id"],
            "text": p["text"],
            "why": p["why"],
            "context": " · ".join(
                [t(language, p["kind"]), p["archetype"] or "—", p["module"] or "—"]
                + [f"{t(language, word)} {p[side]}" for word, side in VOTES]
            ),
            "observation": p["observation"],
        }
        for p in proposals
    ]


def pack_problem(code: str, message: str, details: Any, language: str) -> tuple[str, bool]:
    """What a refused save says, and whether saving anyway makes sense (a near-duplicate, not a broken file)."""
    if code == "conflict" and isinstance(details, dict) and details.get("similar"):
        similar = ", ".join(f"{s['name']} ({s['score']:.2f})" for s in details["similar"])
        return t(language, "pack_near_duplicate", similar=similar), True
    if isinstance(details, dict) and details.get("problems"):
        return message + "\n" + "\n".join(str(p) for p in details["problems"]), False
    return message, False


OPERATION_PERIODS = ("7", "14", "30", "90")
CHANNELS = ("cockpit", "telegram", "web")  # in this order; a channel added later follows by name


def duration(seconds: float | None, language: str) -> str:
    """A time as people say it: 850 ms, 2.4 s, 7 min, 3.5 h."""
    if seconds is None:
        return t(language, "ops_none")
    if seconds < 1:
        said = f"{round(seconds * 1000)} ms"
    elif seconds < 60:
        said = f"{seconds:.1f} s"
    elif seconds < 3600:
        said = f"{round(seconds / 60)} min"
    else:
        said = f"{seconds / 3600:.1f} h"
    return said.replace(".", ",") if language == "pl" else said


def operations_row(day: str, entry: dict[str, Any], language: str) -> dict[str, str]:
    """One day (or the total) of /review/operations as the table's cells."""
    dialogs = entry["dialogs"]
    channels = [c for c in CHANNELS if c in dialogs] + sorted(set(dialogs) - set(CHANNELS))
    llm, leads = entry["llm"], entry["leads"]
    calls = [str(llm["calls"])] if llm["calls"] else [t(language, "ops_none")]
    if llm["fallback"]:
        calls.append(t(language, "ops_fallback", n=llm["fallback"]))
    if llm["failed"]:
        calls.append(t(language, "ops_failed", n=llm["failed"]))
    times = []
    if llm["p50"] is not None:
        times = [
            t(language, "ops_median", value=duration(llm["p50"], language)),
            t(language, "ops_p95", value=duration(llm["p95"], language)),
            t(language, "ops_first_token", value=duration(llm["first_token_p50"], language)),
        ]
    share = entry["degraded_share"]
    degraded = (
        t(language, "ops_degraded_share", share=f"{round(100 * share)}%", n=entry["with_moves"])
        if share is not None
        else t(language, "ops_none")
    )
    claim = []
    if leads["claim_p50"] is not None:
        claim = [
            t(language, "ops_median", value=duration(leads["claim_p50"], language)),
            t(language, "ops_p95", value=duration(leads["claim_p95"], language)),
        ]
    return {
        "day": day,
        "dialogs": " · ".join(f"{t(language, f'channel_{c}', default=c)} {dialogs[c]}" for c in channels)
        or t(language, "ops_none"),
        "llm_calls": " · ".join(calls),
        "llm_time": " · ".join(times) or t(language, "ops_none"),
        "degraded": degraded,
        "leads": t(language, "ops_leads_claimed", created=leads["created"], claimed=leads["claimed"])
        if leads["created"] or leads["claimed"]
        else t(language, "ops_none"),
        "claim_time": " · ".join(claim) or t(language, "ops_none"),
    }


def operations_rows(report: dict[str, Any], language: str) -> list[dict[str, str]]:
    """The period's total first, then each day, newest first."""
    total = operations_row(t(language, "ops_total"), report["total"], language)
    return [total, *(operations_row(d["day"], d, language) for d in report["days"])]


def audit_rows(entries: list[dict[str, Any]], language: str) -> list[dict[str, str]]:
    """Newest first: when, who, what (in the user's words), on what."""
    return [
        {
            "at": f"{e['at'][:10]} {e['at'][11:16]}",
            "actor": e.get("actor") or "—",
            "action": t(language, f"audit_{e['action']}", default=e["action"].replace("_", " ")),
            "target": e.get("target") or "",
        }
        for e in entries
    ]


# What an admin picks for a new CRM receiver in the cockpit (the API takes any list of events).
EVENT_CHOICES = {
    "all": ["*"],
    "leads": ["lead.created", "lead.claimed", "lead.replied", "lead.closed"],
    "clients": ["client.created", "client.updated", "client.archived"],
}


def webhook_rows(endpoints: list[dict[str, Any]], language: str) -> list[dict[str, str]]:
    """A CRM endpoint a line: where, which events, whether personal data goes, whether it is on."""
    return [
        {
            "id": str(e["id"]),
            "url": e["url"],
            "events": t(language, "webhook_all_events")
            if "*" in e["events"]
            else ", ".join(t(language, f"event_{name}", default=name) for name in e["events"]),
            "personal": t(language, "webhook_personal" if e["personal_data"] else "webhook_no_personal"),
            "active": t(language, "webhook_on" if e["active"] else "webhook_off"),
        }
        for e in endpoints
    ]


def delivery_rows(deliveries: list[dict[str, Any]], language: str) -> list[dict[str, str]]:
    """Newest first: when, which event, its state, tries, what the receiver last answered."""
    rows = []
    for d in deliveries:
        # the receiver's HTTP status, or that it could not be reached (the error itself is in the API's log)
        answered = f"HTTP {d['last_status']}" if d.get("last_status") else ""
        if not answered and d.get("last_error"):
            answered = t(language, "delivery_unreachable")
        rows.append(
            {
                "id": str(d["id"]),
                "at": f"{d['created_at'][:10]} {d['created_at'][11:19]}",
                "event": t(language, f"event_{d['event_type']}", default=d["event_type"]),
                "state": t(language, f"delivery_{d['state']}"),
                "attempts": str(d["attempts"]),
                "answer": answered if d["state"] != "delivered" or d["attempts"] > 1 else "",
            }
        )
    return rows
