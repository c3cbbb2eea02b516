"""The console's only way to the data: the moderation service's HTTP API."""
from __future__ import annotations

import os
import uuid
from typing import Any

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"


class ApiProblem(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def api_url() -> str:
    return os.environ.get("MODERATION_API_URL", DEFAULT_API_URL).rstrip("/")


class ReviewApi:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 15.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiProblem(0, "unreachable", f"the API at {self._http.base_url} does not answer: {exc}") from None
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ApiProblem(response.status_code, error["code"], error["message"])
            except (ValueError, KeyError):
                raise ApiProblem(response.status_code, "http_error", response.text[:200]) from None
        return response

    def login(self, username: str, password: str) -> dict:
        return self._call("POST", "/v1/auth/login", json={"username": username, "password": password}).json()

    def logout(self) -> None:
        self._call("POST", "/v1/auth/logout")

    def me(self) -> dict:
        return self._call("GET", "/v1/auth/me").json()

    def config(self) -> dict:
        return self._call("GET", "/v1/review/config").json()

    def queues(self) -> dict:
        return self._call("GET", "/v1/review/queues").json()

    def claim(self, queue: str) -> dict:
        return self._call("POST", "/v1/review/claim", json={"queue": queue}).json()

    def mine(self) -> list[dict]:
        return self._call("GET", "/v1/review/mine").json()["items"]

    def item(self, item_id: str) -> dict:
        return self._call("GET", f"/v1/review/{item_id}").json()

    def image(self, item_id: str, original: bool = False) -> bytes:
        return self._call("GET", f"/v1/review/{item_id}/image", params={"original": str(original).lower()}).content

    def reveal_prompt(self, item_id: str) -> dict:
        return self._call("POST", f"/v1/review/{item_id}/reveal", json={"what": "prompt"}).json()

    def renew(self, item_id: str) -> dict:
        return self._call("POST", f"/v1/review/{item_id}/renew").json()

    def give_back(self, item_id: str, how: str) -> None:
        self._call("POST", f"/v1/review/{item_id}/{how}")

    def verdict(self, item_id: str, verdict: str, reason_code: str, note: str, also_decide: list[str],
                key: str | None = None) -> dict:
        body = {"verdict": verdict, "reason_code": reason_code, "note": note, "also_decide": also_decide,
                "key": key or f"console-{uuid.uuid4()}"}
        return self._call("POST", f"/v1/review/{item_id}/verdict", json=body).json()

    def history(self, **filters) -> list[dict]:
        params = {k: v for k, v in filters.items() if v}
        return self._call("GET", "/v1/review/history", params=params).json()["entries"]

    def stats(self) -> dict:
        return self._call("GET", "/v1/review/stats").json()
