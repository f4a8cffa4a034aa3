"""Test helpers: a local server answering the Stripe API with recorded responses.

Point the SDK at it with ``STRIPE_API_BASE = server.url``; the real ``stripe``
client then sends real HTTP requests (form-encoded, with its own headers), and
the server answers each ``(method, path)`` with the response given for it,
keeping every request for the test to inspect. No network is needed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]  # form body or query string, keys as Stripe spells them
    headers: dict[str, str] = field(default_factory=dict)


class FakeStripe:
    """``with FakeStripe() as stripe_api: stripe_api.respond("POST", "/v1/...", {...})``."""

    def __init__(self) -> None:
        self.responses: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def respond(self, method: str, path: str, body: dict[str, Any], status: int = 200) -> None:
        self.responses[(method.upper(), path)] = (status, body)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if (r.method, r.path) == (method.upper(), path)]

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else url.query
                fake.requests.append(
                    RecordedRequest(
                        method=self.command,
                        path=url.path,
                        params=dict(parse_qsl(body, keep_blank_values=True)),
                        headers={key.lower(): value for key, value in self.headers.items()},
                    )
                )
                status, payload = fake.responses.get(
                    (self.command, url.path),
                    (
                        404,
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "code": "resource_missing",
                                "message": f"Unrecognized request URL ({self.command}: {url.path})",
                            }
                        },
                    ),
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_fake{len(fake.requests)}")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler


# --------------------------------------------------------------------------- recorded objects
# Shaped like Stripe's own (API version 2025-03-31 and later: the period is on the items,
# an invoice names its subscription under parent.subscription_details).

PERIOD = 30 * 86400


def plans_seed(prices: dict[str, str] | None = None) -> None:
    """The plans the migration creates (a flushed test database lacks them), with price ids."""
    import importlib

    from django.apps import apps

    from billing.models import Plan

    importlib.import_module("billing.migrations.0002_seed_plans").seed(apps, None)
    for code, price_id in (prices or {}).items():
        Plan.objects.filter(code=code).update(stripe_price_id=price_id)


def stripe_event(kind: str, obj: dict[str, Any], *, created: int, event_id: str = "") -> dict:
    return {
        "id": event_id or f"evt_{kind.replace('.', '_')}_{created}_{obj.get('id', '')}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
        "data": {"object": obj},
    }


def stripe_subscription(
    *,
    user_id: int,
    subscription_id: str = "sub_1",
    customer_id: str = "cus_1",
    status: str = "active",
    price_id: str = "price_pro",
    plan: str = "pro",
    period_start: int = 1_700_000_000,
    cancel_at_period_end: bool = False,
    canceled_at: int | None = None,
) -> dict:
    return {
        "id": subscription_id,
        "object": "subscription",
        "customer": customer_id,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "cancel_at": period_start + PERIOD if cancel_at_period_end else None,
        "canceled_at": canceled_at,
        "created": period_start,
        "livemode": False,
        "metadata": {"user_id": str(user_id), "plan": plan},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{subscription_id}",
                    "object": "subscription_item",
                    "current_period_start": period_start,
                    "current_period_end": period_start + PERIOD,
                    "quantity": 1,
                    "price": {
                        "id": price_id,
                        "object": "price",
                        "currency": "usd",
                        "unit_amount": 900,
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                }
            ],
            "has_more": False,
        },
    }


def stripe_checkout_session(
    *,
    user_id: int,
    plan: str = "pro",
    subscription_id: str = "sub_1",
    customer_id: str = "cus_1",
    payment_status: str = "paid",
) -> dict:
    return {
        "id": f"cs_test_{subscription_id}",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": payment_status,
        "client_reference_id": str(user_id),
        "customer": customer_id,
        "subscription": subscription_id,
        "metadata": {"user_id": str(user_id), "plan": plan},
        "url": None,
    }


def stripe_invoice(*, subscription_id: str = "sub_1", customer_id: str = "cus_1") -> dict:
    return {
        "id": f"in_{subscription_id}",
        "object": "invoice",
        "customer": customer_id,
        "status": "open",
        "amount_due": 900,
        "attempt_count": 1,
        "next_payment_attempt": 1_700_300_000,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id, "metadata": {}},
        },
    }
