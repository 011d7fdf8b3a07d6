"""Member points (会员积分): the member lookup first, then members and tiers, the points flow and balance, the ¥ liability, expiry
forecast, rules."""
import streamlit as st

from lib import charts, formatting, ui
from lib.components import data_status, period_picker, points_lookup, points_rules
from lib.metrics import format_value
from lib.periods import DaySpan
from lib.queries import members, overview

COUNT = st.column_config.NumberColumn(format="%,.0f")  # points and counts in the tables
user = ui.page_user(__file__)
scope, lang, last_day = user.scope, ui.lang(), ui.as_of()
st.title(ui.tr("points_title"))
ui.demo_banner()
ui.show_flash()
data_status.freshness_caption(("members", "points"))
if "members" in data_status.missing(scope, ("members", "points")):
    st.stop()
if not scope.sees_all_regions:
    st.caption(ui.tr_literal("points_scope_region", region=user.region_name(lang)))
programme = ui.load(members.programme)
with st.container(border=True):
    points_lookup.show(scope, last_day, programme["rewards"], ui.load(overview.point_value_cny))
with ui.filters():
    span = DaySpan(*period_picker.pick("points", last_day, default="ytd"))
ui.filters_note(span.start, span.end)
figures = ui.load(members.headline, scope, span, last_day)


def headline() -> None:
    """Members, outstanding points and liability, expiring points, the period's flow and redemption rate."""
    first = st.columns(4)
    first[0].metric(ui.tr("metric_members"), formatting.compact(figures["members"], lang), border=True,
                    help=ui.tr("points_owners_fans", owners=f"{figures['owners']:,.0f}", fans=f"{figures['fans']:,.0f}"))
    first[0].caption(ui.tr("points_new_active", new=formatting.compact(figures["new_members"], lang),
                           active=formatting.compact(figures["active_members"], lang)))
    first[1].metric(ui.tr("metric_outstanding_points"), formatting.compact(figures["outstanding"], lang), border=True)
    first[2].metric(ui.tr("metric_liability"), format_value("liability", figures["liability_cny"], lang), border=True,
                    help=ui.tr("points_rate", rate=f"{figures['point_value_cny']:g}"))
    if figures["points_budget_cny"]:
        first[2].caption(ui.tr("points_budget_use", issued=format_value("liability", figures["issued_cny"], lang),
                               budget=format_value("liability", figures["points_budget_cny"], lang),
                               share=formatting.percent(figures["issued_cny"] / figures["points_budget_cny"])))
    first[3].metric(ui.tr("points_redemption_rate"), formatting.percent(figures["redemption_rate"]), border=True,
                    help=ui.tr("points_redemption_help"))
    first[3].caption(ui.tr("points_period_flow", issued=formatting.compact(figures["issued"], lang),
                           redeemed=formatting.compact(figures["redeemed"], lang), expired=formatting.compact(figures["expired"], lang)))
    expiring = st.columns(len(members.EXPIRY_WINDOWS))
    for column, days in zip(expiring, members.EXPIRY_WINDOWS):
        column.metric(ui.tr("points_expiring_within", days=days), formatting.compact(figures[f"expiring_{days}"], lang), border=True)


def show_flow() -> None:
    """Monthly flow with the running balance; issued by rule and by campaign; redeemed by reward."""
    ui.chart(scope, charts.points_flow(ui.load(members.monthly_flow, scope, span), span.end, lang), width="stretch")
    left, middle, right = st.columns(3)
    by_rule = ui.load(members.issued_by_rule, scope, span)
    left.markdown(ui.bold(ui.tr("points_by_rule")))
    left.dataframe(by_rule[[f"name_{lang}", "points"]].rename(columns={f"name_{lang}": ui.tr("points_name"), "points": ui.tr("points_col_points")}),
                   hide_index=True, width="stretch", column_config={ui.tr("points_col_points"): COUNT}, placeholder=formatting.NO_VALUE)
    by_campaign = ui.load(members.issued_by_campaign, scope, span)
    middle.markdown(ui.bold(ui.tr("points_by_campaign")))
    middle.dataframe(by_campaign[["name", "points"]].rename(columns={"name": ui.tr("col_name"), "points": ui.tr("points_col_points")}),
                     hide_index=True, width="stretch", column_config={ui.tr("points_col_points"): COUNT}, placeholder=formatting.NO_VALUE)
    by_reward = ui.load(members.redeemed_by_reward, scope, span)
    right.markdown(ui.bold(ui.tr("points_by_reward")))
    right.dataframe(by_reward[[f"name_{lang}", "redemptions", "points", "cash_value"]].rename(columns={
        f"name_{lang}": ui.tr("points_name"), "redemptions": ui.tr("points_redemptions"), "points": ui.tr("points_col_points"),
        "cash_value": ui.tr("points_cash")}), hide_index=True, width="stretch",
        column_config={ui.tr("points_redemptions"): COUNT, ui.tr("points_col_points"): COUNT,
                       ui.tr("points_cash"): st.column_config.NumberColumn(format="¥%,.0f")}, placeholder=formatting.NO_VALUE)


def show_expiry() -> None:
    """Points due to expire per month, with the rule."""
    st.caption(ui.tr("points_fifo_rule"))
    ui.chart(scope, charts.expiry_forecast(ui.load(members.expiry_forecast, scope, last_day), lang), width="stretch")


def show_tiers() -> None:
    """Members per tier now, thresholds and benefits, and monthly upgrades."""
    tiers = ui.load(members.tier_counts, scope).merge(programme["tiers"][["id", "benefits_zh", "benefits_en"]], on="id")
    st.dataframe(tiers[[f"name_{lang}", "min_growth", "members", f"benefits_{lang}"]].rename(columns={
        f"name_{lang}": ui.tr("points_tier"), "min_growth": ui.tr("tiers_threshold"), "members": ui.tr("metric_members"),
        f"benefits_{lang}": ui.tr("tiers_benefits")}), hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    upgrades = ui.load(members.tier_upgrades, scope, span)
    st.markdown(ui.bold(ui.tr("tiers_upgrades")))
    ui.chart(scope, charts.tier_upgrades(upgrades, dict(zip(tiers["id"], tiers[f"name_{lang}"])), lang), width="stretch")
    st.caption(ui.tr("tiers_rule"))


VIEWS = {"flow": show_flow, "expiry": show_expiry, "tiers": show_tiers,
         "rules": lambda: points_rules.show(scope, programme)}  # only the chosen view is computed
headline()
view = st.segmented_control(ui.tr("points_view"), list(VIEWS), default="flow", key="points_view",
                            format_func=ui.labelled("points_view", list(VIEWS)).get) or "flow"
VIEWS[view]()
