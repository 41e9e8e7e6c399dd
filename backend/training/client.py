"""The backend's HTTP client of the training node (service token, short timeouts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson


class NodeUnavailable(Exception):
    """The node could not be reached, or answered with a server error."""


class NodeRejected(Exception):
    """The node refused the request (4xx); `detail` says why."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


@dataclass(frozen=True)
class Artifact:
    content: bytes
    media_type: str
    filename: str


class TrainingNodeClient:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise NodeUnavailable(
                f"the training node at {self.base_url} is unreachable ({type(exc).__name__})"
            ) from exc
        if response.status_code >= 500:
            raise NodeUnavailable(
                f"the training node at {self.base_url} answered {response.status_code}"
            )
        if response.status_code >= 400:
            raise NodeRejected(response.status_code, _detail(response))
        return response

    def train(self, payload: dict[str, Any]) -> str:
        """Queue a training; the node's job id."""
        response = self._request(
            "POST",
            "/train",
            content=orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY),
            headers={"Content-Type": "application/json"},
        )
        return str(response.json()["job_id"])

    def status(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/status/{job_id}").json()
        return result

    def cancel(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("POST", f"/jobs/{job_id}/cancel").json()
        return result

    def artifact(self, job_id: str, name: str) -> Artifact:
        response = self._request("GET", f"/jobs/{job_id}/artifacts/{name}")
        disposition = response.headers.get("content-disposition", "")
        filename = disposition.partition("filename=")[2].strip('"') or name
        return Artifact(
            response.content,
            response.headers.get("content-type", "application/octet-stream"),
            filename,
        )


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text or f"status {response.status_code}"
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)
