"""The sales lead's review on seeded data: the team's files with filters, a session's timeline, feedback
statistics, and the fine-tuning export without personal data; salespeople are kept out."""

from __future__ import annotations

import json
import tomllib
import uuid

import httpx

from backend.db.models import Role
from backend.domain.accounts import AccountService
from backend.settings import Settings
from tests.socket.conftest import PASSWORD, Backend

NAME = "Zbigniew Wróblewski"
PHONE = "+48 512 345 678"


async def lead_token(backend: Backend, settings: Settings) -> str:
    accounts = AccountService.from_settings(backend.db, settings)
    name = f"lead-{uuid.uuid4().hex[:8]}"
    await accounts.create_user(name, PASSWORD, Role.LEAD)
    return (await accounts.login(name, PASSWORD)).token


async def test_a_lead_reviews_what_the_team_did(backend: Backend, settings: Settings) -> None:
    async with backend.cockpit() as cockpit:
        await cockpit.send({"v": 1, "type": "open_session", "new_client": {"name": NAME, "contact_info": PHONE}})
        session = await cockpit.next("session")
        for text in (f"{NAME} pyta o leasing na firmę, tel. {PHONE}", "Przyszedł z rodziną, pyta o fotelik Isofix"):
            await cockpit.observe(text)
            moves = await cockpit.next("moves")
        liked, disliked = moves["moves"][0]["id"], moves["moves"][1]["id"]
        for suggestion, rating in ((liked, 1), (disliked, -1)):
            await cockpit.send({"v": 1, "type": "feedback", "suggestion_id": suggestion, "rating": rating})
            await cockpit.next("feedback_saved", suggestion_id=suggestion)
    client_id, session_id = session["client"]["id"], session["session_id"]

    token = await lead_token(backend, settings)
    async with httpx.AsyncClient(base_url=backend.url, headers={"Authorization": f"Bearer {token}"}) as lead:
        files = (await lead.get("/review/clients", params={"indicator": "purchase_readiness", "min": 0})).json()
        mine = next(f for f in files if f["id"] == client_id)
        assert mine["contact_info"] == PHONE and set(mine["indicators"]) >= {"purchase_readiness", "churn_risk"}
        value = mine["indicators"]["purchase_readiness"]
        above = (await lead.get("/review/clients", params={"indicator": "purchase_readiness", "min": value + 1})).json()
        assert client_id not in [f["id"] for f in above]
        by_owner = (await lead.get("/review/clients", params={"owner_id": mine["owner_id"]})).json()
        assert [f["id"] for f in by_owner] == [client_id]

        timeline = (await lead.get(f"/review/sessions/{session_id}/timeline")).json()
        steps = [s for s in timeline["steps"] if s["kind"] == "observation"]
        assert len(steps) == 2 and steps[1]["archetype"] and steps[1]["indicators"]
        rated = {m["id"]: (m["up"], m["down"]) for m in steps[1]["moves"]}
        assert rated[liked] == (1, 0) and rated[disliked] == (0, 1) and len(steps[1]["moves"]) == 4

        stats = (await lead.get("/review/feedback")).json()
        kinds = {row["key"]: (row["up"], row["down"]) for row in stats["by_kind"]}
        assert kinds[liked.rsplit(":", 1)[1]][0] >= 1 and kinds[disliked.rsplit(":", 1)[1]][1] >= 1
        assert stats["by_day"] and "unknown" not in {row["key"] for row in stats["by_archetype"]}
        assert any(row["key"] != "(none)" for row in stats["by_rule"])  # the rules that had fired are read back

        export = await lead.get("/review/export")
        assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
        examples = [json.loads(line) for line in export.text.splitlines()]
        ours = [
            e for e in examples if "leasing" in e["messages"][1]["content"] or "Isofix" in e["messages"][1]["content"]
        ]
        assert ours and all(e["rating"] == 1 for e in examples)
        assert [m["role"] for m in ours[0]["messages"]] == ["system", "user", "assistant"]
        analysis = json.loads(ours[0]["messages"][1]["content"].split("Analysis: ")[1].split("\n")[0])
        assert analysis["archetype"] and analysis["indicators"]  # what the salesperson saw, read from the response
        assert NAME not in export.text and PHONE not in export.text and PHONE.replace(" ", "") not in export.text
        audit = (await lead.get("/audit", params={"action": "export"})).json()
        assert audit and audit[0]["target"] == "fine-tuning"

        proposals = (await lead.get("/review/proposals")).json()
        ids = [p["suggestion_id"] for p in proposals]
        assert liked in ids and disliked not in ids  # helpful ones only
        proposal = next(p for p in proposals if p["suggestion_id"] == liked)
        assert NAME not in proposal["observation"] and proposal["module"]
        approved = (await lead.post(f"/review/proposals/{liked}", json={"decision": "approve"})).json()
        assert approved["status"] == "approved"
        strategy = tomllib.loads(approved["draft"])["strategies"][0]
        assert strategy[approved["language"]] == proposal["text"]  # a valid entry for the module's strategies
        again = await lead.post(f"/review/proposals/{liked}", json={"decision": "reject"})
        assert again.status_code == 404  # decided: no longer open
        assert liked not in [p["suggestion_id"] for p in (await lead.get("/review/proposals")).json()]
        decided = (await lead.get("/audit", params={"action": "knowledge_proposal_approved"})).json()
        assert decided[0]["target"] == liked

    async with backend.http() as salesperson:
        for path in (
            "/review/clients",
            f"/review/sessions/{session_id}/timeline",
            "/review/feedback",
            "/review/export",
        ):
            assert (await salesperson.get(path)).status_code == 403
