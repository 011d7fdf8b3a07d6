"""Campaign plans: every rule refuses with the right field and message and saves nothing; permissions; workflow; locking."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from lib.models import AuditLog, Campaign, CampaignBudgetLine, CampaignPhase, CampaignStatusChange
from lib.services import campaigns
from lib.services.campaigns import CampaignRefusedError, PlanInvalidError
from tests.campaign_helpers import PLAN_YEAR, create, scope_of, step, stored, valid_plan
from tests.reference import raw, region_id

MARCH = dt.date(PLAN_YEAR, 3, 1)


def count_campaigns(engine) -> int:
    """How many campaigns are stored."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Campaign)).scalar_one()


BAD_PLANS = {  # case -> (changes to a valid plan, the field and message key expected)
    "no name": ({"name": "  "}, "name", "err_required"),
    "name too long": ({"name": "长" * 129}, "name", "err_too_long"),
    "end before start": ({"end_date": MARCH - dt.timedelta(days=1), "phases": {}}, "end_date", "err_end_before_start"),
    "no start": ({"start_date": None}, "start_date", "err_required"),
    "longer than a year": ({"end_date": MARCH + dt.timedelta(days=400), "phases": {}}, "end_date", "err_too_long_campaign"),
    "phase outside": ({"phases": {"peak": (MARCH, MARCH.replace(month=4, day=2))}}, "phase_peak", "err_phase_outside"),
    "phases out of order": ({"phases": {"warmup": (MARCH.replace(day=10), MARCH.replace(day=12)), "presale": (MARCH, MARCH.replace(day=5))}},
                            "phase_presale", "err_phase_order"),
    "phase half given": ({"phases": {"spread": (MARCH, None)}}, "phase_spread", "err_phase_incomplete"),
    "negative budget": ({"budget_total": -1.0}, "budget_total", "err_budget_range"),
    "lines above the control line": ({"budget_lines": {1: 600_000.0, 3: 500_000.0}}, "budget_lines", "err_lines_exceed_total"),
    "negative line": ({"budget_lines": {1: -5.0}}, "budget_lines", "err_negative"),
    "awareness without impressions": ({"objective": "awareness"}, "kpi_impressions", "err_objective_kpi"),
    "more valid leads than leads": ({"kpi_targets": {"leads": 100.0, "valid_leads": 200.0}}, "kpi_valid_leads", "err_valid_above_leads"),
    "unknown model": ({"model_id": 999_999}, "model_id", "err_choice"),
    "no owner": ({"owner_id": None}, "owner_id", "err_required"),
    "end date in another century": ({"end_date": dt.date(2230, 1, 1)}, "end_date", "err_date_range"),
    "absurd target": ({"kpi_targets": {"leads": 1e13}}, "kpi_leads", "err_target_range"),
}


@pytest.mark.parametrize("case", list(BAD_PLANS))
def test_each_broken_rule_names_its_field_and_nothing_is_saved(engine, case):
    changes, field, key = BAD_PLANS[case]
    before = count_campaigns(engine)
    with pytest.raises(PlanInvalidError) as refused, engine.begin() as conn:
        campaigns.create_campaign(conn, scope_of(engine, "manager"), valid_plan(engine, **changes))
    assert (field, key) in [(error.field, error.key) for error in refused.value.errors]
    assert count_campaigns(engine) == before


def test_a_manager_creates_a_draft_with_its_parts_history_and_audit_row(engine):
    campaign_id = create(engine, budget_lines={1: 250_000.0, 2: 150_000.0})
    row = stored(engine, campaign_id)
    assert (row["status"], row["version"], float(row["budget_total"])) == ("draft", 1, 1_000_000.0)
    with engine.connect() as conn:
        lines = dict(conn.execute(select(CampaignBudgetLine.channel_id, CampaignBudgetLine.amount)
                                  .where(CampaignBudgetLine.campaign_id == campaign_id)).all())
        phases = conn.execute(select(func.count()).where(CampaignPhase.campaign_id == campaign_id)).scalar_one()
        history = conn.execute(select(CampaignStatusChange.to_status).where(CampaignStatusChange.campaign_id == campaign_id)).scalars().all()
        audited = conn.execute(select(AuditLog.action, AuditLog.username).where(
            AuditLog.entity == "campaign", AuditLog.entity_id == str(campaign_id))).all()
    assert {channel: float(amount) for channel, amount in lines.items()} == {1: 250_000.0, 2: 150_000.0}
    assert phases == 2 and history == ["draft"] and audited == [("campaign_create", "manager")]


def test_executives_do_not_edit_plans(engine):
    with pytest.raises(CampaignRefusedError, match="refused_role"), engine.begin() as conn:
        campaigns.create_campaign(conn, scope_of(engine, "exec"), valid_plan(engine, owner="manager"))


def test_regional_staff_plan_only_for_their_own_region(engine):
    east = region_id(engine, "east")
    for region in (None, region_id(engine, "southwest")):
        with pytest.raises(CampaignRefusedError, match="refused_region"), engine.begin() as conn:
            campaigns.create_campaign(conn, scope_of(engine, "east"), valid_plan(engine, owner="east", region_id=region))
    campaign_id = create(engine, "east", owner="east", region_id=east)
    assert stored(engine, campaign_id)["region_id"] == east
    with pytest.raises(PlanInvalidError) as refused, engine.begin() as conn:  # an east person cannot own a national plan
        campaigns.create_campaign(conn, scope_of(engine, "manager"), valid_plan(engine, owner="east"))
    assert ("owner_id", "err_owner_region") in [(error.field, error.key) for error in refused.value.errors]


def test_the_second_of_two_editors_is_refused_and_nothing_is_overwritten(engine):
    campaign_id = create(engine)
    first, second = scope_of(engine, "manager"), scope_of(engine, "zhang")
    opened_at = stored(engine, campaign_id)["version"]  # both open version 1
    with engine.begin() as conn:
        campaigns.update_campaign(conn, first, campaign_id, opened_at, valid_plan(engine, name="第一位的修改"))
    with pytest.raises(CampaignRefusedError, match="refused_stale"), engine.begin() as conn:
        campaigns.update_campaign(conn, second, campaign_id, opened_at, valid_plan(engine, name="第二位的修改", budget_total=5.0,
                                                                                  budget_lines={}))
    row = stored(engine, campaign_id)
    assert (row["name"], row["version"], float(row["budget_total"])) == ("第一位的修改", 2, 1_000_000.0)


def test_an_edit_is_audited_with_the_fields_it_changed(engine):
    campaign_id = create(engine)
    with engine.begin() as conn:
        campaigns.update_campaign(conn, scope_of(engine, "manager"), campaign_id, 1,
                                  valid_plan(engine, name="改名后的活动", budget_total=900_000.0))
    audit = raw(engine, "audit_log")
    detail = audit[(audit["entity_id"] == str(campaign_id)) & (audit["action"] == "campaign_update")]["detail"].iloc[0]
    assert '"name"' in detail and '"budget_total"' in detail and '"start_date"' not in detail


def test_the_life_cycle_runs_in_order_and_only_the_executive_approves(engine):
    campaign_id = create(engine)
    assert step(engine, "manager", campaign_id, "submit") == "submitted"
    with pytest.raises(CampaignRefusedError, match="refused_transition"):
        step(engine, "manager", campaign_id, "approve")
    with pytest.raises(PlanInvalidError):
        step(engine, "exec", campaign_id, "reject", comment="  ")
    assert step(engine, "exec", campaign_id, "reject", comment="预算过高") == "draft"
    assert stored(engine, campaign_id)["reject_reason"] == "预算过高"
    with pytest.raises(CampaignRefusedError, match="refused_transition"):
        step(engine, "manager", campaign_id, "complete")
    for username, action, status in (("manager", "submit", "submitted"), ("exec", "approve", "approved"),
                                     ("manager", "start", "running"), ("manager", "complete", "completed")):
        assert step(engine, username, campaign_id, action) == status
    with pytest.raises(PlanInvalidError) as missing:
        step(engine, "manager", campaign_id, "review", review={"review_key_data": "线索 5,000"})
    assert {error.field for error in missing.value.errors} == {"review_conclusions", "review_lessons"}
    review = {"review_key_data": "线索 5,200", "review_conclusions": "直播效率高", "review_lessons": "提前锁定达人"}
    assert step(engine, "manager", campaign_id, "review", review=review) == "reviewed"
    row = stored(engine, campaign_id)
    assert row["reject_reason"] is None and "直播效率高" in row["review_text"]
    history = raw(engine, "campaign_status_change")
    assert list(history[history["campaign_id"] == campaign_id].sort_values("id")["to_status"]) == [
        "draft", "submitted", "draft", "submitted", "approved", "running", "completed", "reviewed"]


def test_a_workflow_step_on_an_outdated_version_is_refused(engine):
    campaign_id = create(engine)
    with engine.begin() as conn:
        campaigns.transition(conn, scope_of(engine, "manager"), campaign_id, 1, "submit")
    with pytest.raises(CampaignRefusedError, match="refused_stale"), engine.begin() as conn:
        campaigns.transition(conn, scope_of(engine, "exec"), campaign_id, 1, "approve")
    assert stored(engine, campaign_id)["status"] == "submitted"


def test_only_drafts_are_edited_and_cancelling_needs_a_reason(engine):
    campaign_id = create(engine)
    step(engine, "manager", campaign_id, "submit")
    with pytest.raises(CampaignRefusedError, match="refused_not_draft"), engine.begin() as conn:
        campaigns.update_campaign(conn, scope_of(engine, "manager"), campaign_id, 2, valid_plan(engine))
    with pytest.raises(PlanInvalidError):
        step(engine, "manager", campaign_id, "cancel", comment="")
    assert step(engine, "exec", campaign_id, "cancel", comment="资源调整") == "cancelled"
    assert campaigns.allowed_actions(scope_of(engine, "exec"), {"status": "cancelled", "region_id": None}) == []


def test_regional_staff_see_national_and_own_campaigns_and_touch_only_their_own(engine):
    southwest_campaign = create(engine, "southwest", owner="southwest", region_id=region_id(engine, "southwest"))
    national = create(engine)
    with pytest.raises(CampaignRefusedError, match="refused_missing"):
        step(engine, "east", southwest_campaign, "submit")
    with pytest.raises(CampaignRefusedError, match="refused_transition"):
        step(engine, "east", national, "submit")
    with pytest.raises(CampaignRefusedError, match="refused_region"), engine.begin() as conn:
        campaigns.update_campaign(conn, scope_of(engine, "east"), national, 1, valid_plan(engine, owner="manager"))


def test_overlapping_campaigns_on_one_model_are_saved_and_named(engine):
    first = create(engine, model_id=2, name="先有的X5活动")
    with engine.begin() as conn:
        second, overlaps = campaigns.create_campaign(conn, scope_of(engine, "manager"), valid_plan(engine, model_id=2))
    assert "先有的X5活动" in overlaps and second != first


def test_a_duplicate_moves_the_plan_one_year_later(engine):
    source = create(engine, name=f"{PLAN_YEAR} 春季试驾季")
    with engine.connect() as conn:
        copy = campaigns.duplicate_plan(conn, scope_of(engine, "manager"), source)
    original = valid_plan(engine)
    assert copy.name == f"{PLAN_YEAR + 1} 春季试驾季"
    assert copy.start_date == original.start_date.replace(year=PLAN_YEAR + 1)
    assert copy.phases["peak"][0] == original.phases["peak"][0].replace(year=PLAN_YEAR + 1)
    assert copy.budget_lines == original.budget_lines and copy.kpi_targets == original.kpi_targets


def test_a_leap_day_moves_to_the_28th():
    assert campaigns.shift_year(dt.date(2028, 2, 29), 1) == dt.date(2029, 2, 28)


def test_saving_an_unchanged_plan_writes_nothing(engine):
    campaign_id = create(engine, hashtag=None, notes=None)
    as_the_form_sends_it = valid_plan(engine, name=stored(engine, campaign_id)["name"], hashtag="", notes="  ", phases={
        "warmup": (MARCH, MARCH.replace(day=9)), "presale": (None, None), "peak": (MARCH.replace(day=10), MARCH.replace(day=20)),
        "spread": (None, None)})
    with engine.begin() as conn:
        campaigns.update_campaign(conn, scope_of(engine, "manager"), campaign_id, 1, as_the_form_sends_it)
    audit = raw(engine, "audit_log")
    assert stored(engine, campaign_id)["version"] == 1
    assert audit[(audit["entity_id"] == str(campaign_id)) & (audit["action"] == "campaign_update")].empty


def test_nobody_approves_a_plan_they_submitted(engine):
    campaign_id = create(engine, "admin", owner="manager")
    step(engine, "admin", campaign_id, "submit")
    with pytest.raises(CampaignRefusedError, match="refused_self_approval"):
        step(engine, "admin", campaign_id, "approve")
    assert step(engine, "exec", campaign_id, "approve") == "approved"


def test_a_copy_of_a_campaign_crossing_new_year_gets_next_years_name(engine):
    source = create(engine, name=f"{PLAN_YEAR + 1} 春节福袋", start_date=dt.date(PLAN_YEAR, 12, 20),
                    end_date=dt.date(PLAN_YEAR + 1, 1, 20), phases={})
    with engine.connect() as conn:
        copy = campaigns.duplicate_plan(conn, scope_of(engine, "manager"), source)
    assert copy.name == f"{PLAN_YEAR + 2} 春节福袋" and copy.end_date == dt.date(PLAN_YEAR + 2, 1, 20)


def test_a_regional_copy_becomes_her_own_regions_plan(engine):
    national = create(engine)
    with engine.connect() as conn:
        copy = campaigns.duplicate_plan(conn, scope_of(engine, "east"), national)
    assert (copy.region_id, copy.owner_id) == (region_id(engine, "east"), scope_of(engine, "east").user_id)
    source = valid_plan(engine)
    assert (copy.kpi_targets, copy.budget_total) == ({}, None), "a national plan's targets and budget are national figures"
    assert copy.budget_lines == dict.fromkeys(source.budget_lines, 0.0) and copy.phases and copy.model_id == source.model_id


def test_a_regional_copy_of_her_own_regions_campaign_keeps_its_figures(engine):
    east = region_id(engine, "east")
    own = create(engine, "east", owner="east", region_id=east)
    with engine.connect() as conn:
        copy = campaigns.duplicate_plan(conn, scope_of(engine, "east"), own)
    source = valid_plan(engine)
    assert (copy.kpi_targets, copy.budget_total, copy.budget_lines) == (source.kpi_targets, source.budget_total, source.budget_lines)
