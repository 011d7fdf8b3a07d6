"""Hostile input against every validator, write service and filter: SQL metacharacters, very long and invisible text, emoji
and mixed scripts, markup, formulas, NaN/huge/negative numbers, impossible dates, ids beyond every column, broken files.

Each write is either accepted (the text stored as typed, trimmed) or refused with its documented error carrying a message in
zh and en, having written nothing; each query gives an empty answer. Every example runs in a rolled-back transaction, so
the module leaves the database as it found it (the last test checks).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import math
import unicodedata
from dataclasses import replace
from functools import partial
from io import BytesIO, StringIO

import openpyxl
import pandas as pd
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select

from lib import rollups
from lib.ingest.kinds import KINDS
from lib.ingest.profile import ProfileError
from lib.ingest.profile import parse as parse_profile
from lib.ingest.pipeline import LoadRefusedError, load
from lib.models import AuditLog, Base, Campaign, ChannelDaily, Dealer, Lead, Member, MemberTier, PointsLedger, PointsRule, Region, Reward
from lib.periods import DaySpan
from lib.queries import calendar, channels, dealers, funnel, members, system
from lib.queries.calendar import CalendarFilter
from lib.queries.channels import ChannelFilter
from lib.queries.dealers import MapFilter
from lib.queries.funnel import FunnelFilter
from lib.queries.system import AuditFilter
from lib.services import campaigns, catalogue, geography, points, targets, users
from lib.services.catalogue import RewardInput, RuleInput, TierInput
from lib.services.errors import InputInvalidError, RefusedError
from lib.services.geography import DealerInput
from lib.services.targets import TargetsRefusedError
from lib.services.users import UserError
from tests.campaign_helpers import PLAN_YEAR, scope_of, valid_plan
from tests.conftest import TODAY
from tests.hostile_files import csv_file, kind_workbook
from tests.hostile import (
    CONTROL,
    LONG,
    TRIED,
    assert_message,
    date_texts,
    dates,
    ingest_attempt,
    numbers,
    rolled_back,
    table_counts,
    texts,
)

DOCUMENTED = (InputInvalidError, RefusedError, UserError, TargetsRefusedError, LoadRefusedError)  # the services' refusals
REFUSED = object()  # what attempt() returns for a refused write
EARLIEST = dt.date(2000, 1, 1)  # the audit filters' first day
ALLOWED_CONTROLS = "\t\n\r"  # the only control characters a text may keep
ABSENT_IDS = st.one_of(st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**63, 10**20, -(10**20)]),
                       st.integers(min_value=10**7, max_value=10**25), st.integers(max_value=-1))  # ids no row has
TEMPLATE_HEADER = [field.zh[0] for field in KINDS["channel-facts"].fields]  # a full Chinese header


@pytest.fixture(scope="module")
def counts_at_start(engine) -> dict[str, int]:
    """Every table's rows and the data version before the first hostile input."""
    with engine.connect() as conn:
        return table_counts(conn)


@pytest.fixture(scope="module")
def manager(engine, counts_at_start):
    """The campaign manager's scope."""
    return scope_of(engine, "manager")


@pytest.fixture(scope="module")
def admin(engine, counts_at_start):
    """The admin's scope."""
    return scope_of(engine, "admin")


def visible_text(text: str) -> bool:
    """Independently of the services: no control character (but tab and line breaks) and no lone surrogate."""
    return not any((unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS) or unicodedata.category(char) == "Cs"
                   for char in text)


def fits(text: str | None, low: int, high: int) -> bool:
    """A text that, trimmed, has between low and high characters and nothing invisible."""
    trimmed = (text or "").strip()
    return low <= len(trimmed) <= high and visible_text(trimmed)


def finite(value: object) -> bool:
    """A real, finite number (flags are not numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def refusal_messages(error: Exception) -> list[tuple[str, dict]]:
    """(key, params) of every message a refusal carries."""
    found = [(item.key, item.params) for item in getattr(error, "errors", None) or []]
    if hasattr(error, "key"):
        found.append((error.key, error.params))
    return found


def attempt(conn, write) -> object:
    """Run a write: its result, or REFUSED after checking the refusal's messages and that nothing was written."""
    before = table_counts(conn)
    try:
        return write()
    except DOCUMENTED as refused:
        assert refusal_messages(refused), refused
        for key, params in refusal_messages(refused):
            assert_message(key, params)
        assert table_counts(conn) == before
        return REFUSED


# --- campaign plans -----------------------------------------------------------------------------------------------

@given(name=texts(), hashtag=texts(), notes=texts())
def test_plan_texts_are_stored_as_typed_or_refused(engine, manager, name, hashtag, notes):
    TRIED["plan texts"] += 1
    plan = valid_plan(engine, name=name, hashtag=hashtag, notes=notes)
    with rolled_back(engine) as conn:
        result = attempt(conn, lambda: campaigns.create_campaign(conn, manager, plan))
        expected = fits(name, 2, 128) and (not hashtag.strip() or fits(hashtag, 1, 64)) and (not notes.strip() or fits(notes, 1, 2000))
        assert (result is not REFUSED) == expected
        if result is not REFUSED:
            row = conn.execute(select(Campaign.name, Campaign.hashtag, Campaign.notes).where(Campaign.id == result[0])).one()
            assert tuple(row) == (name.strip(), hashtag.strip() or None, notes.strip() or None)


@given(budget=numbers(), line=numbers(), leads=numbers())
def test_plan_numbers_are_stored_or_refused(engine, manager, budget, line, leads):
    TRIED["plan numbers"] += 1
    plan = valid_plan(engine, budget_total=budget, budget_lines={1: line}, kpi_targets={"leads": leads})
    with rolled_back(engine) as conn:
        result = attempt(conn, lambda: campaigns.create_campaign(conn, manager, plan))
        expected = (finite(budget) and 0 <= budget <= campaigns.MAX_BUDGET and finite(line) and 0 <= line <= budget + 0.005
                    and finite(leads) and 0 < leads <= campaigns.MAX_TARGET)
        assert (result is not REFUSED) == expected
        if result is not REFUSED:
            detail = calendar.campaign_detail(conn, manager, result[0])
            assert detail["budget_total"] == pytest.approx(round(budget, 2)) and detail["budget_lines"][1] == pytest.approx(round(line, 2))
            assert detail["kpi_targets"]["leads"] == pytest.approx(leads)


@given(start=dates(), end=dates())
def test_plan_dates_are_stored_or_refused(engine, manager, start, end):
    TRIED["plan dates"] += 1
    plan = valid_plan(engine, start_date=start, end_date=end, phases={})
    with rolled_back(engine) as conn:
        result = attempt(conn, lambda: campaigns.create_campaign(conn, manager, plan))
        in_range = all(campaigns.EARLIEST_YEAR <= day.year <= campaigns.LATEST_YEAR for day in (start, end))
        assert (result is not REFUSED) == (in_range and start <= end and (end - start).days < campaigns.MAX_DAYS)
        if result is not REFUSED:
            assert conn.execute(select(Campaign.start_date, Campaign.end_date).where(Campaign.id == result[0])).one() == (start, end)


@given(model=ABSENT_IDS, region=ABSENT_IDS, owner=ABSENT_IDS, channel=ABSENT_IDS)
def test_plans_naming_rows_that_do_not_exist_are_refused(engine, manager, model, region, owner, channel):
    TRIED["plan ids"] += 1
    with rolled_back(engine) as conn:
        for changes in ({"model_id": model}, {"region_id": region}, {"owner_id": owner}, {"budget_lines": {channel: 1.0}}):
            plan = valid_plan(engine, **changes)
            assert attempt(conn, partial(campaigns.create_campaign, conn, manager, plan)) is REFUSED


@given(reason=texts(), action=st.one_of(st.sampled_from(["cancel", "submit"]), texts()))
def test_workflow_reasons_are_kept_as_typed_or_refused(engine, manager, reason, action):
    TRIED["workflow reasons"] += 1
    with rolled_back(engine) as conn:
        campaign_id, _ = campaigns.create_campaign(conn, manager, valid_plan(engine))
        result = attempt(conn, lambda: campaigns.transition(conn, manager, campaign_id, 1, action, comment=reason))
        if action == "cancel":
            assert (result is not REFUSED) == fits(reason, 1, campaigns.TEXT_MAX)
        if result is not REFUSED and action == "cancel":
            comment = calendar.status_history(conn, manager, campaign_id)["comment"].iloc[-1]
            assert comment == reason.strip()
        if action not in campaigns.TRANSITIONS:
            assert result is REFUSED


# --- the points programme -----------------------------------------------------------------------------------------

@given(name_zh=texts(), name_en=texts(), amount=numbers(), cap=st.one_of(st.none(), numbers()), per=st.one_of(st.just("action"), texts()))
def test_earn_rules_are_stored_as_typed_or_refused(engine, admin, name_zh, name_en, amount, cap, per):
    TRIED["earn rules"] += 1
    rule = RuleInput(name_zh, name_en, amount, per, cap, True)
    with rolled_back(engine) as conn:
        stored = conn.execute(select(PointsRule.id, PointsRule.version).order_by(PointsRule.id)).first()
        result = attempt(conn, lambda: catalogue.save_rule(conn, admin, stored.id, stored.version, rule))
        whole = finite(amount) and amount == int(amount) and 1 <= amount <= catalogue.POINTS_MAX
        capped = cap is None or (finite(cap) and cap == int(cap) and 1 <= cap <= catalogue.POINTS_MAX * 100 and (not whole or cap >= amount))
        expected = fits(name_zh, 1, catalogue.NAME_MAX) and fits(name_en, 1, catalogue.LONG_NAME_MAX) and whole and capped \
            and per in catalogue.RULE_PER
        assert (result is not REFUSED) == expected
        if result is not REFUSED:
            row = conn.execute(select(PointsRule.name_zh, PointsRule.name_en, PointsRule.points).where(PointsRule.id == stored.id)).one()
            assert tuple(row) == (name_zh.strip(), name_en.strip(), int(amount))


@given(name=texts(), category=texts(), cost=numbers(), cash=numbers())
def test_rewards_are_stored_as_typed_or_refused(engine, admin, name, category, cost, cash):
    TRIED["rewards"] += 1
    reward = RewardInput(name, "Reward", category, cost, cash, True)
    with rolled_back(engine) as conn:
        stored = conn.execute(select(Reward.id, Reward.version).order_by(Reward.id)).first()
        result = attempt(conn, lambda: catalogue.save_reward(conn, admin, stored.id, stored.version, reward))
        expected = fits(name, 1, catalogue.LONG_NAME_MAX) and fits(category, 1, catalogue.NAME_MAX) and finite(cost) \
            and cost == int(cost) and 1 <= cost <= catalogue.POINTS_MAX and finite(cash) and 0 <= cash <= catalogue.CASH_MAX
        assert (result is not REFUSED) == expected
        if result is not REFUSED:
            assert conn.execute(select(Reward.name_zh, Reward.category).where(Reward.id == stored.id)).one() == (name.strip(), category.strip())


@given(name=texts(), benefits=texts(), threshold=numbers())
def test_tier_tables_are_stored_as_typed_or_refused(engine, admin, name, benefits, threshold):
    TRIED["tiers"] += 1
    with rolled_back(engine) as conn:
        current = [TierInput(row.id, row.name_zh, row.name_en, row.min_growth, row.benefits_zh or "", row.benefits_en or "")
                   for row in conn.execute(select(MemberTier).order_by(MemberTier.min_growth))]
        edited = [*current[:-1], replace(current[-1], name_zh=name, benefits_zh=benefits, min_growth=threshold)]
        result = attempt(conn, lambda: catalogue.save_tiers(conn, admin, current, edited))
        others = {tier.min_growth for tier in current[:-1]}  # the threshold may move the tier anywhere but onto another's
        above = finite(threshold) and threshold == int(threshold) and 0 < threshold <= catalogue.POINTS_MAX * 100 and threshold not in others
        expected = fits(name, 1, catalogue.NAME_MAX) and (not benefits.strip() or fits(benefits, 1, catalogue.BENEFITS_MAX)) and above
        assert (result is not REFUSED) == expected
        if result is not REFUSED:
            row = conn.execute(select(MemberTier.name_zh, MemberTier.benefits_zh).where(MemberTier.id == current[-1].tier_id)).one()
            assert tuple(row) == (name.strip(), benefits.strip())


@given(amount=st.one_of(numbers(), texts()), reason=texts(), member=st.one_of(st.just(None), ABSENT_IDS))
def test_points_adjustments_are_recorded_as_typed_or_refused(engine, admin, amount, reason, member):
    TRIED["points adjustments"] += 1
    with rolled_back(engine) as conn:
        member_id = member or conn.execute(select(Member.id).where(Member.points_balance > 0).order_by(Member.id)).scalar()
        result = attempt(conn, lambda: points.adjust(conn, admin, member_id, amount, reason, TODAY))
        whole = isinstance(amount, int) and 0 < abs(amount) <= points.MAX_ADJUST
        if member is not None or not whole or not fits(reason, 1, points.REASON_MAX):
            assert result is REFUSED
        elif amount > 0:  # a deduction may be refused above the balance; an addition never
            assert result is not REFUSED
        if result is not REFUSED:
            detail = conn.execute(select(AuditLog.detail).where(AuditLog.action == "points_adjust").order_by(AuditLog.id.desc())).scalar()
            assert json.loads(detail)["reason"] == reason.strip()


# --- geography, targets -------------------------------------------------------------------------------------------

@given(grade=st.one_of(st.just("4s"), texts()), tier=st.one_of(st.just("tail"), texts()), lat=numbers(), lon=numbers(),
       dealer=st.one_of(st.just(None), ABSENT_IDS))
def test_dealer_edits_are_refused_unless_they_make_sense(engine, admin, grade, tier, lat, lon, dealer):
    TRIED["dealer edits"] += 1
    with rolled_back(engine) as conn:
        stored = conn.execute(select(Dealer.id, Dealer.version, Dealer.lat, Dealer.lon).order_by(Dealer.id)).first()
        result = attempt(conn, lambda: geography.update_dealer(conn, admin, dealer or stored.id, stored.version,
                                                               DealerInput(grade, True, tier, lat, lon)))
        if dealer is not None or not (finite(lat) and finite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            assert result is REFUSED
        if result is not REFUSED:
            assert conn.execute(select(Dealer.grade, Dealer.douyin_tier).where(Dealer.id == stored.id)).one() == (grade, tier)


@given(value=st.one_of(numbers(), texts()))
def test_channel_targets_are_saved_or_refused(engine, manager, value):
    TRIED["channel targets"] += 1
    month = dt.date(PLAN_YEAR, 7, 1)
    with rolled_back(engine) as conn:
        before = targets.month_table(conn, manager, month, None)
        edited = before.astype({"spend": object})
        edited.loc[0, "spend"] = value
        result = attempt(conn, lambda: targets.save(conn, manager, month, None, before, edited))
        emptied = isinstance(value, float) and math.isnan(value)  # an emptied cell: no target
        assert (result is not REFUSED) == (emptied or (finite(value) and 0 <= value <= targets.LIMITS["spend"]))
        if result is not REFUSED:
            stored = targets.month_table(conn, manager, month, None).at[0, "spend"]
            assert math.isnan(stored) if emptied else stored == pytest.approx(float(value))


# --- imports ------------------------------------------------------------------------------------------------------

def import_attempt(conn, scope, filename: str, data: bytes) -> object:
    """Load an upload (kind channel-facts): the batch id, or REFUSED for a refused file or one with row errors."""
    def run() -> int:
        report = load(conn, scope, "channel-facts", [(filename, data)])
        for problem in report.problems:
            assert_message(problem.key, problem.params)
        if report.status == "refused":
            raise LoadRefusedError("import_has_errors", count=report.problem_count)
        return report.batch_id
    return attempt(conn, run)


def csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    """A CSV file with the full template header, in an encoding (unencodable characters replaced)."""
    text = StringIO()
    csv.writer(text).writerows([TEMPLATE_HEADER, *rows])
    return text.getvalue().encode(encoding, errors="replace")


@given(cells=st.lists(texts(), min_size=1, max_size=len(TEMPLATE_HEADER)), day=date_texts(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]))
def test_hostile_csv_cells_are_refused_by_row(engine, manager, cells, day, encoding):
    TRIED["csv cells"] += 1
    row = [day, *cells][:len(TEMPLATE_HEADER)]
    with rolled_back(engine) as conn:
        result = import_attempt(conn, manager, "facts.csv", csv_bytes([row], encoding))
        if result is not REFUSED:  # only a row the rules accept lands
            assert conn.execute(select(func.count()).where(ChannelDaily.import_batch_id == result)).scalar() == 1


@given(data=st.binary(max_size=3000), filename=st.one_of(st.sampled_from(["x.csv", "x.xlsx", "x.xlsm", "x", "x.exe", ".csv"]), texts()))
def test_garbage_files_are_refused(engine, manager, data, filename):
    TRIED["garbage files"] += 1
    with rolled_back(engine) as conn:
        assert import_attempt(conn, manager, filename, data) is REFUSED


def workbook(rows: list[list[object]]) -> bytes:
    """An .xlsx file with the template header and rows."""
    book = openpyxl.Workbook()
    for row in [TEMPLATE_HEADER, *rows]:
        book.active.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@given(cut=st.integers(min_value=0, max_value=4000), flip=st.integers(min_value=0, max_value=4000), cells=st.lists(texts(), max_size=5))
def test_broken_and_hostile_workbooks_are_refused(engine, manager, cut, flip, cells):
    TRIED["workbooks"] += 1
    assume(all(visible_text(cell) for cell in cells))  # openpyxl cannot even write control characters
    whole = workbook([[f"{PLAN_YEAR}-01-01", *cells]])
    broken = bytearray(whole[:cut] if cut < len(whole) else whole)
    if flip < len(broken):
        broken[flip] ^= 0xFF
    with rolled_back(engine) as conn:
        for data in (bytes(broken), whole):
            assert import_attempt(conn, manager, "facts.xlsx", data) is REFUSED  # a day in the future, or broken


# --- ingestion: members and points ----------------------------------------------------------------------------------

GOOD_CELLS = {  # per kind, a row every rule accepts (in its fields' order); hostile cells replace some
    "members": ["HM0001", "138 0013 8000", "张三", (TODAY - dt.timedelta(days=30)).isoformat(), "陕西", "西安", "", "是"],
    "points": ["HT-0001", "M00000001", f"{TODAY.isoformat()} 00:00:01", "adjust", "10", "", "", ""],
}
LEDGER_ROLLUPS = ("points_daily", "points_open_lots", "member_active_edges", "member_tier_reached")  # what member and points loads keep


def kind_file(kind: str, row: list[str], as_workbook: bool) -> tuple[str, bytes]:
    """One row of a kind under its canonical header, as CSV or .xlsx."""
    if as_workbook:
        return f"{kind}.xlsx", kind_workbook(KINDS[kind], [row])
    return f"{kind}.csv", csv_file(list(KINDS[kind].field_names), [row])


ODD_CELLS = ["-5", "0", "redeem", "earn", "1e9", "2147483648", "M00000002", "630000", "dlr0001", "", " ", "否"]  # plausible
# cells in the wrong place


@given(kind=st.sampled_from(sorted(GOOD_CELLS)), hostile=st.dictionaries(st.integers(0, 7), st.one_of(texts(), st.sampled_from(ODD_CELLS)),
                                                                         min_size=1, max_size=3), as_workbook=st.booleans())
@example(kind="members", hostile={2: "Robert'); DROP TABLE campaign;--", 0: "hm-0001"}, as_workbook=False)
@example(kind="members", hostile={2: "<img src=x onerror=1>", 7: " 否 "}, as_workbook=True)
@example(kind="points", hostile={3: "redeem", 4: "-5", 6: "lucky_draw"}, as_workbook=False)
@example(kind="points", hostile={3: "调整", 4: "-1"}, as_workbook=True)
def test_hostile_member_and_points_rows_are_loaded_as_typed_or_refused(engine, admin, kind, hostile, as_workbook):
    TRIED["member and points rows"] += 1
    row = [hostile.get(index, good) for index, good in enumerate(GOOD_CELLS[kind])]
    with rolled_back(engine) as conn:
        result = ingest_attempt(conn, admin, kind, *kind_file(kind, row, as_workbook))
        if getattr(result, "status", None) != "loaded":
            return
        TRIED["member and points rows loaded"] += 1
        assert all(rollups.differences(conn, name) == 0 for name in LEDGER_ROLLUPS)
        number = (row[0] if kind == "members" else row[1]).strip().upper()
        member = conn.execute(select(Member.id, Member.points_balance, Member.phone_masked).where(Member.member_no == number)).one()
        assert member.points_balance == conn.execute(select(func.coalesce(func.sum(PointsLedger.points), 0)).where(
            PointsLedger.member_id == member.id)).scalar_one() >= 0
        assert member.phone_masked[3:7] == "****"


# --- leads and lead progress through the ingestion layer ------------------------------------------------------------

LEAD_DAY = TODAY - dt.timedelta(days=10)  # when the hostile suite's own lead was left
GOOD_LEAD = {"external_id": "H-1", "created_at": f"{LEAD_DAY} 10:00", "channel": "douyin", "campaign": "", "model": "HX-X5",
             "dealer_code": "", "province": "湖北", "city": "武汉", "area": "", "grade": "high", "phone": "13800138000",
             "name": "张三"}  # a lead row every rule accepts
GOOD_PROGRESS = {"external_id": "H-1", "channel": "抖音", "valid_at": f"{LEAD_DAY} 11:00", "visit_at": f"{LEAD_DAY + dt.timedelta(days=2)} 10:00",
                 "lost_reason": "", "first_response_minutes": "12"}  # progress of that lead every rule accepts


def hostile_row(good: dict[str, str]) -> st.SearchStrategy[list[str]]:
    """A row of the kind's cells, each the good value or a hostile text."""
    return st.tuples(*[st.one_of(st.just(value), texts(), date_texts()) for value in good.values()]).map(list)


@given(kind=st.sampled_from(["leads", "lead-progress"]), data=st.data(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]))
def test_hostile_lead_cells_are_refused_or_loaded(engine, manager, kind, data, encoding):
    TRIED["lead cells"] += 1
    good = GOOD_LEAD if kind == "leads" else GOOD_PROGRESS
    row = data.draw(hostile_row(good))
    with rolled_back(engine) as conn:
        if kind == "lead-progress":
            assert ingest_attempt(conn, manager, "leads", "lead.csv", csv_file(list(GOOD_LEAD), [list(GOOD_LEAD.values())])).status == "loaded"
        report = ingest_attempt(conn, manager, kind, "hostile.csv", csv_file(list(good), [row], encoding))
        if getattr(report, "status", None) == "loaded":  # one lead added (or its progress written), the rollups kept
            added = conn.execute(select(func.count()).select_from(Lead).where(Lead.import_batch_id == report.batch_id)).scalar()
            assert (added, report.applied.updated) == ((1, 0) if kind == "leads" else (0, 1))
            assert rollups.differences(conn, "lead_month_mix") == 0


@given(kind=st.sampled_from(["leads", "lead-progress"]), header=st.lists(st.one_of(texts(), st.sampled_from(list(GOOD_LEAD))),
                                                                         min_size=1, max_size=14))
def test_hostile_lead_headers_are_refused_or_loaded(engine, manager, kind, header):
    TRIED["lead headers"] += 1
    good = GOOD_LEAD if kind == "leads" else GOOD_PROGRESS
    with rolled_back(engine) as conn:
        ingest_attempt(conn, manager, kind, "headers.csv", csv_file(header, [[good.get(name, "x") for name in header]]))


# --- every kind's cells and headers, and mapping profiles ------------------------------------------------------------

MASTER_KINDS = ("channels", "models", "dealers", "points-rules", "rewards")  # kinds the sections above do not cover


@given(kind=st.sampled_from(MASTER_KINDS), data=st.data(), as_workbook=st.booleans())
def test_hostile_master_data_cells_are_refused_or_loaded(engine, admin, kind, data, as_workbook):
    TRIED["master data cells"] += 1
    fields = KINDS[kind].field_names
    row = data.draw(st.lists(st.one_of(texts(), date_texts(), st.sampled_from(ODD_CELLS)), min_size=len(fields), max_size=len(fields)))
    with rolled_back(engine) as conn:
        name, file = (f"{kind}.xlsx", kind_workbook(KINDS[kind], [row])) if as_workbook else (f"{kind}.csv", csv_file(list(fields), [row]))
        ingest_attempt(conn, admin, kind, name, file)


PROFILE_PIECES = ["[profile]", "[columns]", "[values.grade]", "[values]", "[[columns]]", 'kind = "leads"', 'kind = "channels"',
                  "kind = 3", 'encoding = "gbk"', 'encoding = "ebcdic"', 'created_at_format = "epoch_ms"', 'created_at_format = "%Q"',
                  'phone = "手机号"', 'external_id = ""', 'grade = ["a"]', '"高" = "high"', "x = 1e999", 'channel = "douyin"',
                  "a = {b = 1}", "\u0000", '"""', "=", "[profile.kind]"]  # fragments a profile may be made of, right and wrong


@given(lines=st.lists(st.one_of(st.sampled_from(PROFILE_PIECES), texts().map(lambda text: f'phone = "{text}"'), texts()), max_size=12),
       name=st.one_of(st.just("hostile-profile"), texts()))
def test_hostile_profiles_are_read_or_refused_with_a_message(lines, name):
    TRIED["mapping profiles"] += 1
    try:
        profile = parse_profile("\n".join(lines), name)
    except ProfileError as refused:
        assert_message(refused.key, refused.params)
        return
    assert profile.kind in KINDS and profile.name == name.strip()
    assert set(profile.columns) <= set(KINDS[profile.kind].field_names)


# --- users --------------------------------------------------------------------------------------------------------

@given(password=texts(), username=st.one_of(st.just("hostile.user"), texts()))
def test_password_rules_refuse_with_a_message(password, username):
    TRIED["passwords"] += 1
    try:
        users.check_password_rules(username, password)
    except UserError as refused:
        assert_message(refused.key, refused.params)
    else:
        assert len(password) >= users.MIN_PASSWORD_LENGTH and len(password.encode("utf-8", "surrogatepass")) <= 72
        assert users.password_fits(password)


@given(username=st.one_of(st.just("hostile.user"), texts()), display_name=texts(), email=st.one_of(st.none(), texts()),
       region=st.one_of(st.just("east"), texts()), role=st.one_of(st.sampled_from(["regional_staff", "executive"]), texts()))
def test_new_users_are_stored_as_typed_or_refused(engine, admin, monkeypatch, username, display_name, email, region, role):
    TRIED["new users"] += 1
    monkeypatch.setattr(users, "hash_password", lambda plain: "hash-of-a-strong-password")  # bcrypt is not what is tested
    with rolled_back(engine) as conn:
        result = attempt(conn, lambda: users.admin_create_user(conn, admin, username=username, display_name=display_name, role=role,
                                                               password="Kettle-Orbit-Lantern-42", region_code=region, email=email))
        expected = (users.USERNAME.match(username.strip().lower()) is not None and fits(display_name, 1, users.DISPLAY_NAME_MAX)
                    and (email is None or fits(email, 0, users.EMAIL_MAX)) and role in users.ROLES
                    and (role != "regional_staff" or region in set(conn.execute(select(Region.code)).scalars())))
        assert (result is not REFUSED) == expected
        if result is not REFUSED:
            stored = system.user_list(conn, admin).set_index("id").loc[result]
            shown_email = None if pd.isna(stored["email"]) else stored["email"]  # a column of no emails at all reads as NaN
            assert (stored["display_name"], shown_email) == (display_name.strip(), (email or "").strip() or None)


@pytest.mark.parametrize("current", [*LONG, *CONTROL[:6]])
def test_a_current_password_bcrypt_cannot_check_is_just_wrong(engine, current):
    TRIED["current passwords"] += 1
    with rolled_back(engine) as conn:
        with pytest.raises(UserError) as refused:
            users.change_password(conn, "east", current, "Kettle-Orbit-Lantern-42", "Kettle-Orbit-Lantern-42")
        assert refused.value.key == "password_wrong"


# --- queries: every filter argument -------------------------------------------------------------------------------

@given(text=texts())
def test_hostile_texts_find_nothing(engine, admin, text):
    TRIED["query texts"] += 1
    span = DaySpan(TODAY.replace(day=1), TODAY)
    with engine.connect() as conn:
        assert members.find_member(conn, admin, text) is None
        assert system.audit_entries(conn, admin, AuditFilter(EARLIEST, TODAY, actions=(text,))).empty or text in system.audit_actions(conn, admin)
        for narrowing in ("username", "entity", "entity_id", "text"):  # matched literally: no error, whatever the text
            assert system.audit_count(conn, admin, AuditFilter(EARLIEST, TODAY, **{narrowing: text})) >= 0
        assert calendar.campaigns(conn, admin, CalendarFilter(TODAY.year, types=(text,), statuses=(text,))).empty
        figures = dealers.map_figures(conn, admin, MapFilter(span.start, span.end, city_tiers=(text,), grades=(text,)))
        assert figures["dealers"].empty or figures["dealers"]["leads"].sum() == 0
        assert funnel.funnel(conn, admin, FunnelFilter(span.start, span.end, grades=(text,)), "cohort")["lead"].sum() == 0
        for chosen in {text, text.upper()} - {*funnel.MODES, *channels.GRAINS}:
            with pytest.raises(ValueError):
                funnel.funnel(conn, admin, FunnelFilter(span.start, span.end), chosen)  # not a mode: refused, never run
            with pytest.raises(ValueError):
                channels.trend(conn, admin, ChannelFilter(span.start, span.end), chosen)  # not a grain


@given(value=ABSENT_IDS)
def test_ids_no_row_has_find_nothing(engine, admin, value):
    TRIED["query ids"] += 1
    start, end = TODAY.replace(month=1, day=1), TODAY
    with engine.connect() as conn:
        assert calendar.campaign_detail(conn, admin, value) is None
        assert calendar.plan_vs_actual(conn, admin, value, TODAY).empty and calendar.budget_vs_spend(conn, admin, value, TODAY).empty
        assert calendar.status_history(conn, admin, value).empty and calendar.audit_trail(conn, admin, value).empty
        assert calendar.campaign_actuals(conn, admin, value, TODAY)["spend"] == 0
        assert calendar.campaigns(conn, admin, CalendarFilter(TODAY.year, model_ids=(value,), owner_ids=(value,))).empty
        assert calendar.campaigns(conn, admin, CalendarFilter(TODAY.year, reaches=(value,), channel_ids=(value,))).empty
        for narrowing in ({"region_ids": (value,)}, {"model_ids": (value,)}, {"campaign_ids": (value,)}):
            assert channels.sums_by_channel(conn, admin, ChannelFilter(start, end, **narrowing)) == {}
            assert channels.duplicate_rates(conn, admin, ChannelFilter(start, end, **narrowing)).empty
        for narrowing in ("channel_ids", "region_ids", "province_adcodes", "model_ids", "dealer_ids", "campaign_ids"):
            assert funnel.funnel(conn, admin, FunnelFilter(start, end, **{narrowing: (value,)}), "cohort")["lead"].sum() == 0
        for narrowing in ("region_ids", "province_adcodes", "model_ids"):
            assert dealers.lead_cells(conn, admin, MapFilter(start, end, **{narrowing: (value,)})).empty
        assert dealers.dealer_monthly(conn, admin, value, end)["leads"].sum() == 0
        assert dealers.response_times(conn, admin, MapFilter(start, end), value) == {}
        assert members.member_ledger(conn, admin, value).empty and members.member_expiring(conn, admin, value, TODAY).empty


@given(first=dates(), last=dates())
def test_hostile_periods_give_figures_or_nothing(engine, admin, first, last):
    TRIED["query periods"] += 1
    start, end = min(first, last), max(first, last)
    with engine.connect() as conn:
        assert funnel.funnel(conn, admin, FunnelFilter(start, end), "cohort")["lead"].sum() >= 0
        assert dealers.lead_cells(conn, admin, MapFilter(start, end))["leads"].sum() >= 0
        assert members.kind_totals(conn, admin, DaySpan(start, end)) is not None
        assert len(channels.scorecard(conn, admin, ChannelFilter(start, end))) > 0
        assert (channels.duplicate_rates(conn, admin, ChannelFilter(start, end))["duplicates"] >= 0).all()
        assert system.audit_count(conn, admin, AuditFilter(start, end)) >= 0


def test_the_database_is_as_it_was_and_every_table_is_there(engine, counts_at_start):
    with engine.connect() as conn:
        assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
        assert table_counts(conn) == counts_at_start
