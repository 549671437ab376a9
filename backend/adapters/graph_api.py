"""Meta's Graph API over HTTP: the send calls of WhatsApp Cloud API, Messenger and Instagram messaging, at a
configurable base URL (``SUFLER_GRAPH_API_BASE``; tests point it at a fake)."""

from __future__ import annotations

from typing import Any

import httpx

from backend.errors import ChannelError

__all__ = ("GraphApiClient", "GraphApiError")

# Error codes that say "later" (rate limits, a temporary fault); every other refusal is answered the same again.
# https://developers.facebook.com/docs/graph-api/guides/error-handling and the WhatsApp Cloud API error codes.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131000, 131016, 131056, 133004})
# Outside the 24-hour customer-service window: WhatsApp's "re-engagement message", Messenger's and Instagram's.
OUTSIDE_WINDOW_CODES = frozenset({131047, 2018278})


class GraphApiError(ChannelError):
    """The Graph API refused a call or could not be reached; ``outside_window``: the 24-hour window is closed."""

    def __init__(self, message: str, *, permanent: bool = False, outside_window: bool = False) -> None:
        super().__init__(message, permanent=permanent)
        self.outside_window = outside_window


class GraphApiClient:
    def __init__(self, base: str, version: str, token: str, http: httpx.AsyncClient | None = None) -> None:
        self._base = f"{base.rstrip('/')}/{version}"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``/<version>/<path>``; the answer, or :class:`GraphApiError`."""
        try:
            response = await self._http.post(f"{self._base}/{path}", json=body, headers=self._headers)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GraphApiError(f"{path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code < 400 and "error" not in answer:
            return dict(answer)
        error = answer.get("error") or {}
        code = error.get("code")
        transient = response.status_code >= 500 or response.status_code == 429 or code in TRANSIENT_CODES
        raise GraphApiError(
            f"{path}: {error.get('message') or response.status_code} (code {code})",
            permanent=not transient,
            outside_window=code in OUTSIDE_WINDOW_CODES or error.get("error_subcode") in OUTSIDE_WINDOW_CODES,
        )

    async def close(self) -> None:
        await self._http.aclose()
