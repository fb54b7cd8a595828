"""`seat cti serve`: the phone system's call events over HTTP (the contract is seat.cti's).

    POST /cti/<token>   event=newCall&from=...&to=...&direction=in&callId=...&user=201

Form-encoded (as Zammad's CTI and most PBX scripts send it) or a JSON object. The token
is compared in constant time; the server listens on 127.0.0.1 unless told otherwise, never
writes the token to its log, and answers every bad request with a 4xx and its reason, having
changed nothing. Python's own threading HTTP server carries the requests: one thread per
connection, one transaction per event.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from seat import cti
from seat.cli_help import add_db_option, example
from seat.config import Settings
from seat.errors import StorageError
from seat.i18n import _

MAX_BODY = 16 * 1024
MIN_TOKEN = 16
DEFAULT_PORT = 8088
TOKEN_ENV = "SEAT_CTI_TOKEN"
ATTEMPTS = 8


def add_parser(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """`seat cti`; returns its subcommands (seat.ami adds `ami` to them)."""
    p = sub.add_parser(
        "cti",
        help=_("call events from the phone system (HTTP endpoint)"),
        description=_(
            "Receive the phone system's call events (newCall, answer, hangup) over HTTP: "
            "a new call pops on the agent's seat, answer and hang-up times and recordings "
            "are kept with the call."
        ),
        epilog=example(
            "seat cti serve --port 8088 --token-file /etc/seat/cti-token",
            "seat agents extension li.na 201 --as zhao.lei",
        ),
    )
    csub = p.add_subparsers(dest="cti_command", required=True, title=_("commands"),
                            metavar="COMMAND")  # fmt: skip
    serve = csub.add_parser(
        "serve", help=_("serve the CTI endpoint until stopped (Ctrl+C)"),
        description=_("Serve POST /cti/<token> until stopped. The token comes from the "
                      "SEAT_CTI_TOKEN environment variable or --token-file."),
        epilog=example("seat cti serve --port 8088 --token-file /etc/seat/cti-token",
                       "seat cti serve --host 0.0.0.0 --db postgresql+psycopg://seat@db/seat"),
    )  # fmt: skip
    serve.add_argument(
        "--host", default="127.0.0.1",
        help=_("address to listen on (default: %(default)s, this machine only)"),
    )  # fmt: skip
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N",
                       help=_("port to listen on (default: %(default)s)"))  # fmt: skip
    serve.add_argument("--token-file", dest="token_file", type=Path, metavar="FILE",
                       help=_("read the shared token from this file"))  # fmt: skip
    add_db_option(serve)
    return csub


def read_token(token_file: Path | None) -> str:
    """The shared token; ValueError with the reason when there is none or it is too short."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {token_file}: {exc}") from None
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ValueError(f"no token: set {TOKEN_ENV} or pass --token-file")
    if len(token) < MIN_TOKEN or not token.isascii() or not token.isprintable() or "/" in token:
        raise ValueError(
            f"the token must be at least {MIN_TOKEN} printable ASCII characters without '/'"
        )
    return token


class CtiServer(ThreadingHTTPServer):
    """The endpoint: applies each event in its own transaction on `engine`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        engine: Engine,
        token: str,
        region: str,
        now: Callable[[], datetime],
        log: Callable[[str], None] = lambda _m: None,
    ) -> None:
        super().__init__(address, CtiHandler)
        self.engine = engine
        self.token = token.encode()
        self.region = region
        self.now = now
        self.log = log

    def handle_event(self, fields: dict[str, Any]) -> cti.Applied:
        """Check and apply one event; CtiError for a bad one. A busy database is tried again;
        the same callId announced by two requests at once pops once."""
        from seat.db import WRITE, backoff, pause, retryable, session_scope

        event = cti.parse(fields)
        for attempt in range(ATTEMPTS):
            try:
                with session_scope(self.engine) as session:
                    # SQLite: the write lock at BEGIN, so it waits for a busy database
                    # instead of being refused when its read turns into a write.
                    session.connection(execution_options=WRITE)
                    return cti.apply(session=session, event=event, now=self.now(),
                                     region=self.region)  # fmt: skip
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise
            except Exception as exc:
                if not retryable(exc) or attempt == ATTEMPTS - 1:
                    raise
                pause(backoff(attempt, cap=1.0))
        raise AssertionError("unreachable")


class CtiHandler(BaseHTTPRequestHandler):
    server: CtiServer
    timeout = 10  # a client that stops sending mid-request does not hold a thread forever
    server_version = "seat-cti"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """The request line without the path: the path carries the token."""
        status = args[1] if len(args) > 1 else ""
        self.server.log(f"{self.address_string()} {self.command} {status}")

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, status: int, reason: str) -> None:
        self._send(status, {"ok": False, "error": reason})

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._refuse(405, "POST call events to /cti/<token>")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path).path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "cti":
            return self._refuse(404, "POST call events to /cti/<token>")
        if not hmac.compare_digest(parts[1].encode(), self.server.token):
            return self._refuse(403, "wrong token")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._refuse(411, "Content-Length is required")
        if length < 0 or length > MAX_BODY:
            return self._refuse(413, f"a body of at most {MAX_BODY} bytes")
        body = self.rfile.read(length)
        try:
            fields = _fields(self.headers.get("Content-Type", ""), body)
            applied = self.server.handle_event(fields)
        except cti.CtiError as exc:
            return self._refuse(exc.status, exc.reason)
        except Exception as exc:  # the database: the phone system may send it again
            self.server.log(f"event not saved: {type(exc).__name__}: {exc}")
            reason = str(exc) if isinstance(exc, StorageError) else "the event was not saved"
            return self._refuse(503, reason)
        self._send(200, {"ok": True, "call": applied.cti_call_id, "pop": applied.pop_id,
                         "agent": applied.agent_id, "duplicate": applied.duplicate})  # fmt: skip


def _fields(content_type: str, body: bytes) -> dict[str, Any]:
    """The request's fields: a form or a JSON object of text values; CtiError otherwise."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise cti.CtiError("the body is not UTF-8") from None
    if kind == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            raise cti.CtiError("the body is not JSON") from None
        if not isinstance(data, dict):
            raise cti.CtiError("the JSON body must be an object")
        return data
    if kind in ("application/x-www-form-urlencoded", ""):
        try:
            parsed = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text),
                              max_num_fields=len(cti.LIMITS))  # fmt: skip
        except ValueError as exc:
            raise cti.CtiError(f"the form cannot be read: {exc}") from None
        repeated = [k for k, v in parsed.items() if len(v) > 1]
        if repeated:
            raise cti.CtiError(f"{repeated[0][:40]} is given more than once")
        return {k: v[0] for k, v in parsed.items()}
    raise cti.CtiError(f"send a form or JSON, not {kind[:60]}", status=415)


def run(settings: Settings, args: argparse.Namespace) -> int:
    """`seat cti serve`: until Ctrl+C; 2 with a message when it cannot start."""
    from seat.clock import SystemClock
    from seat.db import make_engine

    try:
        token = read_token(args.token_file)
    except ValueError as exc:
        print(f"seat cti: {exc}", file=sys.stderr)
        return 2
    try:
        engine = make_engine(settings.database_url, background_checkpoints=True)
    except StorageError as exc:
        print(f"seat cti: {exc}", file=sys.stderr)
        return 2
    clock = SystemClock()
    try:
        server = CtiServer(
            (args.host, args.port), engine=engine, token=token, region=settings.region,
            now=clock.now, log=lambda m: print(m, file=sys.stderr, flush=True),
        )  # fmt: skip
    except OSError as exc:
        engine.dispose()
        print(f"seat cti: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    host, port = server.server_address[:2]
    print(f"seat cti: listening on http://{host}:{port}/cti/<token> (Ctrl+C stops)",
          file=sys.stderr, flush=True)  # fmt: skip
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        engine.dispose()
    return 0
