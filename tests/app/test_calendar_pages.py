"""Calendar, campaign detail and plan editor through AppTest: create, validate, approve, scope, stale saves."""
import datetime as dt
import json

import pandas as pd
from sqlalchemy import func, select

from lib.components import plan_form
from lib.metrics import format_value
from lib.models import Campaign
from lib.queries import calendar
from lib.seed import DEMO_ACCOUNTS
from lib.services import campaigns
from tests.app.conftest import click, sign_in
from tests.campaign_helpers import PLAN_YEAR, create, scope_of, step, stored, valid_plan
from tests.conftest import TODAY
from tests.reference import raw, region_id

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}


def open_page(app, username: str, page: str, lang: str = "zh", **params: object):
    """Sign in as a demo user, choose the language and open a page with query parameters."""
    sign_in(app, username, PASSWORDS[username])
    if lang != "zh":
        app.selectbox(key="lang").set_value(lang).run()
    app.switch_page(page)
    for name, value in params.items():
        app.query_params[name] = str(value)
    app.run()
    assert not app.exception, app.exception
    return app


def fill_plan(app, name: str, start: dt.date, end: dt.date, budget: float, lines: dict[int, float], leads: float):
    """Type a plan into the editor's widgets (channels first, so their amount fields appear)."""
    app.text_input(key="plan_name").input(name)
    app.date_input(key="plan_start_date").set_value(start)
    app.date_input(key="plan_end_date").set_value(end)
    app.number_input(key="plan_budget_total").set_value(budget)
    app.selectbox(key="plan_model_id").set_value(3)
    app.multiselect(key="plan_channels").set_value(list(lines))
    app.run()
    for channel, amount in lines.items():
        app.number_input(key=f"plan_line_{channel}").set_value(amount)
    app.number_input(key="plan_kpi_leads").set_value(leads)
    return app.run()


def count_named(engine, name: str) -> int:
    """How many campaigns carry this name."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(Campaign.name == name)).scalar_one()


def timeline(app) -> dict:
    """The calendar's timeline figure as plotly JSON."""
    return json.loads(app.get("plotly_chart")[0].proto.spec)


def timeline_rows(app) -> set[str]:
    """The campaign rows on the timeline (one label per campaign)."""
    return {label for trace in timeline(app)["data"] if trace["type"] == "bar" for label in trace["y"]}


def test_a_manager_creates_a_campaign_that_appears_in_the_database_and_on_the_timeline(app, engine):
    name = "AppTest 新车预售季"
    open_page(app, "manager", "pages/plan_editor.py")
    fill_plan(app, name, dt.date(PLAN_YEAR, 4, 1), dt.date(PLAN_YEAR, 4, 30), 800_000, {1: 300_000, 3: 200_000}, 4_000)
    click(app, "保存方案")
    assert not app.exception and not app.error, [error.value for error in app.error]
    assert any(f"方案「{name}」已保存" in success.value for success in app.success)
    with engine.connect() as conn:
        row = conn.execute(select(Campaign.id, Campaign.status, Campaign.budget_total, Campaign.owner_id, Campaign.model_id)
                           .where(Campaign.name == name)).one()
    assert (row.status, float(row.budget_total), row.owner_id, row.model_id) == ("draft", 800_000.0, scope_of(engine, "manager").user_id, 3)
    assert app.query_params["id"] == str(row.id)  # the detail page of the new campaign is open
    app.switch_page("pages/calendar.py")
    app.query_params.clear()
    app.query_params["year"] = str(PLAN_YEAR)
    app.run()
    assert name in timeline_rows(app)
    listed = app.dataframe[-1].value
    assert name in set(listed["活动名称"])


def test_an_invalid_plan_shows_each_error_keeps_the_input_and_saves_nothing(app, engine):
    name = "AppTest 无效方案"
    open_page(app, "manager", "pages/plan_editor.py")
    fill_plan(app, name, dt.date(PLAN_YEAR, 5, 10), dt.date(PLAN_YEAR, 5, 1), 100_000, {1: 80_000, 2: 50_000}, 1_000)
    click(app, "保存方案")
    errors = [error.value for error in app.error]
    assert "方案有 2 处需要修改，未保存。" in errors
    assert "结束：结束日期不能早于开始日期。" in errors
    assert "渠道预算：渠道预算合计 ¥130,000 超过总预算控制线 ¥100,000。" in errors
    assert app.text_input(key="plan_name").value == name and app.number_input(key="plan_line_2").value == 50_000
    assert count_named(engine, name) == 0


def test_a_plan_without_its_objectives_target_is_refused_in_english_too(app, engine):
    name = "AppTest awareness"
    open_page(app, "manager", "pages/plan_editor.py", lang="en")
    fill_plan(app, name, dt.date(PLAN_YEAR, 6, 1), dt.date(PLAN_YEAR, 6, 30), 100_000, {}, 1_000)
    app.selectbox(key="plan_objective").set_value("awareness").run()
    click(app, "Save plan")
    assert "Impressions: The campaign's objective needs this target (above 0)." in [error.value for error in app.error]
    assert count_named(engine, name) == 0


def test_executives_see_no_edit_or_submit_on_a_draft(app, engine):
    campaign_id = create(engine)
    open_page(app, "exec", "pages/campaign.py", id=campaign_id)
    labels = [candidate.label for candidate in app.button]
    assert stored(engine, campaign_id)["name"] in [subheader.value for subheader in app.header], "the draft is shown"
    assert "编辑方案" not in labels and "提交审批" not in labels and "复制为新方案" not in labels


def test_a_manager_edits_and_submits_a_draft(app, engine):
    campaign_id = create(engine)
    open_page(app, "manager", "pages/campaign.py", id=campaign_id)
    labels = [candidate.label for candidate in app.button]
    assert "编辑方案" in labels and "批准" not in labels
    click(app, "提交审批")
    assert not app.error, [error.value for error in app.error]
    assert stored(engine, campaign_id)["status"] == "submitted"


def test_the_executive_approves_a_submitted_plan(app, engine):
    campaign_id = create(engine)
    step(engine, "manager", campaign_id, "submit")
    open_page(app, "exec", "pages/campaign.py", id=campaign_id)
    click(app, "批准")
    assert stored(engine, campaign_id)["status"] == "submitted", "批准 only asks for a confirmation"
    click(app, "确认批准")
    assert stored(engine, campaign_id)["status"] == "approved"
    assert any("当前状态「已批准」" in success.value for success in app.success)


def test_a_manager_sees_no_approve_button_but_may_withdraw(app, engine):
    campaign_id = create(engine)
    step(engine, "manager", campaign_id, "submit")
    open_page(app, "manager", "pages/campaign.py", id=campaign_id)
    labels = [candidate.label for candidate in app.button]
    assert "批准" not in labels and "驳回" not in labels and "撤回" in labels


def test_the_executive_rejects_with_a_reason_typed_in_the_page(app, engine):
    campaign_id = create(engine)
    step(engine, "manager", campaign_id, "submit")
    open_page(app, "exec", "pages/campaign.py", id=campaign_id)
    click(app, "驳回")
    click(app, "确认驳回")
    assert "原因：必填。" in [error.value for error in app.error]
    assert stored(engine, campaign_id)["status"] == "submitted"
    app.text_area(key=f"wf_{campaign_id}_reject_text").input("KPI 测算依据不足")
    click(app, "确认驳回")
    row = stored(engine, campaign_id)
    assert (row["status"], row["reject_reason"]) == ("draft", "KPI 测算依据不足")


def test_a_regional_user_sees_national_and_her_regions_campaigns_only(app, engine):
    east, southwest = region_id(engine, "east"), region_id(engine, "southwest")
    create(engine, "southwest", owner="southwest", region_id=southwest, name="西南区专属活动")
    open_page(app, "east", "pages/calendar.py", year=PLAN_YEAR)
    listed = set(app.dataframe[-1].value["活动名称"])
    stored_rows = raw(engine, "campaign")
    touching = stored_rows[pd.to_datetime(stored_rows["start_date"]).dt.year.le(PLAN_YEAR)
                           & pd.to_datetime(stored_rows["end_date"]).dt.year.ge(PLAN_YEAR)]
    expected = set(touching[touching["region_id"].isna() | (touching["region_id"] == east)]["name"])
    assert listed == expected and "西南区专属活动" not in listed and "西南区专属活动" not in timeline_rows(app)


def test_a_regional_user_cannot_open_or_edit_other_campaigns(app, engine):
    foreign = create(engine, "southwest", owner="southwest", region_id=region_id(engine, "southwest"))
    national = create(engine)
    open_page(app, "east", "pages/campaign.py", id=foreign)
    assert any(f"找不到编号为「{foreign}」的活动" in warning.value for warning in app.warning)
    assert not app.metric
    app.switch_page("pages/plan_editor.py")
    app.query_params.clear()
    app.query_params["id"] = str(national)
    app.run()
    assert "您只能编辑本大区的活动。" in [info.value for info in app.info]
    assert "保存方案" not in [candidate.label for candidate in app.button]


def test_a_save_over_someone_elses_newer_version_is_refused_and_the_input_kept(app, engine):
    campaign_id = create(engine, name="AppTest 并发编辑")
    open_page(app, "manager", "pages/plan_editor.py", id=campaign_id)
    with engine.begin() as conn:  # a colleague saves first
        campaigns.update_campaign(conn, scope_of(engine, "zhang"), campaign_id, 1, valid_plan(engine, name="同事先保存的版本"))
    app.text_input(key="plan_name").input("我的修改")
    click(app, "保存方案")
    assert any("其他人已修改了此活动" in error.value for error in app.error)
    assert app.text_input(key="plan_name").value == "我的修改"
    assert stored(engine, campaign_id)["name"] == "同事先保存的版本"
    click(app, "放弃我的修改，载入最新版本")
    assert app.text_input(key="plan_name").value == "同事先保存的版本"


def test_a_bad_year_in_the_link_is_explained(app):
    open_page(app, "exec", "pages/calendar.py", year="20x6")
    assert any("链接中的年份「20x6」无效" in warning.value for warning in app.warning)
    assert app.selectbox(key="calendar_year").value == TODAY.year
    assert timeline(app)["layout"]["xaxis"]["range"][0].startswith(str(TODAY.year))


def test_the_detail_tiles_equal_a_recomputation_from_the_channel_facts(app, engine):
    facts = raw(engine, "channel_daily").dropna(subset=["campaign_id"])
    campaign_id = int(facts.groupby("campaign_id")["leads"].sum().idxmax())
    facts = facts[(facts["campaign_id"] == campaign_id) & (pd.to_datetime(facts["day"]).dt.date <= TODAY)]
    sums = {name: float(facts[name].astype(float).sum()) for name in ("spend", "impressions", "leads", "valid_leads", "orders")}
    targets = raw(engine, "campaign_kpi_target")
    targets = targets[targets["campaign_id"] == campaign_id].set_index("metric")["target_value"].astype(float)
    budget = float(raw(engine, "campaign").set_index("id").at[campaign_id, "budget_total"])
    open_page(app, "exec", "pages/campaign.py", id=campaign_id)
    tiles = {metric.label: metric.value for metric in app.metric}
    expected = {"投放花费": format_value("spend", sums["spend"], "zh"), "线索量": format_value("leads", sums["leads"], "zh"),
                "有效线索": format_value("valid_leads", sums["valid_leads"], "zh"), "订单数": format_value("orders", sums["orders"], "zh"),
                "单条线索成本 CPL": format_value("cpl", sums["spend"] / sums["leads"], "zh"),
                "有效线索成本 CPQL": format_value("cpql", sums["spend"] / sums["valid_leads"], "zh")}
    if "impressions" in targets:  # awareness campaigns are judged on impressions
        expected["曝光"] = format_value("impressions", sums["impressions"], "zh")
    assert tiles == expected
    captions = [caption.value for caption in app.caption]
    assert f"预算 {format_value('spend', budget, 'zh')} · 已用 {sums['spend'] / budget * 100:.1f}%" in captions
    assert f"目标 {format_value('leads', targets['leads'], 'zh')} · 达成 {sums['leads'] / targets['leads'] * 100:.1f}%" in captions



def test_widget_state_dropped_by_a_run_cut_short_comes_back_and_typing_stays(engine, monkeypatch):
    state: dict = {}
    monkeypatch.setattr(plan_form.st, "session_state", state)  # the form's state as a plain dict
    plan = valid_plan(engine)
    plan_form.fill_state(plan, ("edit", 1), 1)
    state["plan_name"] = "已输入的名称"
    channel = state["plan_channels"][0]
    for key in ("plan_budget_total", "plan_kpi_leads", "plan_owner_id", f"plan_line_{channel}"):
        del state[key]  # what Streamlit forgets of the widgets a run cut short by a rerun did not reach
    assert plan_form._incomplete()
    plan_form.restore_missing(plan)
    assert not plan_form._incomplete()
    assert state["plan_name"] == "已输入的名称", "what the user typed stays"
    assert (state["plan_budget_total"], state["plan_kpi_leads"], state["plan_owner_id"], state[f"plan_line_{channel}"]) == (
        plan.budget_total, plan.kpi_targets["leads"], plan.owner_id, plan.budget_lines[channel])


def test_a_regional_copy_of_a_national_campaign_brings_none_of_its_national_figures(app, engine):
    national = create(engine, name=f"{PLAN_YEAR} 全国新车上市")
    source = valid_plan(engine)  # what create() stored: its targets, budget and channel lines
    open_page(app, "southwest", "pages/plan_editor.py", copy=national)
    value = {key: app.session_state[key] for key in plan_form.ALWAYS_DRAWN}
    assert value["plan_name"] == f"{PLAN_YEAR + 1} 全国新车上市" and value["plan_region_id"] == region_id(engine, "southwest")
    assert value["plan_start_date"] == source.start_date.replace(year=PLAN_YEAR + 1)
    assert (value["plan_type"], value["plan_objective"], value["plan_model_id"]) == (source.type, source.objective, source.model_id)
    assert value["plan_phase_peak_start"] == source.phases["peak"][0].replace(year=PLAN_YEAR + 1)
    assert [value[f"plan_kpi_{metric}"] for metric in campaigns.PLAN_KPIS] == [None] * len(campaigns.PLAN_KPIS)
    assert value["plan_budget_total"] is None and value["plan_owner_id"] == scope_of(engine, "southwest").user_id
    assert value["plan_channels"] == list(source.budget_lines)
    assert [app.number_input(key=f"plan_line_{channel}").value for channel in source.budget_lines] == [0.0] * len(source.budget_lines)
    shown = [widget.value for widget in app.number_input]
    assert not {*source.kpi_targets.values(), source.budget_total, *source.budget_lines.values()} & set(shown)


def test_the_detail_and_change_log_of_a_national_campaign_keep_its_targets_from_regional_staff(app, engine):
    national = create(engine, name="AppTest 全国目标保密")
    with engine.begin() as conn:
        campaigns.update_campaign(conn, scope_of(engine, "manager"), national, 1,
                                  valid_plan(engine, name="AppTest 全国目标保密", kpi_targets={"leads": 7_777.0, "orders": 333.0}))
    with engine.connect() as conn:
        east = calendar.campaign_detail(conn, scope_of(engine, "east"), national)
        trail = calendar.audit_trail(conn, scope_of(engine, "east"), national)
        manager_trail = calendar.audit_trail(conn, scope_of(engine, "manager"), national)
    assert east["kpi_targets"] == {} and east["name"] == "AppTest 全国目标保密"
    assert "7777" in "".join(manager_trail["detail"]) and not any("7777" in detail or "5000" in detail for detail in trail["detail"])
    assert "kpi_targets" in json.loads(trail["detail"].iloc[0]), "the change is still named"
    open_page(app, "east", "pages/campaign.py", id=national)
    assert "7,777" not in str([metric.value for metric in app.metric]) + str([caption.value for caption in app.caption])
