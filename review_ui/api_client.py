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

    def claim_item(self, item_id: str) -> dict:
        return self._call("POST", f"/v1/review/{item_id}/claim").json()

    def client_items(self, item_id: str, limit: int = 10) -> list[dict]:
        return self._call("GET", f"/v1/review/{item_id}/client-items", params={"limit": limit}).json()["items"]

    def move(self, item_id: str, queue: str, note: str = "") -> None:
        self._call("POST", f"/v1/review/{item_id}/move", json={"queue": queue, "note": note})

    def escalate(self, item_id: str, note: str = "") -> None:
        self._call("POST", f"/v1/review/{item_id}/escalate", json={"note": note})

    def ungroup(self, item_id: str, group_of: str) -> None:
        self._call("POST", f"/v1/review/{item_id}/ungroup", json={"group_of": group_of})

    def legal_report(self, item_id: str, note: str = "") -> dict:
        return self._call("POST", f"/v1/review/{item_id}/legal-report", json={"note": note}).json()

    def preferences(self) -> dict:
        return self._call("GET", "/v1/review/preferences").json()

    def set_blur(self, radius: int | None) -> dict:
        return self._call("PUT", "/v1/review/preferences", json={"blur_radius": radius}).json()

    def banks(self) -> dict:
        return self._call("GET", "/v1/banks").json()

    def bank_entries(self, name: str, limit: int = 100) -> list[dict]:
        return self._call("GET", f"/v1/banks/{name}/entries", params={"limit": limit}).json()["entries"]

    def add_bank_entry(self, name: str, signal_type: str, value: str, label: str | None) -> dict:
        body = {"entries": [{"signal_type": signal_type, "hash": value, "label": label or None}]}
        return self._call("POST", f"/v1/banks/{name}/entries", json=body).json()

    def remove_bank_entry(self, name: str, entry_id: int) -> None:
        self._call("DELETE", f"/v1/banks/{name}/entries/{entry_id}")

    def bank_lookup_image(self, data: bytes) -> dict:
        import base64

        return self._call("POST", "/v1/banks/lookup", json={"image": base64.b64encode(data).decode()}).json()

    def mine(self) -> list[dict]:
        return self._call("GET", "/v1/review/mine").json()["items"]

    def item(self, item_id: str) -> dict:
        return self._call("GET", f"/v1/review/{item_id}").json()

    def image(self, item_id: str, original: bool = False, blur: int | None = None, size: int = 512) -> bytes:
        params = {"original": str(original).lower(), "size": size}
        if blur is not None:
            params["blur"] = blur
        return self._call("GET", f"/v1/review/{item_id}/image", params=params).content

    def reveal_prompt(self, item_id: str) -> dict:
        return self._call("POST", f"/v1/review/{item_id}/reveal", json={"what": "prompt"}).json()

    def renew(self, item_id: str) -> dict:
        return self._call("POST", f"/v1/review/{item_id}/renew").json()

    def give_back(self, item_id: str, how: str) -> None:
        self._call("POST", f"/v1/review/{item_id}/{how}")

    def verdict(self, item_id: str, verdict: str, reason_code: str, note: str, also_decide: list[str],
                key: str | None = None, bank: bool = True) -> dict:
        body = {"verdict": verdict, "reason_code": reason_code, "note": note, "also_decide": also_decide,
                "key": key or f"console-{uuid.uuid4()}"}
        if not bank:
            body["bank"] = False
        return self._call("POST", f"/v1/review/{item_id}/verdict", json=body).json()

    def history(self, **filters) -> list[dict]:
        params = {k: v for k, v in filters.items() if v}
        return self._call("GET", "/v1/review/history", params=params).json()["entries"]

    def stats(self) -> dict:  # noqa: D401
        return self._call("GET", "/v1/review/stats").json()

    def enforcement(self) -> dict:
        """The live policy's prevalence, precision and recall, estimated from the blind quality sample."""
        return self._call("GET", "/v1/stats/enforcement").json()
