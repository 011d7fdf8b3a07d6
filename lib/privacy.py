"""Personal data under PIPL: phone numbers and names are stored only as a keyed hash (to match a person again) and a
masked form (to show); full values never reach the database, the audit log or an export."""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # a mainland mobile number inside any text
COUNTRY_PREFIXES = ("0086", "86")  # written before a mainland number by some forms and CRMs
PHONE_MASK = "****"  # what stands for the middle four digits
HASH_HEX_LENGTH = 64  # HMAC-SHA256 in hex, the width of the *_hash columns


def normalise_phone(text: str) -> str | None:
    """The 11 digits of a mainland mobile number written with spaces, dashes, brackets or +86; None if it is none."""
    written = unicodedata.normalize("NFKC", text or "").strip()
    if written.startswith("+") and not re.sub(r"\D", "", written).startswith("86"):
        return None  # another country's number
    digits = re.sub(r"\D", "", written)
    for prefix in COUNTRY_PREFIXES:
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix):]
    return digits if MOBILE.fullmatch(digits) else None


def keyed_hasher(kind: str, key: str) -> Callable[[str], str]:
    """HMAC-SHA256 (hex) of kind-tagged values: the same person matches again, but no table of all numbers reverses it."""
    base = hmac.new(key.encode(), f"{kind}:".encode(), hashlib.sha256)

    def digest(value: str) -> str:
        """The hash of one value."""
        one = base.copy()
        one.update(value.encode())
        return one.hexdigest()
    return digest


def keyed_hash(kind: str, value: str, key: str) -> str:
    """The keyed hash of one kind-tagged value."""
    return keyed_hasher(kind, key)(value)


def phone_hash(phone: str, key: str) -> str:
    """The stored hash of a mobile number, however it was written."""
    normalised = normalise_phone(phone)
    if normalised is None:
        raise ValueError("not a mainland mobile number")
    return keyed_hash("phone", normalised, key)


def name_hash(name: str, key: str) -> str:
    """The stored hash of a name (Unicode-normalised, inner spaces removed)."""
    return keyed_hash("name", normalise_name(name), key)


def normalise_name(name: str) -> str:
    """A name as hashed: Unicode-normalised (full-width letters folded), all white space removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def mask_phone(phone: str) -> str:
    """138****5678: the network prefix and the last four digits."""
    normalised = normalise_phone(phone)
    if normalised is None:
        raise ValueError("not a mainland mobile number")
    return normalised[:3] + PHONE_MASK + normalised[-4:]


def mask_name(name: str) -> str:
    """张*: the family name's first character only."""
    stripped = name.strip()
    return stripped[:1] + "*" if stripped else ""


def lookup_hash(text: str) -> str | None:
    """The stored hash of a mobile number typed into a search (the configured key), or None when the text is no number."""
    from lib.config import pii_hash_key

    return None if normalise_phone(text) is None else phone_hash(text, pii_hash_key())


def redact(text: str) -> str:
    """The text with every mainland mobile number in it masked."""
    return MOBILE.sub(lambda found: mask_phone(found.group()), text)
