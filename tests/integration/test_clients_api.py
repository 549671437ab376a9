"""Client files over HTTP: create, get, search, update, archive; typed errors for bad input."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from backend.db.models import Role
from backend.domain.accounts import AccountService
from tests.integration.conftest import PASSWORD


@pytest.fixture
async def api(http: httpx.AsyncClient, accounts: AccountService) -> AsyncIterator[httpx.AsyncClient]:
    name = f"sp-{uuid.uuid4().hex[:8]}"
    await accounts.create_user(name, PASSWORD, Role.SALESPERSON)
    token = (await accounts.login(name, PASSWORD)).token
    http.headers["Authorization"] = f"Bearer {token}"
    yield http


async def test_create_get_update_archive(api: httpx.AsyncClient) -> None:
    marker = uuid.uuid4().hex[:8]
    created = await api.post("/clients/", json={"name": f"  Jan {marker} ", "contact_info": "jan@example.com"})
    assert created.status_code == 201
    client = created.json()
    assert client["name"] == f"Jan {marker}" and client["archived"] is False and client["archetype"] is None

    assert (await api.get(f"/clients/{client['id']}")).json()["contact_info"] == "jan@example.com"
    patched = (await api.patch(f"/clients/{client['id']}", json={"contact_info": "+48 600 000 000"})).json()
    assert patched["contact_info"] == "+48 600 000 000" and patched["name"] == client["name"]
    assert patched["updated_at"] >= client["updated_at"]

    archived = await api.post(f"/clients/{client['id']}/archive")
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert [c["id"] for c in (await api.get("/clients/", params={"q": marker})).json()] == []
    hidden = (await api.get("/clients/", params={"q": marker, "archived": "true"})).json()
    assert [c["id"] for c in hidden] == [client["id"]]
    everything = (await api.get("/clients/", params={"q": marker, "all": "true"})).json()
    assert [c["id"] for c in everything] == [client["id"]]


async def test_search_by_name_contact_and_literal_wildcards(api: httpx.AsyncClient) -> None:
    marker = uuid.uuid4().hex[:8]
    ids = {}
    for name, contact in (("Anna Kowalska", f"anna-{marker}@example.com"), (f"Piotr {marker}_x", "piotr@x.pl")):
        ids[name] = (await api.post("/clients/", json={"name": name, "contact_info": contact})).json()["id"]
    # Contact info is encrypted at rest: a whole e-mail or phone number finds it (keyed hash), however written.
    by_contact = (await api.get("/clients/", params={"q": f" ANNA-{marker}@Example.COM"})).json()
    assert [c["id"] for c in by_contact] == [ids["Anna Kowalska"]]
    assert by_contact[0]["contact_info"] == f"anna-{marker}@example.com"  # decrypted on the way out
    phone = f"+48 600 {marker[:3]} {marker[3:6]}".replace("a", "1").replace("b", "2").replace("c", "3")
    phone = "".join(ch if ch.isdigit() or ch in "+ " else "7" for ch in phone)
    with_phone = (await api.post("/clients/", json={"name": "Ewa", "contact_info": phone})).json()["id"]
    spaced = phone.replace(" ", "-")
    assert [c["id"] for c in (await api.get("/clients/", params={"q": spaced})).json()] == [with_phone]
    # "_" and "%" are searched literally, not as SQL wildcards.
    assert [c["id"] for c in (await api.get("/clients/", params={"q": f"{marker}_x"})).json()] == [
        ids[f"Piotr {marker}_x"]
    ]
    assert (await api.get("/clients/", params={"q": f"{marker}%"})).json() == []


async def test_names_are_found_whatever_the_case_and_diacritics(api: httpx.AsyncClient) -> None:
    marker = uuid.uuid4().hex[:8]
    names = {f"Ewa Wiśniewska {marker}", f"Łukasz Żółć {marker}", f"Jürgen Müller {marker}"}
    ids = {name: (await api.post("/clients/", json={"name": name})).json()["id"] for name in names}
    for typed, found in (
        (f"wisniewska {marker}", f"Ewa Wiśniewska {marker}"),
        (f"WIŚNIEWSKA {marker}", f"Ewa Wiśniewska {marker}"),
        (f"lukasz zolc {marker}", f"Łukasz Żółć {marker}"),
        (f"ŁUKASZ ŻÓŁĆ {marker}", f"Łukasz Żółć {marker}"),
        (f"jurgen muller {marker}", f"Jürgen Müller {marker}"),
    ):
        hits = [c["id"] for c in (await api.get("/clients/", params={"q": typed})).json()]
        assert hits == [ids[found]], typed


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/clients/", {"name": ""}, 400, "bad_request"),
        ("post", "/clients/", {"name": "x", "unknown": 1}, 400, "bad_request"),
        ("get", "/clients/999999999", None, 404, "not_found"),
        ("patch", "/clients/999999999", {"name": "y"}, 404, "not_found"),
        ("get", "/clients/999999999/sessions", None, 404, "not_found"),
        ("get", "/sessions/999999999/interactions", None, 404, "not_found"),
    ],
)
async def test_bad_requests_get_typed_errors(
    api: httpx.AsyncClient, method: str, path: str, body: object, status: int, code: str
) -> None:
    response = await api.request(method, path, json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_client_files_need_a_login(http: httpx.AsyncClient) -> None:
    http.headers.pop("Authorization", None)
    response = await http.get("/clients/")
    assert response.status_code == 401


async def test_a_knowledge_card_has_its_facts_with_verify_marks(api: httpx.AsyncClient) -> None:
    module = (await api.get("/knowledge/company-purchase", params={"language": "en"})).json()
    assert module["title"].startswith("Company purchase") or module["title"]
    assert any(f["verify"] for f in module["facts"]) and module["strategies"]
    assert (await api.get("/knowledge/no-such-module")).json()["error"]["code"] == "not_found"


async def test_lists_name_the_archetype_in_the_users_language(api: httpx.AsyncClient, migrated_db_url: str) -> None:
    from sqlalchemy import update

    from backend.db import Database
    from backend.db.models import Client

    created = (await api.post("/clients/", json={"name": f"Marek {uuid.uuid4().hex[:6]}"})).json()
    db = Database(migrated_db_url)
    try:
        async with db.transaction() as session:  # what a session sets when its leader is known
            await session.execute(update(Client).where(Client.id == created["id"]).values(archetype="family-guardian"))
    finally:
        await db.close()
    listed = (await api.get("/clients/", params={"q": created["name"]})).json()
    assert [(c["archetype"], c["archetype_name"]) for c in listed] == [("family-guardian", "Strażnik Rodziny")]
    await api.patch("/auth/me", json={"language": "en"})
    one = (await api.get(f"/clients/{created['id']}")).json()
    assert one["archetype_name"] != "Strażnik Rodziny" and one["archetype_name"]  # the English name
