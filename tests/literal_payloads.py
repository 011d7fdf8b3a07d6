"""Markup planted as user text: Markdown, HTML and Streamlit syntax that would load, link, embolden or colour something if a
page rendered it, each piece naming its field; planted into every kind of user text of a seeded database of a test's own,
through the services where they exist (reference data, which the imports will bring, is written directly)."""
from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, Row, select, update

from lib.db import make_engine
from lib.ingest.pipeline import load
from lib.models import AppUser, Campaign, Channel, City, Dealer, Member, MemberTier, PointsRule, Province, Region, Reward, VehicleModel
from lib.seed import seed_database
from lib.services import audit, campaigns, catalogue, points, targets, users
from lib.services.campaigns import REVIEW_SECTIONS, PlanInput
from lib.services.catalogue import RewardInput, RuleInput, TierInput
from tests.campaign_helpers import scope_of
from tests.conftest import TEST_SEED, TODAY, drop_everything, seeded_postgres

TRICKY_PIECES = ("www.", "WWW.", "http://", "https://", "@", "mailto:", ":material/face:", ":material_face:", ":streamlit:", ":smile:",
                 ":red[", "](", "![", "<img ", "<b>", "&amp;", "$x^2$", "**", "~~", "| - |", "1. ", "# ", "> ", " -> ", " <- ",
                 " -- ", " >= ", " <= ", " ~= ", "\\", "\n", "    ", "营销", "😀")  # what Markdown, GFM, Streamlit or plotly could
# read as markup, mixed into texts that test the escaping
MARKERS = ("b-", "s-", "r-", "a-")  # a piece's marker is one of these and its field's tag: shown bold, red or as a link
# only if the piece was rendered
SPENT = 5_000.0  # ¥ the import attributes to the over-budget campaign
BUDGET = 1_000.0  # its budget


def pieces(tag: str, port: int, html_first: bool) -> list[str]:
    """Each kind of markup once, naming the field (tag); the ones that would fetch or link point at 127.0.0.1:port."""
    here = f"//127.0.0.1:{port}"
    fetching = [f"![]({here}/i-{tag})", f"**s-{tag}**", f":red[r-{tag}]", f"<img src={here}/h-{tag}>", f"[y]({here}/l-{tag})",
                f"http:{here}/u-{tag}", "$x^2$", f"<a href={here}/a-{tag}>a-{tag}</a>", f"<b>b-{tag}</b>"]
    return [fetching[-1], *fetching[:-1]] if html_first else fetching


def payload(tag: str, port: int, limit: int, html_first: bool = False) -> str:
    """As many pieces as fit in `limit` characters (the field's width), in order, between spaces; HTML first for fields
    that charts show (plotly renders a little HTML, no Markdown)."""
    chosen: list[str] = []
    for piece in pieces(tag, port, html_first):
        if len(" ".join([*chosen, piece])) <= limit:
            chosen.append(piece)
    return " ".join(chosen)


@dataclass
class Planted:
    """What was planted where: the payload of each field's tag, and the rows that carry them."""

    port: int
    database_url: str
    texts: dict[str, str] = field(default_factory=dict)  # tag -> payload
    campaigns: dict[str, int] = field(default_factory=dict)  # 'over_budget', 'rejected', 'reviewed', 'cancelled' -> id
    dealer_id: int = 0  # the dealer renamed (with its city and province), alone on the national map
    member_no: str = ""  # the member whose masked name and phone carry payloads
    channel_ids: tuple[int, int] = (0, 0)  # the two renamed channels (budget lines of the over-budget campaign)

    def text(self, tag: str, limit: int, html_first: bool = False) -> str:
        """The payload for a field, remembered under its tag."""
        self.texts[tag] = payload(tag, self.port, limit, html_first)
        return self.texts[tag]


def _roomiest_dealer(conn: Connection, region_id: int) -> Row:
    """The active dealer of a region farthest, on a web-mercator map, from every other dealer and province name: pointing at
    it on the national map picks it alone."""
    dealers = conn.execute(select(Dealer.id, Dealer.city_id, Dealer.province_adcode, Dealer.region_id, Dealer.lon, Dealer.lat)
                           .where(Dealer.active).order_by(Dealer.id)).all()
    names = conn.execute(select(Province.lon, Province.lat)).all()

    def at(lon: float, lat: float) -> tuple[float, float]:
        return math.radians(lon), math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    def room(dealer: Row) -> float:
        return min(math.dist(at(dealer.lon, dealer.lat), at(other.lon, other.lat))
                   for other in [*names, *(other for other in dealers if other.id != dealer.id)])

    return max((dealer for dealer in dealers if dealer.region_id == region_id), key=room)


def _rename_reference_data(engine: Engine, planted: Planted) -> None:
    """Names no service edits (the imports will bring them): two channels, the East region, a dealer of East with its code,
    city and province (the short name pages show), the first model, and the masked name and phone of a member of East."""
    with engine.begin() as conn:
        east = conn.execute(select(Region.id).where(Region.code == "east")).scalar_one()
        dealer = _roomiest_dealer(conn, east)
        first, second = conn.execute(select(Channel.id).where(Channel.active).order_by(Channel.sort_order).limit(2)).scalars()
        member_id, planted.member_no = conn.execute(select(Member.id, Member.member_no).where(Member.region_id == east)
                                                    .order_by(Member.id)).first()
        planted.dealer_id, planted.channel_ids = dealer.id, (first, second)
        conn.execute(update(Channel).where(Channel.id == first).values(name_zh=planted.text("ch", 32)))
        conn.execute(update(Channel).where(Channel.id == second).values(name_zh=planted.text("hc", 32, html_first=True)))
        conn.execute(update(Region).where(Region.id == east).values(name_zh=planted.text("rg", 32)))
        conn.execute(update(Province).where(Province.adcode == dealer.province_adcode).values(short_zh=planted.text("pv", 16)))
        conn.execute(update(City).where(City.id == dealer.city_id).values(name_zh=planted.text("ci", 32)))
        conn.execute(update(Dealer).where(Dealer.id == dealer.id).values(name=planted.text("dl", 128), code=planted.text("dc", 16)))
        conn.execute(update(VehicleModel).where(VehicleModel.id == 1).values(name_zh=planted.text("md", 64, html_first=True)))
        conn.execute(update(Member).where(Member.id == member_id).values(name_masked=planted.text("mn", 16),
                                                                        phone_masked=planted.text("mp", 16)))
        audit.bump_data_version(conn)


def _plan(engine: Engine, planted: Planted, tag: str, **changes: object) -> PlanInput:
    """A valid national plan of this year (model 1) named with a payload."""
    start = max(TODAY.replace(month=1, day=1), TODAY - dt.timedelta(days=10))
    plan = PlanInput(name=planted.text(tag, campaigns.NAME_MAX), type="launch", objective="leads", start_date=start,
                     end_date=start + dt.timedelta(days=30), budget_total=BUDGET, owner_id=scope_of(engine, "manager").user_id,
                     model_id=1, budget_lines=dict.fromkeys(planted.channel_ids, BUDGET / 2), kpi_targets={"leads": 100.0})
    for name, value in changes.items():
        setattr(plan, name, value)
    return plan


def _step(engine: Engine, username: str, campaign_id: int, action: str, **texts: object) -> None:
    """One workflow step on the campaign's current version."""
    with engine.begin() as conn:
        version = conn.execute(select(Campaign.version).where(Campaign.id == campaign_id)).scalar_one()
        campaigns.transition(conn, scope_of(engine, username), campaign_id, version, action, **texts)


def _plant_campaigns(engine: Engine, planted: Planted) -> None:
    """An over-budget campaign with payloads in its name, hashtag and notes (its spend imported from a file with a payload
    name), a rejected one, a reviewed one and a cancelled one with payloads in their reasons and review; a leads target the
    first channel is far below."""
    manager = scope_of(engine, "manager")
    for role, tag in (("over_budget", "cn"), ("rejected", "cr"), ("reviewed", "cv"), ("cancelled", "cx")):
        plan = _plan(engine, planted, tag, hashtag=planted.text(f"h{tag[1]}", campaigns.HASHTAG_MAX),
                     notes=planted.text(f"n{tag[1]}", campaigns.TEXT_MAX)) if role == "over_budget" else _plan(engine, planted, tag)
        with engine.begin() as conn:
            planted.campaigns[role], _ = campaigns.create_campaign(conn, manager, plan)
    rejected, reviewed, cancelled = (planted.campaigns[role] for role in ("rejected", "reviewed", "cancelled"))
    _step(engine, "manager", rejected, "submit")
    _step(engine, "exec", rejected, "reject", comment=planted.text("rj", campaigns.TEXT_MAX))
    for username, action in (("manager", "submit"), ("exec", "approve"), ("manager", "start"), ("manager", "complete")):
        _step(engine, username, reviewed, action)
    _step(engine, "manager", reviewed, "review", review={key: planted.text(f"v{index}", campaigns.TEXT_MAX)
                                                         for index, key in enumerate(REVIEW_SECTIONS)})
    _step(engine, "manager", cancelled, "cancel", comment=planted.text("cc", campaigns.TEXT_MAX))
    with engine.connect() as conn:
        code = conn.execute(select(Channel.code).where(Channel.id == planted.channel_ids[0])).scalar_one()
    day = max(TODAY - dt.timedelta(days=1), TODAY.replace(month=1, day=1))
    data = f"date,channel,campaign_id,spend\n{day.isoformat()},{code},{planted.campaigns['over_budget']},{SPENT}\n".encode()
    with engine.begin() as conn:
        loaded = load(conn, manager, "channel-facts", [(planted.text("fn", 251) + ".csv", data)])
        assert loaded.status == "loaded", loaded.summary()
        month = TODAY.replace(day=1)
        stored = targets.month_table(conn, manager, month, None)
        raised = stored.assign(leads=stored["leads"].mask(stored["channel_id"] == planted.channel_ids[0], targets.LIMITS["leads"]))
        targets.save(conn, manager, month, None, stored, raised)  # the first channel falls far behind its target


def _plant_people_and_programme(engine: Engine, planted: Planted) -> None:
    """Display names (the manager's, East's), an e-mail, the first earn rule and reward, every tier and its benefits, and the
    reason of a points adjustment."""
    admin = scope_of(engine, "admin")
    with engine.begin() as conn:
        for username, tag in (("manager", "dm"), ("east", "de")):
            row = conn.execute(select(AppUser.id, AppUser.version, AppUser.role, Region.code).outerjoin(Region, Region.id == AppUser.region_id)
                               .where(AppUser.username == username)).one()
            users.update_user(conn, admin, row.id, row.version, display_name=planted.text(tag, users.DISPLAY_NAME_MAX), role=row.role,
                              region_code=row.code, email=planted.text(f"e{tag[1]}", users.EMAIL_MAX), active=True)
        rule = conn.execute(select(PointsRule).order_by(PointsRule.id)).first()
        catalogue.save_rule(conn, admin, rule.id, rule.version, RuleInput(planted.text("ru", catalogue.NAME_MAX), rule.name_en, rule.points,
                                                                          rule.per, rule.daily_cap, rule.active))
        reward = conn.execute(select(Reward).order_by(Reward.id)).first()
        catalogue.save_reward(conn, admin, reward.id, reward.version, RewardInput(
            planted.text("rw", catalogue.LONG_NAME_MAX), reward.name_en, planted.text("ca", catalogue.NAME_MAX), reward.points_cost,
            float(reward.cash_value), reward.active))
        tiers = [TierInput(tier.id, tier.name_zh, tier.name_en, tier.min_growth, tier.benefits_zh or "", tier.benefits_en or "")
                 for tier in conn.execute(select(MemberTier).order_by(MemberTier.min_growth))]
        renamed = [TierInput(tier.tier_id, planted.text(f"t{index}", catalogue.NAME_MAX, html_first=index % 2 == 1), tier.name_en,
                             tier.min_growth, planted.text("tb", catalogue.BENEFITS_MAX) if index == 0 else tier.benefits_zh,
                             tier.benefits_en) for index, tier in enumerate(tiers)]
        catalogue.save_tiers(conn, admin, tiers, renamed)
        member_id = conn.execute(select(Member.id).where(Member.member_no == planted.member_no)).scalar_one()
        points.adjust(conn, admin, member_id, 10, planted.text("pa", points.REASON_MAX), TODAY)


def plant(engine: Engine, port: int) -> Planted:
    """Payloads in every kind of user text of a seeded database."""
    planted = Planted(port, engine.url.render_as_string(hide_password=False))
    _rename_reference_data(engine, planted)
    _plant_campaigns(engine, planted)
    _plant_people_and_programme(engine, planted)
    return planted


@contextmanager
def planted_database(folder: Path, port: int) -> Iterator[tuple[str, Planted]]:
    """A seeded database of the caller's own with payloads planted (PostgreSQL when the session runs on it, else an SQLite
    file in the folder); its URL and what was planted."""
    if (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"):
        with seeded_postgres(f"cockpit_literal_{os.getpid()}_{port}") as url:
            engine = make_engine(url)
            yield url, plant(engine, port)
            engine.dispose()
        return
    url = f"sqlite:///{folder / 'literal.db'}"
    engine = make_engine(url)
    drop_everything(engine)
    seed_database(engine, scale="tiny", seed=TEST_SEED, today=TODAY)
    yield url, plant(engine, port)
    engine.dispose()
