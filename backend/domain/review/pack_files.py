"""The domain pack's files as the sales lead edits them: checked before saving, written atomically, old versions kept.

A new text is checked by loading a copy of the whole pack with that one file replaced, with the engine's own
loaders (:func:`load_pack`, :meth:`RuleSet.load`): what passes here is exactly what the engine accepts at its
next start (or, for scoring rules, at once). A knowledge module may also be compared with the others by
embedding similarity, to warn about near-duplicates.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np

from backend.adapters.embedder import Embedder
from backend.domain.engine.knowledge_index import module_text
from backend.domain.engine.rules import RuleSet
from backend.domain.pack.pack import DomainPack, PackError, load_pack
from backend.errors import InvalidInput, NotFound

__all__ = (
    "DUPLICATE_THRESHOLD",
    "KINDS",
    "MAX_TEXT",
    "Checked",
    "Kind",
    "KindSpec",
    "PackFiles",
    "Saved",
    "Similar",
    "Version",
    "check_name",
    "encode",
    "near_duplicates",
)

Kind = Literal["rules", "archetypes", "knowledge"]

# Cosine similarity of the indexed texts (knowledge_index.module_text) above which a module counts as a
# near-duplicate. Measured on the shipped pack with the default model: distinct modules score at most 0.71
# (battery-durability-winter / range-charging), while a copy with one fact dropped, the title changed or half
# the keywords removed still scores 0.90-0.98. 0.85 sits in that gap. Above it retrieval could hardly tell
# the two modules apart anyway. Another embedding model spreads scores differently: measure again if it changes.
DUPLICATE_THRESHOLD = 0.85

MAX_TEXT = 200_000  # characters; the largest shipped file is ~10 kB
_STEM = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_VERSION_STAMP = "%Y%m%dT%H%M%S.%fZ"
_PACK_FOLDERS = ("archetypes", "knowledge", "scoring_rules")  # everything load_pack and RuleSet.load read


@dataclass(frozen=True, slots=True)
class KindSpec:
    folder: str
    suffix: str
    action: str  # the audit log's action for an edit
    may_create: bool


KINDS: dict[str, KindSpec] = {
    "rules": KindSpec("scoring_rules", ".toml", "rules_edited", may_create=True),
    # A new archetype changes the classifier's categories and every playbook lookup: not an edit in the app.
    "archetypes": KindSpec("archetypes", ".toml", "archetype_edited", may_create=False),
    "knowledge": KindSpec("knowledge", ".md", "knowledge_edited", may_create=True),
}


@dataclass(frozen=True, slots=True)
class Version:
    name: str  # the file name under <data_dir>/pack_versions/<kind>/
    saved_at: datetime  # when it was replaced
    size: int


@dataclass(frozen=True, slots=True)
class Checked:
    pack: DomainPack  # the pack as it will be with the new text
    running_rules_accept: bool  # the rules in force (their pack loaded at start) accept the rule files too


@dataclass(frozen=True, slots=True)
class Saved:
    kind: str
    path: Path
    previous: bytes | None  # None: the file is new
    version: str | None  # where the previous text was kept


@dataclass(frozen=True, slots=True)
class Similar:
    name: str
    score: float


def spec_of(kind: str) -> KindSpec:
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFound(f"No pack file kind {kind!r}; one of: {', '.join(KINDS)}.")
    return spec


def check_name(kind: str, name: str) -> KindSpec:
    """A plain file name of this kind: lowercase letters, digits, '-' or '_', and the kind's suffix. Nothing
    that could leave the folder ('..', '/', '\\', a leading dot) gets through."""
    spec = spec_of(kind)
    stem = name.removesuffix(spec.suffix)
    if stem == name or len(name) > 80 or not _STEM.fullmatch(stem):
        raise InvalidInput(
            f"{name!r} is not a {kind} file name: lowercase letters, digits and '-' or '_', ending in {spec.suffix}.",
            details={"name": name},
        )
    return spec


class PackFiles:
    def __init__(self, root: Path, versions_root: Path) -> None:
        self.root = root
        self.versions_root = versions_root

    def folder(self, kind: str) -> Path:
        return self.root / spec_of(kind).folder

    def names(self, kind: str) -> list[str]:
        """The editable files of a kind (READMEs and stray files are not part of the pack)."""
        spec = spec_of(kind)
        found = sorted(self.folder(kind).glob(f"*{spec.suffix}"))
        return [p.name for p in found if p.is_file() and _STEM.fullmatch(p.name.removesuffix(spec.suffix))]

    def read(self, kind: str, name: str) -> str:
        check_name(kind, name)
        path = self.folder(kind) / name
        if not path.is_file():
            raise NotFound(f"No {kind} file {name!r}.")
        return path.read_text(encoding="utf-8")

    # ---- versions ----------------------------------------------------------------------------------------

    def _versions_dir(self, kind: str) -> Path:
        return self.versions_root / kind

    def versions(self, kind: str, name: str) -> list[Version]:
        """Kept versions of a file, newest first."""
        check_name(kind, name)
        pattern = re.compile(rf"^{re.escape(name)}\.(\d{{8}}T\d{{6}}\.\d{{6}}Z)$")
        found = []
        directory = self._versions_dir(kind)
        for path in directory.iterdir() if directory.is_dir() else ():
            match = pattern.fullmatch(path.name)
            if match:
                at = datetime.strptime(match[1], _VERSION_STAMP).replace(tzinfo=UTC)
                found.append(Version(path.name, at, path.stat().st_size))
        return sorted(found, key=lambda v: v.saved_at, reverse=True)

    def read_version(self, kind: str, name: str, version: str) -> str:
        if version not in {v.name for v in self.versions(kind, name)}:  # also keeps the name inside the folder
            raise NotFound(f"No version {version!r} of {kind} file {name!r}.")
        return (self._versions_dir(kind) / version).read_text(encoding="utf-8")

    # ---- checking ----------------------------------------------------------------------------------------

    def check(self, kind: str, name: str, text: str, running_rules_pack: DomainPack | None = None) -> Checked:
        """Load a copy of the whole pack with this file replaced; :class:`InvalidInput` says what is wrong.

        ``running_rules_pack``: the pack the rules in force were loaded with (cues, archetypes and knowledge
        from the last start); the rule files are checked against it too, to tell whether a rule edit applies
        at once or only after a restart (e.g. a rule naming a knowledge module added since)."""
        spec = check_name(kind, name)
        if not spec.may_create and not (self.folder(kind) / name).is_file():
            raise NotFound(f"No {kind} file {name!r}; new {kind} cannot be added here.")
        data = encode(text)
        with tempfile.TemporaryDirectory(prefix="sufler-pack-check-") as tmp:
            copy = Path(tmp)
            for folder in _PACK_FOLDERS:
                source = self.root / folder
                if source.is_dir():
                    shutil.copytree(source, copy / folder, ignore=shutil.ignore_patterns(".*"))
                else:
                    (copy / folder).mkdir()
            (copy / spec.folder / name).write_bytes(data)
            try:
                pack = load_pack(copy)
                RuleSet.load(copy / "scoring_rules", pack)
            except PackError as exc:
                raise _invalid(copy, exc.path, exc.problems) from None
            except Exception as exc:  # a loader that trips over odd input must still not let it be saved
                raise _invalid(copy, copy / spec.folder / name, [f"cannot be loaded: {exc!r}"]) from None
            running_ok = False
            if running_rules_pack is not None:
                try:
                    RuleSet.load(copy / "scoring_rules", running_rules_pack)
                    running_ok = True
                except Exception:
                    running_ok = False
        return Checked(pack, running_ok)

    # ---- saving ------------------------------------------------------------------------------------------

    def save(self, kind: str, name: str, text: str) -> Saved:
        """Keep the current text as a version, then replace the file atomically (readers see old or new)."""
        spec = check_name(kind, name)
        path = self.folder(kind) / name
        previous = path.read_bytes() if path.is_file() else None
        if previous is None and not spec.may_create:
            raise NotFound(f"No {kind} file {name!r}.")
        version = None
        if previous is not None:
            directory = self._versions_dir(kind)
            directory.mkdir(parents=True, exist_ok=True)
            at = datetime.now(UTC)
            while (directory / f"{name}.{at.strftime(_VERSION_STAMP)}").exists():
                at += timedelta(microseconds=1)  # two saves within a microsecond keep both versions
            version = f"{name}.{at.strftime(_VERSION_STAMP)}"
            _write_atomically(directory / version, previous)
        _write_atomically(path, encode(text))
        return Saved(kind, path, previous, version)

    def undo(self, saved: Saved) -> None:
        """Put back what :meth:`save` replaced (the audit entry could not be written: no unrecorded change)."""
        if saved.previous is None:
            saved.path.unlink(missing_ok=True)
        else:
            _write_atomically(saved.path, saved.previous)
        if saved.version is not None:
            (self._versions_dir(saved.kind) / saved.version).unlink(missing_ok=True)


def encode(text: str) -> bytes:
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"The text is too long ({len(text)} characters; at most {MAX_TEXT}).")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"The text is not valid Unicode: {exc.reason} at character {exc.start}.") from None


def _invalid(copy: Path, path: Path, problems: list[str]) -> InvalidInput:
    try:
        where = path.relative_to(copy).as_posix()
    except ValueError:
        where = path.name
    message = f"{where}: " + "; ".join(problems)
    return InvalidInput(f"Not saved, the pack would not load: {message}", details={"file": where, "problems": problems})


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary file beside the target, then rename it over the target. The temporary name starts
    with a dot and does not end in .toml/.md, so no loader (RuleStore polls the folder) ever sees it."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def near_duplicates(
    embedder: Embedder, pack: DomainPack, slug: str, threshold: float = DUPLICATE_THRESHOLD
) -> list[Similar]:
    """Other knowledge modules whose indexed text is within ``threshold`` cosine of this one's, closest first.

    The same text the knowledge index embeds (:func:`module_text`), so "similar" means "retrieval would
    confuse them". All modules are embedded afresh: a few dozen short texts, and it includes modules saved
    since the index was built."""
    others = [s for s in sorted(pack.knowledge) if s != slug]
    if not others:
        return []
    vectors = embedder.embed([module_text(pack.knowledge[slug]), *(module_text(pack.knowledge[s]) for s in others)])
    norms = np.linalg.norm(vectors, axis=1)
    scores = (vectors[1:] @ vectors[0]) / np.maximum(norms[1:] * norms[0], 1e-12)
    found = [Similar(f"{s}.md", round(float(score), 3)) for s, score in zip(others, scores, strict=True)]
    return sorted((f for f in found if f.score >= threshold), key=lambda f: -f.score)
