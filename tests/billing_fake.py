"""An HTTP-level fake of the Stripe endpoints Acre calls, served on loopback in a thread, with state
(customers, checkout sessions, subscriptions) so that handling can re-read what it is told about.

It answers form-encoded requests the way Stripe does (objects with ``id`` and ``object``), records
every request with its ``Idempotency-Key`` and replays the first answer for a repeated key. Test
controls (``complete_checkout``, ``set_status``…) change state as Stripe would and queue the events
Stripe would send; :func:`signed` signs a payload with Stripe's real scheme."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

PERIOD = 30 * 86400


def signed(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header: ``t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<payload>")``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt_is_index = not last and parts[i + 1].isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = [] if nxt_is_index else {}
                    node = node[index]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if nxt_is_index else {})
    return root


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    replayed: bool = False


class StripeFake:
    def __init__(self, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.outbox: list[dict[str, Any]] = []
        self._replies: dict[str, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.fail_requests = 0  # answer this many next requests with a 500 (not to be retried)

    # --- server ------------------------------------------------------------------------------

    def start(self) -> StripeFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                params = _nest(parse_qsl(body or parts.query, keep_blank_values=True))
                status, reply = fake.dispatch(
                    self.command, parts.path, params, self.headers.get("idempotency-key")
                )
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", "req_" + secrets.token_hex(6))
                if status >= 500:
                    self.send_header("stripe-should-retry", "false")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="stripe-fake", daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- the API -----------------------------------------------------------------------------

    def dispatch(
        self, method: str, path: str, params: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            record = Request(method, path, params, key)
            self.requests.append(record)
            if self.fail_requests > 0:
                self.fail_requests -= 1
                return 500, {"error": {"type": "api_error", "message": "injected failure"}}
            if key and method == "POST" and f"{path}:{key}" in self._replies:
                record.replayed = True
                return self._replies[f"{path}:{key}"]
            status, reply = self._route(method, path, params)
            if key and method == "POST":
                self._replies[f"{path}:{key}"] = (status, reply)
            return status, reply

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/customers":
            cus = {
                "id": "cus_" + secrets.token_hex(8),
                "object": "customer",
                "name": params.get("name"),
                "email": params.get("email"),
                "metadata": params.get("metadata", {}),
            }
            self.customers[cus["id"]] = cus
            return 200, cus
        if method == "POST" and path == "/v1/checkout/sessions":
            cs_id = "cs_test_" + secrets.token_hex(8)
            session = {
                "id": cs_id,
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "url": f"{self.url}/pay/{cs_id}",
                "status": "open",
                "subscription": None,
                "_params": params,
            }
            self.sessions[cs_id] = session
            return 200, {k: v for k, v in session.items() if not k.startswith("_")}
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return 200, {
                "id": "bps_" + secrets.token_hex(8),
                "object": "billing_portal.session",
                "customer": params.get("customer"),
                "url": f"{self.url}/portal/{params.get('customer')}",
            }
        match = re.fullmatch(r"/v1/subscriptions/([\w]+)", path)
        if match and match.group(1) in self.subscriptions:
            sub = self.subscriptions[match.group(1)]
            if method == "POST":
                for item in params.get("items", []):
                    if item.get("quantity") is not None:
                        self._item(sub)["quantity"] = int(item["quantity"])
                self._emit("customer.subscription.updated", sub)
            return 200, sub
        return 404, {"error": {"type": "invalid_request_error", "message": f"No such resource: {path}"}}

    # --- test controls -----------------------------------------------------------------------

    @staticmethod
    def _item(sub: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = sub["items"]["data"][0]
        return item

    def _emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": "evt_" + secrets.token_hex(10),
            "object": "event",
            "type": event_type,
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": json.loads(json.dumps(obj))},
            "pending_webhooks": 1,
        }
        self.outbox.append(event)
        return event

    def _invoice(self, sub: dict[str, Any], status: str) -> dict[str, Any]:
        return {
            "id": "in_" + secrets.token_hex(8),
            "object": "invoice",
            "customer": sub["customer"],
            "status": status,
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": sub["id"], "metadata": sub["metadata"]},
            },
        }

    def complete_checkout(self, session_id: str, status: str = "active") -> str:
        """The buyer paid: create the subscription and queue what Stripe sends (session completed,
        subscription created, invoice paid). Returns the subscription id."""
        with self._lock:
            session = self.sessions[session_id]
            params = session["_params"]
            line = params["line_items"][0]
            now = int(time.time())
            sub_id = "sub_" + secrets.token_hex(8)
            sub = {
                "id": sub_id,
                "object": "subscription",
                "status": status,
                "customer": session["customer"],
                "metadata": params.get("subscription_data", {}).get("metadata", {}),
                "created": now,
                "trial_end": None,
                "cancel_at_period_end": False,
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": "si_" + secrets.token_hex(8),
                            "object": "subscription_item",
                            "price": {"id": line["price"], "object": "price"},
                            "quantity": int(line["quantity"]),
                            "current_period_start": now,
                            "current_period_end": now + PERIOD,
                        }
                    ],
                },
            }
            self.subscriptions[sub_id] = sub
            session.update(status="complete", subscription=sub_id)
            self._emit(
                "checkout.session.completed", {k: v for k, v in session.items() if not k.startswith("_")}
            )
            self._emit("customer.subscription.created", sub)
            self._emit("invoice.paid", self._invoice(sub, "paid"))
            return sub_id

    def set_status(self, sub_id: str, status: str) -> None:
        """What Stripe does on a failed renewal (past_due), a paid one (active), a cancellation…"""
        with self._lock:
            sub = self.subscriptions[sub_id]
            sub["status"] = status
            if status == "past_due":
                self._emit("invoice.payment_failed", self._invoice(sub, "open"))
            elif status == "active":
                self._emit("invoice.paid", self._invoice(sub, "paid"))
            self._emit(
                "customer.subscription.deleted" if status == "canceled" else "customer.subscription.updated",
                sub,
            )

    def set_quantity(self, sub_id: str, quantity: int) -> None:
        """A change made outside Acre (e.g. in the portal)."""
        with self._lock:
            self._item(self.subscriptions[sub_id])["quantity"] = quantity
            self._emit("customer.subscription.updated", self.subscriptions[sub_id])

    def set_period_end(self, sub_id: str, seconds_from_now: int) -> None:
        """Move the period end (as time passing would), and send the update."""
        with self._lock:
            self._item(self.subscriptions[sub_id])["current_period_end"] = int(time.time()) + seconds_from_now
            self._emit("customer.subscription.updated", self.subscriptions[sub_id])

    def take_events(self) -> list[dict[str, Any]]:
        with self._lock:
            events, self.outbox = self.outbox, []
            return events

    def writes_to(self, path_prefix: str) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and r.path.startswith(path_prefix)]

    def reads_of(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and r.path == path]
