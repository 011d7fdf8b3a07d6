"""Local stand-ins for the mail server (aiosmtpd) and the work-chat robots' webhooks (an HTTP receiver) in the notify tests."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session, SMTP


@dataclass
class MailBox:
    """What the local mail server received; it refuses the first `refusals` messages with a temporary error."""

    refusals: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        """Take or refuse one message."""
        with self.lock:
            if self.refused < self.refusals:
                self.refused += 1
                return "451 4.3.0 try again later"
            self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_mail_server(box: MailBox) -> Controller:
    """A running local SMTP server delivering into the box (stop it after the test; its port is `.port`)."""
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def text_of(mail: EmailMessage) -> str:
    """An e-mail's plain-text body."""
    return mail.get_body(preferencelist=("plain",)).get_content()


def html_of(mail: EmailMessage) -> str:
    """An e-mail's HTML body."""
    return mail.get_body(preferencelist=("html",)).get_content()


@dataclass
class Posted:
    """One webhook call: the path, the query and the JSON body."""

    path: str
    query: dict[str, str]
    body: dict


class RobotServer:
    """Stands in for DingTalk, WeCom and Feishu: records each post and answers like the robot its path names
    (/dingtalk/…, /wecom/…, /feishu/…); /broken/… answers 500."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                """Record the post and answer."""
                split = urllib.parse.urlsplit(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.posted.append(Posted(split.path, dict(urllib.parse.parse_qsl(split.query)), body))
                kind = split.path.split("/")[1]
                status, answer = (500, {}) if kind == "broken" else (200, {"code": 0} if kind == "feishu" else {"errcode": 0, "errmsg": "ok"})
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """The address of a webhook path on this server."""
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def dingtalk_signed(query: dict[str, str], secret: str) -> bool:
    """Whether a DingTalk call carries the signature its robot checks (HMAC-SHA256 of "timestamp\\nsecret")."""
    expected = hmac.new(secret.encode(), f"{query['timestamp']}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(expected).decode() == query["sign"]


def feishu_signed(body: dict, secret: str) -> bool:
    """Whether a Feishu call carries the signature its robot checks (HMAC-SHA256 keyed by "timestamp\\nsecret")."""
    expected = hmac.new(f"{body['timestamp']}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(expected).decode() == body["sign"]
