"""The approvals inbox and its count on the overview, the approver's decision beside the plan's budget and goals behind a
confirmation, the manager's withdraw and cancel apart from the forward steps, and the plan editor's drafts."""
import datetime as dt

from lib import literal
from lib.metrics import format_value
from lib.navigation import PAGES
from tests.app.conftest import click, labelled, open_as, sign_in
from tests.app.test_calendar_pages import PASSWORDS
from tests.campaign_helpers import create, step, stored
from tests.reference import raw


URL = {page.path: page.url_path for page in PAGES}  # where a page link leads


def waiting_plans(engine) -> list[int]:
    """The ids of the plans waiting for approval, straight from the campaign table."""
    campaigns = raw(engine, "campaign")
    return sorted(int(campaign_id) for campaign_id in campaigns.loc[campaigns["status"] == "submitted", "id"])


def submitted_plan(engine, **changes: object) -> int:
    """A plan the manager made and submitted."""
    campaign_id = create(engine, **changes)
    step(engine, "manager", campaign_id, "submit")
    return campaign_id


def test_the_overview_tells_an_approver_how_many_plans_wait_and_leads_to_them(app, engine):
    submitted_plan(engine)
    open_as(app, "exec", "pages/overview.py")
    assert f"**:orange[{len(waiting_plans(engine))} 个方案待审批]**" in [markdown.value for markdown in app.markdown]
    assert [link.proto.page for link in app.page_link if link.label == "去审批"] == [URL["pages/approvals.py"]]


def test_a_planner_gets_no_approvals_box(app, engine):
    submitted_plan(engine)
    open_as(app, "manager", "pages/overview.py")
    assert not [markdown for markdown in app.markdown if "待审批" in markdown.value]
    assert "去审批" not in [link.label for link in app.page_link]


def test_the_inbox_lists_each_waiting_plan_with_its_figures_and_a_link_to_it(app, engine):
    submitted_plan(engine, name="收件箱里的方案", budget_total=2_345_678.0)
    open_as(app, "exec", "pages/approvals.py")
    links = {link.proto.query_string: link.proto.page for link in app.page_link}
    assert links == {f"id={waiting}": URL["pages/campaign.py"] for waiting in waiting_plans(engine)}
    shown = "\n".join(markdown.value for markdown in app.markdown)
    assert "收件箱里的方案" in shown
    assert literal.markdown(format_value("spend", 2_345_678.0, "zh")) in shown and "**目标线索量**  \n5,000" in shown
    assert any(caption.value.startswith("提交：李经理 · ") for caption in app.caption)


def test_the_approver_sees_budget_and_goals_beside_the_buttons_and_confirms(app, engine):
    campaign_id = submitted_plan(engine, budget_total=1_234_000.0)
    before = len(waiting_plans(engine))
    open_as(app, "exec", "pages/campaign.py")
    app.query_params["id"] = str(campaign_id)
    app.run()
    decision = "\n".join(markdown.value for markdown in app.markdown)
    assert "审批：请核对预算与目标后决定" in decision
    assert f"**总预算**  \n{literal.markdown(format_value('spend', 1_234_000.0, 'zh'))}" in decision and "**目标订单数**  \n140" in decision
    click(app, "批准")
    assert stored(engine, campaign_id)["status"] == "submitted"
    assert any(markdown.value.startswith("**确认批准方案「") for markdown in app.markdown), "the confirmation names the plan"
    click(app, "返回，不操作")
    assert "确认批准" not in [button.label for button in app.button]
    click(app, "批准")
    click(app, "确认批准")
    assert stored(engine, campaign_id)["status"] == "approved"
    assert len(waiting_plans(engine)) == before - 1


def test_the_managers_withdraw_and_cancel_sit_apart_and_ask_first(app, engine):
    campaign_id = create(engine)
    open_as(app, "manager", "pages/campaign.py")
    app.query_params["id"] = str(campaign_id)
    app.run()
    main_row = [button.label for button in app.main.button if button.label not in {"取消活动"}]
    assert "提交审批" in main_row
    click(app, "提交审批")
    apart = next(expander for expander in app.expander if expander.label == "撤回或取消")
    assert {button.label for button in apart.button} == {"撤回", "取消活动"}
    outside = {button.label for button in app.main.button} - {button.label for button in apart.button}
    assert not outside & {"撤回", "取消活动"}, "no destructive step where 提交审批 was"
    click(app, "撤回")
    assert stored(engine, campaign_id)["status"] == "submitted", "撤回 only asks for a confirmation"
    click(app, "确认撤回")
    assert stored(engine, campaign_id)["status"] == "draft"


def type_a_plan_name(app, name: str) -> None:
    """Type a name and a budget into the plan editor."""
    app.text_input(key="plan_name").input(name)
    app.number_input(key="plan_budget_total").set_value(765_000.0)
    app.run()
    assert not app.exception, app.exception


def test_the_plan_editor_keeps_a_draft_across_pages_until_it_is_discarded(app):
    open_as(app, "manager", "pages/plan_editor.py")
    assert not app.info or all("已恢复" not in info.value for info in app.info)
    type_a_plan_name(app, "离开前输入的方案")
    app.switch_page("pages/calendar.py").run()
    assert "plan_name" not in app.session_state, "Streamlit dropped the editor's widget state on another page"
    app.switch_page("pages/plan_editor.py").run()
    assert app.text_input(key="plan_name").value == "离开前输入的方案"
    assert app.number_input(key="plan_budget_total").value == 765_000.0
    assert any("已恢复" in info.value for info in app.info), "the page says a draft was restored"
    click(app, "放弃草稿")
    assert app.text_input(key="plan_name").value == ""
    app.switch_page("pages/calendar.py").run()
    app.switch_page("pages/plan_editor.py").run()
    assert app.text_input(key="plan_name").value == "", "a discarded draft stays gone"


def test_a_draft_is_the_signed_in_users_own(app):
    open_as(app, "manager", "pages/plan_editor.py")
    type_a_plan_name(app, "经理的草稿")
    app.switch_page("pages/calendar.py").run()
    labelled(app.button, "退出登录").click().run()
    sign_in(app, "admin", PASSWORDS["admin"])
    app.switch_page("pages/plan_editor.py").run()
    assert app.text_input(key="plan_name").value == "", "another user on the same browser sees none of it"
    assert all("已恢复" not in info.value for info in app.info)
    labelled(app.button, "退出登录").click().run()
    sign_in(app, "manager", PASSWORDS["manager"])
    app.switch_page("pages/plan_editor.py").run()
    assert app.text_input(key="plan_name").value == "经理的草稿", "her own draft waits for her"


def test_a_saved_plan_leaves_no_draft(app, engine):
    open_as(app, "manager", "pages/plan_editor.py")
    name = f"保存后无草稿 {dt.datetime.now():%H%M%S%f}"
    type_a_plan_name(app, name)
    app.number_input(key="plan_kpi_leads").set_value(100.0)
    app.date_input(key="plan_start_date").set_value(dt.date(dt.date.today().year + 1, 5, 1))
    app.date_input(key="plan_end_date").set_value(dt.date(dt.date.today().year + 1, 5, 31))
    app.run()
    click(app, "保存方案")
    assert name in raw(engine, "campaign")["name"].tolist()
    app.query_params.pop("id")  # the saved plan's page named it: a new plan again
    app.switch_page("pages/plan_editor.py").run()
    assert app.text_input(key="plan_name").value == ""
