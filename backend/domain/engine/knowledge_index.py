"""Knowledge modules in the vector store, (re)indexed idempotently, and retrieved by keywords + similarity."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from backend import metrics
from backend.adapters.embedder import Embedder, Vectors
from backend.adapters.vector_store import VectorStore
from backend.domain.engine.matching import Hit
from backend.domain.pack.pack import DomainPack, KnowledgeModule

COLLECTION = "knowledge"
SEMANTIC_THRESHOLD = 0.45  # below this cosine similarity a module is noise (the default model is weak on Polish)
SEMANTIC_LIMIT = 3
# A keyword-triggered module is shown only while its score is at least this share of the best module's: a word
# several modules share ("bateria": battery life and range) must not pull in all of them beside a clear topic.
RELATIVE_FLOOR = 0.6


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

    def retrieve(self, keyword_hits: list[Hit], vector: Vectors | None, similar_only: bool = True) -> list[Retrieved]:
        """Keyword-triggered modules first, then (``similar_only``) modules found by similarity alone.

        A keyword module's score is 1 + the sum, over the places in the text that trigger it, of the keyword's
        words / the number of modules that place triggers (a phrase beats a word, a word only this module has
        counts fully), + its similarity to the text.
        """
        sims = (
            {h.key: h.score for h in self.store.search(COLLECTION, vector, len(self.pack.knowledge))}
            if (vector is not None)
            else {}
        )
        sharing: dict[int, set[str]] = {}
        for hit in keyword_hits:
            if not hit.negated:
                sharing.setdefault(hit.start, set()).add(hit.label)
        weights: dict[str, float] = {}
        keywords: dict[str, list[str]] = {}
        for hit in keyword_hits:
            if hit.negated or hit.label not in self.pack.knowledge:
                continue
            if hit.keyword not in keywords.setdefault(hit.label, []):
                keywords[hit.label].append(hit.keyword)
                weights[hit.label] = weights.get(hit.label, 0.0) + (hit.end - hit.start) / len(sharing[hit.start])
        found = {
            slug: Retrieved(slug, 1.0 + weight + sims.get(slug, 0.0), tuple(keywords[slug]))
            for slug, weight in weights.items()
        }
        if found:
            best = max(r.score for r in found.values())
            found = {slug: r for slug, r in found.items() if r.score - 1.0 >= RELATIVE_FLOOR * (best - 1.0)}
        ranked = sorted(sims.items(), key=lambda kv: -kv[1])[:SEMANTIC_LIMIT] if similar_only else []
        for slug, sim in ranked:
            if sim >= SEMANTIC_THRESHOLD and slug not in found and slug in self.pack.knowledge:
                found[slug] = Retrieved(slug, sim, ())
        return sorted(found.values(), key=lambda r: (-r.score, r.slug))
