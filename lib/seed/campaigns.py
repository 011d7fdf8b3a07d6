"""Steps: marketing nodes and campaigns. The yearly campaign templates and the model launches placed by
each year's nodes, their status history, the expected lead volume per (day, channel, region) they shape
and the campaign owning each cell, and budget lines and KPI targets sized from that volume."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sqlalchemy import Connection

from lib.models import (
    Campaign,
    CampaignBudgetLine,
    CampaignKpiTarget,
    CampaignPhase,
    CampaignStatusChange,
    MarketingNode,
)
from lib.nodes import nodes_for_year
from lib.bulk import bulk_insert
from lib.seed.catalogue import (
    CHANNEL_INDEX,
    CHANNELS,
    LEAD_TO_ORDER_TARGET,
    OFFLINE,
    VALID_RATE_TARGET,
    VEHICLE_MODELS,
    launch_day,
)
from lib.seed.world import DAYS_PER_YEAR, CampaignPlan, World, as_text, step_rng

CAMPAIGN_OWNERS = ("manager", "zhang", "zhou")  # campaigns are owned in turn by these managers
APPROVER = "exec"  # approves, rejects and cancels campaign plans

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
REJECT_REASON = "预算超出总预算控制线：请压缩抖音投放比例，并补充线索与订单目标的测算依据。"  # the demo rejection
CANCEL_COMMENT = "经销商资源调整，活动取消，预算回收至总预算池。"  # the demo cancellations
CANCELLED_CAMPAIGNS = (("summer_drive_south", 0), ("trail_camp", -1))  # (template, year: 0 = first, -1 = next)
REJECTED_CAMPAIGN = ("spring_trip", -1)  # rejected back to draft
REVIEWED_SHARE = 0.8  # campaigns that got a written review once finished
AWAITING_AHEAD = (dt.timedelta(days=45), dt.timedelta(days=160))  # plans starting this far out were sent in as soon as
# drafted and still wait for the approver today (next spring's plans in early winter: the demo's approvals inbox)


def _year_nodes(year: int) -> dict[str, tuple[dt.date, dt.date]]:
    """A year's nodes: code → (start, end)."""
    return {node["code"]: (node["start_date"], node["end_date"]) for node in nodes_for_year(year)}


def seed_nodes(conn: Connection, world: World) -> None:
    """The marketing nodes of every seeded year and the next."""
    nodes = [node for year in world.plan_years for node in nodes_for_year(year)]
    bulk_insert(conn, MarketingNode.__table__, ("id", "code", "name_zh", "name_en", "kind", "start_date", "end_date"),
                [(i + 1, n["code"], n["name_zh"], n["name_en"], n["kind"], as_text(n["start_date"]), as_text(n["end_date"]))
                 for i, n in enumerate(nodes)])


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
        launch = launch_day(world, model)
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
    early, usual = created + _uniform_days(rng, 1, 6), world.at(plan.start - _uniform_days(rng, 60, 80), 10)
    waiting = today + AWAITING_AHEAD[0] < plan.start <= today + AWAITING_AHEAD[1]
    submitted = (early if waiting else max(early, usual)) + dt.timedelta(hours=float(rng.uniform(0, 7)))
    approved = submitted + _uniform_days(rng, 1, 4) + dt.timedelta(hours=float(rng.uniform(0, 2)))
    steps = [(None, "draft", owner, created, "新建方案"), ("draft", "submitted", owner, submitted, "提交审批"),
             ("submitted", "approved", APPROVER, approved, "同意，按总预算控制线执行")]
    if which in CANCELLED_CAMPAIGNS:
        cancelled = min(world.at(plan.start - dt.timedelta(days=5), 11), world.at(today, 9))
        steps = [step for step in steps if step[3] < cancelled]
        steps.append((steps[-1][1], "cancelled", APPROVER, cancelled, CANCEL_COMMENT))
    elif waiting:
        steps = steps[:2]  # not approved yet
    else:
        steps += [("approved", "running", owner, world.at(plan.start, 9), "活动上线"),
                  ("running", "completed", owner, world.at(plan.end + dt.timedelta(days=1), 9.5), "活动结束")]
        if rng.random() < REVIEWED_SHARE:
            steps.append(("completed", "reviewed", owner, world.at(plan.end + _uniform_days(rng, 10, 35), 15), "复盘已提交"))
    today_end = world.at(today + dt.timedelta(days=1), 0)
    plan.steps = [step for step in steps if step[3] < today_end]


def days_between(world: World, first: dt.date, last: dt.date, limit: int) -> np.ndarray:
    """Day indexes from `first` to `last`, clipped to [0, limit)."""
    return np.arange(max(world.index(first), 0), min(world.index(last), limit - 1) + 1)


def plan_regions(world: World, plan: CampaignPlan) -> list[int]:
    """Region indexes a campaign covers (all of them when national)."""
    return list(range(len(world.region_codes))) if plan.region is None else [plan.region]


def _plan_cells(world: World, plan: CampaignPlan) -> tuple[np.ndarray, list[int], list[int]]:
    """The campaign's cells as index lists (days, channels, regions) within the plan horizon."""
    return days_between(world, plan.start, plan.end, world.plan_days), plan.channels, plan_regions(world, plan)


def _campaign_lift(world: World, plans: list[CampaignPlan]) -> np.ndarray:
    """Multiplier on expected leads per (plan day, channel, region) from the campaigns that run."""
    lift = np.ones((world.plan_days, len(CHANNELS), len(world.region_codes)))
    channel_factor = np.where(np.arange(len(CHANNELS)) == OFFLINE, OFFLINE_EVENT_LIFT, 1.0)
    for plan in (p for p in plans if p.happens):
        for phase, first, last in plan.phases:
            factor = 1 + plan.lift * PHASE_LIFT[phase] * channel_factor[plan.channels]
            cells = np.ix_(days_between(world, first, last, world.plan_days), plan.channels, plan_regions(world, plan))
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
    ambition = rng.uniform(*CAMPAIGN_KPI_AMBITION)
    lead_target = max(round(float(leads.sum()) * ambition), 10)
    plan.kpis = {"leads": lead_target, "valid_leads": round(lead_target * VALID_RATE_TARGET),
                 "orders": round(lead_target * LEAD_TO_ORDER_TARGET), "cpl": round(spend / lead_target, 2)}
    if plan.objective == "awareness":  # awareness is quantified in impressions: expected spend over each channel's CPM
        cpm = np.array([c.cpm for c in CHANNELS])[plan.channels]
        impressions = np.divide(leads * cpl * 1000, cpm, out=np.zeros_like(leads), where=cpm > 0)
        plan.kpis["impressions"] = round(float(impressions.sum()) * ambition, -3)


def seed_campaigns(conn: Connection, world: World) -> None:
    """Campaign plans with phases, budget lines, KPI targets and status history; sets the expected volume."""
    rng = step_rng(world.seed, "campaigns")
    plans = _plan_campaigns(world)
    for plan in plans:
        _campaign_history(rng, world, plan)
    world.campaigns = plans
    world.expected = _expected_leads(step_rng(world.seed, "volume"), world, _campaign_lift(world, plans))
    world.cell_campaign = _cell_campaigns(world, plans)
    for index in range(len(plans)):
        _budget_and_kpis(rng, world, index)
    model_ids = [None if p.model is None else p.model + 1 for p in plans]
    bulk_insert(conn, Campaign.__table__,
                ("id", "name", "hashtag", "type", "objective", "model_id", "region_id", "start_date", "end_date", "budget_total",
                 "status", "owner_id", "notes", "reject_reason", "review_text", "is_demo", "created_at", "updated_at", "version"),
                [(i + 1, p.name, p.hashtag, p.type, p.objective, model_ids[i], None if p.region is None else p.region + 1,
                  as_text(p.start), as_text(p.end), p.budget_total, p.status, world.users[p.owner], CAMPAIGN_NOTES[p.type],
                  p.reject_reason, None, True, as_text(p.steps[0][3]), as_text(p.steps[-1][3]), 1) for i, p in enumerate(plans)])
    bulk_insert(conn, CampaignPhase.__table__, ("campaign_id", "phase", "start_date", "end_date"),
                [(i + 1, phase, as_text(first), as_text(last)) for i, p in enumerate(plans) for phase, first, last in p.phases])
    bulk_insert(conn, CampaignBudgetLine.__table__, ("campaign_id", "channel_id", "amount"),
                [(i + 1, channel + 1, amount) for i, p in enumerate(plans) for channel, amount in p.budget_lines.items()])
    bulk_insert(conn, CampaignKpiTarget.__table__, ("campaign_id", "metric", "target_value"),
                [(i + 1, metric, float(value)) for i, p in enumerate(plans) for metric, value in p.kpis.items()])
    changes = [(i + 1, old, new, world.users[by], as_text(at), comment)
               for i, p in enumerate(plans) for old, new, by, at, comment in p.steps]
    bulk_insert(conn, CampaignStatusChange.__table__,
                ("id", "campaign_id", "from_status", "to_status", "changed_by", "changed_at", "comment"),
                [(number + 1, *change) for number, change in enumerate(changes)])
