"""Members and points loaded from the loyalty system's files (lib/ingest/kinds/members.py and points.py).

Every test runs in a rolled-back transaction on the session's seeded database, with the Northwest region emptied of its
seeded members and ledger first: the members page's figures for that region then come from this module's rows alone, and
are recomputed here from those rows (the points left in each lot after FIFO and expiry are worked out by hand below).
"""
from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, String, Text, delete, func, or_, select

from lib import clock, rollups
from lib.ingest import pipeline
from lib.ingest.pipeline import Report
from lib.ingest.profile import parse
from lib.models import (Base, Dealer, Member, MemberActiveEdges, PointsDaily, PointsLedger, PointsOpenLots, Region, SourceFreshness)
from lib.periods import DaySpan
from lib.queries import members as queries
from lib.queries.overview import point_value_cny
from lib.scope import Scope
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.hostile import rolled_back

REGION = "northwest"  # the region this module's rows occupy alone
MEMBER_ROLLUPS = ("points_daily", "points_open_lots", "member_active_edges", "member_tier_reached")  # the rollups the two kinds keep
SNAPSHOT = (Member, PointsLedger, PointsDaily, PointsOpenLots, MemberActiveEdges)  # tables a load may change


def ago(days: int) -> dt.date:
    """A day this many days before the fixture's today."""
    return TODAY - dt.timedelta(days=days)


# member number, phone as written, name, joined, province as written, city, dealer? (the region's first), owner
MEMBERS = [
    ("NW0001", "138 0013 8000", "张三丰", ago(500), "陕西", "西安市", True, "是"),
    ("NW0002", "+86 139-0013-9001", "李四", ago(400), "甘肃省", "兰州", False, "否"),
    ("nw0003", "8613700137002", "", ago(20), "630000", "", False, ""),
    ("NW0004", "150-0015-0003", "王五", ago(310), "宁夏", "", True, "1"),
]
RAW_PHONES = ("13800138000", "13900139001", "13700137002", "15000150003")  # the numbers, as digits

# txn id, member, day, kind as the loyalty system codes it (1 earn, 2 redeem, 3 adjust), points as written, rule, reward
POINTS = [
    ("P1", "NW0001", ago(480), "1", 1000, "spend", ""),        # lot A
    ("P2", "NW0001", ago(470), "2", 300, "", "lucky_draw"),    # A: 700 left
    ("P3", "NW0001", ago(200), "1", 500, "spend", ""),         # lot B (A not yet due)
    ("P4", "NW0001", ago(50), "2", -200, "", "lucky_draw"),    # A (due 12 months after P1) expires its 700 first; B: 300 left
    ("P5", "NW0001", ago(5), "1", 5000, "spend", ""),          # lot C
    ("P6", "NW0002", ago(390), "1", 2000, "spend", ""),        # lot D
    ("P7", "NW0002", ago(300), "3", -500, "", ""),             # D: 1500 left
    ("P8", "NW0002", ago(3), "3", 100, "", ""),                # D expires its 1500 first; lot E
    ("P9", "NW0003", ago(15), "1", 80, "check_in", ""),        # lot F
    ("P11", "NW0004", ago(300), "1", 40, "check_in", ""),      # lot G
]
EXPIRED = {"P1": 700, "P6": 1500}  # lots that expired: the points they lost (dated on their expiry day)
OPEN = {"P3": 300, "P5": 5000, "P8": 100, "P9": 80, "P11": 40}  # lots still open: what is left of them
TIERS = {"normal": 2, "silver": 1, "gold": 1}  # growth value = points earned: 6,500 gold, 2,000 silver, 80 and 40 normal
PROFILE = """
[profile]
kind = "points"
occurred_at_format = "epoch_s"
[columns]
txn_id = "TransNo"
member_no = "CardNo"
occurred_at = "Ts"
kind = "Type"
points = "Amount"
rule_code = "Rule"
reward_code = "Gift"
[values.kind]
"1" = "earn"
"2" = "redeem"
"3" = "adjust"
"""


def members_csv(conn: Connection, rows: list[tuple] = MEMBERS) -> bytes:
    """The members file: a Chinese header, UTF-8 with a BOM, as the loyalty system's export."""
    dealer = conn.execute(select(Dealer.code).join(Region, Region.id == Dealer.region_id).where(Region.code == REGION)
                          .order_by(Dealer.id).limit(1)).scalar_one()
    lines = ["会员号,手机号,姓名,入会日期,省份,城市,经销商编码,是否车主"]
    lines += [",".join([number, phone, name, joined.isoformat(), province, city, dealer if with_dealer else "", owner])
              for number, phone, name, joined, province, city, with_dealer, owner in rows]
    return "\n".join(lines).encode("utf-8-sig")


def epoch(day: dt.date) -> int:
    """Noon of a day in the business time zone, in seconds since 1970."""
    return int(dt.datetime.combine(day, dt.time(12), tzinfo=clock.zone()).timestamp())


def points_csv(rows: list[tuple] = POINTS) -> bytes:
    """The points file in the loyalty system's own headers and codes."""
    lines = ["TransNo,CardNo,Ts,Type,Amount,Rule,Gift"]
    lines += [f"{txn},{member},{epoch(day)},{kind},{points},{rule},{reward}" for txn, member, day, kind, points, rule, reward in rows]
    return "\n".join(lines).encode()


@pytest.fixture(scope="module")
def admin(engine) -> Scope:
    """The admin, who loads files."""
    return scope_of(engine, "admin")


def region_id(conn: Connection) -> int:
    """The id of this module's region."""
    return conn.execute(select(Region.id).where(Region.code == REGION)).scalar_one()


def empty_region(conn: Connection) -> int:
    """Remove the region's seeded members and ledger (and their rollups); its id."""
    region = region_id(conn)
    conn.execute(delete(PointsLedger).where(PointsLedger.region_id == region))
    conn.execute(delete(Member).where(Member.region_id == region))
    for name in MEMBER_ROLLUPS:
        rollups.refresh(conn, name, [region])
    return region


def load(conn: Connection, scope: Scope, kind: str, data: bytes) -> Report:
    """Load one file of a kind (the points file through the loyalty system's profile)."""
    profile = parse(PROFILE, "loyalty") if kind == "points" else None
    return pipeline.load(conn, scope, kind, [(f"{kind}.csv", data)], profile)


def load_both(conn: Connection, scope: Scope) -> tuple[Report, Report]:
    """The members file, then the points file; both loaded."""
    members = load(conn, scope, "members", members_csv(conn))
    points = load(conn, scope, "points", points_csv())
    assert (members.status, points.status) == ("loaded", "loaded"), (members.summary(), points.summary())
    return members, points


def snapshot(conn: Connection) -> dict[str, list[tuple]]:
    """Every row of the tables a load may change, in order (a rollup's rows without their surrogate ids, which a refresh
    renews)."""
    found = {}
    for model in SNAPSHOT:
        columns = [column for column in model.__table__.columns if not (model is PointsDaily and column.name == "id")]
        found[model.__tablename__] = [tuple(row) for row in conn.execute(select(*columns).order_by(*columns)).all()]
    return found


def assert_rollups_right(conn: Connection) -> None:
    """Each rollup equals its recomputation from the raw rows."""
    assert {name: rollups.differences(conn, name) for name in rollups.ROLLUPS} == dict.fromkeys(rollups.ROLLUPS, 0)


def test_the_members_page_shows_the_loaded_rows(engine, admin):
    with rolled_back(engine) as conn:
        region = empty_region(conn)
        conn.execute(delete(SourceFreshness))  # the demo seed's freshness (its newest rows, today) is later than this file's
        members, points = load_both(conn, admin)
        assert (members.applied.new, points.applied.new) == (len(MEMBERS), len(POINTS))
        assert members.applied.newest_record_at == dt.datetime.combine(max(row[3] for row in MEMBERS), dt.time())
        assert points.applied.newest_record_at == max(dt.datetime.combine(row[2], dt.time(12)) for row in POINTS)
        fresh = dict(conn.execute(select(SourceFreshness.source, SourceFreshness.newest_at)).all())
        assert (fresh["members"], fresh["points"]) == (members.applied.newest_record_at, points.applied.newest_record_at)
        assert_rollups_right(conn)
        scope, span = Scope("regional_staff", (region,)), DaySpan(ago(600), TODAY)
        figures = queries.headline(conn, scope, DaySpan(ago(30), TODAY), TODAY)
        totals = queries.kind_totals(conn, scope, span)
        signed = {txn: -abs(points) if kind == "2" else points for txn, _, _, kind, points, _, _ in POINTS}
        kinds = {txn: kind for txn, _, _, kind, _, _, _ in POINTS}
        assert totals == {"earn": sum(signed[txn] for txn in signed if kinds[txn] == "1"),
                          "redeem": -sum(signed[txn] for txn in signed if kinds[txn] == "2"),
                          "expire": sum(EXPIRED.values()), "adjust": sum(signed[txn] for txn in signed if kinds[txn] == "3")}
        assert sum(signed.values()) - sum(EXPIRED.values()) == sum(OPEN.values())  # the hand-worked lots add up
        expires = {txn: day + relativedelta(months=12) for txn, _, day, _, _, _, _ in POINTS}
        assert figures["members"] == len(MEMBERS)
        assert figures["new_members"] == sum(ago(30) <= row[3] <= TODAY for row in MEMBERS)
        assert figures["owners"] == sum(row[7] in ("是", "1") for row in MEMBERS)
        assert figures["outstanding"] == sum(OPEN.values())
        assert figures["liability_cny"] == pytest.approx(sum(OPEN.values()) * point_value_cny(conn))
        for days in queries.EXPIRY_WINDOWS:
            assert figures[f"expiring_{days}"] == sum(left for txn, left in OPEN.items()
                                                      if TODAY < expires[txn] <= TODAY + dt.timedelta(days=days))
        assert figures["expiring_90"] > 0
        last_days = {row[0].upper(): max([row[3]] + [day for _, number, day, *_ in POINTS if number == row[0].upper()])
                     for row in MEMBERS}
        assert figures["active_members"] == sum(day > TODAY - dt.timedelta(days=90) for day in last_days.values())
        tiers = queries.tier_counts(conn, scope)
        assert dict(zip(tiers["code"], tiers["members"])) == {code: TIERS.get(code, 0) for code in tiers["code"]}


def test_an_old_lot_is_expired_by_a_later_redemption_before_it_takes_the_newer_one(engine, admin):
    with rolled_back(engine) as conn:
        empty_region(conn)
        load_both(conn, admin)
        member = conn.execute(select(Member).where(Member.member_no == "NW0001")).one()
        ledger = conn.execute(select(PointsLedger.txn_id, PointsLedger.kind, PointsLedger.occurred_on, PointsLedger.points,
                                     PointsLedger.lot_remaining).where(PointsLedger.member_id == member.id)
                              .order_by(PointsLedger.id)).all()
        lot_a = ago(480) + relativedelta(months=12)
        assert [(row.txn_id, row.kind, row.occurred_on, row.points) for row in ledger] == [
            ("P1", "earn", ago(480), 1000), ("P2", "redeem", ago(470), -300), ("P3", "earn", ago(200), 500),
            (None, "expire", lot_a, -700), ("P4", "redeem", ago(50), -200), ("P5", "earn", ago(5), 5000)]
        assert {row.txn_id: row.lot_remaining for row in ledger if row.kind == "earn"} == {"P1": 0, "P3": 300, "P5": 5000}
        assert (member.points_balance, member.growth_value, member.last_active_on) == (5300, 6500, ago(5))


def test_loading_again_changes_nothing_and_rollbacks_restore_exactly(engine, admin):
    with rolled_back(engine) as conn:
        empty_region(conn)
        before = snapshot(conn)
        members, points = load_both(conn, admin)
        loaded = snapshot(conn)
        again = (load(conn, admin, "members", members_csv(conn)), load(conn, admin, "points", points_csv()))
        assert [report.status for report in again] == ["unchanged", "unchanged"]
        assert [report.applied.unchanged for report in again] == [len(MEMBERS), len(POINTS)]
        assert snapshot(conn) == loaded
        moved = [(*MEMBERS[1][:4], "四川", "成都", False, ""), *MEMBERS[2:]]  # one member to the Southwest, with their ledger
        move = load(conn, admin, "members", members_csv(conn, moved))
        assert (move.status, move.applied.updated, move.applied.unchanged) == ("loaded", 1, len(moved) - 1)
        regions = set(conn.execute(select(PointsLedger.region_id).join(Member, Member.id == PointsLedger.member_id)
                                   .where(Member.member_no == "NW0002")).scalars())
        assert regions == {conn.execute(select(Region.id).where(Region.code == "southwest")).scalar_one()}
        assert_rollups_right(conn)
        moved_snapshot = snapshot(conn)
        renamed = load(conn, admin, "members", members_csv(conn, [(*moved[0][:2], "张三", *moved[0][3:]), *moved[1:]]))
        assert (renamed.status, renamed.applied.updated) == ("loaded", 1)  # a name alone: the undo notes hold no region
        for batch in (renamed, move, points, members):
            pipeline.rollback(conn, admin, batch.batch_id)
            assert_rollups_right(conn)
            if batch is renamed:
                assert snapshot(conn) == moved_snapshot
            if batch is move:
                assert snapshot(conn) == loaded
        assert snapshot(conn) == before


def test_a_row_that_would_overdraw_a_balance_is_named_and_nothing_is_written(engine, admin):
    with rolled_back(engine) as conn:
        empty_region(conn)
        load_both(conn, admin)
        before = snapshot(conn)
        overdraw = [("P20", "NW0003", ago(1), "1", 10, "check_in", ""), ("P21", "NW0003", ago(1), "2", 100, "", "lucky_draw"),
                    ("P22", "NW0001", ago(1), "2", 100, "", "lucky_draw")]
        report = load(conn, admin, "points", points_csv(overdraw))
        assert report.status == "refused"
        assert [(problem.row, problem.field, problem.key) for problem in report.problems] == [(3, "points", "ingest_err_points_balance")]
        assert "90" in report.problems[0].message("en")  # 80 + 10 were there
        assert snapshot(conn) == before
        changed = load(conn, admin, "points", points_csv([("P1", "NW0001", ago(480), "1", 999, "spend", "")]))
        assert [problem.key for problem in changed.problems] == ["ingest_err_points_txn_changed"]
        backdated = load(conn, admin, "points", points_csv([("P30", "NW0001", ago(10), "1", 5, "check_in", "")]))
        assert [problem.key for problem in backdated.problems] == ["ingest_err_points_backdated"]
        assert snapshot(conn) == before


def phone_forms(digits: str) -> list[str]:
    """Every usual way of writing a mobile number: bare, spaced, dashed, with +86 or 86 in front."""
    spaced, dashed = f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return [digits, spaced, dashed, f"+86{digits}", f"86{digits}", f"+86 {spaced}", f"+86-{dashed}"]


def tables_holding(conn: Connection, needles: list[str]) -> list[str]:
    """The tables with a text cell containing any of the needles."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, String | Text)]
        if columns and conn.execute(select(func.count()).select_from(table).where(
                or_(*[column.contains(needle, autoescape=True) for column in columns for needle in needles]))).scalar_one():
            found.append(table.name)
    return found


def test_raw_phone_numbers_and_names_are_stored_nowhere(engine, admin, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    with rolled_back(engine) as conn:
        empty_region(conn)
        reports = [*load_both(conn, admin), load(conn, admin, "members", members_csv(conn, [
            ("NW0009", "+86 138 0013 8000", "张三丰", ago(3), "陕西", "", False, ""), ("NW0010", "12345", "张三丰", ago(3), "陕西", "", False, "")]))]
        needles = [form for digits in RAW_PHONES for form in phone_forms(digits)] + ["张三丰", "李四", "王五"]
        assert tables_holding(conn, needles) == []
        assert conn.execute(select(Member.phone_masked).where(Member.member_no == "NW0001")).scalar_one() == "138****8000"
    written = caplog.text + "".join(capfd.readouterr()) + json.dumps([report.summary("zh") for report in reports], ensure_ascii=False)
    assert not [needle for needle in needles if needle in written]
