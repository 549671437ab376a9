"""Assemble the co-pilot from settings: pack files, embedder, vector store, knowledge index, rules, prompts, LLM."""

from __future__ import annotations

from dataclasses import dataclass

from backend.adapters.embedder import FastEmbedder
from backend.adapters.llm import LLM
from backend.adapters.vector_store import QdrantVectorStore
from backend.domain.copilot.copilot import Copilot
from backend.domain.copilot.prompts import Prompts
from backend.domain.engine.engine import CopilotEngine
from backend.domain.engine.knowledge_index import IndexReport, KnowledgeIndex
from backend.domain.engine.rules import RuleStore
from backend.domain.pack.pack import load_pack
from backend.settings import Settings


@dataclass
class BuiltEngine:
    engine: CopilotEngine
    copilot: Copilot
    store: QdrantVectorStore
    index_report: IndexReport

    async def aclose(self) -> None:
        await self.copilot.llm.close()
        self.close()

    def close(self) -> None:
        self.store.close()


def build_engine(settings: Settings, *, in_memory: bool = False) -> BuiltEngine:
    """``in_memory``: a throw-away vector store (replay, tests) instead of the data dir or the server."""
    root = settings.pack.dir
    pack = load_pack(root)
    embedder = FastEmbedder(settings.embedding.model, settings.data_dir / "models")
    if in_memory:
        store = QdrantVectorStore()
    elif settings.qdrant.url:
        key = settings.qdrant.api_key.get_secret_value() if settings.qdrant.api_key else None
        store = QdrantVectorStore(url=settings.qdrant.url, api_key=key)
    else:
        store = QdrantVectorStore(path=settings.data_dir / "qdrant")
    index = KnowledgeIndex(pack, embedder, store)
    report = index.sync()
    engine = CopilotEngine(pack, embedder, index, RuleStore(root / "scoring_rules", pack))
    prompts = Prompts(root / "prompts", pack)
    copilot = Copilot(engine, LLM(settings.llm), prompts, settings.llm.memory_token_budget)
    return BuiltEngine(engine, copilot, store, report)
