"""The sales lead's review screen: a substate of the cockpit's (it reuses the login), talking to /review through
cockpit/api.py. The backend decides who may see it; the screen only hides the button from salespeople."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from cockpit.api import BackendError, TeamReview
from cockpit.state.live import BACKEND_URL, CockpitState
from cockpit.texts import t
from cockpit.view_models import review as rm

PACK_KINDS = ("rules", "archetypes", "knowledge")


class ReviewState(CockpitState):
    show_review: bool = False
    review_tab: str = "clients"
    review_error: str = ""

    team_clients: list[dict[str, str]] = []
    owners: list[dict[str, str]] = []
    archetype_choices: list[str] = []
    owner_filter: str = rm.ANY
    archetype_filter: str = rm.ANY
    archived_filter: str = "active"
    indicator_filter: str = rm.ANY
    minimum_filter: str = "50"
    period_filter: str = rm.ANY

    timeline_title: str = ""
    timeline: list[dict[str, str]] = []

    by_archetype: list[dict[str, str]] = []
    by_kind: list[dict[str, str]] = []
    by_rule: list[dict[str, str]] = []
    by_day: list[dict[str, str]] = []

    proposals: list[dict[str, str]] = []
    approved_draft: str = ""

    audit: list[dict[str, str]] = []

    webhooks: list[dict[str, str]] = []  # CRM endpoints (admins): view_models.review.webhook_rows
    webhook_secret: str = ""  # a new endpoint's secret, shown once
    webhook_personal: str = "no"  # whether a new endpoint gets personal data: "yes" | "no"
    webhook_events: str = "all"  # which events a new endpoint gets: a key of rm.EVENT_CHOICES
    webhook_note: str = ""
    deliveries_of: str = ""  # the endpoint whose log is shown
    deliveries_url: str = ""  # and its URL, in the log's heading
    deliveries: list[dict[str, str]] = []

    operations_days: str = "14"
    operations: list[dict[str, str]] = []  # the total, then each day (view_models.review.operations_rows)

    pack_kind: str = "rules"
    pack_names: list[str] = []
    pack_name: str = ""
    pack_text: str = ""
    pack_version: int = 0  # bumped to reset the editor's text area to pack_text
    pack_note: str = ""
    pack_error: str = ""
    pack_may_force: bool = False
    pack_versions: list[dict[str, str]] = []  # kept earlier texts of the file shown: name, saved (UTC)
    _unsaved: str = ""

    def _api(self) -> TeamReview:
        return TeamReview(BACKEND_URL, self._token)

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """One review call; a refusal or a dead backend becomes the screen's error line, not an exception."""
        api = self._api()
        try:
            result = await getattr(api, name)(*args, **kwargs)
        except BackendError as exc:
            self.review_error = exc.message  # the backend's own words say what was refused and why
            return None
        except OSError:
            self.review_error = t(self.language, "connection_reconnecting")
            return None
        finally:
            await api.close()
        self.review_error = ""
        return result

    @rx.event
    async def toggle_review(self) -> None:
        self.show_review = not self.show_review
        if self.show_review:
            everything = await self._call("clients")
            if everything is not None:
                self.owners, self.archetype_choices = rm.choices(everything)
            await self._load_tab()

    @rx.event
    async def relabel_review(self, _language: str | list[str]) -> None:
        """After a PL/EN switch: the open tab's rows again, in the new language (the backend sends data). Not
        the pack editor: its text is the lead's, and reloading it would drop unsaved edits."""
        if self.show_review and self.review_tab != "pack":
            await self._load_tab()

    @rx.event
    async def show_tab(self, tab: str) -> None:
        # A click reports the tab twice (on focus and on click): load once, or the second load would reset
        # the pack editor while the lead is already typing.
        if tab != self.review_tab:
            self.review_tab = tab
            await self._load_tab()

    async def _load_tab(self) -> None:
        if self.review_tab == "clients":
            await self._load_clients()
        elif self.review_tab == "feedback":
            stats = await self._call("feedback")
            if stats is not None:
                self.by_archetype = rm.stat_rows(stats, "archetype", self.language)
                self.by_kind = rm.stat_rows(stats, "kind", self.language)
                self.by_rule = rm.stat_rows(stats, "rule", self.language)
                self.by_day = sorted(rm.stat_rows(stats, "day", self.language), key=lambda r: r["key"], reverse=True)
        elif self.review_tab == "proposals":
            found = await self._call("proposals")
            if found is not None:
                self.proposals = rm.proposal_rows(found, self.language)
        elif self.review_tab == "operations":
            await self._load_operations()
        elif self.review_tab == "integrations":
            await self._load_webhooks()
        elif self.review_tab == "audit":
            entries = await self._call("audit")
            if entries is not None:
                self.audit = rm.audit_rows(entries, self.language)
        elif self.review_tab == "pack":
            await self._load_pack_kind(self.pack_kind)

    async def _load_operations(self) -> None:
        report = await self._call("operations", int(self.operations_days))
        if report is not None:
            self.operations = rm.operations_rows(report, self.language)

    @rx.event
    async def set_operations_days(self, days: str) -> None:
        if days in rm.OPERATION_PERIODS:
            self.operations_days = days
            await self._load_operations()

    # ---- integrations (admins) -------------------------------------------------------------------------

    async def _load_webhooks(self) -> None:
        endpoints = await self._call("webhooks")
        if endpoints is None:
            return
        self.webhooks = rm.webhook_rows(endpoints, self.language)
        shown = self.deliveries_of if any(w["id"] == self.deliveries_of for w in self.webhooks) else ""
        await self._load_deliveries(shown or (self.webhooks[0]["id"] if self.webhooks else ""))

    async def _load_deliveries(self, endpoint_id: str) -> None:
        self.deliveries_of = endpoint_id
        self.deliveries_url = next((w["url"] for w in self.webhooks if w["id"] == endpoint_id), "")
        found = await self._call("deliveries", int(endpoint_id)) if endpoint_id else []
        if found is not None:
            self.deliveries = rm.delivery_rows(found, self.language)

    @rx.event
    async def show_deliveries(self, endpoint_id: str) -> None:
        self.webhook_note = ""
        await self._load_deliveries(endpoint_id)

    @rx.event
    async def add_webhook(self, form: dict[str, Any]) -> None:
        events = rm.EVENT_CHOICES[self.webhook_events]
        url = str(form.get("url", "")).strip()
        added = await self._call("add_webhook", url, events, self.webhook_personal == "yes")
        if added is not None:
            self.webhook_secret = added["secret"]
            self.webhook_personal, self.webhook_events = "no", "all"  # the form is reset for the next one
            self.deliveries_of = str(added["id"])
            await self._load_webhooks()

    @rx.event
    def set_webhook_personal(self, choice: str) -> None:
        if choice in ("yes", "no"):
            self.webhook_personal = choice

    @rx.event
    def set_webhook_events(self, choice: str) -> None:
        if choice in rm.EVENT_CHOICES:
            self.webhook_events = choice

    @rx.event
    async def replay_delivery(self, delivery_id: str) -> None:
        if await self._call("replay", int(delivery_id)) is not None:
            self.webhook_note = t(self.language, "webhook_replayed")
            await self._load_deliveries(self.deliveries_of)

    # ---- client files ----------------------------------------------------------------------------------

    async def _load_clients(self) -> None:
        params = rm.filter_params(
            self.owner_filter,
            self.archetype_filter,
            self.archived_filter,
            self.indicator_filter,
            self.minimum_filter,
            self.period_filter,
        )
        files = await self._call("clients", **params)
        if files is not None:
            self.team_clients = rm.client_rows(files, self.language)

    @rx.event
    async def set_filter(self, name: str, value: str) -> None:
        setattr(self, f"{name}_filter", value)
        await self._load_clients()

    @rx.event
    async def open_timeline(self, session_id: str, title: str) -> None:
        if not session_id:
            self.timeline_title, self.timeline = title, []
            return
        found = await self._call("timeline", int(session_id))
        if found is not None:
            self.timeline_title = title
            self.timeline = rm.timeline_rows(found, self.language)

    @rx.event
    def close_timeline(self) -> None:
        self.timeline_title, self.timeline = "", []

    # ---- proposals and export --------------------------------------------------------------------------

    @rx.event
    async def decide(self, suggestion_id: str, approve: bool) -> None:
        decided = await self._call("decide", suggestion_id, approve)
        if decided is not None:
            self.approved_draft = decided.get("draft", "")
            if decided.get("module"):
                self.approved_draft = f"# knowledge/{decided['module']}.md\n{self.approved_draft}"
            self.proposals = [p for p in self.proposals if p["id"] != suggestion_id]

    @rx.event
    async def export(self) -> EventSpec | None:
        data = await self._call("export")
        if data is None:
            return None
        return rx.download(data=data, filename="sufler-fine-tuning.jsonl")

    # ---- pack editor -----------------------------------------------------------------------------------

    async def _load_pack_kind(self, kind: str) -> None:
        files = await self._call("pack_files", kind)
        if files is None:
            return
        self.pack_kind = kind
        self.pack_names = [f["name"] for f in files]
        await self._show_file(self.pack_name if self.pack_name in self.pack_names else self.pack_names[0])

    async def _show_file(self, name: str) -> None:
        self.pack_name = name
        self.pack_note = self.pack_error = ""
        self.pack_may_force = False
        await self._read_file()
        self.pack_version += 1

    async def _read_file(self) -> None:
        """The shown file's saved text and its kept versions."""
        detail = await self._call("pack_file", self.pack_kind, self.pack_name)
        if detail is not None:
            self.pack_text = detail["text"]
            self.pack_versions = [
                {"name": v["name"], "saved": v["saved_at"][:19].replace("T", " ")} for v in detail["versions"]
            ]

    @rx.event
    async def load_pack_version(self, version: str, saved: str) -> None:
        """Put an earlier text in the editor; restoring it is saving it (checked and audited as any save)."""
        text = await self._call("pack_version", self.pack_kind, self.pack_name, version)
        if text is not None:
            self.pack_text = text
            self.pack_version += 1
            self.pack_error, self.pack_may_force = "", False
            self.pack_note = t(self.language, "pack_version_loaded", saved=saved)

    @rx.event
    async def choose_pack_kind(self, kind: str | list[str]) -> None:
        kind = kind if isinstance(kind, str) else kind[0]
        if kind in PACK_KINDS and kind != self.pack_kind:  # choosing what is shown again keeps the edits
            self.pack_name = ""
            await self._load_pack_kind(kind)

    @rx.event
    async def choose_pack_file(self, name: str) -> None:
        if name != self.pack_name:  # choosing what is shown again keeps the edits
            await self._show_file(name)

    @rx.event
    async def save_pack(self, form: dict[str, Any]) -> None:
        self._unsaved = str(form.get("text", ""))
        await self._save(force=False)

    @rx.event
    async def save_pack_anyway(self) -> None:
        await self._save(force=True)

    async def _save(self, *, force: bool) -> None:
        api = self._api()
        try:
            saved = await api.save_pack_file(self.pack_kind, self.pack_name, self._unsaved, force=force)
        except BackendError as exc:
            self.pack_note = ""
            self.pack_error, self.pack_may_force = rm.pack_problem(exc.code, exc.message, exc.details, self.language)
            return
        except OSError:
            self.pack_error = t(self.language, "connection_reconnecting")
            return
        finally:
            await api.close()
        self.pack_error, self.pack_may_force = "", False
        self.pack_note = t(self.language, "pack_saved_now" if saved["applies"] == "now" else "pack_saved_restart")
        if not saved["changed"]:
            self.pack_note = t(self.language, "pack_unchanged")
        await self._read_file()  # the editor keeps what the lead typed; this brings the new version into the list
