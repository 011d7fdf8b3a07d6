"""Steps: daily channel facts consistent with the leads (plus national brand rows), the reviews of the
reviewed campaigns written from them, and the monthly channel targets."""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Connection, update

from lib.models import FUNNEL_STAGES, Campaign, ChannelDaily, ChannelTarget
from lib.bulk import as_rows, bulk_insert, indexes_dropped
from lib.seed.catalogue import CHANNELS, LEAD_TO_ORDER_TARGET, VALID_RATE_TARGET, VEHICLE_MODELS
from lib.seed.world import SECONDS_PER_DAY, CampaignPlan, World, as_text, nullable, step_rng

ORDER_PRICE_FACTOR = (0.85, 0.95)  # transaction price / MSRP
BRAND_SPEND_SHARE = 0.12  # national brand spend (region NULL) as a share of all spend
BRAND_CPM_FACTOR = 0.85  # brand media buys a little cheaper per impression
BRAND_CTR_FACTOR = 0.6  # … and is clicked less
NOISE_SIGMA = 0.12  # day-to-day lognormal noise of spend, impressions and clicks
LIVE_VIEWS_MEDIAN = 400  # viewers per dealer live session
LIVE_SESSIONS_BY_TIER = np.array([1.0, 0.4, 0.08])  # Douyin live sessions per dealer-day: head/middle/tail

TARGET_AMBITION = (0.95, 1.15)  # leads target / expected leads, per channel and year

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
    rng = step_rng(world.seed, "reviews")
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
    rng = step_rng(world.seed, "channel facts")
    cells = _cell_facts(rng, world)
    facts = _stack_facts([cells, _order_facts(rng, world, cells), _brand_facts(rng, world, cells)])
    n = len(facts["day"])
    with indexes_dropped(conn, ChannelDaily.__table__):
        bulk_insert(conn, ChannelDaily.__table__,
                    ("id", "day", "channel_id", "region_id", "campaign_id", "spend", "impressions", "clicks", "leads",
                     "valid_leads", "coupons", "orders", "gmv", "fans", "live_sessions", "live_views"),
                    as_rows(np.arange(1, n + 1), world.day_texts(facts["day"]), facts["channel"] + 1,
                          nullable(facts["region"] + 1, facts["region"] >= 0),
                          nullable(facts["campaign"] + 1, facts["campaign"] >= 0), facts["spend"],
                          *(facts[name].astype(np.int64) for name in ("impressions", "clicks", "leads", "valid", "coupons", "orders")),
                          np.round(facts["gmv"], 2), *(facts[name].astype(np.int64) for name in ("fans", "sessions", "views"))))
    _write_reviews(conn, world, facts)


def seed_targets(conn: Connection, world: World) -> None:
    """Monthly targets per channel: regional rows, and national rows that add them up (+ brand spend)."""
    rng = step_rng(world.seed, "targets")
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
    rows = []
    for month in range(world.plan_months):
        first = as_text(dt.date(world.start.year + month // 12, month % 12 + 1, 1))
        for channel in range(len(CHANNELS)):
            for region in [None, *range(len(world.region_codes))]:
                for metric, values in regional.items():
                    value = national[metric][month, channel] if region is None else values[month, channel, region]
                    rows.append((first, channel + 1, None if region is None else region + 1, metric, float(value)))
    bulk_insert(conn, ChannelTarget.__table__, ("id", "month", "channel_id", "region_id", "metric", "target_value", "version"),
                [(number + 1, *row, 1) for number, row in enumerate(rows)])
