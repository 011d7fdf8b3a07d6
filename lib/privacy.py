"""Personal data under PIPL: phone numbers and names are stored only as a keyed hash (to match a person again) and a
masked form (to show); full values never reach the database, the audit log, the app's log or an export."""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # a mainland mobile number inside any text
COUNTRY_PREFIXES = ("0086", "86")  # written before a mainland number by some forms and CRMs
PHONE_MASK = "****"  # what stands for the middle four digits
MASK_CHARACTER = "*"  # what redact() writes over each of a number's middle four digits, in place
MASKED_DIGITS = slice(3, 7)  # the middle four of a number's eleven digits: what identifies the person
JOINER = re.compile(r"[\s\-‐‑‒–—―−.·()\[\]/+]")  # may stand between the digits of a written number (after NFKC: full-width too)
MAX_JOINERS = 4  # joiners in a row that still join two groups of digits ("138 - 1234", "(138) - 1234")
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


def _digit(character: str) -> str | None:
    """The ASCII digit a character stands for once Unicode-normalised (full-width, circled, other scripts), or None."""
    folded = unicodedata.normalize("NFKC", character)
    value = unicodedata.decimal(folded, None) if len(folded) == 1 else None
    return None if value is None else str(value)


def _digit_groups(text: str) -> Iterator[list[list[tuple[int, str]]]]:
    """Runs of digit groups joined by at most MAX_JOINERS joiners, each group a list of (position in text, digit)."""
    chain: list[list[tuple[int, str]]] = []
    joiners = 0
    for position, character in enumerate(text):
        digit = _digit(character)
        if digit is not None:
            if joiners or not chain:
                chain.append([])
            chain[-1].append((position, digit))
            joiners = 0
        elif chain and joiners < MAX_JOINERS and JOINER.fullmatch(unicodedata.normalize("NFKC", character)):
            joiners += 1
        else:
            if chain:
                yield chain
            chain, joiners = [], 0
    if chain:
        yield chain


def _number_positions(digits: list[tuple[int, str]]) -> list[int] | None:
    """Where the eleven digits of a mainland mobile number are, when these digits are one (after a 86/0086 prefix)."""
    written = "".join(digit for _, digit in digits)
    for prefix in ("", *COUNTRY_PREFIXES):
        if len(written) == 11 + len(prefix) and written.startswith(prefix) and MOBILE.fullmatch(written[len(prefix):]):
            return [position for position, _ in digits[len(prefix):]]
    return None


def phone_digit_positions(text: str) -> set[int]:
    """Positions of the middle four digits of every mainland mobile number written in the text: whole groups of digits
    joined by spaces, dashes, dots, slashes, brackets or plus signs (full-width too), after an optional 86/0086. A number
    glued to more digits (an id, an amount) is none: the member lookup would not take it either."""
    masked: set[int] = set()
    for chain in _digit_groups(text):
        for first in range(len(chain)):
            digits: list[tuple[int, str]] = []
            for group in chain[first:]:
                digits += group
                if len(digits) > 11 + len(COUNTRY_PREFIXES[0]):
                    break
                positions = _number_positions(digits)
                if positions is not None:
                    masked.update(positions[MASKED_DIGITS])
    return masked


def redact(text: str) -> str:
    """The text with the middle four digits of every mainland mobile number written in it masked in place
    ("+86 138-1234-5678" → "+86 138-****-5678"), however it is written (see phone_digit_positions)."""
    masked = phone_digit_positions(text)
    return "".join(MASK_CHARACTER if position in masked else character for position, character in enumerate(text)) if masked else text


def redact_values(value: Any) -> Any:
    """A JSON-like value with every text in it (keys too) redacted before encoding, which could split a number ("\\n");
    a number that is itself a mobile number (typed into a number field) masked as text, other numbers (amounts) kept;
    anything else (dates) as redacted text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        whole = isinstance(value, int) or (math.isfinite(value) and value == int(value))  # an int of any size, never a float
        return redact(str(int(value))) if whole and normalise_phone(str(int(value))) else value
    if isinstance(value, dict):
        return {redact_values(key): redact_values(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_values(item) for item in value]
    return redact(str(value))


def _redacting_factory(make_record: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A log record factory that masks mobile numbers in the message, its arguments and any traceback."""
    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        """The record as made, its text redacted (formatted once here: a bad format string is left to the handler)."""
        record = make_record(*args, **kwargs)
        try:
            record.msg, record.args = redact(record.getMessage()), None
        except (TypeError, ValueError, KeyError):
            return record
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record
    redacted_record.redacts_phones = True  # type: ignore[attr-defined]
    return redacted_record


def redact_logs() -> None:
    """Mask mobile numbers in every log record of this process, whatever logger writes it (installed once)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts_phones", False):
        logging.setLogRecordFactory(_redacting_factory(current))
