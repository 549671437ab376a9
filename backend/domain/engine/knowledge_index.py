"""Knowledge modules in the vector store, (re)indexed idempotently, and retrieved by keywords + similarity."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from backend import metrics
from backend.adapters.embedder import Embedder, Vectors
from backend.adapters.vector_store import VectorStore
from backend.domain.pack.pack import DomainPack, KnowledgeModule

COLLECTION = "knowledge"
SEMANTIC_THRESHOLD = 0.45  # below this cosine similarity a module is noise (the default model is weak on Polish)
SEMANTIC_LIMIT = 3


def module_text(module: KnowledgeModule) -> str:
    """What is embedded for a module: titles, summaries, keywords and facts in both languages."""
    parts = [module.title.pl, module.title.en, module.summary.pl, module.summary.en, *module.keywords.all()]
    parts += [f.text.en for f in module.facts] + [f.text.pl for f in module.facts]
    return "\n".join(parts)


def content_hash(module: KnowledgeModule, model_name: str) -> str:
    return hashlib.sha256(f"{model_name}\n{module.model_dump_json()}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IndexReport:
    added: int
    updated: int
    removed: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Retrieved:
    slug: str
    score: float
    keywords: tuple[str, ...]  # the triggers that fired (empty: found by similarity only)


class KnowledgeIndex:
    def __init__(self, pack: DomainPack, embedder: Embedder, store: VectorStore) -> None:
        self.pack = pack
        self.embedder = embedder
        self.store = store

    def sync(self) -> IndexReport:
        """Make the collection match the files: new and changed modules embedded, removed ones deleted."""
        self.store.ensure_collection(COLLECTION, self.embedder.dim)
        stored = {p.key: p.payload.get("hash") for p in self.store.all_points(COLLECTION)}
        wanted = {slug: content_hash(m, self.embedder.model_name) for slug, m in self.pack.knowledge.items()}
        changed = [slug for slug, h in wanted.items() if stored.get(slug) != h]
        removed = [slug for slug in stored if slug not in wanted]
        if changed:
            vectors = self.embedder.embed([module_text(self.pack.knowledge[s]) for s in changed])
            self.store.upsert(COLLECTION, changed, vectors, [{"hash": wanted[s]} for s in changed])
        self.store.delete(COLLECTION, removed)
        added = sum(1 for s in changed if s not in stored)
        metrics.KNOWLEDGE_INDEX_POINTS.set(len(wanted))
        return IndexReport(added, len(changed) - added, len(removed), len(wanted) - len(changed))

    def size(self) -> int:
        """Modules in the vector index now; raises when the store cannot be reached (health, metrics)."""
        return self.store.count(COLLECTION)

    def retrieve(self, keyword_hits: dict[str, list[str]], vector: Vectors | None) -> list[Retrieved]:
        """Keyword-triggered modules first (more triggers first), then semantically close ones."""
        found = {
            slug: Retrieved(slug, 1.0 + 0.1 * len(kws), tuple(kws))
            for slug, kws in keyword_hits.items()
            if slug in self.pack.knowledge
        }
        if vector is not None:
            for hit in self.store.search(COLLECTION, vector, SEMANTIC_LIMIT):
                if hit.score >= SEMANTIC_THRESHOLD and hit.key not in found and hit.key in self.pack.knowledge:
                    found[hit.key] = Retrieved(hit.key, hit.score, ())
        return sorted(found.values(), key=lambda r: (-r.score, r.slug))
