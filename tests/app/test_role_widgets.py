"""What each role is offered on the screens: the widgets a role may not use are not drawn (the services refuse them
anyway: tests/unit/test_scope_review.py). Every check runs for a role that must get the widget too, so it could fail."""
import json
from collections.abc import Iterator

import pytest

from lib.config import ROOT
from lib.i18n import t
from lib.scope import PERMISSIONS
from lib.ui import IMAGE_DOWNLOAD_BUTTONS
from tests.app.conftest import open_as
from tests.campaign_helpers import create, step
from tests.reference import EXPECTED_PAGES, planned_campaign, raw, region_id

EXPORTS = {"pages/channels.py": {t("export_excel"), t("export_trend")}, "pages/dealers.py": {t("export_excel")},
           "pages/calendar.py": {t("export_excel"), t("export_ics")}, "pages/funnel.py": {t("export_excel")}}  # page -> the
# download buttons a role that may export finds on it, in any of its views; every other page has none
CHARTED = {"pages/overview.py", "pages/channels.py", "pages/funnel.py", "pages/dealers.py", "pages/members.py", "pages/calendar.py",
           "pages/campaign.py"}  # pages that draw plotly charts in the states toured below
VIEWS = {"pages/funnel.py": ("funnel_view", ("funnel", "speed", "cohorts", "lost", "leads")),
         "pages/members.py": ("points_view", ("flow", "expiry", "tiers", "rules"))}  # page -> its view switch, every view
REGION_FILTERS = {"pages/channels.py": "channels_regions", "pages/funnel.py": "funnel_regions", "pages/dealers.py": "map_regions"}
POINTS_WRITES = {"代会员兑换", "保存调整", "保存规则", "保存权益", "保存等级设置"}  # redemption, adjustment and programme editors
ROLE_OF = {"exec": "executive", "manager": "campaign_manager", "east": "regional_staff", "admin": "admin"}  # demo users' roles


def may(username: str, action: str) -> bool:
    """Whether a demo user's role may perform an action."""
    return ROLE_OF[username] in PERMISSIONS[action]


def every_state(app, engine, page: str) -> Iterator[None]:
    """Walk a page (already open) through the states that draw more: each view, a member looked up, a dealer's card, a
    campaign with a budget; yields in each."""
    east = region_id(engine, "east")
    yield
    if page in VIEWS:
        key, views = VIEWS[page]
        assert len(app.segmented_control(key=key).options) == len(views), "every view is toured"
        for view in views:
            app.segmented_control(key=key).set_value(view).run()
            assert not app.exception, app.exception
            yield
    if page == "pages/members.py":
        members = raw(engine, "member")
        app.text_input(key="points_member_no").input(members.loc[members["region_id"] == east, "member_no"].iloc[0]).run()
        assert not app.exception, app.exception
        yield
    if page == "pages/dealers.py":
        dealers = raw(engine, "dealer")
        app.selectbox(key="map_dealer").set_value(int(dealers.loc[(dealers["region_id"] == east) & dealers["active"].astype(bool),
                                                                  "id"].iloc[0])).run()
        assert not app.exception, app.exception
        yield
    if page == "pages/campaign.py":
        app.query_params["id"] = str(planned_campaign(engine, east))
        app.run()
        assert not app.exception, app.exception
        yield


@pytest.mark.parametrize("username, page", [(username, page) for username in ("exec", "east")
                                            for page in sorted(EXPECTED_PAGES[username] & EXPECTED_PAGES["east"])])
def test_only_roles_that_may_export_get_downloads_on_any_page(app, engine, username, page):
    open_as(app, username, page)
    offered, charts = set(), []
    for _ in every_state(app, engine, page):
        offered |= {button.label for button in app.download_button}
        charts += [json.loads(chart.proto.config or "{}") for chart in app.get("plotly_chart")]
    assert offered == (EXPORTS.get(page, set()) if may(username, "export_data") else set())
    assert bool(charts) == (page in CHARTED)
    without_image_download = [set(IMAGE_DOWNLOAD_BUTTONS) <= set(config.get("modeBarButtonsToRemove", [])) for config in charts]
    assert without_image_download == [not may(username, "export_data")] * len(charts)


def test_every_plotly_chart_is_drawn_through_the_one_helper():
    drawn_elsewhere = [str(path.relative_to(ROOT)) for path in [ROOT / "Home.py", *ROOT.glob("pages/*.py"), *ROOT.glob("lib/**/*.py")]
                       if "plotly_chart(" in path.read_text(encoding="utf-8") and path != ROOT / "lib" / "ui.py"]
    assert drawn_elsewhere == [], "draw charts with ui.chart, which leaves the image download out for roles that may not export"


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
    apart = next(expander for expander in app.expander if expander.label == "撤回或取消")
    assert {button.label for button in apart.button} == {"取消活动"}, "cancelling sits apart from the decision"
