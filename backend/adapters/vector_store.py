"""Vector store on qdrant-client: local mode (a folder, or memory) by default, a Qdrant server by URL.

Both modes sit behind the same ``QdrantClient`` interface, so the code (and tests) are the same for both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from qdrant_client import QdrantClient, models

from backend.adapters.embedder import Vectors
from backend.tracing import tracer

__all__ = ("Hit", "QdrantVectorStore", "StoredPoint", "VectorStore")


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredPoint:
    key: str
    payload: dict[str, Any]


class VectorStore(Protocol):
    def ensure_collection(self, name: str, dim: int) -> None: ...
    def upsert(self, name: str, keys: Sequence[str], vectors: Vectors, payloads: Sequence[dict[str, Any]]) -> None: ...
    def delete(self, name: str, keys: Sequence[str]) -> None: ...
    def all_points(self, name: str) -> list[StoredPoint]: ...
    def count(self, name: str) -> int: ...
    def search(self, name: str, vector: Vectors, limit: int) -> list[Hit]: ...


def _point_id(key: str) -> str:
    # Qdrant ids are UUIDs or integers; a name-based UUID keeps our readable keys stable across runs.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sufler:{key}"))


class QdrantVectorStore:
    def __init__(self, *, url: str | None = None, path: Path | None = None, api_key: str | None = None) -> None:
        if url:
            self.client = QdrantClient(url=url, api_key=api_key, timeout=5)
        elif path is not None:
            path.mkdir(parents=True, exist_ok=True)
            self.client = QdrantClient(path=str(path))
        else:
            self.client = QdrantClient(location=":memory:")

    def ensure_collection(self, name: str, dim: int) -> None:
        if self.client.collection_exists(name):
            info = self.client.get_collection(name)
            vectors = info.config.params.vectors
            if isinstance(vectors, models.VectorParams) and vectors.size == dim:
                return
            self.client.delete_collection(name)  # the embedding model changed: rebuild
        self.client.create_collection(
            name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE)
        )

    def upsert(self, name: str, keys: Sequence[str], vectors: Vectors, payloads: Sequence[dict[str, Any]]) -> None:
        points = [
            models.PointStruct(id=_point_id(k), vector=v.tolist(), payload={**p, "key": k})
            for k, v, p in zip(keys, vectors, payloads, strict=True)
        ]
        if points:
            self.client.upsert(name, points=points, wait=True)

    def delete(self, name: str, keys: Sequence[str]) -> None:
        if keys:
            self.client.delete(name, points_selector=models.PointIdsList(points=[_point_id(k) for k in keys]))

    def all_points(self, name: str) -> list[StoredPoint]:
        points: list[StoredPoint] = []
        offset = None
        while True:
            batch, offset = self.client.scroll(name, limit=256, offset=offset, with_payload=True)
            points.extend(StoredPoint(str(p.payload["key"]), dict(p.payload)) for p in batch if p.payload)
            if offset is None:
                return points

    def count(self, name: str) -> int:
        """How many points the collection has (raises when the store cannot be reached)."""
        return int(self.client.count(name).count)

    def search(self, name: str, vector: Vectors, limit: int) -> list[Hit]:
        with tracer().start_as_current_span("qdrant search", attributes={"db.system": "qdrant", "sufler.limit": limit}):
            result = self.client.query_points(name, query=vector.tolist(), limit=limit, with_payload=True)
        return [Hit(str(p.payload["key"]), float(p.score), dict(p.payload)) for p in result.points if p.payload]

    def close(self) -> None:
        self.client.close()
