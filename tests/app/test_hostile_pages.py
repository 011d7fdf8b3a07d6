"""Hostile input typed into the pages and put into their links: always a clear message on screen, never an exception."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from lib import literal
from lib.i18n import t
from lib.models import AppUser, Campaign, Dealer, Member, PointsLedger
from lib.services import campaigns
from tests.app.conftest import click, fresh_user, sign_in
from tests.app.test_calendar_pages import PASSWORDS, fill_plan, open_page
from tests.campaign_helpers import PLAN_YEAR, create
from tests.hostile import CONTROL, MARKUP, SQL
from tests.reference import region_id

LINK_VALUES = ["abc", "-1", "99999999999999999999", "1.5", "²", "٣", "0x10", " 7", "<script>", "'; DROP TABLE campaign;--", ""]
LOOKUP_TEXTS = [SQL[1], SQL[3], "<script>x</script>", "a\x00b", "😀" * 5, "M" + "9" * 19]  # within the lookup's 20 characters


def messages(app) -> list[str]:
    """Every error, warning and info on screen."""
    return [element.value for element in [*app.error, *app.warning, *app.info]]


def rerun_with(app, name: str, value: str):
    """The page run again with one query parameter set; it must not fail."""
    app.query_params[name] = value
    app.run()
    assert not app.exception, (name, value, app.exception)
    return app


@pytest.mark.parametrize("page, param", [("pages/campaign.py", "id"), ("pages/plan_editor.py", "id"), ("pages/plan_editor.py", "copy")])
def test_a_link_to_no_campaign_says_so(app, page, param):
    open_page(app, "manager", page)
    for value in LINK_VALUES:
        rerun_with(app, param, value)
        assert t("campaign_not_found", value=literal.markdown(value[:12])) in messages(app), (value, messages(app))


def test_a_link_to_a_year_out_of_range_says_so(app):
    open_page(app, "manager", "pages/calendar.py")
    for value in ["0", "99999", "abc", "-2026", "²", "2026.0", "1e3", MARKUP[0]]:
        rerun_with(app, "year", value)
        assert any(f"「{literal.markdown(value[:12])}」" in message.value for message in app.warning), (value, messages(app))


def test_a_link_to_another_regions_campaign_opens_nothing_of_it(app, engine):
    foreign = create(engine, region_id=region_id(engine, "southwest"), owner="southwest")
    open_page(app, "east", "pages/plan_editor.py")
    for param in ("id", "copy"):
        rerun_with(app, param, str(foreign))
        assert t("campaign_not_found", value=foreign) in messages(app)
        assert app.text_input(key="plan_name").value == ""
        del app.query_params[param]


def test_hostile_member_numbers_find_nobody(app):
    open_page(app, "admin", "pages/members.py")
    for text in LOOKUP_TEXTS:
        app.text_input(key="points_member_no").input(text).run()
        assert not app.exception, (text, app.exception)
        assert any(message.value.startswith("未找到会员") for message in app.warning), (text, messages(app))


def test_hostile_audit_filters_show_an_empty_log(app):
    open_page(app, "admin", "pages/audit.py")
    for text in [*SQL[:4], MARKUP[0], CONTROL[0], "%", "_"]:
        app.text_input(key="audit_username").input(text).run()
        assert not app.exception, (text, app.exception)
        shown = app.dataframe[0].value[t("audit_user")] if app.dataframe else []  # failed sign-ins record what was typed
        assert t("audit_empty") in messages(app) or all(text.strip().lower() in name.lower() for name in shown), text


def test_hostile_adjustments_are_refused_with_a_message(app, engine):
    open_page(app, "admin", "pages/members.py")
    with engine.connect() as conn:
        number = conn.execute(select(Member.member_no).order_by(Member.id)).scalar()
        before = conn.execute(select(func.count()).select_from(PointsLedger)).scalar_one()
    app.text_input(key="points_member_no").input(number).run()
    for amount, reason in [(10**15, "补录"), (5, "a\x00b"), (-(10**12), "补录"), (5, "   ")]:
        app.number_input(key="points_adjust").set_value(amount)
        app.text_input(key="points_reason").input(reason)
        click(app, "保存调整")
        click(app, "确认")
        assert app.error, (amount, reason)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PointsLedger)).scalar_one() == before


def test_hostile_plans_are_refused_or_shown_as_typed(app, engine):
    open_page(app, "manager", "pages/plan_editor.py")
    start = dt.date(PLAN_YEAR, 9, 1)
    fill_plan(app, "坏\x00名字", start, start.replace(day=30), 1e300, {1: float("1e299")}, 1e15)
    click(app, "保存方案")
    shown = messages(app)
    for key in ("err_invisible", "err_target_range"):
        assert any(t(key, max=f"{campaigns.MAX_TARGET:,.0f}") in message for message in shown), (key, shown)
    name = MARKUP[1]
    fill_plan(app, name, start, start.replace(day=30), 100_000.0, {1: 50_000.0}, 500.0)
    click(app, "保存方案")
    assert not app.error, messages(app)
    assert literal.markdown(name) in [header.value for header in app.header]
    with engine.connect() as conn:
        assert conn.execute(select(Campaign.name).where(Campaign.name == name)).scalar() == name


def test_hostile_users_are_refused_with_a_message(app, engine):
    open_page(app, "admin", "pages/users.py")
    for name, password, email, key in [("坏\x00名", "Kettle-Orbit-Lantern-42", "", "user_text_invisible"),
                                       ("王五", "长" * 30, "", "password_too_long"),
                                       ("王五", "Kettle-Orbit-Lantern-42", "wang\x07@example.cn", "user_text_invisible")]:
        app.text_input(key="users_new_username").input("hostile.new")
        app.text_input(key="users_new_name").input(name)
        app.selectbox(key="users_new_role").set_value("executive")
        app.text_input(key="users_new_email").input(email)
        app.text_input(key="users_new_password").input(password)
        click(app, "创建用户")
        assert [error.value for error in app.error] == [t(key, n=72, zh=24, max=128)], key
    with engine.connect() as conn:
        assert conn.execute(select(AppUser.id).where(AppUser.username == "hostile.new")).first() is None


@pytest.mark.parametrize("username", ["hostile.signin", "nobody-at-all"])
@pytest.mark.parametrize("password", ["x" * 100, "长" * 30, "a\x00b" * 5, MARKUP[0]])
def test_hostile_passwords_at_sign_in_are_just_wrong(app, engine, username, password):
    fresh_user(engine, "hostile.signin")  # a known user of the test's own: its failures lock no demo account
    sign_in(app, username, password)
    assert not app.exception, app.exception
    assert [error.value for error in app.error] == [t("login_failed")]


def test_a_current_password_too_long_to_check_is_wrong(app):
    sign_in(app, "east", PASSWORDS["east"])
    app.switch_page("pages/account.py").run()
    app.text_input(key="current_password").input("x" * 100)
    app.text_input(key="new_password").input("Kettle-Orbit-Lantern-42")
    app.text_input(key="repeat_password").input("Kettle-Orbit-Lantern-42")
    click(app, t("change_password"))
    assert [error.value for error in app.error] == [t("password_wrong")]


def test_hostile_coordinates_are_refused_and_nothing_is_saved(app, engine):
    open_page(app, "admin", "pages/region_admin.py")
    with engine.connect() as conn:
        dealer = conn.execute(select(Dealer.id, Dealer.lat, Dealer.lon).order_by(Dealer.id)).first()
    app.selectbox(key="geo_dealer").set_value(dealer.id).run()
    for lat, lon in [(1e308, -1e308), (-91.0, 181.0), (0.0, 0.0), (1e-300, 120.0)]:
        app.number_input(key=f"geo_lat_{dealer.id}").set_value(lat)
        app.number_input(key=f"geo_lon_{dealer.id}").set_value(lon)
        click(app, t("geo_dealer_save"))
        assert [error.value for error in app.error] == [t("geo_outside_china")], (lat, lon)
    with engine.connect() as conn:
        assert tuple(conn.execute(select(Dealer.lat, Dealer.lon).where(Dealer.id == dealer.id)).one()) == (dealer.lat, dealer.lon)
