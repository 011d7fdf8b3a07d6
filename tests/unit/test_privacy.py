"""Personal data: numbers normalised and masked, keyed hashes for matching, nothing full in the audit log, members found by
phone number within the user's scope only."""
import datetime as dt
import hashlib
import json
import logging
import os

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from lib import privacy
from lib.models import AuditLog, Member
from lib.queries import members
from lib.services import audit, sessions, users
from tests.campaign_helpers import scope_of
from tests.conftest import HOSTILE_EXAMPLES
from tests.hostile import TRIED
from tests.reference import raw, region_id

KEY = os.environ["PII_HASH_KEY"]  # the test run's key (tests/conftest.py), which the seed used too


@pytest.mark.parametrize("written", ["13812345678", "+86 138-1234-5678", "0086 138 1234 5678", "（138）1234 5678",
                                     "１３８１２３４５６７８", " 86-13812345678 "])
def test_a_number_however_written_is_one_number_with_one_hash(written):
    assert privacy.normalise_phone(written) == "13812345678"
    assert privacy.phone_hash(written, KEY) == privacy.phone_hash("13812345678", KEY)
    assert privacy.mask_phone(written) == "138****5678"


@pytest.mark.parametrize("text", ["", "12812345678", "1381234567", "138123456789", "abc", "+1 415 555 0100", "M00000001"])
def test_what_is_no_mainland_mobile_is_refused(text):
    assert privacy.normalise_phone(text) is None and privacy.lookup_hash(text) is None
    with pytest.raises(ValueError):
        privacy.phone_hash(text, KEY)


def test_hashes_are_keyed_hex_and_differ_by_kind():
    hashed = privacy.phone_hash("13812345678", KEY)
    assert len(hashed) == privacy.HASH_HEX_LENGTH and int(hashed, 16) >= 0
    assert hashed != hashlib.sha256(b"13812345678").hexdigest(), "not reversible by hashing every number without the key"
    assert hashed != privacy.phone_hash("13812345678", KEY + "x")
    assert privacy.name_hash("张 伟", KEY) == privacy.name_hash("张伟", KEY) != privacy.keyed_hash("phone", "张伟", KEY)
    assert privacy.name_hash("Ｌｉ Ｌｅｉ", KEY) == privacy.name_hash("LiLei", KEY)


def test_names_are_masked_to_the_first_character():
    assert [privacy.mask_name(name) for name in ("张伟", " 欧阳娜娜 ", "Li Lei", "")] == ["张*", "欧*", "L*", ""]


def test_numbers_inside_text_are_masked_and_other_digits_kept():
    text = "请回电 13812345678 或 +86 13900001111；订单 2026120112345678，金额 138123"
    assert privacy.redact(text) == "请回电 138****5678 或 +86 139****1111；订单 2026120112345678，金额 138123"


def test_a_phone_number_typed_as_a_username_is_masked_in_the_audit_log(engine):
    with engine.begin() as conn:
        users.sign_in_failed(conn, "13987654321", sessions.Client())
    with engine.connect() as conn:
        last = conn.execute(select(AuditLog.username, AuditLog.detail).order_by(AuditLog.id.desc()).limit(1)).one()
    assert last.username == "139****4321"
    assert not raw(engine, "audit_log").astype(str).apply(lambda column: column.str.contains(privacy.MOBILE)).any().any()


def test_a_member_is_found_by_phone_number_in_scope_only(engine):
    east_members = raw(engine, "member").query(f"region_id == {region_id(engine, 'east')}")
    member_id = int(east_members.iloc[0]["id"])
    with engine.connect() as conn, conn.begin() as transaction:  # the known number is given to one member, then rolled back
        conn.execute(update(Member).where(Member.id == member_id).values(phone_hash=privacy.phone_hash("13700001234", KEY)))
        typed = privacy.lookup_hash("+86 137 0000 1234")
        found = {name: members.find_member(conn, scope_of(engine, name), phone_hash=typed) for name in ("admin", "east", "southwest")}
        by_number = members.find_member(conn, scope_of(engine, "east"), east_members.iloc[0]["member_no"])
        transaction.rollback()
    assert found["admin"]["id"] == found["east"]["id"] == by_number["id"] == member_id
    assert found["southwest"] is None
    assert "phone_hash" not in found["admin"] and found["admin"]["phone_masked"].count("*") == 4


def test_a_failed_query_never_shows_what_was_typed(engine):
    with pytest.raises(DBAPIError) as failed, engine.connect() as conn:
        conn.execute(text("SELECT id FROM no_such_table WHERE phone = :phone"), {"phone": "13812345678"})
    assert "13812345678" not in str(failed.value) and "no_such_table" in str(failed.value)


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")  # digits as Chinese input methods type them
PREFIXES = ["", "+86 ", "+86-", "86 ", "86", "0086 ", "0086-", "(+86) ", "（+86）", "+86\u3000", "0086"]  # before the number
SEPARATORS = [" ", "-", ".", "/", " - ", "\u3000", "－", "．", "\u00a0", "·", "\t", "\n", "–"]  # between its groups of digits
GROUPINGS = [(11,), (3, 4, 4), (3, 8), (4, 4, 3), (3, 3, 5), (1,) * 11, (2, 4, 5)]  # how its digits are grouped
BOUNDARIES = [" ", "，", "：", ":", "号", "a", "\n", "(", "「", "/"]  # what stands right beside it (a digit would make it an id)
NUMBERS = st.builds(lambda second, rest: "1" + second + rest, st.sampled_from("3456789"),
                    st.text(alphabet="0123456789", min_size=9, max_size=9))  # a mainland mobile number
SURROUNDINGS = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=24)


@st.composite
def written_numbers(draw: st.DrawFn) -> tuple[str, str, str, list[int]]:
    """(number, how it is written, a text with it inside, the positions of its middle four digits in that text)."""
    number, prefix, separator = draw(NUMBERS), draw(st.sampled_from(PREFIXES)), draw(st.sampled_from(SEPARATORS))
    grouping, bracketed, full_width = draw(st.sampled_from(GROUPINGS)), draw(st.booleans()), draw(st.booleans())
    groups, start = [], 0
    for size in grouping:
        groups.append(number[start:start + size])
        start += size
    if bracketed and len(groups) > 1:
        groups[0] = f"({groups[0]})"
    form = prefix + separator.join(groups)
    if full_width:
        form = form.translate(FULL_WIDTH)
    before, after = draw(SURROUNDINGS) + draw(st.sampled_from(BOUNDARIES)), draw(st.sampled_from(BOUNDARIES)) + draw(SURROUNDINGS)
    digit_places = [len(before) + index for index, character in enumerate(form) if character.isdecimal()]
    return number, form, before + form + after, digit_places[-11:][3:7]  # the number's digits are the form's last eleven


def gives_the_number_back(text: str, number: str) -> bool:
    """Whether any part of the text is taken by the member lookup as that number."""
    return any(privacy.normalise_phone(text[start:end]) == number
               for start in range(len(text)) for end in range(start + 11, min(len(text), start + 60) + 1))


def coincidence_aside(typed: str, number: str, middle: list[int]) -> None:
    """Skip a text whose other digits spell the number again once its middle four are masked ("130****0000 0000"): nothing
    of the number is left there, the surroundings say it by chance."""
    assume(not gives_the_number_back("".join("*" if place in middle else character for place, character in enumerate(typed)), number))


def assert_masked(redacted: str, number: str, middle: list[int]) -> None:
    """Not a way back to the number, and its middle four digits gone from where they were."""
    assert not gives_the_number_back(redacted, number), redacted
    assert all(redacted[place] == "*" for place in middle if place < len(redacted)), redacted


@settings(max_examples=max(HOSTILE_EXAMPLES * 4, 200))
@given(written=written_numbers())
def test_every_written_form_of_a_number_inside_any_text_is_masked(written):
    number, form, typed, middle = written
    assert privacy.normalise_phone(form) == number, "a form the member lookup takes"
    coincidence_aside(typed, number, middle)
    redacted = privacy.redact(typed)
    assert len(redacted) == len(typed), "masked in place: the rest of the text stays as typed"
    assert_masked(redacted, number, middle)


@given(written=written_numbers())
def test_every_written_form_is_stored_masked_in_the_audit_log(engine, written):
    TRIED["audit log phone forms"] += 1
    number, _, typed, middle = written
    coincidence_aside(typed, number, middle)
    with engine.connect() as conn, conn.begin() as transaction:  # the audit log keeps every row: this one is rolled back
        audit.record(conn, "login_failed", username=typed, detail={"typed": typed, "list": [typed], typed: 1,
                                                                     "amount": int(number), "float": float(number)})
        row = conn.execute(select(AuditLog.username, AuditLog.detail).order_by(AuditLog.id.desc()).limit(1)).one()
        transaction.rollback()
    assert_masked(row.username, number, middle)
    stored = json.loads(row.detail)
    assert_masked(stored["typed"], number, middle)
    assert_masked(stored["list"][0], number, middle)
    [key] = [key for key in stored if key not in ("typed", "list", "amount", "float")]
    assert_masked(key, number, middle)
    assert stored["amount"] == stored["float"] == privacy.mask_phone(number), "a number field holding a phone number"


def test_ids_amounts_and_dates_stay_as_they_are():
    kept = "订单 2026120112345678 · 2026-12-01 13:45 · ¥1,380,000.00 · v1.2 · 86 · 138123 · 13812345678901"
    assert privacy.redact(kept) == kept
    assert privacy.redact_values({"budget": 138123456.78, "leads": 1200, "on": dt.date(2026, 12, 1)}) == {
        "budget": 138123456.78, "leads": 1200, "on": "2026-12-01"}


def test_what_the_app_logs_has_every_number_masked(caplog):
    original = logging.getLogRecordFactory()
    privacy.redact_logs()
    privacy.redact_logs()  # a second start of the page installs nothing twice
    try:
        logger = logging.getLogger("lib.ui")
        with caplog.at_level(logging.INFO):
            logger.warning("sign-in failed for %s", "+86 138-1234-5678")
            logger.info("search: %(text)s", {"text": "１３８ １２３４ ５６７８"})
            try:
                raise ValueError("bad value 13812345678")
            except ValueError:
                logger.exception("a page failed")
    finally:
        logging.setLogRecordFactory(original)
    assert "1234" not in caplog.text and "１２３４" not in caplog.text and not gives_the_number_back(caplog.text, "13812345678")
    assert "sign-in failed for +86 138-****-5678" in caplog.text and "ValueError: bad value 138****5678" in caplog.text
