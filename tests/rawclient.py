"""Gradio's HTTP protocol spoken by hand, as an attacker would: any event (hidden ones too) by its
index in /config, any session hash, any event data, any client address (X-Forwarded-For, which
uvicorn trusts from this machine only)."""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

import httpx

from tests.apprunner import SSL_CONTEXT


@dataclass
class Answer:
    """One event's outcome. kind: "ok" (`output` holds the data), "refused" (a gr.Error or an HTTP
    4xx: `message` says why) or "unhandled" (an error without a message, a 5xx, a dropped stream
    or a timeout: `message` says which, None for an error Gradio sent without one)."""
    kind: str
    output: list | None
    message: str | None
    raw: dict

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def _completed(msg: dict) -> Answer:
    out = msg.get("output") or {}
    if msg.get("success"):
        return Answer("ok", out.get("data"), None, msg)
    if out.get("error"):
        return Answer("refused", None, str(out["error"]), msg)
    return Answer("unhandled", None, None, msg)


class RawClient:
    def __init__(self, url: str, session_hash: str | None = None, client_ip: str | None = None,
                 timeout: float = 120):
        self.url = url.rstrip("/")
        self.session_hash = session_hash or secrets.token_hex(6)
        headers = {"X-Forwarded-For": client_ip} if client_ip else {}
        self.timeout = timeout
        self.http = httpx.Client(timeout=httpx.Timeout(30, read=timeout), headers=headers, verify=SSL_CONTEXT)

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    def config(self) -> dict:
        return self.http.get(f"{self.url}/config").json()

    def fn_index(self, api_name: str) -> int:
        """The index of the event named `api_name` (hidden events have generated names)."""
        for i, dep in enumerate(self.config()["dependencies"]):
            if dep.get("api_name") == api_name.lstrip("/"):
                return i
        raise KeyError(api_name)

    def upload(self, name: str, data: bytes) -> dict:
        """Upload bytes; returns the FileData dict an event takes."""
        r = self.http.post(f"{self.url}/gradio_api/upload", files={"files": (name, data)})
        r.raise_for_status()
        path = r.json()[0]
        return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def call(self, fn_index: int, data: list, event_data=None, trigger_id=None) -> Answer:
        """Join the queue with `data` for event `fn_index` and read this event's stream to its end
        (within the client's timeout)."""
        body = {"data": data, "fn_index": fn_index, "session_hash": self.session_hash,
                "event_data": event_data, "trigger_id": trigger_id}
        deadline = time.time() + self.timeout
        # json.dumps writes NaN and Infinity as JavaScript would; the server's parser accepts them.
        r = self.http.post(f"{self.url}/gradio_api/queue/join", content=json.dumps(body),
                           headers={"Content-Type": "application/json"})
        if r.status_code != 200:
            kind = "unhandled" if r.status_code >= 500 else "refused"
            return Answer(kind, None, f"HTTP {r.status_code}: {r.text[:300]}", {})
        event_id = r.json().get("event_id")
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data",
                              params={"session_hash": self.session_hash}) as stream:
            for line in stream.iter_lines():
                if time.time() > deadline:
                    return Answer("unhandled", None, f"no answer in {self.timeout:.0f} s", {})
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") not in (None, event_id):
                    continue
                if msg.get("msg") == "process_completed":
                    return _completed(msg)
                if msg.get("msg") == "unexpected_error":
                    return Answer("unhandled", None, f"unexpected_error: {msg.get('message')}", msg)
                if msg.get("msg") == "close_stream":
                    break
        return Answer("unhandled", None, "the stream closed without a result", {})
