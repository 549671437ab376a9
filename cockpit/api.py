"""The cockpit's only way to the backend: the /ws/cockpit socket (docs/protocol.md) and the HTTP client-file API.

:class:`CockpitLink` keeps one socket open for one salesperson: it reconnects with backoff, resumes the
session from the last sequence number it saw, and keeps every observation and advisor question in an outbox
until the backend acknowledges it — so nothing typed while the connection is down is lost; it is sent (again)
on reconnect, and the backend's idempotency (``client_message_id``) makes resending safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import structlog
from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from backend.domain.accounts.forwarding import ADDRESS_HEADER, KEY_VARIABLE, SIGNATURE_HEADER, sign
from backend.domain.protocol.cockpit import parse_server_event

__all__ = ("BackendError", "ClientFiles", "CockpitLink", "TeamReview", "login", "save_language")

OnEvent = Callable[[dict[str, Any]], Awaitable[None]]
# Errors after which the same message may succeed later; any other error refuses the message as it is.
TRANSIENT_ERRORS = frozenset({"database_unavailable", "service_unavailable", "internal_error", "rate_limited", "busy"})
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)  # seconds between reconnect attempts, the last one repeating
POLICY_VIOLATION = 1008
RESEND_AFTER = 1.0  # seconds before resending a message the backend could not store

log = structlog.get_logger(__name__)


class PendingMessages(Exception):
    """Messages typed for the open client are not stored yet: opening another now would lose them."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} message(s) not yet stored")
        self.count = count


class BackendError(Exception):
    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


async def login(base_url: str, username: str, password: str, browser_address: str = "") -> dict[str, Any]:
    """``{"token", "expires_at", "user"}``, or :class:`BackendError` (e.g. ``not_authenticated``).

    The browser's address goes along, signed, so that failed logins slow down that browser only — not every
    salesperson behind this cockpit's one address."""
    key = os.environ.get(KEY_VARIABLE, "")
    headers = {ADDRESS_HEADER: browser_address, SIGNATURE_HEADER: sign(key, browser_address)}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        response = await http.post(
            "/auth/login",
            json={"username": username, "password": password},
            headers=headers if key and browser_address else None,
        )
    body: dict[str, Any] = _json_or_error(response)
    return body


def _json_or_error(response: httpx.Response) -> Any:
    body = response.json()
    if response.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise BackendError(error.get("code", "http_error"), error.get("message", response.text), error.get("details"))
    return body


async def change_password(base_url: str, token: str, current: str, new: str) -> None:
    """Set the user's own password (the current one required), or :class:`BackendError`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        response = await http.post(
            "/auth/password",
            json={"current_password": current, "new_password": new},
            headers={"Authorization": f"Bearer {token}"},
        )
    if response.status_code != 204:
        _json_or_error(response)


async def save_language(base_url: str, token: str, language: str) -> None:
    """Remember the user's cockpit language on the backend (so every device of theirs uses it)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        response = await http.patch(
            "/auth/me", json={"language": language}, headers={"Authorization": f"Bearer {token}"}
        )
    _json_or_error(response)


class _Http:
    """An HTTP client signed in with the user's token (bearer: no cookie, so no CSRF token needed)."""

    def __init__(self, base_url: str, token: str) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    async def close(self) -> None:
        await self._http.aclose()


class ClientFiles(_Http):
    """The HTTP client-file endpoints."""

    async def search(self, q: str = "", *, archived: bool = False, limit: int = 20) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, "archived": str(archived).lower()}
        if q:
            params["q"] = q
        result: list[dict[str, Any]] = _json_or_error(await self._http.get("/clients/", params=params))
        return result

    async def create(self, name: str, contact_info: str | None = None) -> dict[str, Any]:
        body = {"name": name, "contact_info": contact_info}
        result: dict[str, Any] = _json_or_error(await self._http.post("/clients/", json=body))
        return result

    async def knowledge(self, slug: str, language: str) -> dict[str, Any]:
        """A knowledge module's facts (with verify marks) and strategies, for its card."""
        result: dict[str, Any] = _json_or_error(
            await self._http.get(f"/knowledge/{slug}", params={"language": language})
        )
        return result

    async def archive(self, client_id: int) -> dict[str, Any]:
        result: dict[str, Any] = _json_or_error(await self._http.post(f"/clients/{client_id}/archive"))
        return result

    async def restore(self, client_id: int) -> dict[str, Any]:
        """Back from the archive (the undo of :meth:`archive`)."""
        response = await self._http.patch(f"/clients/{client_id}", json={"archived": False})
        result: dict[str, Any] = _json_or_error(response)
        return result


class TeamReview(_Http):
    """The sales lead's review endpoints (``/review``; leads and admins only)."""

    async def clients(self, **filters: Any) -> list[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v not in (None, "")}
        result: list[dict[str, Any]] = _json_or_error(await self._http.get("/review/clients", params=params))
        return result

    async def timeline(self, session_id: int) -> dict[str, Any]:
        result: dict[str, Any] = _json_or_error(await self._http.get(f"/review/sessions/{session_id}/timeline"))
        return result

    async def feedback(self) -> dict[str, Any]:
        result: dict[str, Any] = _json_or_error(await self._http.get("/review/feedback"))
        return result

    async def operations(self, days: int) -> dict[str, Any]:
        result: dict[str, Any] = _json_or_error(await self._http.get("/review/operations", params={"days": days}))
        return result

    async def proposals(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = _json_or_error(await self._http.get("/review/proposals"))
        return result

    async def decide(self, suggestion_id: str, approve: bool) -> dict[str, Any]:
        body = {"decision": "approve" if approve else "reject"}
        result: dict[str, Any] = _json_or_error(await self._http.post(f"/review/proposals/{suggestion_id}", json=body))
        return result

    async def export(self) -> str:
        """The fine-tuning data set (JSONL)."""
        response = await self._http.get("/review/export")
        if response.status_code >= 400:
            _json_or_error(response)
        return response.text

    async def webhooks(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = _json_or_error(await self._http.get("/integrations/webhooks/"))
        return result

    async def add_webhook(self, url: str, events: list[str], personal_data: bool) -> dict[str, Any]:
        body = {"url": url, "events": events, "personal_data": personal_data}
        result: dict[str, Any] = _json_or_error(await self._http.post("/integrations/webhooks/", json=body))
        return result

    async def deliveries(self, endpoint_id: int) -> list[dict[str, Any]]:
        path = f"/integrations/webhooks/{endpoint_id}/deliveries"
        result: list[dict[str, Any]] = _json_or_error(await self._http.get(path, params={"limit": 30}))
        return result

    async def replay(self, delivery_id: int) -> dict[str, Any]:
        path = f"/integrations/webhooks/deliveries/{delivery_id}/replay"
        result: dict[str, Any] = _json_or_error(await self._http.post(path))
        return result

    async def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = _json_or_error(await self._http.get("/audit", params={"limit": limit}))
        return result

    async def pack_files(self, kind: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = _json_or_error(await self._http.get(f"/review/pack/{kind}"))
        return result

    async def pack_file(self, kind: str, name: str) -> dict[str, Any]:
        """A pack file's text and its kept versions (newest first)."""
        result: dict[str, Any] = _json_or_error(await self._http.get(f"/review/pack/{kind}/{name}"))
        return result

    async def pack_version(self, kind: str, name: str, version: str) -> str:
        found = _json_or_error(await self._http.get(f"/review/pack/{kind}/{name}/versions/{version}"))
        return str(found["text"])

    async def save_pack_file(self, kind: str, name: str, text: str, *, force: bool = False) -> dict[str, Any]:
        body = {"text": text, "force": force}
        result: dict[str, Any] = _json_or_error(await self._http.put(f"/review/pack/{kind}/{name}", json=body))
        return result


class CockpitLink:
    def __init__(self, base_url: str, token: str, on_event: OnEvent) -> None:
        self.url = base_url.replace("http://", "ws://").replace("https://", "wss://") + "/ws/cockpit"
        self.token = token
        self.on_event = on_event
        self.connected = False
        self.session_id: int | None = None
        self.last_seq = 0
        self.outbox: dict[str, dict[str, Any]] = {}  # client_message_id -> message, until acknowledged
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._resending: set[asyncio.Future[None]] = set()

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stopping = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                async with connect(
                    self.url, additional_headers={"Authorization": f"Bearer {self.token}"}, compression=None
                ) as ws:
                    self._ws = ws
                    attempt = 0
                    await self._on_connect(ws)
                    async for raw in ws:
                        event = _parsed(raw)
                        if event is not None:
                            await self._receive(event)
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == POLICY_VIOLATION:
                    await self._status(False, "not_authenticated")
                    return  # the login expired: retrying cannot help
            except (OSError, InvalidStatus, TimeoutError):
                pass
            self._ws = None
            await self._status(False, "reconnecting")
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
            attempt += 1

    async def _on_connect(self, ws: ClientConnection) -> None:
        await self._status(True, "connected")
        if self.session_id is not None:
            await ws.send(
                json.dumps({"v": 1, "type": "resume", "session_id": self.session_id, "last_seq": self.last_seq})
            )
        for message in list(self.outbox.values()):  # unacknowledged: resend (the backend deduplicates)
            await ws.send(json.dumps(message))

    async def _status(self, connected: bool, state: str) -> None:
        changed = connected != self.connected
        self.connected = connected
        if changed or not connected:
            await self.on_event({"type": "connection", "state": state, "pending": len(self.outbox)})

    async def _receive(self, event: dict[str, Any]) -> None:
        """One server event, already validated against the protocol's models (see :func:`_parsed`)."""
        if event.get("seq") is not None:
            if event["type"] == "session":
                self.session_id = event["session_id"]
            elif event.get("session_id") != self.session_id:
                return  # an event of a session this cockpit has left
            elif event["seq"] <= self.last_seq:
                return  # already seen (a resume can overlap what arrived just before a disconnect)
            self.last_seq = event["seq"]
        if event["type"] == "ack":
            self.outbox.pop(event["client_message_id"], None)
        elif event["type"] == "error" and event.get("client_message_id") in self.outbox:
            if event["code"] in TRANSIENT_ERRORS:
                # Not stored (e.g. the database is restarting): keep it and try again shortly.
                asyncio.get_running_loop().call_later(RESEND_AFTER, self._resend, event["client_message_id"])
            else:  # refused as it is (too long, a character that cannot be stored): sending again cannot help
                self.outbox.pop(event["client_message_id"])
        await self.on_event(event)

    def _resend(self, client_message_id: str) -> None:
        message = self.outbox.get(client_message_id)
        if message is not None:
            task = asyncio.ensure_future(self._send(message))
            self._resending.add(task)
            task.add_done_callback(self._resending.discard)

    # ---- messages ----------------------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps({"v": 1, **message}))

    async def _send_kept(self, message: dict[str, Any]) -> str:
        """Messages with a client_message_id stay in the outbox until acknowledged; returns the id."""
        cmid = uuid.uuid4().hex
        kept = {"v": 1, **message, "client_message_id": cmid}
        self.outbox[cmid] = kept
        await self._send(kept)
        return cmid

    async def open_new_client(self, name: str, contact_info: str | None = None) -> None:
        await self._switch({"type": "open_session", "new_client": {"name": name, "contact_info": contact_info}})

    async def open_client(self, client_id: int) -> None:
        await self._switch({"type": "open_session", "client_id": client_id})

    async def continue_session(self, session_id: int) -> None:
        await self._switch({"type": "open_session", "session_id": session_id})

    async def _switch(self, message: dict[str, Any]) -> None:
        """Open another session — held while anything typed for this one waits for its acknowledgement (the
        messages carry no session: sent after the switch they would land with the other client)."""
        if self.outbox:
            raise PendingMessages(len(self.outbox))
        self.session_id = None
        self.last_seq = 0
        await self._send(message)

    async def send_observation(self, text: str) -> str:
        return await self._send_kept({"type": "observation", "text": text})

    async def ask_advisor(self, text: str) -> str:
        return await self._send_kept({"type": "advisor", "text": text})

    async def regenerate(self) -> None:
        await self._send({"type": "regenerate"})

    async def feedback(self, suggestion_id: str, rating: int) -> None:
        await self._send({"type": "feedback", "suggestion_id": suggestion_id, "rating": rating})

    async def strategy(self) -> None:
        await self._send({"type": "strategy"})

    async def claim_lead(self, lead_id: int) -> None:
        await self._switch({"type": "claim_lead", "lead_id": lead_id})

    async def reply_to_customer(self, text: str) -> None:
        await self._send({"type": "customer_reply", "text": text})

    async def hand_back(self) -> None:
        await self._send({"type": "hand_back"})

    async def set_key_facts(self, key_facts: list[str]) -> None:
        await self._send({"type": "key_facts", "key_facts": key_facts})

    async def end_session(self) -> None:
        await self._send({"type": "end_session"})


def _parsed(raw: str | bytes) -> dict[str, Any] | None:
    """A server event parsed with the protocol's own models (backend/domain/protocol/cockpit.py), as the plain
    data the view model reads; an event that does not match them is logged and skipped, never half-shown."""
    try:
        event = parse_server_event(raw)
    except ValidationError:
        log.warning("cockpit_event_invalid", exc_info=True)
        return None
    return event.model_dump(mode="json")
