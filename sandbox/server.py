"""HTTP server: mounts every simulated vendor under its prefix.

Built on ``http.server.ThreadingHTTPServer`` (HTTP/1.1 keep-alive, daemon
threads).  For each vendor request the server, in order: consumes the next
queued fault, applies the per-credential rate limiter, dispatches to the
vendor module, post-processes the body for the ``truncated_json`` fault, and
records the exchange in the request log that ``/_control/requests`` serves.
"""

from __future__ import annotations

import math
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import (
    bigquery,
    control,
    custom_api,
    ga4,
    google_ads,
    google_oauth,
    hubspot,
    mailchimp,
    pagerduty,
    salesforce,
    slack,
    stripe,
    webhook_sink,
)
from sandbox.state import Fault, SandboxState
from sandbox.web import Request, Response, VendorApp, html_response, json_response

APPS: tuple[VendorApp, ...] = (
    hubspot.APP,
    salesforce.APP,
    ga4.APP,
    google_ads.APP,
    google_oauth.APP,
    mailchimp.APP,
    stripe.APP,
    bigquery.APP,
    custom_api.APP,
    slack.APP,
    pagerduty.APP,
    webhook_sink.APP,
)
LOGGED_HEADERS = ("authorization", "content-type", "accept", "user-agent", "developer-token",
                  "login-customer-id", "x-api-key", "sforce-query-options", "idempotency-key",
                  "stripe-version", "x-goog-user-project")  # fmt: skip
SECRET_HEADERS = ("authorization", "x-api-key", "developer-token")
NON_JSON_PAGE = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>
"""


def mask_secret(value: str) -> str:
    """Keep the auth scheme and the last four characters of a credential."""
    scheme, sep, secret = value.partition(" ")
    if not sep:
        scheme, secret = "", value
    tail = secret[-4:] if len(secret) > 8 else ""
    return f"{scheme}{sep}****{tail}"


class SandboxServer(ThreadingHTTPServer):
    """The threading server plus the sandbox state it serves."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SandboxState | None = None) -> None:
        super().__init__(address, SandboxRequestHandler)
        self.state = state or SandboxState()
        self.apps = sorted(APPS, key=lambda a: len(a.prefix), reverse=True)
        self.quiet = True


class SandboxRequestHandler(BaseHTTPRequestHandler):
    """Parses one request and hands it to the control API or a vendor."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "switchboard-sandbox"
    sys_version = ""
    server: SandboxServer

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.server.quiet:
            super().log_message(format, *args)

    def _handle(self) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = headers.get("host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request(
            method=self.command,
            path=url.path,
            full_path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=headers,
            body=body,
            state=self.server.state,
            base_url=f"http://{host}",
        )
        vendor, response = self._route(request)
        if vendor is not None:
            self._log(vendor, request, url.query, response, started)
        self._write(response)

    def _route(self, request: Request) -> tuple[str | None, Response]:
        path = request.path
        if path == "/healthz":
            return None, json_response({"status": "ok"})
        if path == "/_control" or path.startswith("/_control/"):
            request.prefix, request.path = "/_control", path[len("/_control") :] or "/"
            return None, control.APP.dispatch(request)
        for app in self.server.apps:
            if path == app.prefix or path.startswith(app.prefix + "/"):
                request.prefix, request.path = app.prefix, path[len(app.prefix) :] or "/"
                return app.key, self._serve_vendor(app, request)
        return None, json_response({"error": "not_found", "message": f"No vendor at {path}"}, 404)

    def _serve_vendor(self, app: VendorApp, request: Request) -> Response:
        state = self.server.state
        fault = state.next_fault(app.key)
        if fault is not None:
            early = self._apply_fault(app, request, fault)
            if early is not None:
                return early
        if request.path not in app.unmetered_paths:
            credential = app.credential(request) if app.credential else None
            credential = credential or request.header("authorization") or self.client_address[0]
            wait = state.throttle(app.key, credential)
            if wait > 0:
                return app.rate_limited(request, str(max(1, math.ceil(wait))))
        try:
            response = app.dispatch(request)
        except Exception:  # a sandbox bug must still answer like the vendor would
            traceback.print_exc(file=sys.stderr)
            response = app.server_error(request, 500)
        if fault is not None and fault.kind == "truncated_json":
            cut = max(1, len(response.body) // 2) if response.body else 1
            response.body = (response.body or b'{"')[:cut]
            response.status = 200
            response.content_type = "application/json; charset=utf-8"
        return response

    def _apply_fault(self, app: VendorApp, request: Request, fault: Fault) -> Response | None:
        options = fault.options
        if fault.kind == "slow":
            time.sleep(float(options.get("delay_seconds", 3)))
            return None
        if fault.kind == "rate_limit":
            if options.get("retry_after_http_date"):
                seconds = float(options.get("retry_after_seconds", 2))
                retry_after = formatdate(time.time() + seconds, usegmt=True)
            else:
                retry_after = str(options.get("retry_after", "2"))
            return app.rate_limited(request, retry_after)
        if fault.kind == "server_error":
            return app.server_error(request, int(options.get("status", 500)))
        if fault.kind == "non_json":
            return html_response(NON_JSON_PAGE, int(options.get("status", 200)))
        return None

    def _log(
        self, vendor: str, request: Request, query: str, response: Response, started: float
    ) -> None:
        headers = {}
        for name in LOGGED_HEADERS:
            value = request.header(name)
            if value is not None:
                headers[name] = mask_secret(value) if name in SECRET_HEADERS else value
        self.server.state.log_request(
            {
                "time": time.time(),
                "vendor": vendor,
                "method": request.method,
                "path": request.full_path,
                "vendor_path": request.path,
                "query": query,
                "params": {k: v if len(v) > 1 else v[0] for k, v in request.query.items()},
                "headers": headers,
                "body": request.body[:4096].decode("utf-8", "replace"),
                "status": response.status,
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
            }
        )

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD" and response.body:
                self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. a slow-fault timeout)


@dataclass
class SandboxHandle:
    """A sandbox running in a background thread (see :func:`start_in_thread`)."""

    server: SandboxServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        """The TCP port actually bound."""
        return int(self.server.server_address[1])

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return str(self.server.server_address[0])

    @property
    def base_url(self) -> str:
        """``http://host:port`` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> SandboxState:
        """Direct access to the state (tests normally use ``/_control``)."""
        return self.server.state

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def make_server(host: str = "127.0.0.1", port: int = 8765) -> SandboxServer:
    """Create (bind) a sandbox server without starting it."""
    return SandboxServer((host, port))


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> SandboxHandle:
    """Start a sandbox on ``host:port`` (0 = any free port) in a daemon thread."""
    server = make_server(host, port)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-server", daemon=True)
    thread.start()
    return SandboxHandle(server, thread)
