"""The sales lead edits the pack in the app: only leads and admins; a broken file is refused and nothing written;
a good edit is saved atomically with the previous version kept and an audit entry; rules apply at once; a
near-duplicate knowledge module is refused unless forced; names cannot leave the pack folders.

Every test runs its own app on a copy of the pack: the shared test app's pack is the repository itself."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from backend.asgi import create_app
from backend.db.models import Role
from backend.domain.copilot.build import BuiltEngine
from backend.domain.copilot.copilot import Copilot
from backend.domain.engine.engine import CopilotEngine
from backend.domain.engine.rules import RuleSet, RuleStore
from backend.domain.pack.pack import load_pack
from backend.domain.review.pack_files import DUPLICATE_THRESHOLD
from backend.settings import PackSettings, Settings
from tests.conftest import ROOT
from tests.helpers import serving
from tests.integration.conftest import PASSWORD, MakeUser

PACK_FOLDERS = ("archetypes", "knowledge", "scoring_rules")
RULES = "/review/pack/rules/indicators.toml"


@dataclass
class Editing:
    url: str
    pack: Path
    data_dir: Path
    engine: CopilotEngine
    tokens: dict[str, str]  # "salesperson", "lead", "admin"
    usernames: dict[str, str]

    def as_(self, who: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.tokens[who]}"}, timeout=30)

    def file(self, folder: str, name: str) -> Path:
        return self.pack / folder / name


@pytest.fixture
async def editing(
    tmp_path: Path, settings: Settings, migrated_db_url: str, built: BuiltEngine, make_user: MakeUser
) -> AsyncIterator[Editing]:
    pack = tmp_path / "pack"
    for folder in PACK_FOLDERS:
        shutil.copytree(ROOT / folder, pack / folder)
    # The shared engine, but with its rules watching this copy (cheap: no re-embedding), so that "rules apply at
    # once" can be seen. Archetypes and knowledge are only read at start, so sharing the rest changes nothing.
    engine = copy.copy(built.engine)
    engine.rules = RuleStore(pack / "scoring_rules", built.engine.pack)
    copilot = Copilot(engine, built.copilot.llm, built.copilot.prompts, built.copilot.memory_token_budget)
    data_dir = tmp_path / "data"
    app_settings = settings.model_copy(update={"pack": PackSettings(dir=pack), "data_dir": data_dir})
    async with serving(create_app(app_settings, database_url=migrated_db_url, copilot=copilot)) as url:
        roles = {"salesperson": Role.SALESPERSON, "lead": Role.LEAD, "admin": Role.ADMIN}
        users = {who: await make_user(role) for who, role in roles.items()}
        tokens = {}
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            for who, user in users.items():  # the app's own login: tokens are keyed by its secret key
                response = await http.post("/auth/login", json={"username": user.username, "password": PASSWORD})
                tokens[who] = response.json()["token"]
        yield Editing(url, pack, data_dir, engine, tokens, {who: u.username for who, u in users.items()})


async def audit_entries(editing: Editing, action: str) -> list[dict[str, Any]]:
    async with editing.as_("lead") as http:
        response = await http.get("/audit", params={"action": action, "limit": 500})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---- who may ------------------------------------------------------------------------------------------------


async def test_only_leads_and_admins_may_read_or_edit_the_pack(editing: Editing) -> None:
    original = editing.file("scoring_rules", "indicators.toml").read_text(encoding="utf-8")
    requests = [
        ("GET", "/review/pack/rules", None),
        ("GET", RULES, None),
        ("GET", f"{RULES}/versions/indicators.toml.20240101T000000.000000Z", None),
        ("PUT", RULES, {"text": original + "\n# edited\n"}),
    ]
    for method, path, body in requests:
        async with editing.as_("salesperson") as http:
            response = await http.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "permission_denied"
        async with httpx.AsyncClient(base_url=editing.url) as anonymous:
            assert (await anonymous.request(method, path, json=body)).status_code == 401
    assert editing.file("scoring_rules", "indicators.toml").read_text(encoding="utf-8") == original
    for who in ("lead", "admin"):
        async with editing.as_(who) as http:
            assert (await http.get("/review/pack/rules")).status_code == 200
            assert (await http.get(RULES)).status_code == 200


async def test_files_are_listed_and_read_with_their_text(editing: Editing) -> None:
    async with editing.as_("lead") as http:
        rules = (await http.get("/review/pack/rules")).json()
        knowledge = (await http.get("/review/pack/knowledge")).json()
        archetypes = (await http.get("/review/pack/archetypes")).json()
        detail = (await http.get("/review/pack/knowledge/family-safety.md")).json()
        assert (await http.get("/review/pack/prompts")).status_code == 404
        assert (await http.get("/review/pack/knowledge/no-such-module.md")).status_code == 404
    assert [f["name"] for f in rules] == ["cues.toml", "indicators.toml"]
    on_disk = editing.file("scoring_rules", "indicators.toml").read_text(encoding="utf-8")
    assert rules[1]["text"] == on_disk
    assert len(knowledge) == 14 and "README.md" not in {f["name"] for f in knowledge}
    assert len(archetypes) == 10
    assert detail["text"] == editing.file("knowledge", "family-safety.md").read_text(encoding="utf-8")
    assert detail["versions"] == []


# ---- validation before saving -------------------------------------------------------------------------------


def broken_rules(original: str) -> dict[str, tuple[str, str]]:
    """A broken variant of indicators.toml -> (the file the error names, a fragment of the problem)."""
    return {
        "not TOML": (original.replace("points = 25\n", "points = 25 +\n", 1), "line"),
        "unknown field": (original.replace("points = 25\n", "pointz = 25\n", 1), "pointz"),
        "points out of range": (original.replace("points = 25\n", "points = 250\n", 1), "points"),
        "unknown cue": (original.replace('cue = "ready-to-buy"', 'cue = "ready-to-fly"', 1), "ready-to-fly"),
        "rule id twice": (original + original[original.index("[[rule]]") :], "used twice"),
        "rule not a table": ("rule = [1]\n", "cannot be loaded"),  # trips the rules loader itself
    }


BROKEN_CASES = ["not TOML", "unknown field", "points out of range", "unknown cue", "rule id twice", "rule not a table"]


@pytest.mark.parametrize("case", BROKEN_CASES)
async def test_a_broken_rule_file_is_refused_and_nothing_is_written(editing: Editing, case: str) -> None:
    path = editing.file("scoring_rules", "indicators.toml")
    original = path.read_text(encoding="utf-8")
    text, problem = broken_rules(original)[case]
    before = snapshot(editing.pack)
    async with editing.as_("lead") as http:
        response = await http.put(RULES, json={"text": text})
        detail = (await http.get(RULES)).json()
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"]["file"].startswith("scoring_rules")  # the file, or the folder for ids across files
    assert problem in " ".join(error["details"]["problems"]), error
    assert snapshot(editing.pack) == before
    assert detail["versions"] == [] and not (editing.data_dir / "pack_versions").exists()


async def remove_cue(editing: Editing, cue: str) -> tuple[httpx.Response, str]:
    """The lead saves cues.toml without this cue; the response, and the file as it was."""
    cues = editing.file("scoring_rules", "cues.toml").read_text(encoding="utf-8")
    without = re.sub(rf"\[{cue}\]\n(?:.+\n)+", "", cues, count=1)
    async with editing.as_("lead") as http:
        return await http.put("/review/pack/rules/cues.toml", json={"text": without}), cues


async def test_the_whole_pack_is_checked_not_only_the_edited_file(editing: Editing) -> None:
    """Removing a cue that indicators.toml uses breaks indicators.toml: refused, and the error names it."""
    response, cues = await remove_cue(editing, "delivery-timeline")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["file"] == "scoring_rules/indicators.toml"
    assert "delivery-timeline" in response.json()["error"]["message"]
    assert editing.file("scoring_rules", "cues.toml").read_text(encoding="utf-8") == cues


async def test_a_broken_archetype_names_the_field(editing: Editing) -> None:
    path = editing.file("archetypes", "family-guardian.toml")
    original = path.read_text(encoding="utf-8")
    async with editing.as_("lead") as http:
        wrong_slug = await http.put(
            "/review/pack/archetypes/family-guardian.toml",
            json={"text": original.replace('slug = "family-guardian"', 'slug = "family-guard"')},
        )
        no_playbook = await http.put(
            "/review/pack/archetypes/family-guardian.toml",
            json={"text": original.split("[[playbook]]")[0]},
        )
    assert wrong_slug.status_code == 422 and "slug" in wrong_slug.json()["error"]["message"]
    assert no_playbook.status_code == 422 and "playbook" in " ".join(no_playbook.json()["error"]["details"]["problems"])
    assert path.read_text(encoding="utf-8") == original


# ---- saving -------------------------------------------------------------------------------------------------

NEW_RULE = """
[[rule]]
id = "test-added-rule"
indicator = "deal_potential"
points = 7
reason = { pl = "Reguła dodana w teście", en = "A rule added by a test" }
when = { cue = "budget-stated" }
"""


async def test_a_valid_rule_edit_is_saved_versioned_audited_and_applies_at_once(editing: Editing) -> None:
    path = editing.file("scoring_rules", "indicators.toml")
    original = path.read_text(encoding="utf-8")
    edited = original.replace("points = 25\n", "points = 30\n", 1) + NEW_RULE
    assert "test-added-rule" not in {r.id for r in editing.engine.rules.current().rules}
    async with editing.as_("lead") as http:
        response = await http.put(RULES, json={"text": edited})
        assert response.status_code == 200, response.text
        saved = response.json()
        detail = (await http.get(RULES)).json()
        kept = (await http.get(f"{RULES}/versions/{saved['version']}")).json()
        again = (await http.put(RULES, json={"text": edited})).json()
        second = (await http.put(RULES, json={"text": original})).json()
        versions = [v["name"] for v in (await http.get(RULES)).json()["versions"]]

    assert saved["changed"] is True and saved["created"] is False
    assert saved["applies"] == "now"
    assert re.fullmatch(r"indicators\.toml\.\d{8}T\d{6}\.\d{6}Z", saved["version"])
    assert (editing.data_dir / "pack_versions" / "rules" / saved["version"]).read_text(encoding="utf-8") == original
    assert detail["text"] == edited and [v["name"] for v in detail["versions"]] == [saved["version"]]
    assert kept["text"] == original

    # The running engine's rules follow the file (RuleStore reloads it), without a restart.
    rules = editing.engine.rules.current()
    assert editing.engine.rules.error is None
    assert "test-added-rule" not in {r.id for r in rules.rules}  # the second save put the original back
    assert again["changed"] is False and again["version"] is None  # the same text twice: nothing to keep
    assert versions == [second["version"], saved["version"]]  # newest first
    assert path.read_text(encoding="utf-8") == original
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary files left behind

    entries = {e["details"]["version"]: e for e in await audit_entries(editing, "rules_edited")}
    entry = entries[saved["version"]]
    assert entry["target"] == "scoring_rules/indicators.toml"
    assert entry["actor"] == editing.usernames["lead"]
    assert entry["details"]["applies"] == "now"
    assert second["version"] in entries


async def test_the_running_rules_pick_up_a_saved_rule(editing: Editing) -> None:
    original = editing.file("scoring_rules", "indicators.toml").read_text(encoding="utf-8")
    async with editing.as_("admin") as http:
        response = await http.put(RULES, json={"text": original + NEW_RULE})
    assert response.status_code == 200 and response.json()["applies"] == "now"
    assert "test-added-rule" in {r.id for r in editing.engine.rules.current().rules}


async def test_a_new_rule_file_may_be_added_but_not_a_new_archetype(editing: Editing) -> None:
    async with editing.as_("lead") as http:
        added = await http.put("/review/pack/rules/extra_rules.toml", json={"text": NEW_RULE})
        archetype = await http.put(
            "/review/pack/archetypes/new-one.toml",
            json={"text": editing.file("archetypes", "family-guardian.toml").read_text(encoding="utf-8")},
        )
    assert added.status_code == 200, added.text
    assert added.json()["created"] is True and added.json()["version"] is None
    assert editing.file("scoring_rules", "extra_rules.toml").read_text(encoding="utf-8") == NEW_RULE
    assert archetype.status_code == 404
    assert not editing.file("archetypes", "new-one.toml").exists()


async def test_an_archetype_edit_is_saved_and_applies_after_a_restart(editing: Editing) -> None:
    path = editing.file("archetypes", "family-guardian.toml")
    edited = path.read_text(encoding="utf-8").replace("\n", "\r\n") + "# reviewed\r\n"  # as a text area sends it
    async with editing.as_("lead") as http:
        response = await http.put("/review/pack/archetypes/family-guardian.toml", json={"text": edited})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["applies"] == "after restart" and "restart" in body["note"]
    assert path.read_bytes() == edited.replace("\r\n", "\n").encode()
    assert load_pack(editing.pack).archetypes["family-guardian"]  # what the next start will load
    targets = {e["details"]["version"]: e["target"] for e in await audit_entries(editing, "archetype_edited")}
    assert targets[body["version"]] == "archetypes/family-guardian.toml"


# ---- knowledge: near-duplicates -----------------------------------------------------------------------------

DISTINCT_MODULE = """+++
slug = "towing-trailers"

[title]
pl = "Holowanie przyczepy i bagażnik dachowy"
en = "Towing a trailer and roof racks"

[summary]
pl = "Hak, dopuszczalna masa przyczepy i wpływ holowania na zasięg."
en = "Tow bars, trailer weight limits and how towing affects range."

[keywords]
pl = ["hak", "przyczep*", "holowa*", "box dachowy"]
en = ["tow bar", "trailer", "towing", "roof box"]

[[facts]]
verify = true
[facts.text]
pl = "Dopuszczalna masa przyczepy zależy od modelu — sprawdź w dowodzie rejestracyjnym."
en = "The permitted trailer weight depends on the model — check the registration document."

[[facts]]
verify = true
[facts.text]
pl = "Holowanie przyczepy kempingowej może skrócić zasięg nawet o połowę."
en = "Towing a caravan can cut the range by up to half."

[[facts]]
[facts.text]
pl = "Przy ładowaniu na wielu stacjach trzeba odpiąć przyczepę."
en = "At many chargers the trailer must be unhitched to charge."

[[strategies]]
pl = "Zapytaj, co i jak często klient holuje."
en = "Ask what the client tows and how often."

[[strategies]]
pl = "Policz trasę z przyczepą razem z klientem."
en = "Plan a trip with the trailer together with the client."
+++
Talk track.
"""


async def test_a_near_duplicate_knowledge_module_is_refused_unless_forced(editing: Editing) -> None:
    original = editing.file("knowledge", "family-safety.md").read_text(encoding="utf-8")
    copied = original.replace('slug = "family-safety"', 'slug = "family-safety-2"', 1).replace(
        "Rodzina i bezpieczeństwo", "Bezpieczeństwo rodziny", 1
    )
    url = "/review/pack/knowledge/family-safety-2.md"
    async with editing.as_("lead") as http:
        refused = await http.put(url, json={"text": copied})
        assert not editing.file("knowledge", "family-safety-2.md").exists()
        forced = await http.put(url, json={"text": copied, "force": True})
        distinct = await http.put("/review/pack/knowledge/towing-trailers.md", json={"text": DISTINCT_MODULE})
        # Editing a module is not a duplicate of itself.
        itself = await http.put(
            "/review/pack/knowledge/range-charging.md",
            json={"text": editing.file("knowledge", "range-charging.md").read_text(encoding="utf-8") + "\nMore.\n"},
        )

    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "conflict" and "family-safety.md" in error["message"]
    similar = {s["name"]: s["score"] for s in error["details"]["similar"]}
    assert similar["family-safety.md"] >= DUPLICATE_THRESHOLD
    assert error["details"]["threshold"] == DUPLICATE_THRESHOLD

    assert forced.status_code == 200, forced.text
    assert forced.json()["created"] is True and forced.json()["applies"] == "after restart"
    assert "family-safety.md" in {s["name"] for s in forced.json()["similar"]}
    assert editing.file("knowledge", "family-safety-2.md").read_text(encoding="utf-8") == copied

    assert distinct.status_code == 200, distinct.text
    assert distinct.json()["similar"] == []
    assert itself.status_code == 200, itself.text

    entries = [e for e in await audit_entries(editing, "knowledge_edited") if e["actor"] == editing.usernames["lead"]]
    by_target = {e["target"]: e for e in entries}
    assert by_target["knowledge/family-safety-2.md"]["details"]["created"] is True
    assert "family-safety.md" in {
        s["name"] for s in by_target["knowledge/family-safety-2.md"]["details"]["forced_over"]
    }
    assert by_target["knowledge/towing-trailers.md"]["details"]["forced_over"] == []
    assert set(load_pack(editing.pack).knowledge) >= {"family-safety-2", "towing-trailers"}


# ---- names --------------------------------------------------------------------------------------------------

BAD_NAMES = [
    "..",
    "../cues.toml",
    "..%2Fcues.toml",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd.toml",
    "%2E%2E%2Fknowledge%2Ffamily-safety.toml",
    ".hidden.toml",
    "..toml",
    "a%5C..%5Ccues.toml",
    "cues.toml%00.md",
    "Cues.toml",
    "cues.TOML",
    "cues",
    "cues.toml.bak",
    "x" * 90 + ".toml",
    "%20cues.toml",
]


async def raw_request(editing: Editing, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
    """An HTTP/1.1 request with the target exactly as given: httpx would resolve '..' in it before sending."""
    url = httpx.URL(editing.url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: {url.host}\r\nAuthorization: Bearer {editing.tokens['lead']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return int(answer.split(b" ", 2)[1]), answer


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_names_cannot_leave_the_pack_folders(editing: Editing, name: str) -> None:
    before = snapshot(editing.pack.parent)
    text = editing.file("scoring_rules", "cues.toml").read_text(encoding="utf-8")
    body = json.dumps({"text": text, "force": True}).encode()
    targets = [f"/review/pack/{kind}/{name}" for kind in ("rules", "knowledge", "archetypes")]
    for target in targets:
        for method in ("GET", "PUT"):
            status, answer = await raw_request(editing, method, target, body if method == "PUT" else b"")
            assert status in (400, 404, 405, 422), (method, target, answer)  # 400: a NUL in the name
    for target in (f"/review/pack/rules/cues.toml/versions/{name}", f"/review/pack/rules/{name}/versions/x"):
        status, answer = await raw_request(editing, "GET", target)
        assert status in (400, 404, 422), (target, answer)
    assert snapshot(editing.pack.parent) == before


# ---- any text -----------------------------------------------------------------------------------------------

TOML_BITS = [
    "[[rule]]",
    "[base]",
    'id = "x"',
    'id = "wants-to-order"',
    'indicator = "churn_risk"',
    'indicator = "happiness"',
    "points = 5",
    "points = 500",
    "points = nan",
    'reason = { pl = "a", en = "b" }',
    'reason = "a"',
    'when = { cue = "delay" }',
    'when = { cue = "nope" }',
    'when = { assessment = "urgency" }',
    'scale = "leader_margin"',
    "churn_risk = 5",
    "rule = [1]",
    "rule = [{}]",
    "rule = 3",
    "base = []",
    '"unterminated',
    "= 1",
    "[rule]",
]


def mutations(lines: list[str]) -> st.SearchStrategy[str]:
    """The shipped file with a run of lines replaced by garbage (often broken, sometimes still valid)."""
    return st.tuples(
        st.integers(0, len(lines)), st.integers(0, 8), st.text(max_size=40) | st.sampled_from(TOML_BITS)
    ).map(lambda t: "".join(lines[: t[0]]) + t[2] + "\n" + "".join(lines[t[0] + t[1] :]))


async def test_any_rule_text_is_saved_only_if_the_pack_loads_and_never_fails_the_server(editing: Editing) -> None:
    path = editing.file("scoring_rules", "indicators.toml")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    texts = st.text(max_size=300) | st.lists(st.sampled_from(TOML_BITS), max_size=12).map("\n".join) | mutations(lines)

    def attempts(http: httpx.Client) -> None:
        @hypothesis.settings(
            max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
        )
        @given(texts)
        @example("rule = [1]\n")
        @example("rule = [{ id = 'a' }, 'x']\n")
        @example("rule = 'a\x00'\n")
        def attempt(text: str) -> None:
            before = path.read_bytes()
            response = http.put(RULES, json={"text": text})
            unstorable = "\x00" in text  # refused where it enters, before the pack is even parsed
            assert response.status_code in ((400,) if unstorable else (200, 422)), response.text
            if response.status_code != 200:
                assert path.read_bytes() == before
            else:
                RuleSet.load(path.parent, load_pack(editing.pack))  # what was saved loads

        attempt()

    headers = {"Authorization": f"Bearer {editing.tokens['lead']}"}
    with httpx.Client(base_url=editing.url, headers=headers, timeout=30) as http:
        # A thread of its own: the server runs on this event loop, the synchronous client must not block it.
        await asyncio.to_thread(attempts, http)


async def test_a_cue_that_requires_a_removed_cue_is_named(editing: Editing) -> None:
    """commits-now requires ready-to-buy: removing ready-to-buy is refused in cues.toml itself."""
    response, _ = await remove_cue(editing, "ready-to-buy")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["file"] == "scoring_rules/cues.toml"
    assert "commits-now.requires: unknown cue 'ready-to-buy'" in " ".join(
        response.json()["error"]["details"]["problems"]
    )
