"""Deterministic demo data at three scales: geography, catalogue, dealers, users, calendar,
campaigns, leads, daily channel facts, monthly targets, members and their points ledger.

Same seed + same `today` → the same rows (bcrypt salts and the audit log's wall-clock times
aside). Every step draws from its own numpy generator derived from (seed, step name), so changing
one step never shifts another's draws. Nothing reads the clock except `today`'s default.

Choices where the product brief leaves room:
- Lead volume: an expected count per (day, channel, region) = yearly growth × weekday × node days
  (spikes on 618, 818, 双11 and 双12, a dip in the 春节 holiday week) × channel mix × region share
  (∝ dealers, by grade) × the lift of the campaigns running on that channel and region (launches
  and auto shows lift most). Actual leads are Poisson draws of it. The same expectation, extended
  to the end of next year, sizes campaign budgets and KPI targets and the monthly channel targets,
  so plans and actuals agree at every scale: budgets scale with lead volume (at `large`, close to
  the benchmark OEM's volume, a node campaign gets a few million CNY; at `demo` a few hundred
  thousand).
- A lead belongs to the campaign running on its channel and region that day (a regional campaign
  before a national one, then the one that started last) and takes that campaign's model.
- Funnel: stage timestamps are created ≤ valid ≤ visit ≤ test_drive ≤ order ≤ delivery; a stage
  that would fall after the end of `today` is not reached, nor is anything after it. A lead that
  stopped (not merely not yet reached its next stage) is lost 31–75 days after its last stage, or
  dormant instead (5%); lost_stage is its last stage reached. 5% of the lost leads with a reachable
  contact (≈ 4% of all lost) are reactivated later; 15% of those move on again (their new stages
  follow reactivated_at; lost_at, lost_stage and lost_reason stay as history).
- channel_daily: one row per (day, channel, region) of the history carrying that cell's campaign
  (spend follows the expected volume at the channel's CPL; offline rows have no impressions or
  clicks), plus rows for orders whose lead's campaign no longer runs on the order day, plus
  national brand rows (region NULL, campaign NULL, no leads) holding BRAND_SPEND_SHARE of spend.
- channel_target: per (month, channel) one row per region and one national row (region NULL) for
  each metric. National spend/leads/valid_leads/orders = the sum of the regional rows (spend also
  + the expected national brand spend); ratio targets (cpl, cpql, valid_rate, lead_to_order) are
  the same on a channel's national and regional rows. Leads targets are the expected volume ×
  0.95–1.15 per channel and year, so most channels fall short and a few beat their target.
- Points: a lot (an earn row, or a positive adjust row) expires 12 months after it is earned, on
  the same day of the month or the month's last day (Feb 29 → Feb 28); expires_on is the first day
  it can no longer be spent. Redemptions and negative
  adjusts consume the oldest unexpired lots first (FIFO) and only happen when the balance covers
  them. On expires_on what is left of a lot expires as one 'expire' row dated expires_on (only up
  to today). Ledger ids follow the order of events: by day, and within a member's day expiries
  first, then lots, then redemptions/adjusts. growth_value = the earned points (never
  decreases); last_active_on = the member's last earn or redemption, else the join date.
- A car purchase earns the spend rule's daily cap (10,000 points), not ¥1 = 1 point on the price.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import re
import secrets
import sys
import time
import zlib
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

import numpy as np
from sqlalchemy import Connection, Engine, Table, func, insert, select, text, update

from lib.config import DATA_DIR, database_url
from lib.db import make_engine, upgrade_to_head
from lib.models import (
    DEALER_GRADES,
    DOUYIN_TIERS,
    FUNNEL_STAGES,
    LEAD_GRADES,
    AppSetting,
    AppUser,
    Base,
    Campaign,
    CampaignBudgetLine,
    CampaignKpiTarget,
    CampaignPhase,
    CampaignStatusChange,
    Channel,
    ChannelDaily,
    ChannelTarget,
    City,
    DataVersion,
    Dealer,
    Lead,
    MarketingNode,
    Member,
    MemberTier,
    PointsLedger,
    PointsRule,
    Province,
    Region,
    Reward,
    VehicleModel,
)
from lib.nodes import nodes_for_year
from lib.services.users import create_user

Progress = Callable[[float, str], None]  # (fraction done 0..1, short English message)


class Scale(NamedTuple):
    """Size of one demo scale."""

    dealers: int  # dealer outlets
    history_years: int  # history starts on January 1 this many years before today's year
    leads: int  # expected leads over the whole history
    members: int  # club members
    member_activity: float  # multiplier on members' check-in, post and redemption rates


SCALES: dict[str, Scale] = {  # tiny: the test fixture; demo: the first-start install; large: benchmarks
    "tiny": Scale(dealers=60, history_years=1, leads=15_000, members=2_000, member_activity=2.6),
    "demo": Scale(dealers=600, history_years=2, leads=300_000, members=60_000, member_activity=1.0),
    "large": Scale(dealers=600, history_years=2, leads=2_100_000, members=350_000, member_activity=1.0),
}
DEFAULT_SEED = 42  # the seed of the demo install


class DemoAccount(NamedTuple):
    """A login the demo data creates (demo databases only, never a real deployment)."""

    username: str
    role: str
    region_code: str | None
    display_name: str
    password: str


DEMO_PASSWORD = "Demo@2026!"  # password of every demo account but admin
DEMO_ADMIN_PASSWORD = "Admin@2026!"  # password of the demo admin
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (  # the README lists these
    DemoAccount("exec", "executive", None, "王总监", DEMO_PASSWORD),
    DemoAccount("manager", "campaign_manager", None, "李经理", DEMO_PASSWORD),
    DemoAccount("east", "regional_staff", "east", "陈专员", DEMO_PASSWORD),
    DemoAccount("southwest", "regional_staff", "southwest", "刘专员", DEMO_PASSWORD),
    DemoAccount("admin", "admin", None, "系统管理员", DEMO_ADMIN_PASSWORD),
)
EXTRA_CAMPAIGN_MANAGERS = (("zhang", "张经理"), ("zhou", "周经理"))  # more owners; random passwords, no login
CAMPAIGN_OWNERS = ("manager", "zhang", "zhou")  # campaigns are owned in turn by these managers
APPROVER = "exec"  # approves, rejects and cancels campaign plans

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365.25

# ---------------------------------------------------------------- catalogue


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
PRESALE_DAYS = 21  # a model collects leads this long before its launch
LAUNCH_RAMP_DAYS = 120  # a new model draws extra interest this long after launch
LAUNCH_RAMP_LIFT = 1.6  # … this much extra
NEV_GROWTH_PER_YEAR = 0.35  # new-energy models' share of interest grows this much a year
NEW_ENERGY = ("BEV", "PHEV")  # powertrains that count as new energy (NEV)
ORDER_PRICE_FACTOR = (0.85, 0.95)  # transaction price / MSRP


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
BRAND_SPEND_SHARE = 0.12  # national brand spend (region NULL) as a share of all spend
BRAND_CPM_FACTOR = 0.85  # brand media buys a little cheaper per impression
BRAND_CTR_FACTOR = 0.6  # … and is clicked less
NOISE_SIGMA = 0.12  # day-to-day lognormal noise of spend, impressions and clicks
LIVE_VIEWS_MEDIAN = 400  # viewers per dealer live session

CPL_TARGET = 120  # domain target, CNY per lead (channels' targets are scaled to average this)
CPQL_PER_CPL = 2.0  # target CPQL ¥240 = 2 × CPL target
VALID_RATE_TARGET = 0.60  # domain target valid-lead rate
LEAD_TO_ORDER_TARGET = 0.028  # domain target lead-to-order rate
TARGET_AMBITION = (0.95, 1.15)  # leads target / expected leads, per channel and year

# ---------------------------------------------------------------- dealers

PROVINCE_ECONOMIC_WEIGHT = {  # ≈ 2023 GDP, trillion CNY: dealers follow the economy
    110000: 4.38, 120000: 1.67, 130000: 4.39, 140000: 2.57, 150000: 2.46, 210000: 3.02, 220000: 1.35,
    230000: 1.59, 310000: 4.72, 320000: 12.82, 330000: 8.26, 340000: 4.71, 350000: 5.44, 360000: 3.22,
    370000: 9.21, 410000: 5.91, 420000: 5.58, 430000: 5.00, 440000: 13.57, 450000: 2.72, 460000: 0.76,
    500000: 3.01, 510000: 6.01, 520000: 2.09, 530000: 3.00, 540000: 0.24, 610000: 3.38, 620000: 1.19,
    630000: 0.38, 640000: 0.53, 650000: 1.91,
}
CITY_TIER_WEIGHT = {"一线": 14, "新一线": 7, "二线": 3, "三线": 1.4, "四线": 0.6, "五线": 0.25}  # dealers per city
GRADE_MIX_BY_TIER = {  # share of 4S / urban showroom / satellite by city tier
    "一线": (0.45, 0.45, 0.10), "新一线": (0.50, 0.38, 0.12), "二线": (0.60, 0.22, 0.18),
    "三线": (0.65, 0.10, 0.25), "四线": (0.60, 0.04, 0.36), "五线": (0.55, 0.0, 0.45),
}
GRADE_LEAD_WEIGHT = np.array([1.0, 0.6, 0.35])  # leads dispatched to a 4S / urban / satellite outlet
GRADE_NAME_SUFFIX = ("4S店", "城市展厅", "卫星店")  # dealer name endings by grade
DEALER_WORDS = (  # invented dealer-group words (no real brands)
    "锦程", "瑞驰", "华悦", "鸿途", "盛世", "嘉禾", "恒远", "泰和", "众诚", "联拓", "安捷", "博远",
    "天择", "宏骏", "祥瑞", "信诚", "卓越", "润通", "骏腾", "星澜", "同辉", "佳禾", "德沃", "启晟",
)
ETHNIC_NAME_PART = re.compile("朝鲜|土家|布依|哈尼|景颇|傈僳|蒙古|柯尔克孜|哈萨克|苗|藏|羌|彝|侗|壮|傣|白族|回|黎")
CITY_NAME_SUFFIX = re.compile("(市|地区|林区|盟|县)$")  # dropped from a city's name in dealer names
DEALER_JITTER_DEGREES = 0.05  # dealers sit this close to their city's point
DEALERS_PER_GUARANTEED = 300  # every province gets at least one dealer per this many dealers in all
DEALERS_OPENED_IN_HISTORY = 0.05  # share of dealers opened during the history
DEALERS_INACTIVE = 0.03  # share of dealers closed (inactive) by today
DOUYIN_TIER_SHARES = (0.01, 0.19)  # head, middle (the rest: tail)
LIVE_SESSIONS_BY_TIER = np.array([1.0, 0.4, 0.08])  # Douyin live sessions per dealer-day: head/middle/tail
FIRST_DEALER_OPENING = dt.date(2008, 3, 1)  # the oldest outlet

# ---------------------------------------------------------------- lead volume and funnel

YEARLY_GROWTH = 1.15  # lead volume growth per year
WEEKDAY_FACTOR = np.array([0.90, 0.90, 0.92, 0.95, 1.02, 1.18, 1.13])  # Monday … Sunday
NODE_DAY_LIFT = {"jd618": 1.5, "auto818": 1.4, "double11": 1.8, "double12": 1.3}  # on a node's last day
SPRING_FESTIVAL_DIP = 0.45  # volume during the 春节 holiday week
PRE_FESTIVAL_DIP = (7, 0.85)  # the last days before New Year's eve: (days, volume)
DAILY_NOISE_SIGMA = 0.08  # lognormal noise of a day's volume
PHASE_LIFT = {"warmup": 0.08, "presale": 0.25, "peak": 0.6, "spread": 0.12}  # extra volume per unit of lift
OFFLINE_EVENT_LIFT = 4.0  # shows and roadshows multiply a campaign's lift on the offline channel
CAMPAIGN_BUDGET_SLACK = (1.0, 1.1)  # budget line / expected spend of the channel
CAMPAIGN_RESERVE = (0.08, 0.12)  # share of the budget kept unallocated (预留)
CAMPAIGN_KPI_AMBITION = (1.05, 1.15)  # campaign leads target / expected leads

HOURS_ONLINE = np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.5, 3.5,
                         2.5, 3.0, 3.5, 3.5, 3.0, 2.5, 2.5, 3.0, 3.5, 3.5, 2.5, 1.2])  # leads by hour of day
HOURS_OFFLINE = np.array([0.0] * 9 + [2.0, 3.0, 3.0, 2.0, 2.5, 3.0, 3.0, 2.5, 2.0, 1.0] + [0.0] * 5)
GRADE_SHARE_HIGH, GRADE_SHARE_MEDIUM = 0.2, 0.4  # high / medium (rest: low), before channel intent
VALID_P = np.array([0.82, 0.58, 0.36])  # P(valid) by grade high/medium/low
VISIT_P = np.array([0.50, 0.33, 0.18])  # P(store visit | valid) by grade
TEST_DRIVE_P = 0.62  # P(test drive | visit)
ORDER_P = np.array([0.27, 0.18, 0.11])  # P(order | test drive) by grade
DELIVERY_P = 0.97  # P(delivery | order)
VALID_TREND = (-0.035, 0.035)  # added to P(valid) from the first to the last day (51% → 58%)
ORDER_TREND = (0.9, 1.1)  # multiplies P(order) from the first to the last day
STAGE_HOURS = (None, (9, 21), (9, 19), (9, 19.5), None, (9, 18))  # working hours of each stage (None: any)
LOST_AFTER_DAYS = (31, 75)  # a stopped lead is marked lost this long after its last stage
DORMANT_SHARE = 0.05  # stopped leads marked dormant instead of lost
REACTIVATED_SHARE = 0.05  # lost leads with a reachable contact (≈ 4% of all lost) reactivated later …
REACTIVATED_AFTER_DAYS = (7, 120)  # … this long after being lost
RESUMED_SHARE = 0.15  # reactivated leads that move on to their next stage
RESUME_LAG_MEDIAN_DAYS = 3  # from reactivation to that next stage
LOST_REASONS_INVALID = {"invalid_contact": 0.5, "no_answer": 0.35, "not_interested": 0.1, "other": 0.05}
LOST_REASONS_VALID = {"no_answer": 0.15, "bought_elsewhere": 0.3, "budget": 0.2, "not_interested": 0.27, "other": 0.08}
RESPONSE_MEDIAN_MINUTES = 20  # dealers' first response to a dispatched lead
RESPONSE_SLOWER_BY_GRADE = np.array([0.8, 1.0, 1.4])  # 4S / urban / satellite
MAX_RESPONSE_MINUTES = 2_880  # first responses are capped at two days


def _lag_valid(rng: np.random.Generator, n: int) -> np.ndarray:
    """Lead → valid: minutes to two days (DCC cleansing), in days."""
    return np.clip(rng.lognormal(np.log(3 / 24), 1.1, n), 5 / 1440, 2.0)


def _lag_visit(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid → store visit: lognormal, median 5 days."""
    return np.clip(rng.lognormal(np.log(5), 0.75, n), 0.05, 45)


def _lag_test_drive(rng: np.random.Generator, n: int) -> np.ndarray:
    """Visit → test drive: often the same day, else within a week."""
    return np.where(rng.random(n) < 0.55, rng.uniform(0.01, 0.12, n), rng.uniform(1, 7, n))


def _lag_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """Test drive → order: lognormal, median 10 days, at most 60."""
    return np.clip(rng.lognormal(np.log(10), 0.7, n), 0.05, 60)


def _lag_delivery(rng: np.random.Generator, n: int) -> np.ndarray:
    """Order → delivery: 7 to 60 days."""
    return rng.uniform(7, 60, n)


STAGE_LAGS = (_lag_valid, _lag_visit, _lag_test_drive, _lag_order, _lag_delivery)  # by stage left

# ---------------------------------------------------------------- personal data (fake, hashed, masked)

MOBILE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153,
                            155, 156, 157, 158, 159, 166, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184,
                            185, 186, 187, 188, 189, 191, 198, 199])  # mainland mobile number prefixes
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
NAMELESS_SHARE = 0.08  # leads and members who left no name

# ---------------------------------------------------------------- members and points

MEMBER_TIERS = (  # code, name zh/en, minimum growth value, benefits zh/en
    ("normal", "普通会员", "Member", 0, "积分商城兑换、会员日活动", "Points mall, member-day events"),
    ("silver", "银卡会员", "Silver", 1_000, "生日礼、积分商城9.5折", "Birthday gift, 5% off in the points mall"),
    ("gold", "金卡会员", "Gold", 5_000, "每年4次免费精洗、专属客服", "4 free car washes a year, a dedicated service line"),
    ("platinum", "铂金会员", "Platinum", 20_000, "保养工时8折、新车优先试驾", "20% off labour hours, priority test drives"),
    ("black", "黑金会员", "Black Gold", 50_000, "机场贵宾厅、年度车主盛典席位", "Airport lounges, a seat at the annual owners' gala"),
    ("diamond", "钻石会员", "Diamond", 100_000, "专属管家、全年免费保养", "A personal concierge, a year of free maintenance"),
)
POINTS_RULES = (  # code, name zh/en, points, per ('yuan' or 'action'), daily cap (benchmarks: domain.md)
    ("spend", "消费积分", "Spend ¥1 = 1 point", 1, "yuan", 10_000),
    ("check_in", "每日签到", "Daily check-in", 5, "action", 5),
    ("content_post", "发布内容", "Content post", 50, "action", 150),
    ("event_attended", "参加活动", "Event attended", 100, "action", None),
    ("referral_sale", "推荐购车成交", "Referral that closes a sale", 200, "action", None),
    ("service_review", "服务评价", "Service review", 20, "action", 20),
    ("maintenance_visit", "回厂保养", "Maintenance visit", 100, "action", None),
)
RULE_INDEX = {rule[0]: index for index, rule in enumerate(POINTS_RULES)}  # rule code → index (id - 1)
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
POINTS_CNY_PER_POINT = 0.01  # exchange rate: 100 points = ¥1
POINTS_BUDGET_SLACK = (1.05, 1.2)  # a year's points budget / the value of the points issued that year
OWNER_SHARE = 0.35  # members who own a car (they join on purchase)
FANS_WITHOUT_DEALER = 0.4  # non-owner members not tied to a dealer
PURCHASE_SPEND = 10_000  # points for a car purchase: the spend rule's daily cap
LOT_MONTHS = 12  # points expire this many months after they are earned
RULE_POINTS = {rule[0]: rule[3] for rule in POINTS_RULES}  # rule code → points per action (per ¥ for spend)
CHECK_IN_BURSTS_PER_YEAR = 1.0  # streaks of daily check-ins per member-year (× activity) …
CHECK_IN_STREAK = (0.2, 30)  # … geometric length: success probability, longest streak (days)
EARN_RATES = {  # events per member-year (fan, owner), × the member's activity
    "content_post": (2.0, 2.0), "event_attended": (0.8, 1.2), "referral_sale": (0.0, 0.1), "service_review": (0.0, 1.5),
}
MAINTENANCE_PER_YEAR = 2.0  # owners' maintenance visits (visit points + spend points on the bill)
MAINTENANCE_BILL = (900, 0.6)  # CNY: lognormal median and sigma
ACCESSORIES_PER_YEAR = 0.6  # owners' accessory purchases per year (× activity)
ACCESSORY_BILL = (1_500, 1.2)  # CNY: lognormal median and sigma
REDEMPTIONS_PER_YEAR = (1.0, 2.0)  # redemption wishes per member-year (fan, owner), × activity
ADJUSTS_PER_YEAR = (0.003, 0.002)  # manual corrections per member-year: positive (10–500), negative (10–300)
CAMPAIGN_TAGGED_POSTS = 0.5  # posts during a campaign that carry its hashtag

# ---------------------------------------------------------------- campaigns

Window = tuple[dt.date, dt.date, dt.date, dt.date]  # start, end, peak start, peak end


class CampaignTemplate(NamedTuple):
    """A campaign the team runs every year, placed by that year's nodes."""

    key: str
    name: str
    hashtag: str
    type: str
    objective: str
    window: Callable[[int, dict[str, tuple[dt.date, dt.date]]], Window | None]
    channels: tuple[str, ...]
    region: str | None = None  # None: national
    model: str | None = None
    lift: float = 1.0  # how strongly it lifts its channels' leads


def _d(year: int, month: int, day: int) -> dt.date:
    """A date (short alias for the template table)."""
    return dt.date(year, month, day)


def _around(window: tuple[dt.date, dt.date] | None, before: int, after: int) -> Window | None:
    """A campaign from `before` days before a node to `after` days after it, peaking on the node."""
    if window is None:
        return None
    return window[0] - dt.timedelta(days=before), window[1] + dt.timedelta(days=after), window[0], window[1]


def _lucky_box(year: int, nodes: dict[str, tuple[dt.date, dt.date]]) -> Window:
    """年货节 to the end of the 春节 holiday, peaking in 年货节's last week."""
    nianhuo, festival = nodes["nianhuo"], nodes["spring_festival"]
    return nianhuo[0], festival[1], nianhuo[1] - dt.timedelta(days=6), nianhuo[1]


def _mid_autumn(year: int, nodes: dict[str, tuple[dt.date, dt.date]]) -> Window:
    """Two weeks before 中秋 to three days after, peaking in its last three days."""
    day = nodes["mid_autumn"][0]
    return day - dt.timedelta(days=14), day + dt.timedelta(days=3), day - dt.timedelta(days=3), day


CAMPAIGN_TEMPLATES: tuple[CampaignTemplate, ...] = (  # the yearly plan (benchmark: 7 e-commerce + launches)
    CampaignTemplate("lucky_box", "新春福袋·年货节", "#新春福袋#", "ecommerce", "conversion", _lucky_box,
                     ("tmall", "jd", "douyin", "kuaishou", "wechat")),
    CampaignTemplate("spring_trip", "春季自驾季·心愿路书", "#心愿路书#", "festival", "leads",
                     lambda y, n: (_d(y, 3, 15), _d(y, 4, 30), _d(y, 4, 1), _d(y, 4, 7)),
                     ("douyin", "xiaohongshu", "autohome", "dongchedi", "baidu"), lift=0.8),
    CampaignTemplate("beijing_show", "北京车展·新车品鉴", "#北京车展#", "auto_show", "awareness",
                     lambda y, n: _around(n.get("beijing_auto_show"), 14, 7),
                     ("offline", "autohome", "dongchedi", "yiche", "douyin"), lift=1.2),
    CampaignTemplate("shanghai_show", "上海车展·新车品鉴", "#上海车展#", "auto_show", "awareness",
                     lambda y, n: _around(n.get("shanghai_auto_show"), 14, 7),
                     ("offline", "autohome", "dongchedi", "yiche", "douyin"), lift=1.2),
    CampaignTemplate("owners_gala", "年度车主嘉年华", "#车主嘉年华#", "owner_event", "awareness",
                     lambda y, n: (_d(y, 5, 9), _d(y, 5, 20), _d(y, 5, 16), _d(y, 5, 17)),
                     ("wechat", "official"), lift=0.5),
    CampaignTemplate("shopping_618", "618焕新季", "#618焕新季#", "ecommerce", "leads",
                     lambda y, n: (_d(y, 5, 20), _d(y, 6, 25), n["jd618"][0], n["jd618"][1]),
                     ("tmall", "jd", "douyin", "baidu", "autohome", "wechat")),
    CampaignTemplate("summer_drive_south", "华南夏日试驾季", "#夏日试驾季#", "brand", "leads",
                     lambda y, n: (_d(y, 7, 1), _d(y, 7, 31), _d(y, 7, 15), _d(y, 7, 21)),
                     ("douyin", "dongchedi", "offline"), region="south", lift=0.8),
    CampaignTemplate("auto_818", "818汽车节", "#818汽车节#", "ecommerce", "leads",
                     lambda y, n: (_d(y, 8, 1), _d(y, 8, 25), _d(y, 8, 12), _d(y, 8, 18)),
                     ("autohome", "dongchedi", "yiche", "douyin", "tmall", "baidu")),
    CampaignTemplate("chengdu_show", "成都车展·西南区", "#成都车展#", "auto_show", "leads",
                     lambda y, n: _around(n["chengdu_auto_show"], 7, 3),
                     ("offline", "douyin", "dongchedi"), region="southwest", lift=1.3),
    CampaignTemplate("trail_camp", "山野越野营地", "#山野营地#", "owner_event", "awareness",
                     lambda y, n: (_d(y, 9, 12), _d(y, 9, 22), _d(y, 9, 19), _d(y, 9, 20)),
                     ("wechat", "xiaohongshu", "douyin"), model="HX-T9", lift=0.5),
    CampaignTemplate("roadshow_east", "华东城市巡展", "#华东城市巡展#", "brand", "leads",
                     lambda y, n: (_d(y, 9, 10), _d(y, 10, 20), _d(y, 10, 1), _d(y, 10, 7)),
                     ("offline", "douyin", "wechat"), region="east", lift=0.8),
    CampaignTemplate("mid_autumn", "中秋家宴", "#中秋家宴#", "festival", "conversion", _mid_autumn,
                     ("wechat", "douyin", "xiaohongshu", "jd", "official"), lift=0.8),
    CampaignTemplate("double11", "双11心动价", "#双11心动价#", "ecommerce", "conversion",
                     lambda y, n: (_d(y, 10, 20), _d(y, 11, 15), n["double11"][0], n["double11"][1]),
                     ("tmall", "jd", "douyin", "kuaishou", "baidu")),
    CampaignTemplate("guangzhou_show", "广州车展", "#广州车展#", "auto_show", "awareness",
                     lambda y, n: _around(n["guangzhou_auto_show"], 10, 5),
                     ("offline", "dongchedi", "autohome", "yiche", "douyin"), lift=1.2),
    CampaignTemplate("double12_live", "双12直播月", "#双12直播月#", "ecommerce", "leads",
                     lambda y, n: (_d(y, 12, 1), _d(y, 12, 31), _d(y, 12, 10), _d(y, 12, 12)),
                     ("douyin", "kuaishou", "wechat", "tmall", "jd")),
)
LAUNCH_CHANNELS = ("douyin", "autohome", "dongchedi", "baidu", "xiaohongshu", "wechat", "official")  # launch media
LAUNCH_WINDOW = (45, 44, 13)  # a launch campaign: days before launch, after launch, peak days after launch
LAUNCH_LIFT = 1.4  # launches lift their channels most
CAMPAIGN_NOTES = {  # offers and notes by campaign type (domain.md: typical offers)
    "ecommerce": "权益：¥9.9 抵 ¥2,000 购车券；¥99 预订享优先提车；旗舰店与抖音直播间同步上线。",
    "launch": "节奏：蓄水 → 预售 → 上市爆发 → 口碑扩散；¥1 试驾，¥1,000 定金抵 ¥5,000。",
    "festival": "节日主题内容 + 到店礼；¥1 试驾，留资即送节日礼盒。",
    "auto_show": "展台直播 + 垂媒专题；到展留资抽奖，展期订车享展会专享价。",
    "owner_event": "车主专属活动，提前 45 天发布报名；参与即得 100 积分。",
    "brand": "城市巡展 + 经销商店头活动；¥1 试驾，到店有礼。",
}
REVIEW_CONCLUSIONS = (  # what reviews concluded (picked per reviewed campaign)
    "直播间留资效率高于信息流，预售期蓄水决定爆发期上限",
    "垂媒留资质量最好，但成本偏高，需优化出价时段",
    "节点前一周投放效率最高，尾段延续期ROI明显下降",
    "经销商响应速度是有效率的关键，首响超过30分钟的线索有效率低10个百分点",
)
REVIEW_LESSONS = (  # lessons learned
    "下次提前两周锁定头部达人档期，预算向高ROI渠道倾斜",
    "线索清洗规则前置到表单，减少无效号码",
    "加强经销商直播排班，避免爆发日人手不足",
    "券核销链路需与门店系统打通，缩短到店转化周期",
)
REJECT_REASON = "预算超出总预算控制线：请压缩抖音投放比例，并补充线索与订单目标的测算依据。"  # the demo rejection
CANCEL_COMMENT = "经销商资源调整，活动取消，预算回收至总预算池。"  # the demo cancellations
CANCELLED_CAMPAIGNS = (("summer_drive_south", 0), ("trail_camp", -1))  # (template, year: 0 = first, -1 = next)
REJECTED_CAMPAIGN = ("spring_trip", -1)  # rejected back to draft
REVIEWED_SHARE = 0.8  # campaigns that got a written review once finished

# ---------------------------------------------------------------- bulk writes (the one dialect-specific place)

CORE_INSERT_BATCH = 10_000  # rows per executemany on dialects without a bulk path (MySQL)


def _quoted(conn: Connection, name: str) -> str:
    """An identifier quoted for this connection's dialect."""
    return conn.dialect.identifier_preparer.quote(name)


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Insert many rows fast: executemany on SQLite, COPY on PostgreSQL, Core executemany elsewhere."""
    names = ", ".join(_quoted(conn, column) for column in columns)
    target = f"{_quoted(conn, table.name)} ({names})"
    dialect = conn.dialect.name
    if dialect == "sqlite":
        with closing(conn.connection.dbapi_connection.cursor()) as cursor:
            cursor.executemany(f"INSERT INTO {target} VALUES ({', '.join('?' * len(columns))})", rows)
            return cursor.rowcount
    count = 0
    if dialect == "postgresql":
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    rows = iter(rows)
    while batch := [dict(zip(columns, row)) for row in islice(rows, CORE_INSERT_BATCH)]:
        conn.execute(insert(table), batch)
        count += len(batch)
    return count


@contextmanager
def indexes_dropped(conn: Connection, table: Table) -> Iterator[None]:
    """Drop a table's secondary indexes for a bulk load and build them again afterwards (SQLite and
    PostgreSQL; MySQL keeps them, as its foreign keys need them)."""
    if conn.dialect.name not in ("sqlite", "postgresql"):
        yield
        return
    indexes = sorted(table.indexes, key=lambda index: index.name)
    for index in indexes:
        index.drop(conn, checkfirst=True)
    yield
    for index in indexes:
        index.create(conn, checkfirst=True)


def reset_sequences(conn: Connection) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them (a no-op elsewhere)."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement is not False:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:table, 'id'), max(id)) FROM {_quoted(conn, table.name)}"),
                         {"table": table.name})


def _set_sqlite_foreign_keys(conn: Connection, on: bool) -> None:
    """Switch SQLite's foreign-key checks (only takes effect outside a transaction)."""
    conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    conn.commit()


def delete_all_rows(engine: Engine) -> None:
    """Empty every table, children before parents: one TRUNCATE on PostgreSQL; on SQLite with the
    foreign-key checks paused meanwhile, which lets it truncate tables instead of deleting row by row."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            with conn.begin():
                conn.execute(text("TRUNCATE TABLE " + ", ".join(_quoted(conn, table.name) for table in tables)))
            return
        if dialect == "sqlite":
            _set_sqlite_foreign_keys(conn, on=False)
        try:
            with conn.begin():
                for table in tables:
                    conn.execute(table.delete())
        finally:
            if dialect == "sqlite":
                _set_sqlite_foreign_keys(conn, on=True)


def _first_table_with_rows(conn: Connection) -> str | None:
    """The name of the first table that holds any row, or None when the database is empty."""
    for table in Base.metadata.sorted_tables:
        if conn.execute(select(table).limit(1)).first() is not None:
            return table.name
    return None


def _row_counts(conn: Connection) -> dict[str, int]:
    """Rows per table."""
    return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables}


def _rows(*columns: np.ndarray | list, chunk: int = 100_000) -> Iterator[tuple]:
    """Row tuples (plain Python values) zipped from column arrays, converted a chunk at a time."""
    size = len(columns[0])
    for first in range(0, size, chunk):
        yield from zip(*(np.asarray(column[first:first + chunk]).tolist() if isinstance(column, np.ndarray)
                         else column[first:first + chunk] for column in columns))


# ---------------------------------------------------------------- small generic helpers


def _rng(seed: int, stream: str) -> np.random.Generator:
    """The generator of one step: independent of every other step's draws."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def _choose_grouped(rng: np.random.Generator, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """For each item, a column index drawn with its group's row of `weights` (G × K, each row > 0)."""
    cumulative = np.cumsum(weights, axis=1)
    cumulative = cumulative / cumulative[:, -1:]
    flat = (cumulative + np.arange(len(weights))[:, None]).ravel()
    picks = np.searchsorted(flat, groups + rng.random(len(groups)), side="right") - groups * weights.shape[1]
    return np.minimum(picks, weights.shape[1] - 1)


def _apportion(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Split `total` into integer parts ∝ weights, each at least `minimum` (largest remainders)."""
    spare = total - minimum * len(weights)
    exact = spare * weights / weights.sum()
    parts = np.floor(exact).astype(int)
    leftovers = np.argsort(-(exact - parts), kind="stable")[: spare - parts.sum()]
    parts[leftovers] += 1
    return parts + minimum


def _text(value: dt.date | dt.datetime) -> str:
    """A date or timestamp in the text form SQLAlchemy stores on SQLite (PostgreSQL parses it too)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


@lru_cache(maxsize=1)
def _times_of_day() -> np.ndarray:
    """'HH:MM:SS.000000' for every second of a day."""
    return np.array([f" {h:02d}:{m:02d}:{s:02d}.000000" for h in range(24) for m in range(60) for s in range(60)],
                    dtype=object)


def _within_hours(seconds: np.ndarray, hours: tuple[float, float]) -> np.ndarray:
    """Move each time into the day's working hours, keeping the order of times within a day."""
    day, second = np.divmod(seconds, SECONDS_PER_DAY)
    opening, closing = hours
    return day * SECONDS_PER_DAY + (opening * 3600 + second * (closing - opening) / 24).astype(np.int64)


def _fake_people(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Fake people: sha256 of a fake mobile number, the masked number (138****5678), masked name (张*)."""
    prefix = rng.integers(len(MOBILE_PREFIXES), size=n)
    middle = rng.integers(10_000, size=n)
    last4 = rng.integers(10_000, size=n)
    numbers = (MOBILE_PREFIXES[prefix] * 10**8 + middle * 10**4 + last4).astype(str).tolist()
    hashes = [hashlib.sha256(number.encode()).hexdigest() for number in numbers]
    prefix_text = np.array([f"{p}****" for p in MOBILE_PREFIXES], dtype=object)
    last4_text = np.array([f"{i:04d}" for i in range(10_000)], dtype=object)
    masked = prefix_text[prefix] + last4_text[last4]
    surname_weights = 1 / np.arange(1, len(SURNAMES) + 1) ** 0.8
    surnames = np.array([f"{s}*" for s in SURNAMES], dtype=object)
    names = surnames[rng.choice(len(SURNAMES), size=n, p=surname_weights / surname_weights.sum())]
    names[rng.random(n) < NAMELESS_SHARE] = None
    return hashes, masked, names


def _nullable(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """An object array with None where `present` is False."""
    result = values.astype(object)
    result[~present] = None
    return result


# ---------------------------------------------------------------- the world being built


@dataclass
class World:
    """What the steps generate and later steps build on."""

    scale: Scale
    seed: int
    start: dt.date  # first day of the history (day index 0)
    today: dt.date
    region_codes: list[str] = field(default_factory=list)  # by region index (id - 1)
    users: dict[str, int] = field(default_factory=dict)  # username → id
    dealers: dict[str, np.ndarray] = field(default_factory=dict)  # column → array, by dealer index (id - 1)
    dealer_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (month × region, dealer)
    campaigns: list[CampaignPlan] = field(default_factory=list)  # by campaign index (id - 1)
    expected: np.ndarray = field(default_factory=lambda: np.zeros(0))  # leads per (plan day, channel, region)
    cell_campaign: np.ndarray = field(default_factory=lambda: np.zeros(0))  # campaign index per cell, -1: none
    leads: dict[str, np.ndarray] = field(default_factory=dict)  # column → array, by lead index (id - 1)
    points_issued: dict[int, int] = field(default_factory=dict)  # seeded year → points earned that year

    @property
    def plan_end(self) -> dt.date:
        """Plans (nodes, campaigns, targets) run to the end of next year."""
        return dt.date(self.today.year + 1, 12, 31)

    @property
    def history_days(self) -> int:
        """Days from the start to today, both included."""
        return (self.today - self.start).days + 1

    @property
    def plan_days(self) -> int:
        """Days from the start to the end of the plans."""
        return (self.plan_end - self.start).days + 1

    @property
    def now_end(self) -> int:
        """The end of today, in seconds since the start."""
        return self.history_days * SECONDS_PER_DAY

    @property
    def seeded_years(self) -> list[int]:
        """The years with history."""
        return list(range(self.start.year, self.today.year + 1))

    @property
    def plan_years(self) -> list[int]:
        """The seeded years and the next one."""
        return [*self.seeded_years, self.today.year + 1]

    def index(self, day: dt.date) -> int:
        """Day index of a date."""
        return (day - self.start).days

    def day_months(self, days: np.ndarray) -> np.ndarray:
        """Month index (0 = the start's month) of day indexes."""
        dates = np.datetime64(self.start, "D") + days
        return (dates.astype("datetime64[M]") - np.datetime64(self.start, "M")).astype(np.int64)

    @property
    def plan_months(self) -> int:
        """Months from the start to the end of the plans."""
        return len(self.plan_years) * 12

    def day_texts(self, days: np.ndarray) -> np.ndarray:
        """'YYYY-MM-DD' of day indexes (sharing one string per distinct day)."""
        first = int(days.min(initial=0))
        lookup = np.datetime_as_string(np.datetime64(self.start, "D") + np.arange(first, days.max(initial=0) + 1), unit="D")
        return lookup.astype(object)[days - first]

    def timestamp_texts(self, seconds: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
        """Timestamp texts of seconds since the start (None where not present)."""
        present = np.ones(len(seconds), bool) if present is None else present
        seconds = np.where(present, seconds, 0)
        day, second = np.divmod(seconds, SECONDS_PER_DAY)
        lookup = self.day_texts(np.arange(day.max(initial=0) + 1))
        return _nullable(lookup[day] + _times_of_day()[second], present)

    def at(self, day: dt.date, hour: float) -> dt.datetime:
        """A timestamp on a day at a (fractional) hour, to the minute."""
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=round(hour * 60))


@dataclass
class CampaignPlan:
    """One campaign: dates, phases and channels; budget, KPIs and history filled in later."""

    key: str
    year: int
    name: str
    hashtag: str
    type: str
    objective: str
    start: dt.date
    end: dt.date
    phases: list[tuple[str, dt.date, dt.date]]
    channels: list[int]  # channel indexes
    region: int | None  # region index; None: national
    model: int | None  # model index
    lift: float
    owner: str = ""
    steps: list[tuple[str | None, str, str, dt.datetime, str | None]] = field(default_factory=list)
    reject_reason: str | None = None
    budget_lines: dict[int, float] = field(default_factory=dict)  # channel index → CNY
    budget_total: float = 0.0
    kpis: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The status after the last step."""
        return self.steps[-1][1]

    @property
    def happens(self) -> bool:
        """Not cancelled: runs (or will run) and lifts its channels."""
        return self.status != "cancelled"


# ---------------------------------------------------------------- step: geography and catalogue


def _read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV under data/."""
    with open(DATA_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def seed_geography(conn: Connection, world: World) -> None:
    """Regions, provinces and cities from data/*.csv."""
    regions = sorted(_read_csv("regions.csv"), key=lambda row: int(row["sort_order"]))
    world.region_codes = [row["code"] for row in regions]
    region_id = {code: index + 1 for index, code in enumerate(world.region_codes)}
    bulk_insert(conn, Region.__table__, ("id", "code", "name_zh", "name_en", "sort_order"),
                [(region_id[r["code"]], r["code"], r["name_zh"], r["name_en"], int(r["sort_order"])) for r in regions])
    provinces = _read_csv("provinces.csv")
    bulk_insert(conn, Province.__table__, ("adcode", "name_zh", "short_zh", "name_en", "region_id", "lon", "lat", "has_dealers"),
                [(int(p["adcode"]), p["name_zh"], p["short_zh"], p["name_en"], region_id[p["region_code"]],
                  float(p["lon"]), float(p["lat"]), p["has_dealers"] == "1") for p in provinces])
    cities = _read_csv("cities.csv")
    bulk_insert(conn, City.__table__, ("id", "adcode", "name_zh", "name_en", "province_adcode", "tier", "lon", "lat"),
                [(index + 1, int(c["adcode"]), c["name_zh"], c["name_en"], int(c["province_adcode"]), c["tier"],
                  float(c["lon"]), float(c["lat"])) for index, c in enumerate(cities)])


def _launch_day(world: World, model: ModelSpec) -> dt.date:
    """The day a model was (or will be) launched."""
    return world.today - dt.timedelta(days=model.age_days)


def seed_catalogue(conn: Connection, world: World) -> None:
    """Vehicle models, channels, member tiers, points rules and rewards."""
    bulk_insert(conn, VehicleModel.__table__,
                ("id", "code", "name_zh", "name_en", "segment", "powertrain", "msrp", "launched_on", "active"),
                [(i + 1, m.code, m.name_zh, m.name_en, m.segment, m.powertrain, float(m.msrp), _text(_launch_day(world, m)), True)
                 for i, m in enumerate(VEHICLE_MODELS)])
    bulk_insert(conn, Channel.__table__, ("id", "code", "name_zh", "name_en", "family", "sort_order", "active"),
                [(i + 1, c.code, c.name_zh, c.name_en, c.family, i + 1, True) for i, c in enumerate(CHANNELS)])
    bulk_insert(conn, MemberTier.__table__, ("id", "code", "name_zh", "name_en", "min_growth", "benefits_zh", "benefits_en"),
                [(i + 1, *tier) for i, tier in enumerate(MEMBER_TIERS)])
    bulk_insert(conn, PointsRule.__table__, ("id", "code", "name_zh", "name_en", "points", "per", "daily_cap", "active", "version"),
                [(i + 1, *rule, True, 1) for i, rule in enumerate(POINTS_RULES)])
    bulk_insert(conn, Reward.__table__, ("id", "code", "name_zh", "name_en", "category", "points_cost", "cash_value", "active", "version"),
                [(i + 1, *reward[:5], float(reward[5]), True, 1) for i, reward in enumerate(REWARDS)])


# ---------------------------------------------------------------- step: dealers


def _city_short_name(name: str) -> str:
    """A city's name as used in dealer names: 成都市 → 成都, 延边朝鲜族自治州 → 延边."""
    if "族" in name:
        return ETHNIC_NAME_PART.split(name)[0]
    return CITY_NAME_SUFFIX.sub("", name)


def _dealer_names(rng: np.random.Generator, city_names: list[str], grades: np.ndarray) -> list[str]:
    """'<city><word><grade suffix>' names, distinct within a city."""
    names, used = [], {}
    offset = int(rng.integers(len(DEALER_WORDS)))
    for city, grade in zip(city_names, grades.tolist()):
        count = used.get(city, 0)
        used[city] = count + 1
        word = DEALER_WORDS[(offset + count) % len(DEALER_WORDS)]
        repeat = "" if count < len(DEALER_WORDS) else str(count // len(DEALER_WORDS) + 1)
        names.append(f"{_city_short_name(city)}{word}{repeat}{GRADE_NAME_SUFFIX[grade]}")
    return names


def _douyin_tiers(rng: np.random.Generator, city_weight: np.ndarray) -> np.ndarray:
    """Douyin account tier index per dealer: the top 1% head, the next 19% middle (bigger cities rank higher)."""
    score = city_weight * rng.lognormal(0, 1.0, len(city_weight))
    rank = np.argsort(np.argsort(-score, kind="stable"), kind="stable")
    head, middle = (round(share * len(score)) for share in DOUYIN_TIER_SHARES)
    return np.where(rank < head, 0, np.where(rank < head + max(middle, 1), 1, 2))


def _dealer_cities(rng: np.random.Generator, world: World, provinces: list[dict[str, str]],
                   cities: list[dict[str, str]]) -> np.ndarray:
    """City row index of each dealer: provinces by economic weight, cities by tier; sorted by city."""
    weights = np.array([PROVINCE_ECONOMIC_WEIGHT[int(p["adcode"])] for p in provinces])
    per_province = _apportion(world.scale.dealers, weights, minimum=max(1, world.scale.dealers // DEALERS_PER_GUARANTEED))
    picked = []
    for province, count in zip(provinces, per_province):
        options = np.array([i for i, c in enumerate(cities) if c["province_adcode"] == province["adcode"]])
        tier_weight = np.array([CITY_TIER_WEIGHT[cities[i]["tier"]] for i in options])
        picked.extend(options[rng.choice(len(options), size=count, p=tier_weight / tier_weight.sum())])
    return np.sort(np.array(picked))


def _dealer_lifetimes(rng: np.random.Generator, world: World, province: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Opening day and closing day (day indexes; closed dealers are inactive) of each dealer.

    The first dealer of each province opened before the history and stays open, so every region
    always has a dealer to dispatch leads to."""
    n = len(province)
    first_of_province = np.r_[True, province[1:] != province[:-1]]
    span_before = (world.start - FIRST_DEALER_OPENING).days - 30
    opened = np.where((rng.random(n) < DEALERS_OPENED_IN_HISTORY) & ~first_of_province,
                      rng.integers(0, max(world.history_days - 30, 1), n), -30 - rng.integers(0, span_before, n))
    closed = np.full(n, world.plan_days + 1)
    inactive = (rng.random(n) < DEALERS_INACTIVE) & (opened < 0) & ~first_of_province
    closed[inactive] = rng.integers(world.history_days // 3, world.history_days - 30, inactive.sum())
    return opened, closed


def seed_dealers(conn: Connection, world: World) -> None:
    """Dealers spread by economic weight over provinces and by tier over their cities."""
    rng = _rng(world.seed, "dealers")
    provinces = [p for p in _read_csv("provinces.csv") if p["has_dealers"] == "1"]
    region_of = {p["adcode"]: world.region_codes.index(p["region_code"]) for p in provinces}
    cities = _read_csv("cities.csv")
    city = _dealer_cities(rng, world, provinces, cities)
    n = len(city)
    tiers = [cities[i]["tier"] for i in city]
    grade = np.array([rng.choice(len(DEALER_GRADES), p=GRADE_MIX_BY_TIER[tier]) for tier in tiers])
    region = np.array([region_of[cities[i]["province_adcode"]] for i in city])
    province = np.array([int(cities[i]["province_adcode"]) for i in city])
    opened, closed = _dealer_lifetimes(rng, world, province)
    jitter = rng.uniform(-DEALER_JITTER_DEGREES, DEALER_JITTER_DEGREES, (n, 2))
    douyin = _douyin_tiers(rng, np.array([CITY_TIER_WEIGHT[t] for t in tiers]))
    world.dealers = {"region": region, "province": province, "grade": grade, "opened": opened, "closed": closed, "douyin": douyin}
    world.dealer_weight = _dealer_weight(world)
    bulk_insert(conn, Dealer.__table__, ("id", "code", "name", "city_id", "province_adcode", "region_id", "lat", "lon",
                                         "grade", "opened_on", "active", "douyin_tier", "version"),
                _rows(np.arange(1, n + 1), [f"DLR{i:04d}" for i in range(1, n + 1)],
                      _dealer_names(rng, [cities[i]["name_zh"] for i in city], grade), city + 1, province, region + 1,
                      np.round([float(cities[i]["lat"]) for i in city] + jitter[:, 0], 5),
                      np.round([float(cities[i]["lon"]) for i in city] + jitter[:, 1], 5),
                      np.array(DEALER_GRADES, dtype=object)[grade], world.day_texts(opened), closed > world.plan_days,
                      np.array(DOUYIN_TIERS, dtype=object)[douyin], np.ones(n, int)))


def _dealer_weight(world: World) -> np.ndarray:
    """Lead-dispatch weight of each dealer per (month, region): by grade, while open."""
    dealers = world.dealers
    month_start = np.array([world.index(dt.date(world.start.year + m // 12, m % 12 + 1, 1)) for m in range(world.plan_months)])
    open_then = (dealers["opened"][None, :] <= month_start[:, None]) & (dealers["closed"][None, :] > month_start[:, None])
    in_region = dealers["region"][None, :] == np.arange(len(world.region_codes))[:, None]
    weight = open_then[:, None, :] * in_region[None, :, :] * GRADE_LEAD_WEIGHT[dealers["grade"]][None, None, :]
    return weight.reshape(world.plan_months * len(world.region_codes), -1)


# ---------------------------------------------------------------- step: users and nodes


def seed_users(conn: Connection, world: World) -> None:
    """The demo accounts and the extra campaign managers, through the users service."""
    accounts = [(a.username, a.display_name, a.role, a.password, a.region_code) for a in DEMO_ACCOUNTS]
    accounts += [(name, display, "campaign_manager", secrets.token_urlsafe(16), None) for name, display in EXTRA_CAMPAIGN_MANAGERS]
    for username, display_name, role, password, region_code in accounts:
        world.users[username] = create_user(conn, username=username, display_name=display_name, role=role,
                                            password=password, region_code=region_code, actor="seed")
    created = world.at(world.start - dt.timedelta(days=150), 9)  # accounts predate the first plans
    conn.execute(update(AppUser).where(AppUser.id.in_(list(world.users.values()))).values(created_at=created))


def _year_nodes(year: int) -> dict[str, tuple[dt.date, dt.date]]:
    """A year's nodes: code → (start, end)."""
    return {node["code"]: (node["start_date"], node["end_date"]) for node in nodes_for_year(year)}


def seed_nodes(conn: Connection, world: World) -> None:
    """The marketing nodes of every seeded year and the next."""
    nodes = [node for year in world.plan_years for node in nodes_for_year(year)]
    bulk_insert(conn, MarketingNode.__table__, ("id", "code", "name_zh", "name_en", "kind", "start_date", "end_date"),
                [(i + 1, n["code"], n["name_zh"], n["name_en"], n["kind"], _text(n["start_date"]), _text(n["end_date"]))
                 for i, n in enumerate(nodes)])


# ---------------------------------------------------------------- step: campaigns (plans, expected volume, budgets)


def _phases(start: dt.date, end: dt.date, peak_start: dt.date, peak_end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Warm-up and pre-sale split the days before the peak; spread follows it."""
    phases = []
    before = (peak_start - start).days
    if before >= 2:
        phases.append(("warmup", start, start + dt.timedelta(days=before // 2 - 1)))
    if before >= 1:
        phases.append(("presale", peak_start - dt.timedelta(days=before - before // 2), peak_start - dt.timedelta(days=1)))
    phases.append(("peak", peak_start, peak_end))
    if end > peak_end:
        phases.append(("spread", peak_end + dt.timedelta(days=1), end))
    return phases


def _plan_campaigns(world: World) -> list[CampaignPlan]:
    """Every campaign of the seeded years and the next: the yearly templates and the model launches."""
    region_index = {code: index for index, code in enumerate(world.region_codes)}
    model_index = {model.code: index for index, model in enumerate(VEHICLE_MODELS)}
    plans = []
    for year in world.plan_years:
        nodes = _year_nodes(year)
        for t in CAMPAIGN_TEMPLATES:
            window = t.window(year, nodes)
            if window is not None:
                plans.append(CampaignPlan(
                    t.key, year, f"{year} {t.name}", t.hashtag, t.type, t.objective, window[0], window[1],
                    _phases(*window), [CHANNEL_INDEX[c] for c in t.channels],
                    None if t.region is None else region_index[t.region],
                    None if t.model is None else model_index[t.model], t.lift))
    before, after, peak = LAUNCH_WINDOW
    for index, model in enumerate(VEHICLE_MODELS):
        launch = _launch_day(world, model)
        if world.start <= launch <= world.plan_end:
            window = (launch - dt.timedelta(days=before), launch + dt.timedelta(days=after), launch, launch + dt.timedelta(days=peak))
            plans.append(CampaignPlan(
                f"launch_{model.code}", launch.year, f"{model.name_zh} 上市", f"#{model.name_zh.split()[0]}上市#", "launch",
                "leads", window[0], window[1], _phases(*window), [CHANNEL_INDEX[c] for c in LAUNCH_CHANNELS], None, index,
                LAUNCH_LIFT))
    plans.sort(key=lambda plan: (plan.start, plan.key))
    for number, plan in enumerate(plans):
        plan.owner = CAMPAIGN_OWNERS[number % len(CAMPAIGN_OWNERS)]
    return plans


def _uniform_days(rng: np.random.Generator, low: float, high: float) -> dt.timedelta:
    """A random whole number of days in [low, high]."""
    return dt.timedelta(days=int(rng.integers(low, high + 1)))


def _campaign_history(rng: np.random.Generator, world: World, plan: CampaignPlan) -> None:
    """The plan's life-cycle steps up to the end of today (draft → … → reviewed, or a demo rejection/cancellation)."""
    today, owner = world.today, plan.owner
    created_day = plan.start - _uniform_days(rng, 45, 75)  # planned at least 45 days ahead
    if created_day > today - dt.timedelta(days=5):
        created_day = today - _uniform_days(rng, 5, 40)  # next year's plans were drafted lately
    created = world.at(created_day, rng.uniform(9, 18))
    which = (plan.key, 0 if plan.year == world.start.year else -1 if plan.year == world.today.year + 1 else None)
    if which == REJECTED_CAMPAIGN:
        created = world.at(today - dt.timedelta(days=30), 10)
        plan.reject_reason = REJECT_REASON
        plan.steps = [(None, "draft", owner, created, "新建方案"),
                      ("draft", "submitted", owner, created + dt.timedelta(days=9, hours=4), "提交审批"),
                      ("submitted", "draft", APPROVER, created + dt.timedelta(days=12, hours=6), REJECT_REASON)]
        return
    submitted = max(created + _uniform_days(rng, 1, 6), world.at(plan.start - _uniform_days(rng, 60, 80), 10)) \
        + dt.timedelta(hours=float(rng.uniform(0, 7)))
    approved = submitted + _uniform_days(rng, 1, 4) + dt.timedelta(hours=float(rng.uniform(0, 2)))
    steps = [(None, "draft", owner, created, "新建方案"), ("draft", "submitted", owner, submitted, "提交审批"),
             ("submitted", "approved", APPROVER, approved, "同意，按总预算控制线执行")]
    if which in CANCELLED_CAMPAIGNS:
        cancelled = min(world.at(plan.start - dt.timedelta(days=5), 11), world.at(today, 9))
        steps = [step for step in steps if step[3] < cancelled]
        steps.append((steps[-1][1], "cancelled", APPROVER, cancelled, CANCEL_COMMENT))
    else:
        steps += [("approved", "running", owner, world.at(plan.start, 9), "活动上线"),
                  ("running", "completed", owner, world.at(plan.end + dt.timedelta(days=1), 9.5), "活动结束")]
        if rng.random() < REVIEWED_SHARE:
            steps.append(("completed", "reviewed", owner, world.at(plan.end + _uniform_days(rng, 10, 35), 15), "复盘已提交"))
    today_end = world.at(today + dt.timedelta(days=1), 0)
    plan.steps = [step for step in steps if step[3] < today_end]


def _days_between(world: World, first: dt.date, last: dt.date, limit: int) -> np.ndarray:
    """Day indexes from `first` to `last`, clipped to [0, limit)."""
    return np.arange(max(world.index(first), 0), min(world.index(last), limit - 1) + 1)


def _plan_regions(world: World, plan: CampaignPlan) -> list[int]:
    """Region indexes a campaign covers (all of them when national)."""
    return list(range(len(world.region_codes))) if plan.region is None else [plan.region]


def _plan_cells(world: World, plan: CampaignPlan) -> tuple[np.ndarray, list[int], list[int]]:
    """The campaign's cells as index lists (days, channels, regions) within the plan horizon."""
    return _days_between(world, plan.start, plan.end, world.plan_days), plan.channels, _plan_regions(world, plan)


def _campaign_lift(world: World, plans: list[CampaignPlan]) -> np.ndarray:
    """Multiplier on expected leads per (plan day, channel, region) from the campaigns that run."""
    lift = np.ones((world.plan_days, len(CHANNELS), len(world.region_codes)))
    channel_factor = np.where(np.arange(len(CHANNELS)) == OFFLINE, OFFLINE_EVENT_LIFT, 1.0)
    for plan in (p for p in plans if p.happens):
        for phase, first, last in plan.phases:
            factor = 1 + plan.lift * PHASE_LIFT[phase] * channel_factor[plan.channels]
            cells = np.ix_(_days_between(world, first, last, world.plan_days), plan.channels, _plan_regions(world, plan))
            lift[cells] *= factor[None, :, None]
    return lift


def _cell_campaigns(world: World, plans: list[CampaignPlan]) -> np.ndarray:
    """The campaign index owning each (plan day, channel, region) cell: regional before national, then latest start."""
    owner = np.full((world.plan_days, len(CHANNELS), len(world.region_codes)), -1, dtype=np.int32)
    ranked = sorted((i for i, p in enumerate(plans) if p.happens), key=lambda i: (plans[i].region is not None, plans[i].start, i))
    for index in ranked:
        owner[np.ix_(*_plan_cells(world, plans[index]))] = index
    return owner


def _day_factor(rng: np.random.Generator, world: World) -> np.ndarray:
    """National volume factor per plan day: growth, weekday, node-day spikes, 春节 dip, noise."""
    days = np.arange(world.plan_days)
    factor = YEARLY_GROWTH ** (days / DAYS_PER_YEAR) * WEEKDAY_FACTOR[(world.start.weekday() + days) % 7]
    factor *= rng.lognormal(0, DAILY_NOISE_SIGMA, world.plan_days)
    for year in world.plan_years:
        nodes = _year_nodes(year)
        for code, lift in NODE_DAY_LIFT.items():
            peak = world.index(nodes[code][1])
            if 0 <= peak < world.plan_days:
                factor[peak] *= lift
        eve, last = (world.index(day) for day in nodes["spring_festival"])
        dip_days, dip = PRE_FESTIVAL_DIP
        factor[max(eve - dip_days, 0):max(eve, 0)] *= dip
        factor[max(eve, 0):max(last + 1, 0)] *= SPRING_FESTIVAL_DIP
    return factor


def _expected_leads(rng: np.random.Generator, world: World, lift: np.ndarray) -> np.ndarray:
    """Expected leads per (plan day, channel, region), scaled to the scale's lead count over the history."""
    months = world.day_months(np.arange(world.plan_days))
    region_weight = world.dealer_weight.sum(axis=1).reshape(world.plan_months, -1)
    region_share = (region_weight / region_weight.sum(axis=1, keepdims=True))[months]
    channel_share = np.array([c.lead_share for c in CHANNELS])
    expected = _day_factor(rng, world)[:, None, None] * channel_share[None, :, None] * region_share[:, None, :] * lift
    return expected * (world.scale.leads / expected[:world.history_days].sum())


def _budget_and_kpis(rng: np.random.Generator, world: World, index: int) -> None:
    """Budget lines from the expected spend per channel of the cells the campaign owns (all its cells if
    cancelled), a reserve on top, KPI targets from the expected leads."""
    plan = world.campaigns[index]
    cells = np.ix_(*_plan_cells(world, plan))
    owned = world.cell_campaign[cells] == index if plan.happens else True
    leads = (world.expected[cells] * owned).sum(axis=(0, 2))
    cpl = np.array([c.cpl for c in CHANNELS])[plan.channels]
    lines = np.floor(leads * cpl * rng.uniform(*CAMPAIGN_BUDGET_SLACK, len(cpl)) / 1000) * 1000
    plan.budget_lines = {channel: max(float(amount), 1000.0) for channel, amount in zip(plan.channels, lines)}
    spend = sum(plan.budget_lines.values())
    plan.budget_total = float(np.ceil(spend / (1 - rng.uniform(*CAMPAIGN_RESERVE)) / 10_000) * 10_000)
    lead_target = max(round(float(leads.sum()) * rng.uniform(*CAMPAIGN_KPI_AMBITION)), 10)
    plan.kpis = {"leads": lead_target, "valid_leads": round(lead_target * VALID_RATE_TARGET),
                 "orders": round(lead_target * LEAD_TO_ORDER_TARGET), "cpl": round(spend / lead_target, 2), "spend": spend}


def seed_campaigns(conn: Connection, world: World) -> None:
    """Campaign plans with phases, budget lines, KPI targets and status history; sets the expected volume."""
    rng = _rng(world.seed, "campaigns")
    plans = _plan_campaigns(world)
    for plan in plans:
        _campaign_history(rng, world, plan)
    world.campaigns = plans
    world.expected = _expected_leads(_rng(world.seed, "volume"), world, _campaign_lift(world, plans))
    world.cell_campaign = _cell_campaigns(world, plans)
    for index in range(len(plans)):
        _budget_and_kpis(rng, world, index)
    model_ids = [None if p.model is None else p.model + 1 for p in plans]
    bulk_insert(conn, Campaign.__table__,
                ("id", "name", "hashtag", "type", "objective", "model_id", "region_id", "start_date", "end_date", "budget_total",
                 "status", "owner_id", "notes", "reject_reason", "review_text", "is_demo", "created_at", "updated_at", "version"),
                [(i + 1, p.name, p.hashtag, p.type, p.objective, model_ids[i], None if p.region is None else p.region + 1,
                  _text(p.start), _text(p.end), p.budget_total, p.status, world.users[p.owner], CAMPAIGN_NOTES[p.type],
                  p.reject_reason, None, True, _text(p.steps[0][3]), _text(p.steps[-1][3]), 1) for i, p in enumerate(plans)])
    bulk_insert(conn, CampaignPhase.__table__, ("campaign_id", "phase", "start_date", "end_date"),
                [(i + 1, phase, _text(first), _text(last)) for i, p in enumerate(plans) for phase, first, last in p.phases])
    bulk_insert(conn, CampaignBudgetLine.__table__, ("campaign_id", "channel_id", "amount"),
                [(i + 1, channel + 1, amount) for i, p in enumerate(plans) for channel, amount in p.budget_lines.items()])
    bulk_insert(conn, CampaignKpiTarget.__table__, ("campaign_id", "metric", "target_value"),
                [(i + 1, metric, float(value)) for i, p in enumerate(plans) for metric, value in p.kpis.items()])
    changes = [(i + 1, old, new, world.users[by], _text(at), comment)
               for i, p in enumerate(plans) for old, new, by, at, comment in p.steps]
    bulk_insert(conn, CampaignStatusChange.__table__,
                ("id", "campaign_id", "from_status", "to_status", "changed_by", "changed_at", "comment"),
                [(number + 1, *change) for number, change in enumerate(changes)])


# ---------------------------------------------------------------- step: leads


def _model_weights(world: World) -> np.ndarray:
    """Relative interest in each model per history day: on sale (from pre-sale), NEV growing, launch ramp."""
    days = np.arange(world.history_days)[:, None]
    launch = np.array([world.index(_launch_day(world, m)) for m in VEHICLE_MODELS])[None, :]
    nev = np.array([m.powertrain in NEW_ENERGY for m in VEHICLE_MODELS])[None, :]
    weight = np.array([m.mix for m in VEHICLE_MODELS])[None, :] * (days >= launch - PRESALE_DAYS)
    weight = weight * np.where(nev, 1 + NEV_GROWTH_PER_YEAR * days / DAYS_PER_YEAR, 1.0)
    return weight * np.where((days >= launch) & (days < launch + LAUNCH_RAMP_DAYS), LAUNCH_RAMP_LIFT, 1.0)


def _walk_funnel(rng: np.random.Generator, times: np.ndarray, walked: np.ndarray, rows: np.ndarray,
                 from_stage: np.ndarray, probabilities: np.ndarray) -> None:
    """Move leads on from their current stage: who moves on at each step and when (raw times, before censoring)."""
    stage = from_stage.copy()
    for step in range(len(FUNNEL_STAGES) - 1):
        here = stage == step
        moves = here & (rng.random(len(rows)) < probabilities[:, step])
        lag = (STAGE_LAGS[step](rng, len(rows)) * SECONDS_PER_DAY).astype(np.int64)
        movers = rows[moves]
        times[movers, step + 1] = times[movers, step] + lag[moves]
        walked[movers] = step + 1
        stage = np.where(moves, step + 1, np.where(here, -1, stage))


def _tidy_stage_times(times: np.ndarray, rows: np.ndarray, after_stage: np.ndarray) -> None:
    """Working hours for the stages after `after_stage`, and each stage at least a minute after the one before."""
    for stage in range(1, len(FUNNEL_STAGES)):
        selected = rows[stage > after_stage]
        column = times[selected, stage]
        if STAGE_HOURS[stage] is not None:
            column = _within_hours(column, STAGE_HOURS[stage])
        times[selected, stage] = np.maximum(column, times[selected, stage - 1] + 60)


def _reached(world: World, times: np.ndarray, walked: np.ndarray) -> np.ndarray:
    """Which stages each lead reached by the end of today (a stage after today, and all later ones, are not)."""
    stages = np.arange(len(FUNNEL_STAGES))[None, :]
    return np.logical_and.accumulate((stages <= walked[:, None]) & (times < world.now_end), axis=1)


def _stage_probabilities(world: World, grade: np.ndarray, channel: np.ndarray, created: np.ndarray) -> np.ndarray:
    """P(moving on) per lead and step: by grade and channel, validity and closing improving over time."""
    progress = created / world.now_end
    validity = np.array([c.validity for c in CHANNELS])[channel]
    valid = VALID_P[grade] * validity + VALID_TREND[0] + (VALID_TREND[1] - VALID_TREND[0]) * progress
    order = ORDER_P[grade] * (ORDER_TREND[0] + (ORDER_TREND[1] - ORDER_TREND[0]) * progress)
    n = len(grade)
    return np.column_stack([np.clip(valid, 0.02, 0.98), VISIT_P[grade], np.full(n, TEST_DRIVE_P), order, np.full(n, DELIVERY_P)])


def _draw_reasons(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    """Lost reasons drawn from a table of shares."""
    return np.array(list(table), dtype=object)[rng.choice(len(table), size=n, p=list(table.values()))]


def _exits(rng: np.random.Generator, world: World, times: np.ndarray, walked: np.ndarray) -> dict[str, np.ndarray]:
    """Lost / dormant for leads that stopped moving on, old enough; some lost ones reactivated later."""
    n = len(walked)
    reached = _reached(world, times, walked)
    last = reached.sum(axis=1) - 1
    stopped = (last == walked) & (walked < FUNNEL_STAGES.index("order"))
    exit_at = _within_hours(times[np.arange(n), last] + (rng.uniform(*LOST_AFTER_DAYS, n) * SECONDS_PER_DAY).astype(np.int64),
                            (10, 18))
    exited = stopped & (exit_at < world.now_end)
    dormant = exited & (rng.random(n) < DORMANT_SHARE)
    lost = exited & ~dormant
    reason = np.where(last == 0, _draw_reasons(rng, LOST_REASONS_INVALID, n), _draw_reasons(rng, LOST_REASONS_VALID, n))
    reactivated_at = _within_hours(exit_at + (rng.uniform(*REACTIVATED_AFTER_DAYS, n) * SECONDS_PER_DAY).astype(np.int64),
                                   (10, 20))
    reachable = lost & (reason != "invalid_contact")
    reactivated = reachable & (rng.random(n) < REACTIVATED_SHARE) & (reactivated_at < world.now_end)
    return {"last": last, "exit_at": exit_at, "lost": lost, "dormant": dormant, "reason": reason,
            "reactivated": reactivated, "reactivated_at": reactivated_at}


def _resume(rng: np.random.Generator, world: World, times: np.ndarray, walked: np.ndarray,
            probabilities: np.ndarray, exits: dict[str, np.ndarray]) -> None:
    """Some reactivated leads move on again: their next stage follows reactivation, then the usual funnel."""
    rows = np.flatnonzero(exits["reactivated"] & (rng.random(len(walked)) < RESUMED_SHARE))
    stage = exits["last"][rows] + 1
    lag = np.clip(rng.lognormal(np.log(RESUME_LAG_MEDIAN_DAYS), 0.6, len(rows)), 0.1, 20)
    times[rows, stage] = exits["reactivated_at"][rows] + (lag * SECONDS_PER_DAY).astype(np.int64)
    walked[rows] = stage
    _walk_funnel(rng, times, walked, rows, stage, probabilities[rows])
    _tidy_stage_times(times, rows, stage - 1)


def _lead_arrivals(rng: np.random.Generator, world: World) -> tuple[np.ndarray, ...]:
    """Leads drawn from the expected volume: (day, channel, region, created second), ordered by creation."""
    counts = rng.poisson(world.expected[:world.history_days])
    day, channel, region = np.unravel_index(np.repeat(np.arange(counts.size), counts.ravel()), counts.shape)
    hour = _choose_grouped(rng, np.vstack([HOURS_ONLINE, HOURS_OFFLINE]), (channel == OFFLINE).astype(np.int64))
    created = day * SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, len(day))
    order = np.argsort(created, kind="stable")
    return day[order], channel[order], region[order], created[order]


def _lead_grades(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """Grade index (high/medium/low) per lead: channels with more intent bring more high-grade leads."""
    intent = np.array([c.intent for c in CHANNELS])
    weights = np.column_stack([GRADE_SHARE_HIGH * intent, np.full(len(CHANNELS), GRADE_SHARE_MEDIUM),
                               1 - GRADE_SHARE_HIGH * intent - GRADE_SHARE_MEDIUM])
    return _choose_grouped(rng, weights, channel)


def _funnel(rng: np.random.Generator, world: World, probabilities: np.ndarray,
            created: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Stage times, the last stage walked to, and the exits (lost, dormant, reactivated) of every lead."""
    n = len(created)
    times = np.zeros((n, len(FUNNEL_STAGES)), dtype=np.int64)
    times[:, 0] = created
    walked, rows, start = np.zeros(n, dtype=np.int64), np.arange(n), np.zeros(n, dtype=np.int64)
    _walk_funnel(rng, times, walked, rows, start, probabilities)
    _tidy_stage_times(times, rows, start)
    exits = _exits(rng, world, times, walked)
    _resume(rng, world, times, walked, probabilities, exits)
    return times, walked, exits


def _generate_leads(world: World) -> dict[str, np.ndarray]:
    """All leads of the history as arrays, ordered by creation time."""
    rng = _rng(world.seed, "leads")
    day, channel, region, created = _lead_arrivals(rng, world)
    campaign = world.cell_campaign[day, channel, region]
    campaign_model = np.array([-1 if p.model is None else p.model for p in world.campaigns])[campaign]
    model = _choose_grouped(rng, _model_weights(world), day)
    model = np.where((campaign >= 0) & (campaign_model >= 0), campaign_model, model)
    dealer = _choose_grouped(rng, world.dealer_weight, world.day_months(day) * len(world.region_codes) + region)
    grade = _lead_grades(rng, channel)
    times, walked, exits = _funnel(rng, world, _stage_probabilities(world, grade, channel, created), created)
    response = rng.lognormal(np.log(RESPONSE_MEDIAN_MINUTES), 1.0, len(day)) * RESPONSE_SLOWER_BY_GRADE[world.dealers["grade"][dealer]]
    return {"day": day, "channel": channel, "region": region, "campaign": campaign, "model": model, "dealer": dealer,
            "grade": grade, "times": times, "reached": _reached(world, times, walked),
            "response": np.clip(response, 1, MAX_RESPONSE_MINUTES).astype(np.int64), **exits}


def seed_leads(conn: Connection, world: World) -> None:
    """Leads with their funnel stages, exits and masked personal data."""
    leads = world.leads = _generate_leads(world)
    n = len(leads["day"])
    hashes, masked, names = _fake_people(_rng(world.seed, "lead people"), n)
    stamps = [world.timestamp_texts(leads["times"][:, stage], leads["reached"][:, stage])
              for stage in range(len(FUNNEL_STAGES))]
    lost_stage = np.array(FUNNEL_STAGES, dtype=object)[leads["last"]]
    responded = leads["times"][:, 0] + leads["response"] * 60 < world.now_end
    with indexes_dropped(conn, Lead.__table__):
        bulk_insert(conn, Lead.__table__,
                    ("id", "created_at", "channel_id", "campaign_id", "model_id", "dealer_id", "region_id", "province_adcode",
                     "grade", "valid_at", "visit_at", "test_drive_at", "order_at", "delivery_at", "lost_at", "lost_stage",
                     "lost_reason", "dormant_at", "reactivated_at", "first_response_minutes", "phone_hash", "phone_masked",
                     "name_masked"),
                    _rows(np.arange(1, n + 1), *stamps[:1], leads["channel"] + 1,
                          _nullable(leads["campaign"] + 1, leads["campaign"] >= 0), leads["model"] + 1, leads["dealer"] + 1,
                          leads["region"] + 1, world.dealers["province"][leads["dealer"]],
                          np.array(LEAD_GRADES, dtype=object)[leads["grade"]], *stamps[1:],
                          world.timestamp_texts(leads["exit_at"], leads["lost"]), _nullable(lost_stage, leads["lost"]),
                          _nullable(leads["reason"], leads["lost"]), world.timestamp_texts(leads["exit_at"], leads["dormant"]),
                          world.timestamp_texts(leads["reactivated_at"], leads["reactivated"]),
                          _nullable(leads["response"], responded), hashes, masked, names))


# ---------------------------------------------------------------- step: channel facts


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Lognormal day-to-day noise around 1."""
    return rng.lognormal(0, NOISE_SIGMA, n)


def _cell_facts(rng: np.random.Generator, world: World) -> dict[str, np.ndarray]:
    """One row per history (day, channel, region) cell: its campaign, spend and media facts, its leads."""
    leads, history = world.leads, world.history_days
    shape = (history, len(CHANNELS), len(world.region_codes))
    expected = world.expected[:history].ravel()
    day, channel, region = (axis.ravel() for axis in np.indices(shape))
    n = expected.size
    spec = {name: np.array([getattr(c, name) for c in CHANNELS])[channel]
            for name in ("cpl", "cpm", "ctr", "coupon_rate", "fans_per_lead", "live_rate")}
    spend = np.round(expected * spec["cpl"] * _noise(rng, n), 2)
    impressions = np.where(spec["cpm"] > 0, np.round(spend / np.maximum(spec["cpm"], 1) * 1000 * _noise(rng, n)), 0)
    clicks = np.minimum(np.round(impressions * spec["ctr"] * _noise(rng, n)), impressions)
    cell = np.ravel_multi_index((leads["day"], leads["channel"], leads["region"]), shape)
    dealer_live = np.bincount(world.dealers["region"], LIVE_SESSIONS_BY_TIER[world.dealers["douyin"]],
                              minlength=len(world.region_codes))
    sessions = rng.poisson(spec["live_rate"] * dealer_live[region])
    return {"day": day, "channel": channel, "region": region, "campaign": world.cell_campaign[:history].ravel(),
            "spend": spend, "impressions": impressions, "clicks": clicks,
            "leads": np.bincount(cell, minlength=n), "valid": np.bincount(cell, leads["reached"][:, 1], minlength=n),
            "coupons": rng.poisson(expected * spec["coupon_rate"]), "fans": rng.poisson(expected * spec["fans_per_lead"]),
            "sessions": sessions, "views": np.round(sessions * LIVE_VIEWS_MEDIAN * rng.lognormal(0, 0.5, n))}


def _order_facts(rng: np.random.Generator, world: World, cells: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Orders and GMV by order day on the lead's channel, region and campaign: added to the cell rows
    (`cells` gains 'orders' and 'gmv'); returns extra rows for campaigns no longer owning the cell."""
    leads = world.leads
    ordered = np.flatnonzero(leads["reached"][:, FUNNEL_STAGES.index("order")])
    day = leads["times"][ordered, FUNNEL_STAGES.index("order")] // SECONDS_PER_DAY
    channel, region, campaign = leads["channel"][ordered], leads["region"][ordered], leads["campaign"][ordered]
    msrp = np.array([m.msrp for m in VEHICLE_MODELS])[leads["model"][ordered]]
    gmv = msrp * rng.uniform(*ORDER_PRICE_FACTOR, len(ordered))
    cell = np.ravel_multi_index((day, channel, region), world.expected[:world.history_days].shape)
    in_cell = campaign == cells["campaign"][cell]
    n = len(cells["day"])
    cells["orders"] = np.bincount(cell[in_cell], minlength=n)
    cells["gmv"] = np.bincount(cell[in_cell], gmv[in_cell], minlength=n)
    key, inverse = np.unique(np.column_stack([cell[~in_cell], campaign[~in_cell]]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    rows = dict(zip(("day", "channel", "region"), np.unravel_index(key[:, 0], world.expected[:world.history_days].shape)))
    rows.update(campaign=key[:, 1], orders=np.bincount(inverse, minlength=len(key)),
                gmv=np.bincount(inverse, gmv[~in_cell], minlength=len(key)))
    return rows


def _brand_facts(rng: np.random.Generator, world: World, cells: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """National brand spend (region NULL) on the brand channels: BRAND_SPEND_SHARE of all spend."""
    history = world.history_days
    daily_spend = np.bincount(cells["day"], cells["spend"], minlength=history)
    brand_channels = np.flatnonzero([c.brand_share > 0 for c in CHANNELS])
    day, channel = (axis.ravel() for axis in np.meshgrid(np.arange(history), brand_channels, indexing="ij"))
    share = np.array([c.brand_share for c in CHANNELS])[channel]
    n = len(day)
    spend = np.round(daily_spend[day] * BRAND_SPEND_SHARE / (1 - BRAND_SPEND_SHARE) * share * _noise(rng, n), 2)
    cpm = np.array([c.cpm for c in CHANNELS])[channel] * BRAND_CPM_FACTOR
    impressions = np.round(spend / cpm * 1000 * _noise(rng, n))
    ctr = np.array([c.ctr for c in CHANNELS])[channel] * BRAND_CTR_FACTOR
    fans = rng.poisson(spend / 1000 * np.array([c.fans_per_lead for c in CHANNELS])[channel])
    return {"day": day, "channel": channel, "region": np.full(n, -1), "campaign": np.full(n, -1), "spend": spend,
            "impressions": impressions, "clicks": np.round(impressions * ctr * _noise(rng, n)), "fans": fans}


def _stack_facts(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate fact row sets, zero-filling the columns a set lacks, ordered by (day, channel, region, campaign)."""
    columns = ("day", "channel", "region", "campaign", "spend", "impressions", "clicks", "leads", "valid", "coupons",
               "orders", "gmv", "fans", "sessions", "views")
    stacked = {name: np.concatenate([part.get(name, np.zeros(len(part["day"]))) for part in parts]) for name in columns}
    region_sort = np.where(stacked["region"] < 0, 99, stacked["region"])
    order = np.lexsort((stacked["campaign"], region_sort, stacked["channel"], stacked["day"]))
    return {name: values[order] for name, values in stacked.items()}


def _review_text(plan: CampaignPlan, totals: dict[str, float], best_channel: str, rng: np.random.Generator) -> str:
    """A written review with key data, a conclusion and a lesson."""
    leads, valid, orders, spend = totals["leads"], totals["valid"], totals["orders"], totals["spend"]
    attainment = leads / plan.kpis["leads"] if plan.kpis["leads"] else 0
    return (f"关键数据：线索 {leads:,.0f} 条（目标 {plan.kpis['leads']:,.0f}，达成 {attainment:.0%}），"
            f"有效线索 {valid:,.0f} 条（有效率 {valid / max(leads, 1):.1%}），订单 {orders:,.0f} 台，"
            f"花费 ¥{spend:,.0f}（预算 ¥{plan.budget_total:,.0f}），CPL ¥{spend / max(leads, 1):,.0f}。"
            f"线索贡献最大的渠道：{best_channel}。结论：{REVIEW_CONCLUSIONS[rng.integers(len(REVIEW_CONCLUSIONS))]}。"
            f"经验：{REVIEW_LESSONS[rng.integers(len(REVIEW_LESSONS))]}。")


def _write_reviews(conn: Connection, world: World, facts: dict[str, np.ndarray]) -> None:
    """Review texts of the reviewed campaigns, from their channel facts."""
    rng = _rng(world.seed, "reviews")
    attributed = facts["campaign"] >= 0
    campaign = facts["campaign"][attributed]
    size = len(world.campaigns)
    totals = {name: np.bincount(campaign, facts[name][attributed], minlength=size) for name in ("leads", "valid", "orders", "spend")}
    by_channel = np.zeros((size, len(CHANNELS)))
    np.add.at(by_channel, (campaign, facts["channel"][attributed]), facts["leads"][attributed])
    for index, plan in enumerate(world.campaigns):
        if plan.status == "reviewed":
            review = _review_text(plan, {name: float(values[index]) for name, values in totals.items()},
                                  CHANNELS[int(by_channel[index].argmax())].name_zh, rng)
            conn.execute(update(Campaign).where(Campaign.id == index + 1).values(review_text=review))


def seed_channel_facts(conn: Connection, world: World) -> None:
    """Daily channel facts consistent with the leads, national brand rows, and the campaigns' reviews."""
    rng = _rng(world.seed, "channel facts")
    cells = _cell_facts(rng, world)
    facts = _stack_facts([cells, _order_facts(rng, world, cells), _brand_facts(rng, world, cells)])
    n = len(facts["day"])
    with indexes_dropped(conn, ChannelDaily.__table__):
        bulk_insert(conn, ChannelDaily.__table__,
                    ("id", "day", "channel_id", "region_id", "campaign_id", "spend", "impressions", "clicks", "leads",
                     "valid_leads", "coupons", "orders", "gmv", "fans", "live_sessions", "live_views"),
                    _rows(np.arange(1, n + 1), world.day_texts(facts["day"]), facts["channel"] + 1,
                          _nullable(facts["region"] + 1, facts["region"] >= 0),
                          _nullable(facts["campaign"] + 1, facts["campaign"] >= 0), facts["spend"],
                          *(facts[name].astype(np.int64) for name in ("impressions", "clicks", "leads", "valid", "coupons", "orders")),
                          np.round(facts["gmv"], 2), *(facts[name].astype(np.int64) for name in ("fans", "sessions", "views"))))
    _write_reviews(conn, world, facts)


# ---------------------------------------------------------------- step: monthly channel targets


def seed_targets(conn: Connection, world: World) -> None:
    """Monthly targets per channel: regional rows, and national rows that add them up (+ brand spend)."""
    rng = _rng(world.seed, "targets")
    months = world.day_months(np.arange(world.plan_days))
    month_first_day = np.searchsorted(months, np.arange(world.plan_months))
    leads = np.add.reduceat(world.expected, month_first_day, axis=0)  # (month, channel, region)
    cpl = np.array([c.cpl for c in CHANNELS])
    ambition = rng.uniform(*TARGET_AMBITION, (len(world.plan_years), len(CHANNELS)))[np.arange(world.plan_months) // 12]
    lead_target = np.round(leads * ambition[:, :, None])
    spend = np.round(leads * cpl[None, :, None], -2)
    brand = np.round(spend.sum(axis=(1, 2))[:, None] * BRAND_SPEND_SHARE / (1 - BRAND_SPEND_SHARE)
                     * np.array([c.brand_share for c in CHANNELS])[None, :], -2)
    regional = {"spend": spend, "leads": lead_target, "valid_leads": np.round(lead_target * VALID_RATE_TARGET, 2),
                "orders": np.round(lead_target * LEAD_TO_ORDER_TARGET, 2)}  # fractional: small cells must not round to 0
    national = {metric: values.sum(axis=2) + (brand if metric == "spend" else 0) for metric, values in regional.items()}
    mean_cpl = float((cpl * np.array([c.lead_share for c in CHANNELS])).sum())
    cpl_target = np.round(cpl * CPL_TARGET / mean_cpl / 5) * 5
    ratios = {"cpl": cpl_target, "cpql": cpl_target * CPQL_PER_CPL, "valid_rate": np.full(len(CHANNELS), VALID_RATE_TARGET),
              "lead_to_order": np.full(len(CHANNELS), LEAD_TO_ORDER_TARGET)}
    rows = []
    for month in range(world.plan_months):
        first = _text(dt.date(world.start.year + month // 12, month % 12 + 1, 1))
        for channel in range(len(CHANNELS)):
            for region in [None, *range(len(world.region_codes))]:
                for metric, values in regional.items():
                    value = national[metric][month, channel] if region is None else values[month, channel, region]
                    rows.append((first, channel + 1, None if region is None else region + 1, metric, float(value)))
                rows.extend((first, channel + 1, None if region is None else region + 1, metric, float(values[channel]))
                            for metric, values in ratios.items())
    bulk_insert(conn, ChannelTarget.__table__, ("id", "month", "channel_id", "region_id", "metric", "target_value", "version"),
                [(number + 1, *row, 1) for number, row in enumerate(rows)])


# ---------------------------------------------------------------- step: members and points ledger


def _add_months(days: np.ndarray, world: World, months: int) -> np.ndarray:
    """Day indexes `months` later, on the same day of the month or the month's last day (Feb 29 → Feb 28)."""
    dates = np.datetime64(world.start, "D") + days
    month = dates.astype("datetime64[M]")
    day_of_month = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    month_length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    result = target.astype("datetime64[D]") + np.minimum(day_of_month, month_length - 1)
    return (result - np.datetime64(world.start, "D")).astype(np.int64)


def _events(rng: np.random.Generator, world: World, members: np.ndarray, joined: np.ndarray,
            rate_per_year: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events per member between joining and today: (member index, day index) arrays."""
    span = world.history_days - joined[members]
    counts = rng.poisson(rate_per_year * span / DAYS_PER_YEAR)
    member = np.repeat(members, counts)
    day = joined[member] + (rng.random(len(member)) * (world.history_days - joined[member])).astype(np.int64)
    return member, day


def _check_ins(rng: np.random.Generator, world: World, joined: np.ndarray, activity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Daily check-ins in streaks of consecutive days (at most one a day): (member, day) arrays."""
    member, first = _events(rng, world, np.arange(len(joined)), joined, CHECK_IN_BURSTS_PER_YEAR * activity)
    probability, longest = CHECK_IN_STREAK
    length = np.minimum(rng.geometric(probability, len(member)), longest)
    member = np.repeat(member, length)
    day = np.repeat(first, length) + np.arange(len(member)) - np.repeat(np.cumsum(length) - length, length)
    keep = day < world.history_days
    unique = np.unique(member[keep] * world.plan_days + day[keep])
    return unique // world.plan_days, unique % world.plan_days


def _bills(rng: np.random.Generator, bill: tuple[float, float], n: int) -> np.ndarray:
    """Spend points for n bills (¥1 = 1 point, capped at the spend rule's daily cap)."""
    median, sigma = bill
    return np.minimum(np.round(rng.lognormal(np.log(median), sigma, n)), PURCHASE_SPEND).astype(np.int64)


def _event_campaigns(world: World) -> np.ndarray:
    """The campaign members' activities tie to per (history day, region): owner events first, -1 none."""
    result = np.full((world.history_days, len(world.region_codes)), -1, dtype=np.int64)
    ranked = sorted((i for i, p in enumerate(world.campaigns) if p.happens),
                    key=lambda i: (world.campaigns[i].type == "owner_event", world.campaigns[i].start, i))
    for index in ranked:
        plan = world.campaigns[index]
        result[np.ix_(_days_between(world, plan.start, plan.end, world.history_days), _plan_regions(world, plan))] = index
    return result


class Lots(NamedTuple):
    """Points lots (earn rows and positive adjusts) as arrays."""

    member: np.ndarray
    day: np.ndarray
    points: np.ndarray
    rule: np.ndarray  # rule index, -1: a manual adjust
    campaign: np.ndarray  # campaign index, -1: none


def _earn_lots(rng: np.random.Generator, world: World, joined: np.ndarray, owner: np.ndarray,
               activity: np.ndarray, region: np.ndarray) -> Lots:
    """Every earn event of every member, and the positive adjusts, as lots."""
    everyone, owners = np.arange(len(joined)), np.flatnonzero(owner)
    parts = []  # (member, day, rule index, points)

    def add(member: np.ndarray, day: np.ndarray, rule: str, points: np.ndarray | int) -> None:
        """Collect one kind of earn event."""
        parts.append((member, day, np.full(len(member), RULE_INDEX[rule]), np.broadcast_to(points, len(member))))

    add(*_check_ins(rng, world, joined, activity), "check_in", RULE_POINTS["check_in"])
    for rule, (fan_rate, owner_rate) in EARN_RATES.items():
        add(*_events(rng, world, everyone, joined, np.where(owner, owner_rate, fan_rate) * activity), rule, RULE_POINTS[rule])
    add(owners, joined[owners], "spend", PURCHASE_SPEND)
    member, day = _events(rng, world, owners, joined, MAINTENANCE_PER_YEAR)
    add(member, day, "maintenance_visit", RULE_POINTS["maintenance_visit"])
    add(member, day, "spend", _bills(rng, MAINTENANCE_BILL, len(member)))
    member, day = _events(rng, world, owners, joined, ACCESSORIES_PER_YEAR * activity[owners])
    add(member, day, "spend", _bills(rng, ACCESSORY_BILL, len(member)))
    member, day = _events(rng, world, everyone, joined, ADJUSTS_PER_YEAR[0])
    parts.append((member, day, np.full(len(member), -1), rng.integers(10, 500, len(member))))
    member, day, rule, points = (np.concatenate(column) for column in zip(*parts))
    campaign = _event_campaigns(world)[day, region[member]]
    tied = (rule == RULE_INDEX["event_attended"]) | ((rule == RULE_INDEX["content_post"]) & (rng.random(len(rule)) < CAMPAIGN_TAGGED_POSTS))
    return Lots(member, day, points.astype(np.int64), rule, np.where(tied, campaign, -1))


def _consumption_intents(rng: np.random.Generator, world: World, joined: np.ndarray, owner: np.ndarray,
                         activity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Redemption wishes and negative adjusts: (member, day, amount) with amount 0 for a redemption."""
    everyone = np.arange(len(joined))
    member, day = _events(rng, world, everyone, joined, np.where(owner, *REDEMPTIONS_PER_YEAR[::-1]) * activity)
    adjust_member, adjust_day = _events(rng, world, everyone, joined, ADJUSTS_PER_YEAR[1])
    amount = np.concatenate([np.zeros(len(member), np.int64), rng.integers(10, 300, len(adjust_member))])
    return np.concatenate([member, adjust_member]), np.concatenate([day, adjust_day]), amount


class LedgerRows(NamedTuple):
    """Ledger rows as arrays, in id order."""

    member: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # object: earn / redeem / expire / adjust
    points: np.ndarray
    rule: np.ndarray  # -1: none
    reward: np.ndarray  # -1: none
    campaign: np.ndarray  # -1: none
    expires: np.ndarray  # -1: none
    remaining: np.ndarray  # -1: none


def _run_fifo(world: World, lots: Lots, expires: np.ndarray, intents: tuple[np.ndarray, np.ndarray, np.ndarray],
              members: int, choice: np.ndarray) -> tuple[list[int], list[tuple[int, int, int, int, int]], list[tuple[int, int]]]:
    """Replay each member's lots and consumption wishes in order (FIFO, expiry): what is left of each lot,
    the consumptions that happened (intent, member, day, points, reward) and the expiries (lot, points)."""
    lot_count = len(lots.member)
    intent_member, intent_day, intent_amount = intents
    member = np.concatenate([lots.member, intent_member])
    day = np.concatenate([lots.day, intent_day])
    is_lot = np.arange(len(member)) < lot_count
    order = np.lexsort((np.arange(len(member)), ~is_lot, day, member))
    bounds = np.searchsorted(member[order], np.arange(members + 1)).tolist()
    order_list, day_list = order.tolist(), day[order].tolist()
    points, expiry = lots.points.tolist(), expires.tolist()
    amounts, picks = intent_amount.tolist(), choice.tolist()
    costs = [reward[4] for reward in REWARDS]
    cumulative = np.cumsum([reward[6] for reward in REWARDS]).tolist()
    remaining = list(points)
    consumed, expired = [], []
    today = world.history_days - 1
    for m in range(members):
        queue, balance = deque(), 0
        for position in range(bounds[m], bounds[m + 1] + 1):
            now = day_list[position] if position < bounds[m + 1] else today
            while queue and expiry[queue[0]] <= now:
                lot = queue.popleft()
                expired.append((lot, remaining[lot]))
                balance -= remaining[lot]
                remaining[lot] = 0
            if position == bounds[m + 1]:
                break
            event = order_list[position]
            if event < lot_count:
                queue.append(event)
                balance += points[event]
                continue
            intent = event - lot_count
            cost, reward = amounts[intent], -1
            if cost == 0:  # a redemption: a reward the balance covers, by popularity
                affordable = bisect_right(costs, balance)
                if affordable == 0:
                    continue
                reward = bisect_right(cumulative, picks[intent] * cumulative[affordable - 1], 0, affordable - 1)
                cost = costs[reward]
            elif cost > balance:
                continue
            consumed.append((intent, m, now, cost, reward))
            balance -= cost
            while cost:
                lot = queue[0]
                taken = min(remaining[lot], cost)
                remaining[lot] -= taken
                cost -= taken
                if remaining[lot] == 0:
                    queue.popleft()
    return remaining, consumed, expired


def _ledger(rng: np.random.Generator, world: World, joined: np.ndarray, owner: np.ndarray,
            activity: np.ndarray, region: np.ndarray) -> LedgerRows:
    """Every member's points movements: lots, redemptions, adjusts and expiries, in id order."""
    lots = _earn_lots(rng, world, joined, owner, activity, region)
    expires = _add_months(lots.day, world, LOT_MONTHS)
    intents = _consumption_intents(rng, world, joined, owner, activity)
    remaining, consumed, expired = _run_fifo(world, lots, expires, intents, len(joined), rng.random(len(intents[0])))
    used = np.array(consumed, dtype=np.int64).reshape(-1, 5)
    gone = np.array(expired, dtype=np.int64).reshape(-1, 2)
    lot_count, used_count, gone_count = len(lots.member), len(used), len(gone)
    is_adjust = lots.rule < 0
    kinds = np.concatenate([np.where(is_adjust, "adjust", "earn").astype(object),
                            np.where(used[:, 4] >= 0, "redeem", "adjust").astype(object),
                            np.full(gone_count, "expire", dtype=object)])
    rows = LedgerRows(
        member=np.concatenate([lots.member, used[:, 1], lots.member[gone[:, 0]]]),
        day=np.concatenate([lots.day, used[:, 2], expires[gone[:, 0]]]),
        kind=kinds,
        points=np.concatenate([lots.points, -used[:, 3], -gone[:, 1]]),
        rule=np.concatenate([lots.rule, np.full(used_count + gone_count, -1)]),
        reward=np.concatenate([np.full(lot_count, -1), used[:, 4], np.full(gone_count, -1)]),
        campaign=np.concatenate([lots.campaign, np.full(used_count + gone_count, -1)]),
        expires=np.concatenate([expires, np.full(used_count + gone_count, -1)]),
        remaining=np.concatenate([np.array(remaining, dtype=np.int64), np.full(used_count + gone_count, -1)]))
    rank = np.concatenate([np.ones(lot_count), np.full(used_count, 2), np.zeros(gone_count)])  # expiries, lots, consumption
    sequence = np.concatenate([np.arange(lot_count), lot_count + used[:, 0], gone[:, 0]])
    order = np.lexsort((sequence, rank, rows.member, rows.day))
    return LedgerRows(*(column[order] for column in rows))


class Members(NamedTuple):
    """Members as arrays, by member index (id - 1)."""

    joined: np.ndarray  # day index
    owner: np.ndarray
    dealer: np.ndarray  # the dealer they are tied to (fans without one still get a region through it)
    has_dealer: np.ndarray
    activity: np.ndarray  # multiplier on their earn and redemption rates


def _members(rng: np.random.Generator, world: World) -> Members:
    """Members joining over the history (more as the brand grows), a third of them car owners."""
    n = world.scale.members
    join_weight = YEARLY_GROWTH ** (np.arange(world.history_days) / DAYS_PER_YEAR)
    joined = np.sort(rng.choice(world.history_days, size=n, p=join_weight / join_weight.sum()))
    owner = rng.random(n) < OWNER_SHARE
    dealer_by_month = world.dealer_weight.reshape(world.plan_months, len(world.region_codes), -1).sum(axis=1)
    dealer = _choose_grouped(rng, dealer_by_month, world.day_months(joined))
    has_dealer = owner | (rng.random(n) >= FANS_WITHOUT_DEALER)
    return Members(joined, owner, dealer, has_dealer, rng.lognormal(-0.4, 0.9, n) * world.scale.member_activity)


def _write_members(conn: Connection, world: World, members: Members, ledger: LedgerRows) -> None:
    """Member rows with balance, growth value, tier and last activity taken from their ledger."""
    n = len(members.joined)
    balance = np.bincount(ledger.member, ledger.points, minlength=n).astype(np.int64)
    growth = np.bincount(ledger.member, np.where(ledger.kind == "earn", ledger.points, 0), minlength=n).astype(np.int64)
    active = (ledger.kind == "earn") | (ledger.kind == "redeem")
    last_active = members.joined.copy()
    np.maximum.at(last_active, ledger.member[active], ledger.day[active])
    tier = np.searchsorted([tier[3] for tier in MEMBER_TIERS], growth, side="right") - 1
    hashes, masked, names = _fake_people(_rng(world.seed, "member people"), n)
    with indexes_dropped(conn, Member.__table__):
        bulk_insert(conn, Member.__table__,
                    ("id", "member_no", "region_id", "province_adcode", "dealer_id", "tier_id", "is_owner", "joined_on",
                     "last_active_on", "growth_value", "points_balance", "phone_hash", "phone_masked", "name_masked"),
                    _rows(np.arange(1, n + 1), [f"M{i:08d}" for i in range(1, n + 1)], world.dealers["region"][members.dealer] + 1,
                          world.dealers["province"][members.dealer], _nullable(members.dealer + 1, members.has_dealer), tier + 1,
                          members.owner, world.day_texts(members.joined), world.day_texts(last_active), growth, balance,
                          hashes, masked, names))


def _write_ledger(conn: Connection, world: World, region: np.ndarray, ledger: LedgerRows) -> None:
    """Points ledger rows (region from the member)."""
    size = len(ledger.member)
    with indexes_dropped(conn, PointsLedger.__table__):
        bulk_insert(conn, PointsLedger.__table__,
                    ("id", "member_id", "region_id", "occurred_on", "kind", "points", "rule_id", "reward_id", "campaign_id",
                     "expires_on", "lot_remaining"),
                    _rows(np.arange(1, size + 1), ledger.member + 1, region[ledger.member] + 1, world.day_texts(ledger.day),
                          ledger.kind, ledger.points, _nullable(ledger.rule + 1, ledger.rule >= 0),
                          _nullable(ledger.reward + 1, ledger.reward >= 0), _nullable(ledger.campaign + 1, ledger.campaign >= 0),
                          _nullable(world.day_texts(np.maximum(ledger.expires, 0)), ledger.expires >= 0),
                          _nullable(ledger.remaining, ledger.remaining >= 0)))


def seed_members(conn: Connection, world: World) -> None:
    """Members, their points ledger (FIFO, 12-month expiry), balances and tiers."""
    rng = _rng(world.seed, "members")
    members = _members(rng, world)
    region = world.dealers["region"][members.dealer]
    ledger = _ledger(rng, world, members.joined, members.owner, members.activity, region)
    _write_members(conn, world, members, ledger)
    _write_ledger(conn, world, region, ledger)
    earned = ledger.kind == "earn"
    by_year = np.bincount(world.day_months(ledger.day[earned]) // 12, ledger.points[earned], minlength=len(world.seeded_years))
    world.points_issued = {year: int(by_year[i]) for i, year in enumerate(world.seeded_years)}


# ---------------------------------------------------------------- step: settings


def seed_settings(conn: Connection, world: World, scale_name: str) -> None:
    """Demo markers, the points exchange rate and yearly points budgets; the data_version row."""
    rng = _rng(world.seed, "settings")
    settings = {"demo_data": "true", "demo_seed": str(world.seed), "demo_scale": scale_name,
                "demo_today": world.today.isoformat(), "points_cny_per_point": str(POINTS_CNY_PER_POINT)}
    for year, points in world.points_issued.items():
        budget = np.ceil(points * POINTS_CNY_PER_POINT * rng.uniform(*POINTS_BUDGET_SLACK) / 10_000) * 10_000
        settings[f"points_budget_cny_{year}"] = f"{budget:.0f}"
    bulk_insert(conn, AppSetting.__table__, ("key", "value"), list(settings.items()))
    bulk_insert(conn, DataVersion.__table__, ("id", "version"), [(1, 1)])


# ---------------------------------------------------------------- orchestration and CLI


class SeedError(RuntimeError):
    """The database cannot be seeded as asked (e.g. it already holds data)."""


def seed_database(engine: Engine, scale: str = "demo", seed: int = DEFAULT_SEED, today: dt.date | None = None,
                  progress: Progress | None = None, reset: bool = False) -> dict[str, int]:
    """Migrate, then fill the database with deterministic demo data; returns the row count of every table."""
    if scale not in SCALES:
        raise SeedError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    report = progress or (lambda fraction, message: None)
    today = today or dt.date.today()
    report(0.0, "migrating the schema")
    upgrade_to_head(engine)
    if reset:
        report(0.01, "deleting all rows")
        delete_all_rows(engine)
    with engine.connect() as conn:
        table = _first_table_with_rows(conn)
    if table is not None:
        raise SeedError(f"the database already holds data (table {table}); seed an empty database or pass reset=True / --reset")
    world = World(scale=SCALES[scale], seed=seed, start=dt.date(today.year - SCALES[scale].history_years, 1, 1), today=today)
    steps: list[tuple[float, str, Callable[[Connection, World], None]]] = [  # (share of the work, message, step)
        (0.01, "geography", seed_geography), (0.01, "catalogue", seed_catalogue), (0.02, "dealers", seed_dealers),
        (0.03, "users", seed_users), (0.01, "marketing nodes", seed_nodes), (0.04, "campaigns", seed_campaigns),
        (0.38, "leads", seed_leads), (0.06, "channel facts", seed_channel_facts), (0.02, "channel targets", seed_targets),
        (0.41, "members and points", seed_members),
        (0.01, "settings", lambda conn, w: seed_settings(conn, w, scale)),
    ]
    total, done = sum(share for share, _, _ in steps), 0.0
    for share, message, step in steps:
        report(0.02 + 0.97 * done / total, message)
        with engine.begin() as conn:
            step(conn, world)
        done += share
    with engine.begin() as conn:
        reset_sequences(conn)
        counts = _row_counts(conn)
    report(1.0, "done")
    return counts


def _print_progress(started: float) -> Progress:
    """A progress callback printing one line per step with the elapsed time."""
    def report(fraction: float, message: str) -> None:
        """Print one progress line."""
        print(f"[{fraction:4.0%}] {time.perf_counter() - started:6.1f} s  {message}", flush=True)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: seed a database and print the row counts and the time taken."""
    parser = argparse.ArgumentParser(prog="python -m lib.seed", description="Generate deterministic demo data.")
    parser.add_argument("--database-url", default=database_url(), help="SQLAlchemy URL (default: the configured database)")
    parser.add_argument("--scale", choices=list(SCALES), default="demo")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--reset", action="store_true", help="delete all rows first")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    engine = make_engine(args.database_url)
    try:
        counts = seed_database(engine, args.scale, args.seed, args.today, _print_progress(started), args.reset)
    except SeedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for table, count in counts.items():
        print(f"{table:<24}{count:>12,}")
    print(f"seeded scale {args.scale} (seed {args.seed}) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
