"""Calendar queries against raw rows: visibility by scope, filters, plan vs actual, budget vs spend; exports and timeline."""
import datetime as dt
import json
from io import BytesIO

import openpyxl
import pandas as pd
import pytest
from icalendar import Calendar

from lib import charts, exports
from lib.queries import calendar
from lib.queries.calendar import NATIONAL, CalendarFilter
from tests.campaign_helpers import PLAN_YEAR, create, scope_of, step
from tests.conftest import TODAY
from tests.reference import raw, region_id


def campaigns_of(engine, username: str, flt: CalendarFilter) -> pd.DataFrame:
    """The calendar query's campaigns for a user."""
    with engine.connect() as conn:
        return calendar.campaigns(conn, scope_of(engine, username), flt)


def raw_campaigns_touching(engine, year: int) -> pd.DataFrame:
    """Stored campaigns whose dates touch the year."""
    rows = raw(engine, "campaign")
    start, end = pd.to_datetime(rows["start_date"]).dt.date, pd.to_datetime(rows["end_date"]).dt.date
    return rows[(start <= dt.date(year, 12, 31)) & (end >= dt.date(year, 1, 1))]


@pytest.mark.parametrize("username", ["exec", "east"])
def test_a_year_shows_exactly_the_visible_campaigns_touching_it(engine, username):
    expected = raw_campaigns_touching(engine, TODAY.year)
    if username == "east":
        expected = expected[expected["region_id"].isna() | (expected["region_id"] == region_id(engine, "east"))]
    shown = campaigns_of(engine, username, CalendarFilter(TODAY.year))
    assert sorted(shown["id"]) == sorted(expected["id"]) and len(shown) > 0


def test_filters_narrow_by_reach_status_and_channel(engine):
    east = region_id(engine, "east")
    rows = raw_campaigns_touching(engine, TODAY.year)
    national = campaigns_of(engine, "exec", CalendarFilter(TODAY.year, reaches=(NATIONAL,)))
    assert sorted(national["id"]) == sorted(rows[rows["region_id"].isna()]["id"])
    both = campaigns_of(engine, "exec", CalendarFilter(TODAY.year, reaches=(NATIONAL, east)))
    assert sorted(both["id"]) == sorted(rows[rows["region_id"].isna() | (rows["region_id"] == east)]["id"])
    completed = campaigns_of(engine, "exec", CalendarFilter(TODAY.year, statuses=("completed", "reviewed")))
    assert sorted(completed["id"]) == sorted(rows[rows["status"].isin(["completed", "reviewed"])]["id"])
    lines = raw(engine, "campaign_budget_line")
    on_douyin = set(lines[lines["channel_id"] == 1]["campaign_id"])
    douyin = campaigns_of(engine, "exec", CalendarFilter(TODAY.year, channel_ids=(1,)))
    assert sorted(douyin["id"]) == sorted(rows[rows["id"].isin(on_douyin)]["id"])


def test_a_regional_user_cannot_read_another_regions_campaign(engine):
    southwest = create(engine, "southwest", owner="southwest", region_id=region_id(engine, "southwest"))
    with engine.connect() as conn:
        assert calendar.campaign_detail(conn, scope_of(engine, "east"), southwest) is None
        assert calendar.status_history(conn, scope_of(engine, "east"), southwest).empty
        assert calendar.plan_vs_actual(conn, scope_of(engine, "east"), southwest, TODAY).empty
        assert calendar.campaign_detail(conn, scope_of(engine, "southwest"), southwest)["id"] == southwest


def busiest_campaign(engine) -> int:
    """The campaign with the most attributed leads so far (so the comparison has figures)."""
    facts = raw(engine, "channel_daily").dropna(subset=["campaign_id"])
    return int(facts.groupby("campaign_id")["leads"].sum().idxmax())


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_plan_vs_actual_equals_a_recomputation_from_the_channel_facts(engine, username, region_code):
    campaign_id = busiest_campaign(engine)
    facts = raw(engine, "channel_daily")
    facts = facts[(facts["campaign_id"] == campaign_id) & (pd.to_datetime(facts["day"]).dt.date <= TODAY)]
    if region_code is not None:
        facts = facts[facts["region_id"] == region_id(engine, region_code)]
    sums = {name: float(facts[name].astype(float).sum()) for name in ("spend", "impressions", "leads", "valid_leads", "orders")}
    targets = raw(engine, "campaign_kpi_target")
    targets = dict(zip(targets[targets["campaign_id"] == campaign_id]["metric"], targets[targets["campaign_id"] == campaign_id]["target_value"].astype(float)))
    campaign = raw(engine, "campaign").set_index("id").loc[campaign_id]
    with engine.connect() as conn:
        shown = calendar.plan_vs_actual(conn, scope_of(engine, username), campaign_id, TODAY).set_index("metric")
    for metric in ("spend", "impressions", "leads", "valid_leads", "orders"):
        assert shown.at[metric, "actual"] == pytest.approx(sums[metric])
    assert shown.at["cpl", "actual"] == pytest.approx(sums["spend"] / sums["leads"])
    assert shown.at["cpql", "actual"] == pytest.approx(sums["spend"] / sums["valid_leads"])
    assert shown.at["spend", "target"] == pytest.approx(float(campaign["budget_total"]))
    if region_code is not None and pd.isna(campaign["region_id"]):  # a national campaign's targets are kept from regional staff
        assert shown.loc[list(targets), "target"].isna().all() and shown.loc[list(targets), "attainment"].isna().all()
        return
    assert shown.at["leads", "attainment"] == pytest.approx(sums["leads"] / targets["leads"])
    assert shown.at["cpl", "attainment"] == pytest.approx(targets["cpl"] / (sums["spend"] / sums["leads"]))


def test_budget_vs_spend_per_channel_equals_the_lines_and_the_facts(engine):
    campaign_id = busiest_campaign(engine)
    facts = raw(engine, "channel_daily")
    facts = facts[(facts["campaign_id"] == campaign_id) & (pd.to_datetime(facts["day"]).dt.date <= TODAY)]
    spent = facts.groupby("channel_id")["spend"].sum().astype(float)
    lines = raw(engine, "campaign_budget_line")
    planned = lines[lines["campaign_id"] == campaign_id].set_index("channel_id")["amount"].astype(float)
    channels = raw(engine, "channel").set_index("code")["id"]
    with engine.connect() as conn:
        shown = calendar.budget_vs_spend(conn, scope_of(engine, "exec"), campaign_id, TODAY)
    assert set(shown["channel"].map(channels)) == set(planned.index) | set(spent.index)
    for row in shown.itertuples():
        channel = channels[row.channel]
        assert row.planned == pytest.approx(planned.get(channel, 0.0)) and row.spent == pytest.approx(spent.get(channel, 0.0))


def test_same_model_overlaps_are_counted_cancelled_ones_ignored_and_other_regions_unseen(engine):
    september = {"model_id": 7, "phases": {}}
    first = create(engine, start_date=dt.date(PLAN_YEAR, 9, 1), end_date=dt.date(PLAN_YEAR, 9, 30), **september)
    second = create(engine, start_date=dt.date(PLAN_YEAR, 9, 20), end_date=dt.date(PLAN_YEAR, 10, 10), **september)
    cancelled = create(engine, start_date=dt.date(PLAN_YEAR, 9, 5), end_date=dt.date(PLAN_YEAR, 9, 25), **september)
    step(engine, "manager", cancelled, "cancel", comment="测试取消")
    alone = create(engine, start_date=dt.date(PLAN_YEAR, 11, 1), end_date=dt.date(PLAN_YEAR, 11, 5), **september)
    create(engine, "southwest", owner="southwest", region_id=region_id(engine, "southwest"), name="西南区同车型活动",
           start_date=dt.date(PLAN_YEAR, 11, 2), end_date=dt.date(PLAN_YEAR, 11, 3), **september)
    for username, alone_overlaps in (("exec", 1), ("east", 0)):
        shown = campaigns_of(engine, username, CalendarFilter(PLAN_YEAR, model_ids=(7,))).set_index("id")
        assert (shown.at[first, "overlaps"], shown.at[second, "overlaps"], shown.at[alone, "overlaps"]) == (1, 1, alone_overlaps)
    with engine.connect() as conn:
        seen_by_east = calendar.overlapping(conn, scope_of(engine, "east"), 7, dt.date(PLAN_YEAR, 11, 1), dt.date(PLAN_YEAR, 11, 5), alone)
        seen_by_exec = calendar.overlapping(conn, scope_of(engine, "exec"), 7, dt.date(PLAN_YEAR, 11, 1), dt.date(PLAN_YEAR, 11, 5), alone)
    assert seen_by_east == [] and seen_by_exec == ["西南区同车型活动"]


def test_the_plan_summary_equals_a_count_over_the_stored_campaigns(engine):
    rows = raw_campaigns_touching(engine, TODAY.year)
    live = rows[rows["status"] != "cancelled"]
    with engine.connect() as conn:
        figures = calendar.plan_summary(conn, scope_of(engine, "exec"), CalendarFilter(TODAY.year))
    shown = campaigns_of(engine, "exec", CalendarFilter(TODAY.year))
    assert figures["campaigns"] == len(live) and figures["running"] == (live["status"] == "running").sum()
    assert figures["budget"] == pytest.approx(live["budget_total"].astype(float).sum())
    assert figures["overlapping"] == ((shown["status"] != "cancelled") & (shown["overlaps"] > 0)).sum()


def test_month_agenda_lists_campaigns_running_in_the_month_with_their_phases():
    frame = pd.DataFrame({"id": [1, 2], "start_date": [dt.date(2026, 5, 20), dt.date(2026, 7, 1)],
                          "end_date": [dt.date(2026, 6, 25), dt.date(2026, 7, 31)]})
    phases = pd.DataFrame({"campaign_id": [1, 1], "phase": ["presale", "peak"],
                           "start_date": [dt.date(2026, 5, 25), dt.date(2026, 6, 1)], "end_date": [dt.date(2026, 5, 31), dt.date(2026, 6, 18)]})
    june = calendar.month_agenda(frame, phases, 2026, 6)
    assert list(june["id"]) == [1] and june["phases_in_month"].iloc[0] == ("peak",)
    assert calendar.month_agenda(frame, phases, 2026, 5)["phases_in_month"].iloc[0] == ("presale",)
    assert list(calendar.month_agenda(frame, phases, 2026, 7)["phases_in_month"]) == [()]


def test_nodes_of_a_year_include_the_fixed_ones(engine):
    with engine.connect() as conn:
        nodes = calendar.year_nodes(conn, TODAY.year)
        far = calendar.year_nodes(conn, 2040)
    assert {"spring_festival", "jd618", "auto818", "double11", "double12", "guangzhou_auto_show"} <= set(nodes["code"])
    assert "double11" in set(far["code"])  # years without stored nodes come from the calendar rules


def plan_frames(engine):
    """This year's campaigns and budget lines as the exec sees them."""
    flt = CalendarFilter(TODAY.year)
    with engine.connect() as conn:
        return calendar.campaigns(conn, scope_of(engine, "exec"), flt), calendar.budget_lines(conn, scope_of(engine, "exec"), flt)


def test_the_excel_export_has_one_row_per_campaign_with_its_budget_lines(engine):
    campaigns, lines = plan_frames(engine)
    workbook = openpyxl.load_workbook(BytesIO(exports.plan_workbook(scope_of(engine, "exec"), campaigns, lines, "zh", [("导出人", "测试")])))
    sheet = workbook["营销计划"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row))) for row in sheet.iter_rows(min_row=2)]
    assert [row["编号"] for row in rows] == list(campaigns["id"])
    channel_names = set(lines["name_zh"])
    for row in rows:
        own = lines[lines["campaign_id"] == row["编号"]]
        assert sum(row[name] or 0 for name in channel_names) == pytest.approx(own["amount"].sum())
        assert row["已分配"] + row["预留"] == pytest.approx(row["总预算"])
    assert workbook["导出说明"]["B2"].value == "测试"


def test_text_that_looks_like_a_formula_is_exported_as_text(engine):
    campaigns, lines = plan_frames(engine)
    hostile = campaigns.head(1).assign(name='=HYPERLINK("http://example.invalid","点我")', hashtag="=1+1")
    sheet = openpyxl.load_workbook(BytesIO(exports.plan_workbook(scope_of(engine, "manager"), hostile, lines, "zh", [("x", "=2+2")])))["营销计划"]
    assert sheet["B2"].value == '=HYPERLINK("http://example.invalid","点我")' and sheet["B2"].data_type == "s"
    assert sheet["C2"].data_type == "s"


def test_campaign_names_cannot_inject_links_into_the_timeline(engine):
    shown = pd.DataFrame([{"id": 1, "name": '<a href="http://example.invalid">点我</a>', "status": "draft", "type": "brand",
                           "model_zh": None, "overlaps": 0, "start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 3, 9)}])
    phases = pd.DataFrame(columns=["campaign_id", "phase", "start_date", "end_date"])
    with engine.connect() as conn:
        nodes = calendar.year_nodes(conn, 2026)
    figure = json.loads(charts.campaign_timeline(shown, phases, nodes, 2026, dt.date(2026, 3, 5), "type", "zh").to_json())
    assert figure["data"][0]["y"] == ['&lt;a href="http://example.invalid"&gt;点我&lt;/a&gt;']


def test_the_ics_export_has_one_all_day_event_per_campaign(engine):
    campaigns, _ = plan_frames(engine)
    parsed = Calendar.from_ical(exports.plan_calendar(scope_of(engine, "exec"), campaigns, "en", dt.datetime(2026, 1, 1, 9)))
    events = {str(event["uid"]): event for event in parsed.walk("VEVENT")}
    assert len(events) == len(campaigns)
    for row in campaigns.itertuples():
        event = events[f"campaign-{row.id}@marketing-cockpit"]
        assert event.decoded("dtstart") == row.start_date
        assert event.decoded("dtend") == row.end_date + dt.timedelta(days=1)
        assert str(event["summary"]).startswith(row.name)


def test_names_with_calendar_syntax_stay_one_events_text_in_the_ics_export(engine):
    campaigns, _ = plan_frames(engine)
    typed = "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged;SUMMARY:<b>y</b>, z\\n"
    campaigns = campaigns.assign(name=typed, hashtag=typed)
    parsed = Calendar.from_ical(exports.plan_calendar(scope_of(engine, "exec"), campaigns, "en", dt.datetime(2026, 1, 1, 9)))
    events = list(parsed.walk("VEVENT"))
    assert len(events) == len(campaigns) and all(str(event["uid"]).startswith("campaign-") for event in events)
    read_back = typed.replace("\r\n", "\n")  # iCalendar text writes a line break as \n
    assert all(str(event["summary"]).startswith(read_back) and read_back in str(event["description"]) for event in events)


def test_the_timeline_has_a_bar_per_campaign_the_nodes_and_today(engine):
    flt = CalendarFilter(TODAY.year)
    with engine.connect() as conn:
        scope = scope_of(engine, "exec")
        shown, phases, nodes = calendar.campaigns(conn, scope, flt), calendar.phases(conn, scope, flt), calendar.year_nodes(conn, TODAY.year)
    figure = json.loads(charts.campaign_timeline(shown, phases, nodes, TODAY.year, TODAY, "status", "zh").to_json())
    segments = [point for trace in figure["data"] if trace["type"] == "bar" for point in trace["customdata"]]
    assert len(segments) == len(shown) + len(phases)
    assert {point[0] for point in segments} == set(shown["id"])
    labels = {annotation["text"] for annotation in figure["layout"]["annotations"]}
    assert set(nodes["name_zh"]) | {"今天"} <= labels


def test_the_plans_awaiting_approval_equal_a_recomputation_from_the_raw_rows(engine):
    east = region_id(engine, "east")
    national, regional = create(engine, budget_total=880_000.0), create(engine, "east", owner="east", region_id=east)
    step(engine, "manager", national, "submit")
    step(engine, "east", regional, "submit")
    campaigns, changes, people = raw(engine, "campaign"), raw(engine, "campaign_status_change"), raw(engine, "app_user")
    goals = raw(engine, "campaign_kpi_target").pivot(index="campaign_id", columns="metric", values="target_value")
    names = people.set_index("id")["display_name"]
    for username in ("exec", "east"):
        scope = scope_of(engine, username)
        with engine.connect() as conn:
            shown = calendar.awaiting_approval(conn, scope).set_index("id")
        waiting = campaigns[(campaigns["status"] == "submitted")
                            & (campaigns["region_id"].isna() | campaigns["region_id"].isin([east]) if username == "east" else True)]
        assert sorted(shown.index) == sorted(waiting["id"])
        for row in waiting.itertuples():
            submissions = changes[(changes["campaign_id"] == row.id) & (changes["to_status"] == "submitted")]
            last = submissions.sort_values(["changed_at", "id"]).iloc[-1]
            assert shown.at[row.id, "submitted_by"] == names[last["changed_by"]]
            assert pd.Timestamp(shown.at[row.id, "submitted_at"]) == pd.Timestamp(last["changed_at"])
            assert shown.at[row.id, "budget_total"] == float(row.budget_total)
            hidden = username == "east" and pd.isna(row.region_id)  # a national plan's goals are national figures
            for metric in calendar.GOAL_METRICS:
                goal = goals[metric].get(row.id) if metric in goals else None
                expected = None if hidden or goal is None or pd.isna(goal) else float(goal)
                assert (None if pd.isna(shown.at[row.id, f"target_{metric}"]) else shown.at[row.id, f"target_{metric}"]) == expected
    assert shown.at[regional, "target_leads"] == 5_000.0 and pd.isna(shown.at[national, "target_leads"])
