"""The cockpit's Reflex state: thin. Events go to the backend through cockpit/api.py; what comes back is folded
into a view_model.Screen by a background task and copied into the small vars the UI renders."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Any

import reflex as rx
import structlog
from reflex.event import EventHandler

from backend.domain.protocol.cockpit import MAX_TEXT
from cockpit.api import BackendError, ClientFiles, CockpitLink, PendingMessages, change_password, login, save_language
from cockpit.texts import t
from cockpit.view_models import live as view_model
from cockpit.view_models.live import Screen, apply, relabel

log = structlog.get_logger(__name__)

BACKEND_URL = os.environ.get("SUFLER_COCKPIT_BACKEND_URL", "http://127.0.0.1:8000")

# Live links per browser tab (Reflex client token). They hold sockets, so they cannot live in the state.
_LINKS: dict[str, CockpitLink] = {}
_INBOX: dict[str, asyncio.Queue[dict[str, Any]]] = {}
# Not shown as such: the language is a state var of its own; the rest feed what is shown (moves, chips, notes).
INTERNAL = ("language", "ratings", "stage", "connection_state", "moves_mode", "_visits", "_indicator_data", "_before")
SCREEN_FIELDS = [f.name for f in fields(Screen) if f.name not in INTERNAL]


class CockpitState(rx.State):
    _token: str = ""  # backend-only: never sent to the browser
    _screen: Screen = Screen()
    username: str = ""
    role: str = ""  # salesperson, lead or admin: which screens to offer (the backend enforces who may do what)
    language: str = "pl"  # the user's, from the backend at login
    login_error: str = ""
    must_change_password: bool = False  # an admin reset the password: a new one first, then the cockpit

    # A copy of the Screen fields the UI renders.
    session_id: int = 0
    client_name: str = ""
    history: list[dict[str, str]] = []
    indicators: list[dict[str, Any]] = []
    archetypes: list[dict[str, Any]] = []
    leading: bool = False
    leader_note: str = ""
    knowledge: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    moves_key: str = ""
    moves_note: str = ""
    advisor: list[dict[str, str]] = []
    strategy: dict[str, list[str]] = {}
    strategy_note: str = ""
    llm_state: str = ""
    llm_note: str = ""
    rules_error: str = ""
    error: str = ""
    connected: bool = False
    connection_note: str = ""
    pending: int = 0
    inbox: list[dict[str, Any]] = []
    show_inbox: bool = False
    customer_channel: str = ""
    customer_chat: list[dict[str, str]] = []
    human_active: bool = False
    customer_window: str = "open"
    key_facts: list[str] = []
    earlier: list[dict[str, str]] = []

    observation: str = ""
    advisor_question: str = ""
    search_text: str = ""
    found: list[dict[str, Any]] = []
    show_archived: bool = False  # the search lists archived files (to restore one)
    archived_id: int = 0  # the file just archived, while its undo is offered
    archived_note: str = ""
    show_strategy: bool = False
    show_advisor: bool = False
    opened_explanation: str = ""
    opened_why: str = ""  # the move whose "why" is open (a phone; a laptop shows every why)
    opened_knowledge: str = ""
    knowledge_facts: list[str] = []

    # ---- texts -----------------------------------------------------------------------------------------

    chips: list[dict[str, str]] = view_model.chips(Screen())

    @rx.var
    def logged_in(self) -> bool:
        return bool(self.username)

    @rx.var
    def is_lead(self) -> bool:
        return self.role in ("lead", "admin")

    # ---- login -----------------------------------------------------------------------------------------

    @rx.event
    async def log_in(self, form: dict[str, Any]) -> EventHandler | None:
        try:
            username, password = str(form.get("username", "")), str(form.get("password", ""))
            issued = await login(BACKEND_URL, username, password, self.router.session.client_ip)
        except BackendError as exc:
            self.login_error = t(self.language, f"error_{exc.code}", default=exc.message)
            return None
        except OSError:
            self.login_error = t(self.language, "connection_reconnecting")
            return None
        self._token = issued["token"]
        self.login_error = ""
        if issued["user"].get("must_change_password"):
            self.must_change_password = True  # the login is good for nothing else until then
            return None
        self.username = issued["user"]["username"]
        self.role = issued["user"]["role"]
        self.language = issued["user"].get("language", "pl")
        self._screen.language = self.language
        self.login_error = ""
        return CockpitState.listen

    @rx.event
    async def set_new_password(self, form: dict[str, Any]) -> None:
        new = str(form.get("new_password", ""))
        if new != str(form.get("repeat_password", "")):
            self.login_error = t(self.language, "passwords_differ")
            return
        try:
            await change_password(BACKEND_URL, self._token, str(form.get("current_password", "")), new)
        except BackendError as exc:
            self.login_error = t(self.language, f"password_error_{exc.code}", default=exc.message)
            return
        except OSError:
            self.login_error = t(self.language, "connection_reconnecting")
            return
        self.must_change_password = False
        self._token = ""
        self.login_error = t(self.language, "password_changed")  # log in with the new one

    @rx.event
    async def log_out(self) -> None:
        link = _LINKS.pop(self.router.session.client_token, None)
        if link is not None:
            await link.stop()
        self._token = ""
        self.username = ""
        self.role = ""
        self._screen = Screen(language=self.language)
        self._copy_screen()

    @rx.event
    def on_load(self) -> EventHandler | None:
        """After a page reload: the state is still here (same tab); make sure its link is running."""
        if self._token and self.router.session.client_token not in _LINKS:
            return CockpitState.listen
        return None

    @rx.event(background=True)
    async def listen(self) -> None:
        """Owns this tab's link to the backend: applies every event it brings, for as long as the tab is logged in."""
        async with self:
            key = self.router.session.client_token
            token = self._token
            if not token or key in _LINKS:
                return
            inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

            async def deliver(event: dict[str, Any]) -> None:
                inbox.put_nowait(event)

            link = CockpitLink(BACKEND_URL, token, deliver)
            _LINKS[key], _INBOX[key] = link, inbox
            session_id = self._screen.session_id
            link.start()
            if session_id:
                await link.continue_session(session_id)
        while _LINKS.get(key) is link:
            event = await inbox.get()
            async with self:
                self._screen.language = self.language
                try:
                    apply(self._screen, event)
                except (KeyError, TypeError, ValueError):
                    # One event the screen cannot show must not stop the ones after it.
                    log.exception("cockpit_event_not_shown", event_type=event.get("type"))
                self._screen.pending = len(link.outbox)
                self._copy_screen()

    def _copy_screen(self) -> None:
        for name in SCREEN_FIELDS:
            setattr(self, name, getattr(self._screen, name))
        self.chips = view_model.chips(self._screen)
        ratings = self._screen.ratings
        self.moves = [{**m, "rating": ratings.get(m["id"], 0)} for m in self._screen.moves]

    def _link(self) -> CockpitLink | None:
        return _LINKS.get(self.router.session.client_token)

    # ---- client files ----------------------------------------------------------------------------------

    @rx.event
    async def search_clients(self, text: str) -> None:
        await self._search(text)

    async def _search(self, text: str) -> None:
        self.search_text = text
        files = ClientFiles(BACKEND_URL, self._token)
        try:
            self.found = [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "contact": c["contact_info"] or "",
                    "archetype": c.get("archetype_name") or "",
                }
                for c in await files.search(text, archived=self.show_archived)
            ]
        except (BackendError, OSError):
            self.found = []
        finally:
            await files.close()

    async def _switch(self, to: Callable[[CockpitLink], Awaitable[None]]) -> bool:
        """Open another session through the link; held, with a warning, while this one's messages are unsent."""
        link = self._link()
        if link is None:
            return False
        try:
            await to(link)
        except PendingMessages as exc:
            self._hold(exc.count)
            return False
        return True

    def _hold(self, count: int) -> None:
        self._screen.error = t(self.language, "switch_held", count=count)
        self.error = self._screen.error

    @rx.event
    async def create_client(self, form: dict[str, Any]) -> None:
        name = str(form.get("name", "")).strip()
        contact = str(form.get("contact", "")).strip() or None
        if name:
            await self._switch(lambda link: link.open_new_client(name, contact))

    @rx.event
    async def open_client(self, client_id: int) -> None:
        if await self._switch(lambda link: link.open_client(client_id)):
            self.found = []

    @rx.event
    def toggle_inbox(self) -> None:
        self.show_inbox = not self.show_inbox

    @rx.event
    async def claim_lead(self, lead_id: int) -> None:
        """Take a lead: the backend makes it a client file with a session seeded from the bot's chat."""
        if await self._switch(lambda link: link.claim_lead(lead_id)):
            self.show_inbox = False

    @rx.event
    def choose_client(self) -> None:
        """Back to the client panel (the session stays as it is until another client is opened) — not while
        something typed here waits to be stored: the salesperson stays where it shows as pending."""
        link = self._link()
        if link is not None and link.outbox:
            self._hold(len(link.outbox))
            return
        self._screen.session_id = 0
        self.session_id = 0

    @rx.event
    async def archive_client(self, client_id: int) -> None:
        """Archive a file (kept, hidden from the search), with an undo offered until the next archive."""
        files = ClientFiles(BACKEND_URL, self._token)
        try:
            await files.archive(client_id)
        except (BackendError, OSError):
            return
        finally:
            await files.close()
        name = next((c["name"] for c in self.found if c["id"] == client_id), "")
        self.found = [c for c in self.found if c["id"] != client_id]
        self.archived_id = client_id
        self.archived_note = t(self.language, "archived_note", name=name)

    @rx.event
    async def restore_client(self, client_id: int) -> None:
        """Undo an archive, or bring a file back from the archived list."""
        files = ClientFiles(BACKEND_URL, self._token)
        try:
            await files.restore(client_id)
        except (BackendError, OSError):
            return
        finally:
            await files.close()
        self.archived_id, self.archived_note = 0, ""
        await self._search(self.search_text)

    @rx.event
    async def toggle_archived(self, shown: bool) -> None:
        self.show_archived = shown
        await self._search(self.search_text)

    # ---- the conversation ------------------------------------------------------------------------------

    @rx.event
    async def send_observation(self, form: dict[str, Any]) -> Any:
        text = str(form.get("observation", "")).strip()
        if len(text) > MAX_TEXT:  # refused here, in the user's language, and given back to edit: nothing lost
            self._screen.error = self.error = t(self.language, "observation_too_long", count=len(text), limit=MAX_TEXT)
            return rx.set_value("observation", text)
        await self._observe(text)
        return None

    @rx.event
    async def use_chip(self, text: str) -> None:
        await self._observe(text)

    async def _observe(self, text: str) -> None:
        text = text.strip()
        link = self._link()
        if not text or link is None or not self.session_id:
            return
        self.observation = ""
        await link.send_observation(text)  # kept in the link's outbox until acknowledged: never lost
        self._screen.history.append({"kind": "observation", "text": text})
        self._screen.pending = len(link.outbox)
        self._copy_screen()

    @rx.event
    async def other_moves(self) -> None:
        link = self._link()
        if link is not None:
            await link.regenerate()

    @rx.event
    async def rate(self, suggestion_id: str, rating: int) -> None:
        link = self._link()
        if link is not None:
            await link.feedback(suggestion_id, rating)

    @rx.event
    def toggle_explanation(self, name: str) -> None:
        self.opened_explanation = "" if self.opened_explanation == name else name

    @rx.event
    def toggle_why(self, move_id: str) -> None:
        self.opened_why = "" if self.opened_why == move_id else move_id

    @rx.event
    async def toggle_knowledge(self, slug: str) -> None:
        """Open a knowledge card: its hard facts (those to confirm are marked) and strategies, from the backend."""
        if self.opened_knowledge == slug:
            self.opened_knowledge = ""
            return
        files = ClientFiles(BACKEND_URL, self._token)
        try:
            module = await files.knowledge(slug, self.language)
        except (BackendError, OSError):
            return
        finally:
            await files.close()
        mark = " ⚠ " + t(self.language, "verify")
        self.knowledge_facts = [f["text"] + (mark if f["verify"] else "") for f in module["facts"]] + module[
            "strategies"
        ]
        self.opened_knowledge = slug

    @rx.event
    async def ask_advisor(self, form: dict[str, Any]) -> None:
        text = str(form.get("question", "")).strip()
        link = self._link()
        if text and link is not None:
            self._screen.advisor.append({"role": "me", "text": text})
            self._copy_screen()
            await link.ask_advisor(text)

    @rx.event
    async def reply_to_customer(self, form: dict[str, Any]) -> None:
        text = str(form.get("reply", "")).strip()
        link = self._link()
        if text and link is not None:
            await link.reply_to_customer(text)  # shown when the backend confirms it was sent

    @rx.event
    async def remove_key_fact(self, index: int) -> None:
        await self._correct_facts([f for i, f in enumerate(self.key_facts) if i != index])

    @rx.event
    async def add_key_fact(self, form: dict[str, Any]) -> None:
        fact = " ".join(str(form.get("fact", "")).split())[:200]
        if fact:
            await self._correct_facts([*self.key_facts, fact])

    async def _correct_facts(self, facts: list[str]) -> None:
        """Shown at once; the backend stores it and confirms with a memory event (the same list)."""
        link = self._link()
        if link is not None:
            self._screen.key_facts = facts
            self._copy_screen()
            await link.set_key_facts(facts)

    @rx.event
    async def hand_back(self) -> None:
        link = self._link()
        if link is not None:
            await link.hand_back()

    @rx.event
    async def open_strategy(self) -> None:
        self.show_strategy = True
        link = self._link()
        if link is not None:
            await link.strategy()

    @rx.event
    def strategy_open(self, shown: bool) -> None:
        """The strategy dialog opened or closed (Escape, the close button, a tap outside)."""
        self.show_strategy = shown

    @rx.event
    def toggle_advisor(self) -> None:
        self.show_advisor = not self.show_advisor

    @rx.event
    def advisor_open(self, shown: bool) -> None:
        self.show_advisor = shown

    @rx.event
    async def set_language_to(self, language: str | list[str]) -> None:
        chosen = language if isinstance(language, str) else language[0]
        self.language = chosen
        self._screen.language = chosen
        relabel(self._screen)  # the notes already on screen, in the new language
        self._copy_screen()
        if self._token:
            try:
                await save_language(BACKEND_URL, self._token, chosen)
            except (BackendError, OSError):
                log.warning("language_not_saved")  # still switched here; remembered next time it works
