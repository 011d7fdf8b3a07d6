"""Where a message goes: e-mail over SMTP and work-chat robots by webhook (DingTalk with its signing secret, WeCom 企业微信,
Feishu 飞书), each in its own message format. Their settings come from the environment or the secrets file; a webhook URL,
a signing secret or a password is never shown back in full, never logged, and never part of an error."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from lib.config import setting
from lib.notify.message import Message

SMTP_SECURITY = ("starttls", "ssl", "none")  # how the SMTP connection is protected
DEFAULT_SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}  # the port when SMTP_PORT is not set
ROBOT_KINDS = ("dingtalk", "wecom", "feishu")  # the work-chat robots a webhook can be
ROBOT_TEXT_BYTES = {"dingtalk": 18_000, "wecom": 2_000, "feishu": 18_000}  # a text message's size each accepts (UTF-8)
NETWORK_TIMEOUT_SECONDS = 20.0  # one SMTP conversation or webhook call at most
ERROR_LENGTH = 300  # characters of a failure's reason kept


class DeliveryError(Exception):
    """A message could not be delivered; the reason names no secret."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server (settings SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USER, SMTP_PASSWORD, SMTP_SENDER)."""

    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    sender: str


@dataclass(frozen=True)
class Robot:
    """A work-chat group's robot: its kind, webhook URL and (DingTalk, Feishu) signing secret (setting CHAT_ROBOTS)."""

    name: str
    kind: str
    url: str
    secret: str | None = None

    @property
    def shown_url(self) -> str:
        """The webhook as it may be shown: its host and a masked rest."""
        return f"{urllib.parse.urlsplit(self.url).netloc}/…{self.url[-4:]}" if len(self.url) > 12 else "…"


def smtp_settings() -> SmtpSettings | None:
    """The configured mail server, or None when SMTP_HOST is not set; ValueError for a wrong security or port."""
    host = setting("SMTP_HOST")
    if not host:
        return None
    security = (setting("SMTP_SECURITY", "starttls") or "starttls").lower()
    if security not in SMTP_SECURITY:
        raise ValueError(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}")
    port = int(setting("SMTP_PORT") or DEFAULT_SMTP_PORTS[security])
    user = setting("SMTP_USER")
    return SmtpSettings(host=host, port=port, security=security, user=user, password=setting("SMTP_PASSWORD"),
                        sender=setting("SMTP_SENDER") or user or f"cockpit@{host}")


def robots() -> dict[str, Robot]:
    """The configured chat robots by name: CHAT_ROBOTS, a table of the secrets file or JSON in the environment,
    {name: {kind, url, secret}}; ValueError for an unknown kind or a missing URL."""
    raw = setting("CHAT_ROBOTS")
    table = json.loads(raw) if isinstance(raw, str) else (raw or {})
    found = {}
    for name, entry in dict(table).items():
        if not isinstance(entry, Mapping) or entry.get("kind") not in ROBOT_KINDS or not entry.get("url"):
            raise ValueError(f"CHAT_ROBOTS.{name} needs a kind ({', '.join(ROBOT_KINDS)}) and a url")
        found[str(name)] = Robot(name=str(name), kind=str(entry["kind"]), url=str(entry["url"]),
                                 secret=str(entry["secret"]) if entry.get("secret") else None)
    return found


def email(message: Message, sender: str, recipient: str) -> EmailMessage:
    """The e-mail of a message: plain text, HTML with its images inline (cid:), and its attachments."""
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = message.subject, sender, recipient
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
        html_part = mail.get_payload()[-1]
        for content_id, png in message.images.items():
            html_part.add_related(base64.b64decode(png), "image", "png", cid=f"<{content_id}>")
    for attachment in message.attachments:
        main, _, sub = attachment.mime_type.partition("/")
        mail.add_attachment(attachment.content, maintype=main, subtype=sub, filename=attachment.filename)
    return mail


def send_email(settings: SmtpSettings, message: Message, recipient: str) -> None:
    """Send a message to one address; DeliveryError (without the password) when the server refuses or cannot be reached."""
    try:
        if settings.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=NETWORK_TIMEOUT_SECONDS,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=NETWORK_TIMEOUT_SECONDS)
        with server:
            if settings.security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if settings.user:
                server.login(settings.user, settings.password or "")
            server.send_message(email(message, settings.sender, recipient))
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(_reason(error, settings.password)) from None


def robot_text(robot: Robot, message: Message) -> str:
    """The message as the robot's plain text, cut to what its kind accepts (on a character boundary)."""
    text = message.text
    limit = ROBOT_TEXT_BYTES[robot.kind]
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit - len("…".encode())].decode("utf-8", errors="ignore") + "…"


def robot_request(robot: Robot, message: Message, moment: float | None = None) -> tuple[str, dict]:
    """The URL and JSON body a robot's webhook takes: a plain-text message (user text is never markup), signed where the
    robot has a secret (DingTalk: in the URL, milliseconds; Feishu: in the body, seconds)."""
    text = robot_text(robot, message)
    stamp = time.time() if moment is None else moment
    if robot.kind == "feishu":
        body: dict = {"msg_type": "text", "content": {"text": text}}
        if robot.secret:
            seconds = str(int(stamp))
            body |= {"timestamp": seconds, "sign": _signature(f"{seconds}\n{robot.secret}", b"")}
        return robot.url, body
    body = {"msgtype": "text", "text": {"content": text}}
    if robot.kind == "dingtalk" and robot.secret:
        millis = str(int(stamp * 1000))
        sign = _signature(robot.secret, f"{millis}\n{robot.secret}".encode())
        separator = "&" if urllib.parse.urlsplit(robot.url).query else "?"
        return f"{robot.url}{separator}{urllib.parse.urlencode({'timestamp': millis, 'sign': sign})}", body
    return robot.url, body


def _signature(key: str, data: bytes) -> str:
    """Base64 of an HMAC-SHA256 (the signing of DingTalk's and Feishu's robots)."""
    return base64.b64encode(hmac.new(key.encode(), data, hashlib.sha256).digest()).decode()


def post_to_robot(robot: Robot, message: Message) -> None:
    """Post a message to a robot; DeliveryError (naming neither URL nor secret) unless the robot answers that it took it."""
    url, body = robot_request(robot, message)
    request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DeliveryError(_reason(error, robot.url, robot.secret)) from None
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
    if code != 0:
        raise DeliveryError(f"{robot.kind} refused: {code} {str(answer.get('errmsg') or answer.get('msg') or '')[:100]}")


def _reason(error: BaseException, *secrets: str | None) -> str:
    """A failure's reason for the record: its kind and text, every secret cut out, shortened."""
    text = f"{type(error).__name__}: {getattr(error, 'reason', None) or error}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:ERROR_LENGTH]
