"""Personal data: numbers normalised and masked, keyed hashes for matching, nothing full in the audit log, members found by
phone number within the user's scope only."""
import hashlib
import os

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from lib import privacy
from lib.models import AuditLog, Member
from lib.queries import members
from lib.services import sessions, users
from tests.campaign_helpers import scope_of
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
