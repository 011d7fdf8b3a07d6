"""The dealer map and region admin pages through AppTest: figures equal raw rows, scope holds, cards open, admin edits save."""
import json

import pytest
from sqlalchemy import select

from lib.models import AuditLog, Dealer, Province
from lib.queries.dealers import METRICS
from lib.seed import DEMO_ACCOUNTS
from lib.services import geography
from lib.services.geography import DealerInput
from tests.campaign_helpers import scope_of
from tests.app.conftest import click, sign_in
from tests.conftest import TODAY
from tests.reference import raw, region_id
from tests.unit.test_dealer_map import dealer_leads

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
LEAGUE_REGION, LEAGUE_LEADS = "大区", "线索"  # the region league table's headers


def open_map(app, username: str):
    """Sign in and open the dealer map."""
    sign_in(app, username, PASSWORDS[username])
    app.switch_page("pages/dealers.py").run()
    assert not app.exception, app.exception
    return app


def shown_tables(app) -> list:
    """The data frames the page shows, in order (Styler-wrapped ones unwrapped)."""
    return [getattr(frame.value, "data", frame.value) for frame in app.dataframe]


def table_headed(app, first_column: str):
    """The first data frame shown whose first column has this header (the legends before it vary with the map's level)."""
    return next(frame for frame in shown_tables(app) if list(frame.columns[:1]) == [first_column])


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_region_league_equals_raw_leads_and_keeps_to_scope(app, engine, username, region_code):
    open_map(app, username)
    league = table_headed(app, LEAGUE_REGION)
    leads = dealer_leads(engine, TODAY.replace(month=1, day=1), TODAY)
    regions = raw(engine, "region").set_index("id")
    if region_code is not None:
        leads = leads[leads["region_id"] == region_id(engine, region_code)]
    expected = leads.groupby("region_id").size()
    shown = dict(zip(league[LEAGUE_REGION], league[LEAGUE_LEADS]))
    assert shown == {regions.loc[region, "name_zh"]: float(count) for region, count in expected.items()}


def test_every_metric_renders_in_both_languages(app):
    open_map(app, "manager")
    for metric in METRICS:
        app.selectbox(key="map_metric").set_value(metric).run()
        assert not app.exception, (metric, app.exception)
    assert app.get("deck_gl_json_chart")
    app.selectbox(key="map_metric").set_value("leads")
    app.selectbox(key="lang").set_value("en").run()
    assert not app.exception, app.exception
    assert [title.value for title in app.title] == ["Dealer regional map"]
    assert list(table_headed(app, "Region").columns[:3]) == ["Region", "Leads", "Valid rate"]


def test_a_regional_user_gets_only_her_dealers_in_the_ranking_and_the_list(app, engine):
    open_map(app, "east")
    east = region_id(engine, "east")
    dealers = raw(engine, "dealer")
    ranking = table_headed(app, "排名")
    assert set(ranking["编码"]) <= set(dealers.loc[dealers["region_id"] == east, "code"])
    assert set(ranking["编码"]) >= set(dealers.loc[(dealers["region_id"] == east) & dealers["active"].astype(bool), "code"])
    assert not [box for box in app.multiselect if box.key == "map_regions"], "a regional user has no region filter"
    assert set(app.selectbox(key="map_dealer").options) <= {f"{row.code} {row.name}" for row in dealers.itertuples() if row.region_id == east}


def test_picking_a_dealer_opens_its_card_with_its_figures(app, engine):
    open_map(app, "exec")
    dealers = raw(engine, "dealer").set_index("id")
    leads = dealer_leads(engine, TODAY.replace(month=1, day=1), TODAY)
    busiest = int(leads.groupby("dealer_id").size().idxmax())
    app.selectbox(key="map_dealer").set_value(busiest).run()
    assert not app.exception, app.exception
    assert any(dealers.loc[busiest, "code"] in header.value for header in app.header)
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["线索量"] == f"{int((leads['dealer_id'] == busiest).sum()):,}"
    assert len(app.get("plotly_chart")) == 2, "the card shows the monthly trend and the funnel"


def scroll_scripts(app) -> list[str]:
    """The scripts the run added that scroll the page to the dealer card."""
    return [element.proto.body for element in app.get("html") if "scrollIntoView" in element.proto.body]


def test_picking_a_dealer_scrolls_to_its_card_once(app, engine):
    open_map(app, "exec")
    assert scroll_scripts(app) == [], "no card, nothing to scroll to"
    busiest = int(dealer_leads(engine, TODAY.replace(month=1, day=1), TODAY).groupby("dealer_id").size().idxmax())
    app.selectbox(key="map_dealer").set_value(busiest).run()
    assert [f'data-dealer="{busiest}"' in script and ".st-key-dealer_card" in script for script in scroll_scripts(app)] == [True]
    app.selectbox(key="map_metric").set_value("orders").run()
    assert scroll_scripts(app) == [], "a rerun for anything else leaves the page where the user scrolled it"


def test_an_admin_moves_a_province_to_another_region_and_back(app, engine):
    sign_in(app, "admin", PASSWORDS["admin"])
    app.switch_page("pages/region_admin.py").run()
    east, central = region_id(engine, "east"), region_id(engine, "central")
    app.selectbox(key="geo_province").set_value(110000).run()
    assert app.selectbox(key="geo_target_region_110000").value == region_id(engine, "north")
    app.selectbox(key="geo_province").set_value(340000).run()
    assert app.selectbox(key="geo_target_region_340000").value == east, "the box shows the chosen province's region"
    app.selectbox(key="geo_target_region_340000").set_value(central)
    click(app, "保存所属大区")
    assert any("已调整" in message.value for message in app.success)
    with engine.connect() as conn:
        assert conn.execute(select(Province.region_id).where(Province.adcode == 340000)).scalar_one() == central
        assert set(conn.execute(select(Dealer.region_id).where(Dealer.province_adcode == 340000)).scalars()) <= {central}
    app.selectbox(key="geo_target_region_340000").set_value(east)
    click(app, "保存所属大区")
    with engine.connect() as conn:
        assert conn.execute(select(Province.region_id).where(Province.adcode == 340000)).scalar_one() == east
        moves = conn.execute(select(AuditLog.detail).where(AuditLog.action == "province_region_change", AuditLog.entity_id == "340000")
                             .order_by(AuditLog.id.desc()).limit(2)).scalars().all()
    assert [json.loads(detail)["region_id"] for detail in moves] == [{"before": central, "after": east}, {"before": east, "after": central}]


def test_coordinates_outside_china_are_refused_under_the_field_and_kept(app, engine):
    sign_in(app, "admin", PASSWORDS["admin"])
    app.switch_page("pages/region_admin.py").run()
    dealer = raw(engine, "dealer").iloc[0]
    app.selectbox(key="geo_dealer").set_value(int(dealer["id"])).run()
    app.number_input(key=f"geo_lat_{dealer['id']}").set_value(48.85)
    app.number_input(key=f"geo_lon_{dealer['id']}").set_value(2.35)
    click(app, "保存经销商")
    assert [error.value for error in app.error] == ["坐标不在中国境内，请检查经纬度是否填反或有误。"]
    assert app.number_input(key=f"geo_lat_{dealer['id']}").value == 48.85
    with engine.connect() as conn:
        assert conn.execute(select(Dealer.lat).where(Dealer.id == int(dealer["id"]))).scalar_one() == dealer["lat"]


def test_a_dealer_changed_by_someone_else_meanwhile_is_not_overwritten(app, engine):
    sign_in(app, "admin", PASSWORDS["admin"])
    app.switch_page("pages/region_admin.py").run()
    dealer = raw(engine, "dealer").iloc[1]
    dealer_id, version = int(dealer["id"]), int(dealer["version"])
    app.selectbox(key="geo_dealer").set_value(dealer_id).run()
    with engine.begin() as conn:  # a colleague saves first
        geography.update_dealer(conn, scope_of(engine, "admin"), dealer_id, version,
                                DealerInput("satellite", bool(dealer["active"]), dealer["douyin_tier"], float(dealer["lat"]), float(dealer["lon"])))
    try:
        app.selectbox(key=f"geo_grade_{dealer_id}").set_value("urban")
        for _ in range(2):  # refused, and refused again: the form still shows what was opened before the colleague's save
            click(app, "保存经销商")
            assert [error.value for error in app.error] == ["保存被拒绝：在您打开之后，其他人已修改了此项。请载入最新数据后再改。"]
            assert raw(engine, "dealer").set_index("id").loc[dealer_id, "grade"] == "satellite"
        click(app, "放弃修改，载入最新数据")
        assert app.selectbox(key=f"geo_grade_{dealer_id}").value == "satellite"
        app.selectbox(key=f"geo_grade_{dealer_id}").set_value("urban")
        click(app, "保存经销商")
        assert [message.value for message in app.success] == ["经销商已保存。"]
        assert raw(engine, "dealer").set_index("id").loc[dealer_id, "grade"] == "urban"
    finally:
        current = int(raw(engine, "dealer").set_index("id").loc[dealer_id, "version"])
        with engine.begin() as conn:
            geography.update_dealer(conn, scope_of(engine, "admin"), dealer_id, current,
                                    DealerInput(dealer["grade"], bool(dealer["active"]), dealer["douyin_tier"], float(dealer["lat"]),
                                                float(dealer["lon"])))
