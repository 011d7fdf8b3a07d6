"""What each role is offered on the screens: the widgets a role may not use are not drawn (the services refuse them
anyway: tests/unit/test_scope_review.py). Every check runs for a role that must get the widget too, so it could fail."""
import pytest

from lib.scope import PERMISSIONS
from tests.app.conftest import open_as
from tests.campaign_helpers import create, step
from tests.reference import raw, region_id

EXPORTS = {"pages/channels.py": {"导出 Excel", "导出趋势数据 (Excel)"}, "pages/dealers.py": {"导出 Excel"},
           "pages/calendar.py": {"导出 Excel", "导出日历 (.ics)"}}  # page -> its download buttons
REGION_FILTERS = {"pages/channels.py": "channels_regions", "pages/funnel.py": "funnel_regions", "pages/dealers.py": "map_regions"}
POINTS_WRITES = {"代会员兑换", "保存调整", "保存规则", "保存权益", "保存等级设置"}  # redemption, adjustment and programme editors
ROLE_OF = {"exec": "executive", "manager": "campaign_manager", "east": "regional_staff", "admin": "admin"}  # demo users' roles


def may(username: str, action: str) -> bool:
    """Whether a demo user's role may perform an action."""
    return ROLE_OF[username] in PERMISSIONS[action]


@pytest.mark.parametrize("username", ["exec", "east"])
@pytest.mark.parametrize("page", sorted(EXPORTS))
def test_only_roles_that_may_export_get_download_buttons(app, page, username):
    open_as(app, username, page)
    assert {button.label for button in app.download_button} == (EXPORTS[page] if may(username, "export_data") else set())


@pytest.mark.parametrize("username", ["exec", "east"])
def test_only_roles_that_may_export_get_the_lead_list_download(app, username):
    open_as(app, username, "pages/funnel.py")
    app.segmented_control(key="funnel_view").set_value("leads").run()
    assert [button.label for button in app.download_button] == (["导出 Excel"] if may(username, "export_data") else [])


@pytest.mark.parametrize("username", ["exec", "east"])
@pytest.mark.parametrize("page", sorted(REGION_FILTERS))
def test_only_roles_that_see_every_region_get_a_region_filter(app, page, username):
    open_as(app, username, page)
    assert (REGION_FILTERS[page] in [widget.key for widget in app.multiselect]) == (username == "exec")


def test_regional_staff_choose_only_within_their_region(app, engine):
    east = region_id(engine, "east")
    provinces, dealers = raw(engine, "province"), raw(engine, "dealer")
    mine = dealers[(dealers["region_id"] == east) & dealers["active"].astype(bool)]
    open_as(app, "east", "pages/funnel.py")
    assert set(app.multiselect(key="funnel_provinces").options) == set(provinces.loc[provinces["region_id"] == east, "name_zh"])
    assert set(app.multiselect(key="funnel_dealers").options) == set(mine["code"] + " " + mine["name"])
    app.switch_page("pages/dealers.py").run()
    shown = provinces[(provinces["region_id"] == east) & provinces["has_dealers"].astype(bool)]
    assert set(app.multiselect(key="map_provinces").options) == set(shown["short_zh"])
    app.switch_page("pages/calendar.py").run()
    assert app.multiselect(key="calendar_reach").options == ["全国", "华东"]


@pytest.mark.parametrize("username", ["exec", "manager", "east", "admin"])
def test_only_admins_get_redemption_adjustment_and_programme_editors(app, engine, username):
    members = raw(engine, "member")
    number = members.loc[members["region_id"] == region_id(engine, "east"), "member_no"].iloc[0]  # every one of them may look it up
    open_as(app, username, "pages/members.py")
    app.segmented_control(key="points_view").set_value("lookup").run()
    app.text_input(key="points_member_no").input(number).run()
    assert app.metric, "the member was found"
    offered = {button.label for button in app.button}
    app.segmented_control(key="points_view").set_value("rules").run()
    offered |= {button.label for button in app.button}
    assert offered & POINTS_WRITES == (POINTS_WRITES if may(username, "manage_points") else set())


@pytest.mark.parametrize("username", ["exec", "east"])
def test_only_planners_get_the_new_plan_link(app, username):
    open_as(app, username, "pages/calendar.py")
    assert ("新建活动方案" in [link.label for link in app.page_link]) == may(username, "edit_campaign")


def test_the_executive_is_offered_only_the_approvers_steps_on_a_submitted_plan(app, engine):
    campaign_id = create(engine)
    step(engine, "manager", campaign_id, "submit")
    open_as(app, "exec", "pages/campaign.py")
    app.query_params["id"] = str(campaign_id)
    app.run()
    assert {button.label for button in app.main.button} == {"批准", "驳回", "取消活动"}
    assert {expander.label for expander in app.expander} >= {"驳回", "取消活动"}
