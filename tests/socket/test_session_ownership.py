"""One owner per session: superseded LLM work never speaks for a newer observation, idle sessions leave memory,
and a session open in two backend processes shows every event in both."""

from __future__ import annotations

import asyncio
import gc
import os

from backend.domain.clients.schemas import ClientIn
from backend.settings import SessionSettings
from tests.fakes.model_server import Reply
from tests.socket.conftest import Backend, StartBackend


async def test_a_superseded_observations_late_llm_answer_is_never_emitted_under_the_newer_id(
    backend: Backend,
) -> None:
    # The first observation's moves stream slowly, so the second observation arrives (and runs its fast path)
    # while they are still coming in.
    backend.fake.script("gpt-oss:120b", Reply(), Reply(chunk_size=3, chunk_delay=0.01))
    async with backend.cockpit() as c:
        await c.open_new_client()
        await c.observe("ALFA chce wiedzieć o zasięgu")
        first = await c.next("fast_result")
        await c.next("move", interaction_id=first["interaction_id"])  # its moves are streaming
        await c.observe("BETA pyta o leasing dla firmy")
        second_ack = await c.next("ack", duplicate=False, wait=10)
        while second_ack["interaction_id"] == first["interaction_id"]:
            second_ack = await c.next("ack", duplicate=False)
        second = second_ack["interaction_id"]
        await c.next("moves", interaction_id=second)
        await c.quiet(0.3)
    after_second_ack = c.events[c.events.index(second_ack) :]
    llm_events = [e for e in c.events if e["type"] in ("assessment", "move", "moves")]
    for event in llm_events:
        quoted = str(event)
        if event["interaction_id"] == second:
            assert "ALFA" not in quoted, event
        else:
            assert "BETA" not in quoted, event
    assert not [e for e in after_second_ack if e.get("interaction_id") == first["interaction_id"]]
    assert any(e["interaction_id"] == second and e["type"] == "moves" for e in llm_events)


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_idle_sessions_leave_memory_and_come_back_from_the_database(start_backend: StartBackend) -> None:
    async with start_backend(sessions=SessionSettings(idle_seconds=0)) as backend:
        hub = backend.services.hub
        user_id = (await backend.services.accounts.authenticate(backend.token)).id
        watcher = Watcher()

        async def open_and_leave(count: int) -> None:
            for number in range(count):
                live = await hub.open(user_id=user_id, client_id=None, new_client=ClientIn(name=f"Klient {number}"))
                hub.watch(live, watcher)
                hub.leave(live, watcher)

        await open_and_leave(200)  # warm up: pools, caches, first imports
        gc.collect()
        before = resident_bytes()
        await open_and_leave(2000)
        gc.collect()
        grown = resident_bytes() - before
        assert not hub.sessions
        assert grown < 4 * 1024 * 1024, f"memory grew by {grown / 1e6:.1f} MB over 2000 sessions"

        async with backend.cockpit() as c:
            opened = await c.open_new_client("Zofia")
            await c.observe("Pyta o ładowanie w domu")
            await c.next("moves")
            await c.send({"v": 1, "type": "open_session", "new_client": {"name": "Ktoś inny"}})
            await c.next("session", session_id=opened["session_id"] + 1)
            assert opened["session_id"] not in hub.sessions  # nobody watches it: it left memory
            await c.send({"v": 1, "type": "open_session", "session_id": opened["session_id"]})
            again = await c.next("session", session_id=opened["session_id"])
    assert [h["text"] for h in again["history"]] == ["Pyta o ładowanie w domu"]
    assert again["latest"]["moves"] is not None and again["latest"]["fast_result"] is not None


class Watcher:
    def deliver(self, text: str) -> None:
        pass


async def test_a_session_open_in_two_backend_processes_shows_every_event_in_both(
    start_backend: StartBackend,
) -> None:
    async with start_backend() as one, start_backend(username=one.username) as two:
        for backend in (one, two):
            relay = backend.services.hub.relay
            assert relay is not None
            await asyncio.wait_for(relay.connected.wait(), 10)  # type: ignore[attr-defined]
        async with one.cockpit() as a, two.cockpit(token=one.token) as b:
            opened = await a.open_new_client("Anna Wiśniewska")
            await b.send({"v": 1, "type": "open_session", "session_id": opened["session_id"]})
            await b.next("session")
            await asyncio.sleep(0.3)  # the two processes learn of each other

            await a.observe("Klientka pyta o fotelik Isofix dla dzieci")
            ack = await a.next("ack")
            moves = await a.next("moves")
            assert (await b.next("ack"))["interaction_id"] == ack["interaction_id"]
            assert (await b.next("fast_result"))["interaction_id"] == ack["interaction_id"]
            assert (await b.next("moves"))["moves"] == moves["moves"]

            await b.observe("Mąż pyta o zasięg zimą na trasie")
            ack2 = await b.next("ack", duplicate=False)
            while ack2["interaction_id"] == ack["interaction_id"]:
                ack2 = await b.next("ack", duplicate=False)
            moves2 = await b.next("moves", interaction_id=ack2["interaction_id"])
            assert (await a.next("ack", interaction_id=ack2["interaction_id"]))["duplicate"] is False
            assert (await a.next("moves", interaction_id=ack2["interaction_id"]))["moves"] == moves2["moves"]

        # The second process worked on the whole conversation, not only on what was typed there.
        live = two.services.hub.sessions[opened["session_id"]]
        assert [t.text for t in live.conv.turns] == [
            "Klientka pyta o fotelik Isofix dla dzieci",
            "Mąż pyta o zasięg zimą na trasie",
        ]
        assert [h.interaction_id for h in live.history] == [ack["interaction_id"], ack2["interaction_id"]]
