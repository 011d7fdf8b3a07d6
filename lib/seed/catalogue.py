"""Step: the catalogue. Vehicle models, marketing channels with their calibration (benchmarks:
domain.md), the domain targets, member tiers, points rules and rewards."""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection

from lib.models import Channel, PointsRule, Reward, VehicleModel
from lib.bulk import bulk_insert
from lib.reference import load_member_tiers
from lib.seed.world import World, as_text


class ModelSpec(NamedTuple):
    """A vehicle model and how popular it is."""

    code: str
    name_zh: str
    name_en: str
    segment: str
    powertrain: str
    msrp: int  # CNY
    age_days: int  # launched this many days before today
    mix: float  # relative share of leads once on sale


VEHICLE_MODELS: tuple[ModelSpec, ...] = (  # invented models; the last three launch during the history
    ModelSpec("HX-S5", "瀚行S5", "Hanxing S5", "sedan", "ICE", 129_800, 2_900, 0.12),
    ModelSpec("HX-X5", "瀚行X5", "Hanxing X5", "SUV", "ICE", 149_800, 2_400, 0.17),
    ModelSpec("HX-X7", "瀚行X7", "Hanxing X7", "SUV", "HEV", 209_800, 1_900, 0.14),
    ModelSpec("HX-M8", "瀚行M8", "Hanxing M8", "MPV", "PHEV", 289_800, 1_600, 0.08),
    ModelSpec("HX-T9", "瀚行T9 山野", "Hanxing T9 Trail", "off-road", "PHEV", 369_800, 1_400, 0.07),
    ModelSpec("HX-E3", "瀚行E3", "Hanxing E3", "crossover", "BEV", 139_800, 1_250, 0.14),
    ModelSpec("HX-E5", "瀚行E5", "Hanxing E5", "sedan", "BEV", 189_800, 690, 0.12),
    ModelSpec("HX-X9", "瀚行X9", "Hanxing X9", "SUV", "PHEV", 329_800, 420, 0.09),
    ModelSpec("HX-E9", "瀚行E9", "Hanxing E9", "SUV", "BEV", 439_800, 30, 0.07),
)


class ChannelSpec(NamedTuple):
    """A marketing channel and its calibration (benchmarks: domain.md)."""

    code: str
    name_zh: str
    name_en: str
    family: str
    lead_share: float  # share of leads when no campaign lifts it
    cpl: float  # CNY per lead
    cpm: float  # CNY per 1,000 impressions (0: impressions not measured)
    ctr: float  # clicks per impression
    validity: float  # multiplier on the valid-lead probability
    intent: float  # multiplier on the share of high-grade leads
    coupon_rate: float  # ¥9.9 coupons sold per expected lead
    fans_per_lead: float  # followers gained per expected lead
    live_rate: float  # live sessions per dealer-day relative to Douyin
    brand_share: float  # share of the national brand spend


CHANNELS: tuple[ChannelSpec, ...] = (  # the 12 channels of the demo, Douyin and the verticals biggest
    ChannelSpec("douyin", "抖音", "Douyin", "video", 0.22, 95, 45, 0.009, 0.88, 0.80, 0.45, 12, 1.0, 0.35),
    ChannelSpec("kuaishou", "快手", "Kuaishou", "video", 0.06, 85, 40, 0.008, 0.86, 0.75, 0.0, 10, 0.3, 0.10),
    ChannelSpec("autohome", "汽车之家", "Autohome", "vertical", 0.16, 155, 60, 0.014, 1.08, 1.15, 0.0, 0, 0.0, 0.0),
    ChannelSpec("dongchedi", "懂车帝", "Dongchedi", "vertical", 0.14, 140, 55, 0.012, 1.06, 1.10, 0.0, 0, 0.0, 0.0),
    ChannelSpec("yiche", "易车", "Yiche", "vertical", 0.08, 130, 52, 0.013, 1.04, 1.05, 0.0, 0, 0.0, 0.0),
    ChannelSpec("tmall", "天猫旗舰店", "Tmall", "marketplace", 0.05, 115, 50, 0.016, 0.95, 0.90, 0.60, 0, 0.0, 0.0),
    ChannelSpec("jd", "京东", "JD", "marketplace", 0.03, 120, 50, 0.015, 0.95, 0.90, 0.55, 0, 0.0, 0.0),
    ChannelSpec("wechat", "微信生态", "WeChat", "official", 0.06, 60, 42, 0.010, 1.10, 1.20, 0.0, 5, 0.2, 0.20),
    ChannelSpec("baidu", "百度SEM", "Baidu SEM", "search", 0.07, 210, 65, 0.020, 1.00, 1.00, 0.0, 0, 0.0, 0.20),
    ChannelSpec("xiaohongshu", "小红书", "Xiaohongshu", "social", 0.04, 165, 58, 0.010, 0.88, 0.85, 0.0, 0, 0.0, 0.15),
    ChannelSpec("official", "官网/APP", "Official site & app", "official", 0.06, 45, 40, 0.020, 1.12, 1.30, 0.0, 0, 0.0, 0.0),
    ChannelSpec("offline", "车展/巡展", "Auto shows & roadshows", "offline", 0.03, 330, 0, 0.0, 1.15, 1.50, 0.0, 0, 0.0, 0.0),
)
CHANNEL_INDEX = {spec.code: index for index, spec in enumerate(CHANNELS)}  # channel code → index (id - 1)
OFFLINE = CHANNEL_INDEX["offline"]  # leads at shows and roadshows: business hours, event-driven

VALID_RATE_TARGET = 0.60  # domain target valid-lead rate
LEAD_TO_ORDER_TARGET = 0.028  # domain target lead-to-order rate

POINTS_RULES = (  # code, name zh/en, points, per ('yuan' or 'action'), daily cap (benchmarks: domain.md)
    ("spend", "消费积分", "Spend ¥1 = 1 point", 1, "yuan", 10_000),
    ("check_in", "每日签到", "Daily check-in", 5, "action", 5),
    ("content_post", "发布内容", "Content post", 50, "action", 150),
    ("event_attended", "参加活动", "Event attended", 100, "action", None),
    ("referral_sale", "推荐购车成交", "Referral that closes a sale", 200, "action", None),
    ("service_review", "服务评价", "Service review", 20, "action", 20),
    ("maintenance_visit", "回厂保养", "Maintenance visit", 100, "action", None),
)
REWARDS = (  # code, name zh/en, category, points cost, cash value ¥ (≈ 0.01 ¥/point), popularity; by cost
    ("lucky_draw", "1元抽奖", "¥1 lucky draw", "lottery", 100, 1, 3.0),
    ("event_slot", "车主活动名额", "Owners' event slot", "event", 800, 10, 2.0),
    ("netease_music", "网易云音乐黑胶VIP月卡", "NetEase Cloud Music VIP, 1 month", "membership", 1_200, 12, 2.0),
    ("iqiyi_month", "爱奇艺黄金会员月卡", "iQIYI VIP, 1 month", "membership", 1_500, 15, 3.0),
    ("car_wash", "精洗服务券", "Car wash voucher", "voucher", 2_000, 20, 3.0),
    ("labour_discount", "保养工时8折券", "20% off labour hours", "labour_discount", 3_000, 30, 2.0),
    ("charging_30", "30元充电券", "¥30 charging voucher", "voucher", 3_000, 30, 2.0),
    ("scale_model", "1:43精品车模", "1:43 scale model", "merchandise", 5_000, 50, 1.0),
    ("maintenance_100", "100元保养代金券", "¥100 maintenance voucher", "voucher", 10_000, 100, 2.0),
    ("iqiyi_year", "爱奇艺黄金会员年卡", "iQIYI VIP, 1 year", "membership", 15_000, 150, 1.0),
    ("camping_kit", "山野露营套装", "Trail camping kit", "merchandise", 30_000, 300, 0.5),
    ("labour_free", "全年保养工时全免", "A year of free labour hours", "labour_discount", 50_000, 500, 0.3),
)


def launch_day(world: World, model: ModelSpec) -> dt.date:
    """The day a model was (or will be) launched."""
    return world.today - dt.timedelta(days=model.age_days)


def seed_catalogue(conn: Connection, world: World) -> None:
    """Vehicle models, channels, member tiers (lib.reference), points rules and rewards."""
    bulk_insert(conn, VehicleModel.__table__,
                ("id", "code", "name_zh", "name_en", "segment", "powertrain", "msrp", "launched_on", "active"),
                [(i + 1, m.code, m.name_zh, m.name_en, m.segment, m.powertrain, float(m.msrp),
                  as_text(launch_day(world, m)), True)
                 for i, m in enumerate(VEHICLE_MODELS)])
    bulk_insert(conn, Channel.__table__, ("id", "code", "name_zh", "name_en", "family", "sort_order", "active"),
                [(i + 1, c.code, c.name_zh, c.name_en, c.family, i + 1, True) for i, c in enumerate(CHANNELS)])
    load_member_tiers(conn)
    bulk_insert(conn, PointsRule.__table__, ("id", "code", "name_zh", "name_en", "points", "per", "daily_cap", "active", "version"),
                [(i + 1, *rule, True, 1) for i, rule in enumerate(POINTS_RULES)])
    bulk_insert(conn, Reward.__table__, ("id", "code", "name_zh", "name_en", "category", "points_cost", "cash_value", "active", "version"),
                [(i + 1, *reward[:5], float(reward[5]), True, 1) for i, reward in enumerate(REWARDS)])
