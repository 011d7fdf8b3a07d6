"""User text on every page family, through AppTest on a database of the module's own where every kind of user text carries
markup (tests/literal_payloads.py): where Streamlit renders Markdown the page sends it escaped (lib.literal.markdown),
plotly labels carry it as entities, and the map's tooltips are plain text. What Chromium then shows, and that nothing is
fetched, is tests/browser/test_literal_browser.py's part."""
import json

import pytest
from sqlalchemy import select

from lib import literal
from lib.db import get_engine
from lib.i18n import t
from lib.models import Dealer, Member, MemberTier
from lib.queries.overview import UNDER_TARGET_GRACE_DAYS
from tests.app.conftest import sign_in
from tests.app.test_calendar_pages import open_page
from tests.conftest import TODAY
from tests.literal_payloads import payload, planted_database

NO_LISTENER = 9  # the port the payloads' links name: nothing listens here (the browser test runs a listener)
TYPED_NAME = payload("un", NO_LISTENER, 64)  # typed at the sign-in form as a username, within the column's 64 characters


@pytest.fixture(scope="module")
def planted(database_url, tmp_path_factory):
    """The module's planted database, served to the app under test instead of the session's."""
    with planted_database(tmp_path_factory.mktemp("literal"), NO_LISTENER) as (url, what), pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        yield what


def shown(elements) -> str:
    """The values of some elements, one per line."""
    return "\n".join(str(element.value) for element in elements)


def chart_specs(app) -> list[dict]:
    """The plotly figures on the page, as sent to the browser."""
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def test_a_name_typed_at_sign_in_is_escaped_in_the_audit_detail(app, planted):
    sign_in(app, TYPED_NAME, "wrong-password")
    assert [error.value for error in app.error] == [t("login_failed")]
    open_page(app, "admin", "pages/audit.py")
    app.text_input(key="audit_username").input("i-un").run()
    app.session_state["audit_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    assert not app.exception, app.exception
    assert literal.markdown(TYPED_NAME) in shown(app.header), "the detail names the user as typed"


def test_overview_alerts_name_campaigns_and_channels_escaped(app, planted):
    open_page(app, "admin", "pages/overview.py")
    assert literal.markdown(planted.texts["cn"]) in shown(app.warning), "the over-budget alert"
    if (TODAY - TODAY.replace(month=1, day=1)).days >= UNDER_TARGET_GRACE_DAYS:
        assert literal.markdown(planted.texts["ch"]) in shown(app.warning), "the channel below its target"


def test_a_regional_users_name_and_region_are_escaped(app, planted):
    open_page(app, "east", "pages/overview.py")
    assert literal.markdown(planted.texts["rg"]) in shown(app.caption)
    sidebar = shown(app.sidebar.caption)
    assert literal.markdown(planted.texts["de"]) in sidebar and literal.markdown(planted.texts["rg"]) in sidebar, "who, and her region"
    app.switch_page("pages/account.py").run()
    assert literal.markdown(planted.texts["de"]) in shown(app.markdown)
    app.switch_page("pages/members.py").run()
    assert literal.markdown(planted.texts["rg"]) in shown(app.caption)


def test_campaign_detail_calendar_and_plan_editor_escape_names_and_reasons(app, planted):
    open_page(app, "admin", "pages/campaign.py", id=planted.campaigns["over_budget"])
    assert [header.value for header in app.header][0] == literal.markdown(planted.texts["cn"])
    facts = shown(app.markdown)
    for tag in ("hn", "dm", "md"):
        assert literal.markdown(planted.texts[tag]) in facts, tag
    budget_labels = {label for spec in chart_specs(app) for trace in spec["data"] for label in trace.get("y", [])}
    assert {literal.plotly(planted.texts[tag]) for tag in ("ch", "hc")} <= budget_labels
    app.query_params["id"] = str(planted.campaigns["rejected"])
    app.run()
    assert literal.markdown(planted.texts["rj"]) in shown(app.error), "the last rejection's reason"
    app.switch_page("pages/calendar.py").run()
    timeline = chart_specs(app)[0]
    names = {label.removeprefix("⚠ ") for trace in timeline["data"] for label in trace["y"]}  # ⚠: it overlaps another
    assert {literal.plotly(planted.texts[tag]) for tag in ("cn", "cr", "cv", "cx")} <= names
    app.switch_page("pages/plan_editor.py")
    app.query_params["copy"] = str(planted.campaigns["over_budget"])
    app.run()
    labels = [number.label for number in app.number_input]
    assert {literal.markdown(planted.texts[tag]) for tag in ("ch", "hc")} <= set(labels), "the budget lines' channel labels"


def test_dealer_card_map_and_region_admin_escape_place_names(app, planted):
    open_page(app, "east", "pages/dealers.py")
    assert literal.markdown(planted.texts["rg"]) in shown(app.caption), "her region, above the filters"
    app.session_state["map_dealer"] = planted.dealer_id
    app.run()
    assert shown(app.header).count(literal.markdown(planted.texts["dl"])) == 1
    assert literal.markdown(planted.texts["dc"]) in shown(app.header)
    place = shown(app.caption)
    for tag in ("ci", "pv", "rg"):
        assert literal.markdown(planted.texts[tag]) in place, tag
    assert json.loads(app.get("deck_gl_json_chart")[0].proto.tooltip) == {"text": "{tip}"}, "tooltips are plain text"
    assert any(planted.texts["ci"] in tip for tip in map_tips(app)), "her region's map: the city's tooltip names it as typed"
    with get_engine(planted.database_url).connect() as conn:
        province = conn.execute(select(Dealer.province_adcode).where(Dealer.id == planted.dealer_id)).scalar_one()
    app.session_state["map_provinces"] = [province]
    app.run()
    assert any(planted.texts["dl"] in tip for tip in map_tips(app)), "its province's map: the dealer's tooltip names it as typed"


def map_tips(app) -> list[str]:
    """The tooltip texts of every drawn object of the page's map."""
    deck = json.loads(app.get("deck_gl_json_chart")[0].proto.json)
    return [row.get("tip", "") for layer in deck["layers"] if isinstance(layer["data"], list) for row in layer["data"]]


def test_region_admin_escapes_the_dealers_province_and_region(app, planted):
    open_page(app, "admin", "pages/region_admin.py")
    app.selectbox(key="geo_dealer").set_value(planted.dealer_id).run()
    place = shown(app.caption)
    assert literal.markdown(planted.texts["pv"]) in place and literal.markdown(planted.texts["rg"]) in place


def test_member_lookup_and_tiers_escape_masked_names_and_tier_names(app, planted):
    open_page(app, "admin", "pages/members.py")
    app.text_input(key="points_member_no").input(planted.member_no).run()
    header = shown(app.header)
    assert literal.markdown(planted.texts["mn"]) in header and literal.markdown(planted.texts["mp"]) in header
    with get_engine(planted.database_url).connect() as conn:
        tier = conn.execute(select(MemberTier.name_zh).join(Member, Member.tier_id == MemberTier.id)
                            .where(Member.member_no == planted.member_no)).scalar_one()
        tiers = list(conn.execute(select(MemberTier.name_zh)).scalars())
    assert {metric.label: metric.value for metric in app.metric}[t("points_tier")] == literal.markdown(tier)
    app.segmented_control(key="points_view").set_value("tiers").run()
    legend = {trace["name"] for spec in chart_specs(app) for trace in spec["data"]}
    assert legend and legend <= {literal.plotly(name) for name in tiers}


def test_an_imported_files_extra_columns_are_escaped(app, planted):
    open_page(app, "manager", "pages/data_import.py")
    column = payload("ic", NO_LISTENER, 80)
    app.file_uploader(key="ingest_files_0").set_value(("facts.csv", f"date,channel,spend,{column}\n{TODAY},douyin,1,x\n".encode(),
                                                        "text/csv"))
    app.run()
    app.button(key="ingest_check").click().run()
    assert not app.exception, app.exception
    assert literal.markdown(column) in shown(app.warning), "the ignored column, named as the file has it"
