"""The review screen's logic: filters → query, /review answers → rows."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from cockpit.view_models import review as rm

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_any_filters_nothing() -> None:
    assert rm.filter_params(rm.ANY, rm.ANY, rm.ANY, rm.ANY, "50", rm.ANY) == {}
    assert rm.filter_params(rm.ANY, rm.ANY, "active", rm.ANY, "50", rm.ANY) == {"archived": "false"}


def test_every_filter_becomes_its_query_parameter() -> None:
    params = rm.filter_params("7", "tech-pioneer", "archived", "churn_risk", "75", "30", now=NOW)
    assert params == {
        "owner_id": 7,
        "archetype": "tech-pioneer",
        "archived": "true",
        "indicator": "churn_risk",
        "min": 75,
        "since": "2026-10-22T12:00:00+00:00",
    }


@given(
    owner=st.sampled_from([rm.ANY, "1", "42"]),
    archived=st.sampled_from([rm.ANY, "active", "archived"]),
    indicator=st.sampled_from([rm.ANY, *rm.INDICATORS]),
    minimum=st.sampled_from(["25", "50", "75", "90"]),
    period=st.sampled_from([rm.ANY, *rm.PERIODS]),
)
def test_filters_only_ever_ask_what_the_endpoint_takes(
    owner: str, archived: str, indicator: str, minimum: str, period: str
) -> None:
    params = rm.filter_params(owner, rm.ANY, archived, indicator, minimum, period, now=NOW)
    assert set(params) <= {"owner_id", "archived", "indicator", "min", "since"}
    assert ("min" in params) == ("indicator" in params)  # a minimum means nothing without its indicator
    assert 0 <= params.get("min", 0) <= 100


def test_client_rows_and_choices() -> None:
    files = [
        {
            "id": 3,
            "name": "Anna",
            "owner": "ola",
            "owner_id": 2,
            "archetype": "family-guardian",
            "archived": False,
            "updated_at": "2026-11-20T10:00:00+00:00",
            "indicators": {"purchase_readiness": 62, "churn_risk": 10},
            "latest_session_id": 9,
        },
        {
            "id": 4,
            "name": "Jan",
            "owner": "bartek",
            "owner_id": 5,
            "archetype": None,
            "archived": True,
            "updated_at": "2026-11-19T10:00:00+00:00",
            "indicators": {},
            "latest_session_id": None,
        },
    ]
    rows = rm.client_rows(files, "en")
    assert rows[0]["indicators"] == "Purchase readiness 62 · Churn risk 10"
    assert rows[0]["session_id"] == "9" and rows[1]["session_id"] == ""
    assert rows[1]["archetype"] == "—" and rows[1]["archived"] == "archived"
    owners, archetypes = rm.choices(files)
    assert owners == [{"id": "5", "name": "bartek"}, {"id": "2", "name": "ola"}]
    assert archetypes == ["family-guardian"]


def test_timeline_rows_put_each_suggestion_under_its_observation() -> None:
    timeline = {
        "steps": [
            {
                "at": "2026-11-20T10:15:00+00:00",
                "kind": "observation",
                "text": "Pyta o leasing",
                "archetype": "fleet-manager",
                "indicators": {"deal_potential": 70},
                "moves": [
                    {"kind": "question", "text": "Ile aut?", "up": 2, "down": 0},
                    {"kind": "action", "text": "Oferta", "up": 0, "down": 1},
                ],
            }
        ]
    }
    rows = rm.timeline_rows(timeline, "pl")
    assert [r["row"] for r in rows] == ["step", "move", "move"]
    assert rows[0]["at"] == "10:15" and rows[0]["detail"] == "fleet-manager · Potencjał transakcji 70"
    assert rows[1]["text"] == "Pytanie: Ile aut?" and rows[1]["detail"] == "Pomocne 2"
    assert rows[2]["detail"] == "Niepomocne 1"


def test_stat_rows_show_the_share_of_helpful() -> None:
    stats = {"by_kind": [{"key": "argument", "up": 3, "down": 1}, {"key": "x", "up": 0, "down": 0}]}
    assert rm.stat_rows(stats, "kind", "en") == [
        {"key": "Argument", "up": "3", "down": "1", "share": "75%"},
        {"key": "x", "up": "0", "down": "0", "share": "—"},
    ]
    assert rm.stat_rows(stats, "rule", "en") == []


def test_a_near_duplicate_may_be_saved_anyway_a_broken_file_may_not() -> None:
    similar = {"similar": [{"name": "wallbox", "score": 0.93}], "threshold": 0.85}
    text, may_force = rm.pack_problem("conflict", "Not saved", similar, "en")
    assert may_force and "wallbox (0.93)" in text
    broken = {"file": "scoring_rules/x.toml", "problems": ["line 3: expected '='"]}
    text, may_force = rm.pack_problem("invalid_input", "Not saved, the pack would not load", broken, "en")
    assert not may_force and "line 3: expected '='" in text


def test_audit_rows() -> None:
    entries = [{"at": "2026-11-21T09:05:31+00:00", "actor": None, "action": "lead_claimed", "target": "lead 3"}]
    assert rm.audit_rows(entries, "pl") == [
        {"at": "2026-11-21 09:05", "actor": "—", "action": "lead przejęty", "target": "lead 3"}
    ]
    assert rm.audit_rows(entries, "en")[0]["action"] == "lead claimed"
    unknown = [{**entries[0], "action": "something_new"}]
    assert rm.audit_rows(unknown, "pl")[0]["action"] == "something new"  # an action added later still reads


def _day(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "dialogs": {},
        "llm": {"calls": 0, "ok": 0, "fallback": 0, "failed": 0, "cancelled": 0, "p50": None, "p95": None,
                "first_token_p50": None, "prompt_tokens": 0, "completion_tokens": 0},
        "observations": 0, "with_moves": 0, "degraded": 0, "degraded_share": None,
        "leads": {"created": 0, "claimed": 0, "claim_p50": None, "claim_p95": None},
    }  # fmt: skip
    entry.update(changes)
    return entry


def test_an_operations_day_reads_as_words_and_times_in_the_language() -> None:
    busy = _day(
        dialogs={"web": 2, "cockpit": 1, "whatsapp": 1},
        llm={"calls": 4, "ok": 2, "fallback": 1, "failed": 1, "cancelled": 0, "p50": 2.0, "p95": 2.9,
             "first_token_p50": 0.5, "prompt_tokens": 400, "completion_tokens": 40},
        with_moves=3, degraded=2, degraded_share=0.667,
        leads={"created": 3, "claimed": 3, "claim_p50": 240.0, "claim_p95": 1644.0},
    )  # fmt: skip
    pl = rm.operations_row("2001-03-14", busy, "pl")
    assert pl["dialogs"] == "w kokpicie 1 · widżet WWW 2 · whatsapp 1"  # known channels first, then by name
    assert pl["llm_calls"] == "4 · zapasowy model 1 · bez odpowiedzi 1"
    assert pl["llm_time"] == "mediana 2,0 s · 95% w 2,9 s · pierwsze słowo 500 ms"
    assert pl["degraded"] == "67% z 3 obserwacji"
    assert pl["claim_time"] == "mediana 4 min · 95% w 27 min"
    en = rm.operations_row("2001-03-14", busy, "en")
    assert en["llm_time"] == "median 2.0 s · 95% within 2.9 s · first word 500 ms"
    assert en["leads"] == "new: 3 · claimed: 3"
    quiet = rm.operations_row("2001-03-15", _day(), "en")
    assert {k: v for k, v in quiet.items() if k != "day"} == dict.fromkeys(
        ("dialogs", "llm_calls", "llm_time", "degraded", "leads", "claim_time"), "—"
    )
    rows = rm.operations_rows({"total": busy, "days": [{"day": "2001-03-14", **busy}]}, "pl")
    assert [r["day"] for r in rows] == ["Razem", "2001-03-14"]


@given(st.floats(min_value=0, max_value=10 * 24 * 3600, allow_nan=False))
def test_every_duration_is_said_with_a_unit(seconds: float) -> None:
    pl, en = rm.duration(seconds, "pl"), rm.duration(seconds, "en")
    assert pl.split(" ")[-1] == en.split(" ")[-1] in ("ms", "s", "min", "h")
    assert "." not in pl and "," not in en  # each language's decimal separator
