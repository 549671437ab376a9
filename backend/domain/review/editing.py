"""The sales lead edits the domain pack in the app: scoring rules, archetypes and knowledge modules.

Every save is checked first with the engine's own loaders (a broken file is refused, nothing written), a new
or changed knowledge module is compared with the others for near-duplicates (409 unless forced), the previous
text is kept under ``<data_dir>/pack_versions/``, and the change goes into the audit log with the file.

Scoring rules apply at once: :class:`RuleStore` reloads rule files when they change. Archetypes, knowledge
modules and cue words apply after a restart: the engine builds its classifier, keyword matchers, knowledge
index and the rules' reference checks from them at start, and sessions in progress hold beliefs over the
archetypes they started with; swapping all that under running sessions is not a small or safe change.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from litestar import Controller, Request, get, put
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field

from backend.db import Database
from backend.db.models import User
from backend.domain.accounts.access import TEAM_LEADS
from backend.domain.audit import add_entry
from backend.domain.engine.engine import CopilotEngine
from backend.domain.review.pack_files import (
    DUPLICATE_THRESHOLD,
    MAX_TEXT,
    Checked,
    PackFiles,
    Saved,
    check_name,
    near_duplicates,
)
from backend.errors import Conflict, NotFound
from backend.services import ServicesDep
from backend.settings import Settings

__all__ = ("PackEdit", "PackEditController", "PackFile", "PackFileDetail", "PackSaved")

Applies = Literal["now", "after restart"]


class PackFile(BaseModel):
    name: str
    text: str


class VersionOut(BaseModel):
    name: str
    saved_at: datetime
    size: int


class PackFileDetail(BaseModel):
    kind: str
    name: str
    text: str
    versions: list[VersionOut] = Field(description="Kept previous texts, newest first.")


class PackEdit(BaseModel):
    text: str = Field(max_length=MAX_TEXT)
    force: bool = Field(default=False, description="Save a knowledge module even if it nearly duplicates another.")


class SimilarOut(BaseModel):
    name: str
    score: float


class PackSaved(BaseModel):
    kind: str
    name: str
    changed: bool = Field(description="False: the text was already this; nothing written, nothing logged.")
    created: bool = False
    version: str | None = Field(default=None, description="Where the previous text was kept.")
    applies: Applies
    note: str
    similar: list[SimilarOut] = Field(default_factory=list, description="Near-duplicates saved over with force.")


def _files(services: ServicesDep) -> PackFiles:
    settings: Settings = services.settings
    return PackFiles(settings.pack.dir, settings.data_dir / "pack_versions")


def _applies(kind: str, name: str, files: PackFiles, engine: CopilotEngine, checked: Checked) -> tuple[Applies, str]:
    if kind == "rules" and name != "cues.toml":
        if engine.rules.directory.resolve() != files.folder(kind).resolve():
            return "after restart", "The running engine reads its rules from another folder; restart to use these."
        if checked.running_rules_accept:
            return "now", "The rules in force are reloaded from the file on the next observation."
        return "after restart", (
            "These rules name cues, archetypes or knowledge modules the running engine does not know yet; until a "
            "restart it keeps the last good rules and shows a rules error."
        )
    what = "Cue words" if kind == "rules" else kind.capitalize()
    return "after restart", f"{what} are loaded when the engine starts; the change applies after a restart."


class PackEditController(Controller):
    path = "/review/pack"
    tags = ("review",)
    guards = (TEAM_LEADS,)

    @get("/{kind:str}", summary="The editable files of a kind (rules, archetypes, knowledge) with their text")
    async def list_files(
        self, kind: FromPath[str], request: Request[User, str, Any], services: ServicesDep
    ) -> list[PackFile]:
        files = _files(services)
        names = files.names(kind)
        return [PackFile(name=n, text=files.read(kind, n)) for n in names]

    @get("/{kind:str}/{name:str}", summary="One pack file: its text and its kept versions")
    async def read_file(
        self, kind: FromPath[str], name: FromPath[str], request: Request[User, str, Any], services: ServicesDep
    ) -> PackFileDetail:
        files = _files(services)
        text = files.read(kind, name)
        versions = [VersionOut(name=v.name, saved_at=v.saved_at, size=v.size) for v in files.versions(kind, name)]
        return PackFileDetail(kind=kind, name=name, text=text, versions=versions)

    @get("/{kind:str}/{name:str}/versions/{version:str}", summary="A kept version's text (to compare or restore)")
    async def read_version(
        self,
        kind: FromPath[str],
        name: FromPath[str],
        version: FromPath[str],
        request: Request[User, str, Any],
        services: ServicesDep,
    ) -> PackFile:
        return PackFile(name=version, text=_files(services).read_version(kind, name, version))

    @put(
        "/{kind:str}/{name:str}",
        summary="Check and save a pack file; the previous text is kept and the change audited",
        description=(
            "422 when the pack would not load with this text (details: file and problems); 409 when a knowledge "
            "module nearly duplicates another (details: similar modules and scores) unless force is true."
        ),
    )
    async def save_file(
        self,
        kind: FromPath[str],
        name: FromPath[str],
        data: JSONBody[PackEdit],
        request: Request[User, str, Any],
        services: ServicesDep,
    ) -> PackSaved:
        spec = check_name(kind, name)
        files = _files(services)
        engine = services.copilot.engine
        # Browsers' text areas may send CRLF; the knowledge loader expects '\n' around the front matter.
        text = data.text.replace("\r\n", "\n")
        async with services.pack_edit_lock:  # one save at a time: each is checked against the pack as the last left it
            try:
                current: str | None = files.read(kind, name)
            except NotFound:
                current = None
            checked = await asyncio.to_thread(files.check, kind, name, text, engine.rules.pack)
            applies, note = _applies(kind, name, files, engine, checked)
            if text == current:
                return PackSaved(kind=kind, name=name, changed=False, applies=applies, note="Unchanged; not saved.")
            similar = []
            if kind == "knowledge":
                slug = name.removesuffix(spec.suffix)
                similar = await asyncio.to_thread(near_duplicates, engine.embedder, checked.pack, slug)
                if similar and not data.force:
                    names = ", ".join(f"{s.name} ({s.score:.2f})" for s in similar)
                    raise Conflict(
                        f"Not saved: this module nearly duplicates {names}. Merge them, or save with force.",
                        details={
                            "similar": [{"name": s.name, "score": s.score} for s in similar],
                            "threshold": DUPLICATE_THRESHOLD,
                        },
                    )
            db: Database = services.db
            saved: Saved | None = None
            try:
                # The file and its audit entry go together: if the entry cannot be committed, the file is put back.
                async with db.transaction() as session:
                    saved = await asyncio.to_thread(files.save, kind, name, text)
                    add_entry(
                        session,
                        request.user.id,
                        spec.action,
                        f"{spec.folder}/{name}",
                        version=saved.version,
                        created=saved.previous is None,
                        applies=applies,
                        forced_over=[{"name": s.name, "score": s.score} for s in similar],
                    )
            except BaseException:
                if saved is not None:
                    files.undo(saved)
                raise
        return PackSaved(
            kind=kind,
            name=name,
            changed=True,
            created=saved.previous is None,
            version=saved.version,
            applies=applies,
            note=note,
            similar=[SimilarOut(name=s.name, score=s.score) for s in similar],
        )
