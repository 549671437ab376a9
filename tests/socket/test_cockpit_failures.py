"""What goes wrong, over the real socket: a dead or slow or rate-limited LLM, invalid LLM output, reconnects,
bursts of observations, a restarted database, and garbage on the wire."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.db.embedded import EmbeddedPostgres
from backend.db.migrate import upgrade_to_head
from backend.db.models import Interaction
from backend.domain.protocol.cockpit import MAX_MESSAGE_BYTES
from backend.domain.sessions.store import SessionStore
from backend.runtime import bind_socket
from tests.fakes.model_server import Reply
from tests.socket.conftest import Backend, StartBackend


def dead_port_url() -> str:
    sock = bind_socket("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    return url


async def test_llm_down_gives_labelled_playbook_moves_and_a_degraded_status(start_backend: StartBackend) -> None:
    async with start_backend(llm_host=dead_port_url()) as backend, backend.cockpit() as c:
        await c.open_new_client()
        await c.observe("Klient pyta o fotelik Isofix i bezpieczeństwo dzieci")
        fast = await c.next("fast_result")
        moves = await c.next("moves")
        status = c.of_type("status")[-1]
        assert fast["indicators"]  # the fast path does not need the LLM
        assert moves["mode"] == "degraded" and moves["model"] is None and "gpt-oss" in moves["reason"]
        assert [m["kind"] for m in moves["moves"]] == ["question", "argument", "objection_response", "action"]
        assert all(m["source"].startswith("playbook:") for m in moves["moves"])
        assert status["llm"] == "degraded" and status["model"] is None
        assert not c.of_type("assessment")
        # Generate others still works, with other playbook moves.
        await c.send({"v": 1, "type": "regenerate"})
        other = await c.next("moves", batch=1)
        assert {m["text"] for m in other["moves"]}.isdisjoint(m["text"] for m in moves["moves"])
        # The advisor says plainly that it is unavailable; the strategy comes from the archetype.
        await c.send({"v": 1, "type": "advisor", "client_message_id": "a1", "text": "Co dalej?"})
        advice = await c.next("advisor_done")
        assert advice["mode"] == "degraded" and "niedostępny" in advice["text"]
        await c.send({"v": 1, "type": "strategy"})
        strategy = await c.next("strategy")
        assert strategy["mode"] == "degraded" and all(strategy["sections"].values())


async def test_no_first_token_in_time_falls_back_to_the_smaller_model(backend: Backend) -> None:
    backend.fake.script("gpt-oss:120b", Reply(first_token_delay=1.3))
    async with backend.cockpit() as c:
        await c.open_new_client()
        await c.observe("Pyta o zasięg w zimie")
        moves = await c.next("moves")
        status = next(e for e in c.of_type("status") if e["model"] == "gpt-oss:20b")
    assert moves["mode"] == "llm" and moves["model"] in ("gpt-oss:20b", "gpt-oss:120b")
    assessment = c.of_type("assessment")[0]
    assert assessment["model"] == "gpt-oss:20b"
    assert status["llm"] == "degraded" and "first token" in status["detail"]


async def test_rate_limit_falls_back_to_the_smaller_model(backend: Backend) -> None:
    backend.fake.script("gpt-oss:120b", Reply(status=429, error="rate limit exceeded"))
    async with backend.cockpit() as c:
        await c.open_new_client()
        await c.observe("Pyta o cenę")
        assessment = await c.next("assessment")
        status = c.of_type("status")[-1]
    assert assessment["model"] == "gpt-oss:20b"
    assert "429" in status["detail"]


async def test_invalid_llm_json_is_repaired_once_then_degraded(backend: Backend) -> None:
    backend.fake.respond = lambda request: '{"question": "not a move"}' if request.get("format") else "text"
    async with backend.cockpit() as c:
        await c.open_new_client()
        await c.observe("Klient mówi, że musi to przemyśleć")
        moves = await c.next("moves")
    assert moves["mode"] == "degraded" and "invalid" in moves["reason"]
    assert not c.of_type("assessment") and not c.of_type("move")
    repairs = [r for r in backend.fake.chats() if r["messages"][-1]["content"].startswith("That answer is not valid")]
    assert len(repairs) == 2  # one repair for the assessment, one for the moves


async def test_reconnect_and_resume_gets_exactly_the_missed_events(backend: Backend) -> None:
    backend.fake.default = Reply(chunk_size=6, chunk_delay=0.01)
    async with backend.cockpit() as c:
        session = await c.open_new_client()
        await c.observe("Pyta o ładowanie w domu z fotowoltaiki")
        await c.next("ack")
        last_seen = c.last_seq
    # Disconnected while the LLM is still working; the session keeps going without the socket.
    async with backend.cockpit() as c:
        await c.send({"v": 1, "type": "resume", "session_id": session["session_id"], "last_seq": last_seen})
        await c.next("moves")
        seqs = [e["seq"] for e in c.events if e.get("seq") is not None]
        assert seqs[0] == last_seen + 1 and seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert {"fast_result", "assessment", "move", "moves"} <= {e["type"] for e in c.events}
        # Resuming when nothing was missed sends nothing.
        await c.send({"v": 1, "type": "resume", "session_id": session["session_id"], "last_seq": c.last_seq})
        await c.send({"v": 1, "type": "ping"})
        await c.next("pong")
        assert c.events[-2]["type"] != "fast_result"


async def test_resume_after_a_backend_restart_gets_a_full_snapshot(start_backend: StartBackend) -> None:
    async with start_backend() as backend, backend.cockpit() as c:
        session = await c.open_new_client()
        await c.observe("Klient interesuje się autopilotem")
        await c.next("moves")
        last_seen = c.last_seq
        username = backend.username
    async with start_backend(username=username) as restarted, restarted.cockpit() as c:  # a new process: nothing live
        await c.send({"v": 1, "type": "resume", "session_id": session["session_id"], "last_seq": last_seen})
        snapshot = await c.next("session")
    assert [h["text"] for h in snapshot["history"]] == ["Klient interesuje się autopilotem"]
    assert snapshot["latest"]["moves"]["mode"] == "llm"
    assert snapshot["latest"]["fast_result"]["archetypes"][0]["slug"] == "tech-pioneer"


async def test_a_burst_of_observations_supersedes_the_older_llm_work(backend: Backend) -> None:
    backend.fake.default = Reply(chunk_size=40, chunk_delay=0.02)  # every LLM answer takes a while
    texts = ["Pyta o leasing", "Pyta o VAT", "Pyta o amortyzację i flotę 5 aut"]
    async with backend.cockpit() as c:
        await c.open_new_client()
        for text in texts:
            await c.observe(text)
        acks = [await c.next("ack") for _ in texts]
        moves = await c.next("moves")
        await c.quiet(0.5)
    assert moves["interaction_id"] == acks[-1]["interaction_id"]
    assert len(c.of_type("fast_result")) == 3  # every observation got its fast result...
    assert len(c.of_type("moves")) == 1  # ...but only the newest got the LLM's moves
    assert {e["interaction_id"] for e in c.of_type("move")} == {acks[-1]["interaction_id"]}
    async with backend.db.sessions() as db:
        stored = await db.scalar(select(func.count()).where(Interaction.id.in_([a["interaction_id"] for a in acks])))
    assert stored == 3


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "malformed_json"),
        ("[1, 2]", "invalid_message"),
        ('{"v": 1}', "invalid_message"),
        ('{"v": 1, "type": "launch_rockets"}', "unknown_type"),
        ('{"v": 9, "type": "ping"}', "unsupported_version"),
        ('{"v": 1, "type": "observation", "client_message_id": "x", "text": ""}', "invalid_message"),
        ('{"v": 1, "type": "observation", "client_message_id": "x", "text": "hi"}', "invalid_input"),  # no session
        ('{"v": 1, "type": "open_session"}', "invalid_input"),
        ('{"v": 1, "type": "resume", "session_id": 999999999, "last_seq": 0}', "not_found"),
        (json.dumps({"v": 1, "type": "ping", "pad": "x" * MAX_MESSAGE_BYTES}), "message_too_large"),
    ],
)
async def test_bad_messages_get_typed_errors_and_the_socket_stays_open(backend: Backend, raw: str, code: str) -> None:
    async with backend.cockpit() as c:
        await c.send(raw)
        error = await c.next("error")
        assert error["code"] == code and error["message"]
        await c.send({"v": 1, "type": "ping"})
        await c.next("pong")


async def test_binary_frames_are_parsed_like_text(backend: Backend) -> None:
    async with backend.cockpit() as c:
        await c.ws.send(b'{"v": 1, "type": "ping"}')
        await c.next("pong")


async def test_no_observation_is_lost_when_the_database_restarts(tmp_path: Path, start_backend: StartBackend) -> None:
    server = EmbeddedPostgres(tmp_path / "pgdata")  # a server of its own, to stop and start
    url = server.start()
    try:
        await upgrade_to_head(url)
        async with start_backend(database_url=url) as backend, backend.cockpit() as c:
            await c.open_new_client()
            await c.observe("Pierwsza obserwacja", "obs-1")
            await c.next("ack", client_message_id="obs-1")

            server.stop()
            server.restart()  # restarted between two observations: the next one just works
            await c.observe("Druga obserwacja", "obs-2")
            await c.next("ack", client_message_id="obs-2")

            server.stop()  # down while the salesperson types: a typed error, no ack, nothing pretended
            await c.observe("Trzecia obserwacja", "obs-3")
            error = await c.next("error", client_message_id="obs-3")
            assert error["code"] == "database_unavailable"
            assert not [e for e in c.of_type("ack") if e["client_message_id"] == "obs-3"]

            server.restart()
            await c.observe("Trzecia obserwacja", "obs-3")  # the cockpit resends what was not acknowledged
            ack = await c.next("ack", client_message_id="obs-3")
            assert ack["duplicate"] is False
            await c.next("moves", interaction_id=ack["interaction_id"])
            async with backend.db.sessions() as db:
                texts = (await db.scalars(select(Interaction.user_input).order_by(Interaction.id))).all()
            assert texts == ["Pierwsza obserwacja", "Druga obserwacja", "Trzecia obserwacja"]
    finally:
        server.close()


async def test_an_observation_a_crash_left_unanswered_is_analysed_when_the_session_is_next_opened(
    backend: Backend,
) -> None:
    async with backend.cockpit() as c:
        session = await c.open_new_client()
    sid = session["session_id"]
    # What a `kill -9` during the analysis leaves: the observation stored (and acknowledged), no response yet,
    # and nothing live in any process.
    backend.services.hub.sessions.pop(sid)
    recorded = await SessionStore(backend.db).record(sid, "observation", "Pyta o autopilota i aktualizacje OTA", "cm-1")
    async with backend.cockpit() as c:
        await c.send({"v": 1, "type": "open_session", "session_id": sid})
        snapshot = await c.next("session")
        assert snapshot["latest"]["fast_result"]["archetypes"][0]["slug"] == "tech-pioneer"
        moves = await c.next("moves", interaction_id=recorded.interaction_id)
    assert moves["mode"] == "llm" and len(moves["moves"]) == 4
    async with asyncio.timeout(10):  # and stored, so the next opening finds it answered
        while not await db_response(backend, recorded.interaction_id):  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.05)
    response = await db_response(backend, recorded.interaction_id)
    assert response is not None and response["fast_result"] and response["moves"]


async def db_response(backend: Backend, interaction_id: int) -> dict[str, Any] | None:
    async with backend.db.sessions() as db:
        stored = await db.get(Interaction, interaction_id)
        return stored.ai_response if stored is not None else None
