"""Every page for every role on a database exactly as `python -m lib.setup` leaves it, plus one user per role (reference data
and users, no facts): no exception; each screen names the kinds of data it lacks and where they are loaded (the import
page's link only for roles that may import, whom to ask for the others); no nan/None text, no empty table, no empty chart
frame. Before any user exists, the sign-in page names lib.setup; the admin setup made must change the password first."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from google.protobuf.message import Message

from lib import setup
from lib.db import get_engine
from lib.i18n import t
from lib.navigation import PAGES, pages_for
from lib.scope import PERMISSIONS
from lib.services import users
from tests.app.conftest import sign_in
from tests.conftest import empty_database

PASSWORD = "Quiet-Otter-Meadow-48"  # every user's password here (the rules accept it)
ROLES = {"boss": "executive", "planner": "campaign_manager", "eastie": "regional_staff", "ops": "admin"}  # username -> role
MISSING = {  # page -> the kinds it says are missing on a database without facts (what the page needs, in its order)
    "pages/overview.py": ("channel-facts", "members", "points"),
    "pages/channels.py": ("channels", "channel-facts"),
    "pages/funnel.py": ("leads", "lead-progress"),
    "pages/dealers.py": ("dealers", "leads", "lead-progress"),
    "pages/members.py": ("members", "points"),
    "pages/calendar.py": ("channels", "models"),
    "pages/campaign.py": ("channels", "models", "channel-facts"),
    "pages/plan_editor.py": ("channels", "models"),
    "pages/targets.py": ("channels",),
}
NAMES = {"channels": ("渠道", "channels"), "models": ("车型", "models"), "dealers": ("经销商", "dealers"), "leads": ("线索", "leads"),
         "lead-progress": ("线索进展", "lead progress"), "members": ("会员", "members"), "points": ("积分流水", "points"),
         "channel-facts": ("渠道日数据", "channel facts")}  # what each kind is called on screen (zh, en)
IMPORT_URL = next(page.url_path for page in PAGES if page.path == "pages/data_import.py")  # where the link leads
NOT_A_VALUE = re.compile(r"\b(nan|NaN|None|NaT|null)\b")  # what a missing value looks like when it leaks into text


@pytest.fixture(scope="module")
def installed(database_url, tmp_path_factory) -> Iterator[str]:
    """A database set up by lib.setup (first admin `chief`) with one user per role created through the users service, served
    to the app under test instead of the session's."""
    with empty_database(tmp_path_factory.mktemp("installed"), "setup_only") as url, pytest.MonkeyPatch.context() as patch:
        assert setup.main(["--database-url", url, "--admin", "chief"], {setup.PASSWORD_ENV: PASSWORD}) == setup.EXIT_OK
        with get_engine(url).begin() as conn:
            for username, role in ROLES.items():
                users.create_user(conn, username=username, display_name=f"{username} 用户", role=role, password=PASSWORD,
                                  region_code="east" if role == "regional_staff" else None)
        patch.setenv("DATABASE_URL", url)
        yield url


def strings(message: Message) -> Iterator[str]:
    """Every text a protobuf message carries, nested messages included (widget ids left out)."""
    for field, value in message.ListFields():
        values = value if field.is_repeated else [value]
        if field.type == field.TYPE_STRING and field.name != "id":  # a widget's id is no text anyone sees
            yield from values
        elif field.type == field.TYPE_MESSAGE and not (field.message_type.GetOptions().map_entry):
            for item in values:
                yield from strings(item)


def page_texts(app) -> list[str]:
    """The texts of every element on the page and in the sidebar (labels, values, options, help, bodies)."""
    return [text for node in [*app.main, *app.sidebar] if getattr(node, "proto", None) is not None for text in strings(node.proto)]


def notice(kinds: tuple[str, ...], regional: bool) -> str:
    """The missing-data notice the page must show, spelled out here."""
    named = "、".join(f"{NAMES[kind][0]}（{kind}）" for kind in kinds)
    if regional:
        return f"您的大区还没有这些数据：{named}。加载后，本页即显示相应内容。"
    return f"还没有加载这些数据：{named}。加载后，本页即显示相应内容。"


@pytest.mark.parametrize("username", list(ROLES))
def test_every_page_says_what_is_missing_and_where_it_is_loaded(installed, app, username):
    role = ROLES[username]
    may_import = role in PERMISSIONS["import_data"]
    sign_in(app, username, PASSWORD)
    assert not app.exception, app.exception
    for page in pages_for(role):
        app.switch_page(page.path).run()
        assert not app.exception, (page.path, app.exception)
        leaks = [text for text in page_texts(app) if NOT_A_VALUE.search(text)]
        assert leaks == [], (page.path, leaks)
        if page.path not in MISSING:
            continue
        assert notice(MISSING[page.path], role == "regional_staff") in [info.value for info in app.info], page.path
        links = [link for link in app.page_link if link.value == t("data_missing_load")]
        assert [link.proto.page for link in links] == ([IMPORT_URL] if may_import else []), page.path
        asked = t("data_missing_ask") in [caption.value for caption in app.caption]
        assert asked != may_import, page.path
        assert not app.dataframe and not app.get("arrow_data_frame"), (page.path, "no empty table")
        for chart in app.get("plotly_chart"):
            spec = json.loads(chart.proto.spec)
            drawn = [trace for trace in spec["data"] if trace.get("x") is not None or trace.get("y") is not None]
            assert drawn or spec["layout"].get("shapes"), (page.path, "no empty chart frame")


def test_the_calendar_still_shows_the_years_marketing_nodes(installed, app):
    sign_in(app, "planner", PASSWORD)
    app.switch_page("pages/calendar.py").run()
    assert t("calendar_none_yet") in [info.value for info in app.info]
    [timeline] = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    labels = " ".join(annotation.get("text", "") for annotation in timeline["layout"]["annotations"])
    assert "春节" in labels and "双11" in labels


def test_the_plan_form_asks_for_channels_and_models_instead_of_empty_choices(installed, app):
    sign_in(app, "planner", PASSWORD)
    app.switch_page("pages/plan_editor.py").run()
    assert not app.exception, app.exception
    assert t("plan_needs_master_data") in [caption.value for caption in app.caption]
    assert not app.main.selectbox and not app.main.multiselect and not app.main.button, "no form before its choices exist"


def test_the_first_admin_must_change_the_password_and_sees_no_demo_hint(installed, app):
    assert t("demo_logins_hint") not in page_texts(app), "no demo hint on a real install's sign-in page"
    sign_in(app, "chief", PASSWORD)
    assert not app.exception, app.exception
    assert t("must_change_password") in [warning.value for warning in [*app.warning, *app.info, *app.error]]
    assert not any("演示" in text for text in page_texts(app)), "no demo banner"
