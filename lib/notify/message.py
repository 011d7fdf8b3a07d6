"""A message as one destination-neutral value: plain lines for chat robots and the text part, HTML for e-mail, inline
images and attachments; stored as JSON with its delivery so that it can be sent again exactly."""
from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail (chat robots get the link instead)."""

    filename: str
    mime_type: str  # e.g. application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
    content_b64: str

    @property
    def content(self) -> bytes:
        """The file's bytes."""
        return base64.b64decode(self.content_b64)


@dataclass(frozen=True)
class Message:
    """Subject, plain lines (user text in them is data: robots get it as plain text), the e-mail's HTML (escaped when built),
    its inline PNG images by content id and its attachments."""

    subject: str
    lines: tuple[str, ...]
    html: str | None = None
    images: dict[str, str] = field(default_factory=dict)  # content id -> PNG, base64
    attachments: tuple[Attachment, ...] = ()

    @property
    def text(self) -> str:
        """The plain-text body: the subject, then the lines."""
        return "\n".join((self.subject, "", *self.lines))

    def to_json(self) -> str:
        """The message as stored with its delivery."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str) -> Message:
        """The message a delivery stored."""
        data = json.loads(payload)
        return cls(subject=data["subject"], lines=tuple(data["lines"]), html=data.get("html"), images=data.get("images") or {},
                   attachments=tuple(Attachment(**item) for item in data.get("attachments") or ()))
