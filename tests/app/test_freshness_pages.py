"""Every dashboard says how fresh the sources it shows are (数据截至 …, the times this test stored), the overview warns about a
source older than its expected cadence and only then, and admins set the cadence there."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from lib import clock
from lib.i18n import t
from lib.models import AppSetting, AuditLog
from lib.services import audit, freshness
from tests.app.conftest import PASSWORDS, open_as, sign_in

SOURCES = ("channel-facts", "leads", "lead-progress", "members", "points")  # the sources the overview shows, in its order
NAMES = {"channel-facts": "渠道日数据", "leads": "线索", "lead-progress": "线索进展", "members": "会员", "points": "积分流水"}
PAGE_SOURCES = {  # page -> the sources its caption names
    "pages/overview.py": SOURCES,
    "pages/channels.py": ("channel-facts", "leads"),
    "pages/funnel.py": ("leads", "lead-progress"),
    "pages/dealers.py": ("leads", "lead-progress"),
    "pages/members.py": ("members", "points"),
    "pages/calendar.py": ("channel-facts",),
    "pages/campaign.py": ("channel-facts",),
}


def store(engine, times: dict[str, dt.datetime]) -> None:
    """Set sources' newest record times as a rollback would (committed; the caches told)."""
    with engine.begin() as conn:
        for source, newest in times.items():
            freshness.restore(conn, source, newest)
        audit.bump_data_version(conn)


def recent_times() -> dict[str, dt.datetime]:
    """A different recent time (whole minutes, within the day) for every source."""
    base = clock.now().replace(second=0) - dt.timedelta(hours=1)
    return {source: base - dt.timedelta(minutes=7 * index) for index, source in enumerate(SOURCES)}


def caption(times: dict[str, dt.datetime], sources: tuple[str, ...]) -> str:
    """The freshness line a page must show, spelled out here."""
    return "数据截至：" + " · ".join(f"{NAMES[source]} {times[source]:%Y-%m-%d %H:%M}" for source in sources)


def stale_warnings(app) -> list[str]:
    """The overview's warnings about overdue sources."""
    return [warning.value for warning in app.warning if "天未更新" in warning.value]


def test_every_dashboard_captions_the_times_of_its_sources(app, engine, kept_freshness):
    times = recent_times()
    store(engine, times)
    sign_in(app, "exec", PASSWORDS["exec"])
    for page, sources in PAGE_SOURCES.items():
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
        lines = [line.value for line in app.caption if line.value.startswith("数据截至")]
        assert lines == [caption(times, sources)], page


def test_the_overview_warns_about_a_source_older_than_its_cadence_and_only_then(app, engine, kept_freshness):
    times = recent_times()
    store(engine, times)
    open_as(app, "exec", "pages/overview.py")
    assert stale_warnings(app) == [], "every source is within a day"
    old = clock.now().replace(second=0) - dt.timedelta(days=3)
    store(engine, {"leads": old})
    app.run()
    assert stale_warnings(app) == [t("freshness_stale", source="线索", at=f"{old:%Y-%m-%d %H:%M}", age="3.0", days="1")]
    with engine.begin() as conn:  # the leads are expected weekly: three days is no delay
        conn.execute(AppSetting.__table__.insert().values(key="freshness_days.leads", value="7"))
        audit.bump_data_version(conn)
    app.run()
    assert stale_warnings(app) == []


@pytest.mark.parametrize("username,edits", [("admin", True), ("exec", False), ("manager", False)])
def test_admins_set_the_cadence_on_the_overview(app, engine, kept_freshness, username, edits):
    open_as(app, username, "pages/overview.py")
    fields = [field for field in app.number_input if field.key == "freshness_days_leads"]
    assert bool(fields) == edits
    if not edits:
        return
    fields[0].set_value(2.0)
    next(button for button in app.button if button.label == t("freshness_save")).click().run()
    assert not app.exception, app.exception
    assert t("freshness_saved") in [message.value for message in app.success]
    with engine.connect() as conn:
        assert conn.execute(select(AppSetting.value).where(AppSetting.key == "freshness_days.leads")).scalar_one() == "2"
        assert conn.execute(select(AuditLog.action).order_by(AuditLog.id.desc()).limit(1)).scalar_one() == "settings_update"
