"""Campaign plans: validation, create and edit with optimistic locking, the approval workflow, duplication.

Rules (users read them as messages, keys in lib/i18n.py):
- Campaign managers and admins plan any campaign; regional staff only their own region's; executives approve.
- A plan is edited only while it is a draft (a submitted plan is withdrawn or rejected back to draft first).
- Every save names the version it started from; if someone saved in between, the save is refused.
- Overlapping campaigns on the same model are allowed; the save returns them as a warning.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from sqlalchemy import Connection, delete, insert, select, update

from lib.clock import now
from lib.models import (
    CAMPAIGN_TYPES,
    OBJECTIVES,
    PHASES,
    AppUser,
    Campaign,
    CampaignBudgetLine,
    CampaignKpiTarget,
    CampaignPhase,
    CampaignStatusChange,
    Channel,
    Region,
    VehicleModel,
)
from lib.queries.calendar import GOAL_METRICS, campaign_detail, overlapping
from lib.scope import Scope
from lib.services import audit
from lib.services.errors import FieldError, InputInvalidError, RefusedError, has_invisible
from lib.sqlfuncs import among, equals

NAME_MAX = 128  # characters of a campaign name (the column's width)
NAME_MIN = 2  # a one-character name says nothing
HASHTAG_MAX = 64  # characters of a hashtag (the column's width)
TEXT_MAX = 2000  # characters of notes, a rejection reason or one review section
MAX_DAYS = 366  # a campaign lasts at most a year; longer programmes are split
MAX_BUDGET = 1e10  # ¥100亿: anything above is a typing error
MAX_TARGET = 1e12  # upper bound of a KPI target
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # dates outside are typing errors
PLAN_KPIS = GOAL_METRICS  # targets the plan form asks for
OBJECTIVE_KPI = {"awareness": "impressions", "leads": "leads", "conversion": "orders"}  # the goal each objective must quantify
OWNER_ROLES = ("campaign_manager", "regional_staff", "admin")  # who may own a campaign
REVIEW_SECTIONS = ("review_key_data", "review_conclusions", "review_lessons")  # a review's parts, in order
YEAR_IN_NAME = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")  # "2026 618焕新季": the year a copy moves forward


class PlanInvalidError(InputInvalidError):
    """The plan breaks rules; nothing was saved."""


class CampaignRefusedError(RefusedError):
    """The action is not allowed now (permission, status, stale version, missing campaign); `key` names the message."""


@dataclass
class PlanInput:
    """What the plan form submits (dates may be missing: validation says so)."""

    name: str
    type: str
    objective: str
    start_date: dt.date | None
    end_date: dt.date | None
    budget_total: float | None
    owner_id: int | None
    hashtag: str | None = None
    model_id: int | None = None
    region_id: int | None = None  # None: national
    notes: str | None = None
    phases: dict[str, tuple[dt.date | None, dt.date | None]] = field(default_factory=dict)
    budget_lines: dict[int, float] = field(default_factory=dict)  # channel id -> CNY
    kpi_targets: dict[str, float] = field(default_factory=dict)  # metric -> target


class Transition(NamedTuple):
    """One workflow action: the statuses it starts from, where it leads, who may do it, what it needs."""

    from_statuses: tuple[str, ...]
    to_status: str
    by: str  # 'editor': may edit this campaign; 'approver': may approve; 'either'
    needs: str | None = None  # 'reason' or 'review': text that must be given


TRANSITIONS: dict[str, Transition] = {  # draft → submitted → approved → running → completed → reviewed
    "submit": Transition(("draft",), "submitted", "editor"),
    "withdraw": Transition(("submitted",), "draft", "editor"),
    "approve": Transition(("submitted",), "approved", "approver"),
    "reject": Transition(("submitted",), "draft", "approver", "reason"),
    "start": Transition(("approved",), "running", "editor"),
    "complete": Transition(("running",), "completed", "editor"),
    "review": Transition(("completed",), "reviewed", "editor", "review"),
    "cancel": Transition(("draft", "submitted", "approved", "running"), "cancelled", "either", "reason"),
}


def _text_error(field_name: str, text: str | None, *, required: bool, max_len: int, min_len: int = 0) -> FieldError | None:
    """The broken rule of one free-text field, if any: missing, or too short or long once trimmed."""
    value = (text or "").strip()
    if not value:
        return FieldError(field_name, "err_required", {}) if required else None
    if has_invisible(value):
        return FieldError(field_name, "err_invisible", {})
    if len(value) > max_len:
        return FieldError(field_name, "err_too_long", {"max": max_len})
    if len(value) < min_len:
        return FieldError(field_name, "err_too_short", {"min": min_len})
    return None


def _text_errors(plan: PlanInput) -> list[FieldError]:
    """Required texts, their lengths, and the choices."""
    errors = [_text_error("name", plan.name, required=True, max_len=NAME_MAX, min_len=NAME_MIN),
              _text_error("hashtag", plan.hashtag, required=False, max_len=HASHTAG_MAX),
              _text_error("notes", plan.notes, required=False, max_len=TEXT_MAX)]
    if plan.type not in CAMPAIGN_TYPES:
        errors.append(FieldError("type", "err_choice", {}))
    if plan.objective not in OBJECTIVES:
        errors.append(FieldError("objective", "err_choice", {}))
    return [error for error in errors if error is not None]


def _date_errors(plan: PlanInput) -> list[FieldError]:
    """Campaign dates, and phases inside them, in order, not overlapping."""
    errors = []
    if plan.start_date is None:
        errors.append(FieldError("start_date", "err_required", {}))
    if plan.end_date is None:
        errors.append(FieldError("end_date", "err_required", {}))
    if plan.start_date is None or plan.end_date is None:
        return errors
    out_of_range = [FieldError(name, "err_date_range", {"first": EARLIEST_YEAR, "last": LATEST_YEAR})
                    for name, day in (("start_date", plan.start_date), ("end_date", plan.end_date))
                    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR]
    if out_of_range:
        return out_of_range
    if plan.end_date < plan.start_date:
        return [FieldError("end_date", "err_end_before_start", {})]
    if (plan.end_date - plan.start_date).days + 1 > MAX_DAYS:
        return [FieldError("end_date", "err_too_long_campaign", {"days": MAX_DAYS})]
    previous_end = None
    for phase in PHASES:
        first, last = plan.phases.get(phase, (None, None))
        if first is None and last is None:
            continue
        if first is None or last is None:
            errors.append(FieldError(f"phase_{phase}", "err_phase_incomplete", {}))
        elif last < first:
            errors.append(FieldError(f"phase_{phase}", "err_end_before_start", {}))
        elif first < plan.start_date or last > plan.end_date:
            errors.append(FieldError(f"phase_{phase}", "err_phase_outside", {}))
        elif previous_end is not None and first <= previous_end:
            errors.append(FieldError(f"phase_{phase}", "err_phase_order", {}))
        else:
            previous_end = last
    return errors


def _is_number(value: object) -> bool:
    """A finite real number (not a flag, not NaN or infinite)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _money_errors(plan: PlanInput) -> list[FieldError]:
    """Budget ≥ 0 and sane, lines ≥ 0 and within the budget control line, KPI targets ≥ 0, the objective quantified."""
    errors = []
    if plan.budget_total is None:
        errors.append(FieldError("budget_total", "err_required", {}))
    elif not _is_number(plan.budget_total) or not 0 <= plan.budget_total <= MAX_BUDGET:
        errors.append(FieldError("budget_total", "err_budget_range", {"max": f"{MAX_BUDGET:,.0f}"}))
    if not all(_is_number(amount) for amount in plan.budget_lines.values()):
        errors.append(FieldError("budget_lines", "err_not_a_number", {}))
    elif any(amount < 0 for amount in plan.budget_lines.values()):
        errors.append(FieldError("budget_lines", "err_negative", {}))
    elif not errors and sum(plan.budget_lines.values()) > plan.budget_total + 0.005:
        errors.append(FieldError("budget_lines", "err_lines_exceed_total",
                                 {"lines": f"{sum(plan.budget_lines.values()):,.0f}", "total": f"{plan.budget_total:,.0f}"}))
    for metric, value in plan.kpi_targets.items():
        if value is not None and not _is_number(value):
            errors.append(FieldError(f"kpi_{metric}", "err_not_a_number", {}))
        elif value is not None and value < 0:
            errors.append(FieldError(f"kpi_{metric}", "err_negative", {}))
        elif value is not None and value > MAX_TARGET:
            errors.append(FieldError(f"kpi_{metric}", "err_target_range", {"max": f"{MAX_TARGET:,.0f}"}))
    goal = OBJECTIVE_KPI.get(plan.objective)
    if goal is not None and not plan.kpi_targets.get(goal):
        errors.append(FieldError(f"kpi_{goal}", "err_objective_kpi", {}))
    leads, valid = plan.kpi_targets.get("leads"), plan.kpi_targets.get("valid_leads")
    if leads is not None and valid is not None and valid > leads:
        errors.append(FieldError("kpi_valid_leads", "err_valid_above_leads", {}))
    return errors


def _reference_errors(conn: Connection, scope: Scope, plan: PlanInput) -> list[FieldError]:
    """Model, region, channels and owner exist; regional staff plan for their own region, owned by its people."""
    errors = []
    if plan.model_id is not None and conn.execute(select(VehicleModel.id).where(equals(VehicleModel.id, plan.model_id))).first() is None:
        errors.append(FieldError("model_id", "err_choice", {}))
    if plan.region_id is not None and conn.execute(select(Region.id).where(equals(Region.id, plan.region_id))).first() is None:
        errors.append(FieldError("region_id", "err_choice", {}))
    elif not scope.may_touch_region(plan.region_id):
        errors.append(FieldError("region_id", "err_own_region_only", {}))
    known = set(conn.execute(select(Channel.id).where(among(Channel.id, plan.budget_lines))).scalars())
    if set(plan.budget_lines) - known:
        errors.append(FieldError("budget_lines", "err_choice", {}))
    owner = None if plan.owner_id is None else conn.execute(
        select(AppUser.role, AppUser.region_id, AppUser.active).where(equals(AppUser.id, plan.owner_id))).one_or_none()
    if owner is None:
        errors.append(FieldError("owner_id", "err_required", {}))
    elif not owner.active or owner.role not in OWNER_ROLES:
        errors.append(FieldError("owner_id", "err_owner_role", {}))
    elif owner.role == "regional_staff" and owner.region_id != plan.region_id:
        errors.append(FieldError("owner_id", "err_owner_region", {}))
    return errors


def validate(conn: Connection, scope: Scope, plan: PlanInput) -> list[FieldError]:
    """Every broken rule of a plan, one per field at most (empty: the plan may be saved)."""
    errors: list[FieldError] = []
    for error in (*_text_errors(plan), *_date_errors(plan), *_money_errors(plan), *_reference_errors(conn, scope, plan)):
        if error.field not in {seen.field for seen in errors}:
            errors.append(error)
    return errors


def may_edit(scope: Scope, detail: dict) -> bool:
    """Whether this scope may edit the campaign's plan now (a draft in its reach, by a planning role)."""
    return scope.can("edit_campaign") and scope.may_touch_region(detail["region_id"]) and detail["status"] == "draft"


def _require_editor(scope: Scope, region_id: int | None) -> None:
    """Refuse unless the scope may plan campaigns in that region (None: national)."""
    if not scope.can("edit_campaign"):
        raise CampaignRefusedError("refused_role")
    if not scope.may_touch_region(region_id):
        raise CampaignRefusedError("refused_region")


def _clean(plan: PlanInput) -> dict:
    """The campaign row's values from a valid plan (texts trimmed, empty optionals as NULL)."""
    return {"name": plan.name.strip(), "hashtag": (plan.hashtag or "").strip() or None, "type": plan.type,
            "objective": plan.objective, "model_id": plan.model_id, "region_id": plan.region_id,
            "start_date": plan.start_date, "end_date": plan.end_date, "budget_total": round(float(plan.budget_total), 2),
            "owner_id": plan.owner_id, "notes": (plan.notes or "").strip() or None}


def _write_children(conn: Connection, campaign_id: int, plan: PlanInput) -> None:
    """Replace the campaign's phases, budget lines and KPI targets with the plan's."""
    for table in (CampaignPhase, CampaignBudgetLine, CampaignKpiTarget):
        conn.execute(delete(table).where(table.campaign_id == campaign_id))
    phases = [{"campaign_id": campaign_id, "phase": phase, "start_date": first, "end_date": last}
              for phase, (first, last) in plan.phases.items() if first is not None and last is not None]
    lines = [{"campaign_id": campaign_id, "channel_id": channel, "amount": round(float(amount), 2)}
             for channel, amount in plan.budget_lines.items()]
    targets = [{"campaign_id": campaign_id, "metric": metric, "target_value": float(value)}
               for metric, value in plan.kpi_targets.items() if value is not None]
    for table, rows in ((CampaignPhase, phases), (CampaignBudgetLine, lines), (CampaignKpiTarget, targets)):
        if rows:
            conn.execute(insert(table), rows)


def _snapshot(plan: PlanInput) -> dict:
    """A plan as plain JSON-able values as they are stored (empty texts, phases and targets left out), for the audit trail."""
    values = {**asdict(plan), **_clean(plan)}
    values["phases"] = {phase: [str(first), str(last)] for phase, (first, last) in sorted(plan.phases.items())
                        if first is not None and last is not None}
    values["budget_lines"] = {str(channel): round(float(amount), 2) for channel, amount in sorted(plan.budget_lines.items())}
    values["kpi_targets"] = {metric: float(value) for metric, value in sorted(plan.kpi_targets.items()) if value is not None}
    return json.loads(json.dumps(values, default=str))


def _status_change(conn: Connection, scope: Scope, campaign_id: int, old: str | None, new: str, comment: str | None) -> None:
    """Append one life-cycle step."""
    conn.execute(insert(CampaignStatusChange).values(campaign_id=campaign_id, from_status=old, to_status=new,
                                                     changed_by=scope.user_id, changed_at=now(), comment=comment))


def create_campaign(conn: Connection, scope: Scope, plan: PlanInput) -> tuple[int, list[str]]:
    """Save a new plan as a draft; returns its id and the overlapping campaigns on the same model (a warning)."""
    _require_editor(scope, plan.region_id)
    errors = validate(conn, scope, plan)
    if errors:
        raise PlanInvalidError(errors)
    moment = now()
    campaign_id = conn.execute(insert(Campaign).values(
        **_clean(plan), status="draft", version=1, is_demo=False, created_at=moment, updated_at=moment)).inserted_primary_key[0]
    _write_children(conn, campaign_id, plan)
    _status_change(conn, scope, campaign_id, None, "draft", None)
    audit.record(conn, "campaign_create", user_id=scope.user_id, username=scope.username, entity="campaign",
                 entity_id=campaign_id, detail={"after": _snapshot(plan)})
    return campaign_id, overlapping(conn, scope, plan.model_id, plan.start_date, plan.end_date, exclude_id=campaign_id)


def _current(conn: Connection, scope: Scope, campaign_id: int) -> dict:
    """The visible campaign or a refusal."""
    detail = campaign_detail(conn, scope, campaign_id)
    if detail is None:
        raise CampaignRefusedError("refused_missing")
    return detail


def plan_of(detail: dict) -> PlanInput:
    """A stored campaign as the form's input."""
    return PlanInput(
        name=detail["name"], type=detail["type"], objective=detail["objective"], start_date=detail["start_date"],
        end_date=detail["end_date"], budget_total=detail["budget_total"], owner_id=detail["owner_id"],
        hashtag=detail["hashtag"], model_id=detail["model_id"], region_id=detail["region_id"], notes=detail["notes"],
        phases={row["phase"]: (row["start_date"], row["end_date"]) for row in detail["phases"]},
        budget_lines=dict(detail["budget_lines"]),
        kpi_targets={metric: value for metric, value in detail["kpi_targets"].items() if metric in PLAN_KPIS})


def update_campaign(conn: Connection, scope: Scope, campaign_id: int, expected_version: int, plan: PlanInput) -> list[str]:
    """Save an edited draft if nobody saved it since `expected_version` (an unchanged plan writes nothing); returns overlaps."""
    before = _current(conn, scope, campaign_id)
    _require_editor(scope, before["region_id"])
    _require_editor(scope, plan.region_id)
    if before["status"] != "draft":
        raise CampaignRefusedError("refused_not_draft")
    errors = validate(conn, scope, plan)
    if errors:
        raise PlanInvalidError(errors)
    old, new = _snapshot(plan_of(before)), _snapshot(plan)
    changed = {key: {"before": old[key], "after": new[key]} for key in new if old[key] != new[key]}
    if not changed:  # nothing to save: no new version, no audit row
        return overlapping(conn, scope, plan.model_id, plan.start_date, plan.end_date, exclude_id=campaign_id)
    saved = conn.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.version == expected_version)
                         .values(**_clean(plan), version=Campaign.version + 1, updated_at=now()))
    if saved.rowcount != 1:
        raise CampaignRefusedError("refused_stale")
    _write_children(conn, campaign_id, plan)
    audit.record(conn, "campaign_update", user_id=scope.user_id, username=scope.username, entity="campaign",
                 entity_id=campaign_id, detail=changed)
    return overlapping(conn, scope, plan.model_id, plan.start_date, plan.end_date, exclude_id=campaign_id)


def allowed_actions(scope: Scope, detail: dict) -> list[str]:
    """The workflow actions this scope may take on the campaign now."""
    editor = scope.can("edit_campaign") and scope.may_touch_region(detail["region_id"])
    approver = scope.can("approve_campaign")
    allowed_by = {"editor": editor, "approver": approver, "either": editor or approver}
    return [action for action, rule in TRANSITIONS.items()
            if detail["status"] in rule.from_statuses and allowed_by[rule.by]]


def review_text(sections: dict[str, str], labels: dict[str, str]) -> str:
    """A review's sections joined as labelled paragraphs (key data, conclusions, lessons)."""
    return "\n".join(f"{labels[key]}：{sections[key].strip()}" for key in REVIEW_SECTIONS)


def _comment_errors(rule: Transition, comment: str | None, review: dict[str, str] | None) -> list[FieldError]:
    """The reason or the review sections a transition needs."""
    if rule.needs == "reason":
        errors = [_text_error("comment", comment, required=True, max_len=TEXT_MAX)]
    elif rule.needs == "review":
        errors = [_text_error(key, (review or {}).get(key), required=True, max_len=TEXT_MAX) for key in REVIEW_SECTIONS]
    else:
        errors = []
    return [error for error in errors if error is not None]


def _submitter(conn: Connection, campaign_id: int) -> int | None:
    """Who submitted the campaign for its current approval."""
    return conn.execute(select(CampaignStatusChange.changed_by)
                        .where(CampaignStatusChange.campaign_id == campaign_id, CampaignStatusChange.to_status == "submitted")
                        .order_by(CampaignStatusChange.changed_at.desc(), CampaignStatusChange.id.desc()).limit(1)).scalar()


def transition(conn: Connection, scope: Scope, campaign_id: int, expected_version: int, action: str, *,
               comment: str | None = None, review: dict[str, str] | None = None,
               review_labels: dict[str, str] | None = None) -> str:
    """Move a campaign one step in its life cycle if allowed and nobody changed it since; returns the new status."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise CampaignRefusedError("refused_action")
    detail = _current(conn, scope, campaign_id)
    if action not in allowed_actions(scope, detail):
        raise CampaignRefusedError("refused_transition", status=detail["status"])
    errors = _comment_errors(rule, comment, review)
    if errors:
        raise PlanInvalidError(errors)
    if action == "submit":
        problems = validate(conn, scope, plan_of(detail))
        if problems:
            raise PlanInvalidError(problems)
    if action == "approve" and _submitter(conn, campaign_id) == scope.user_id:
        raise CampaignRefusedError("refused_self_approval")
    values: dict = {"status": rule.to_status, "version": Campaign.version + 1, "updated_at": now()}
    if action == "reject":
        values["reject_reason"] = comment.strip()
    elif action == "approve":
        values["reject_reason"] = None
    elif action == "review":
        values["review_text"] = comment = review_text(review, review_labels or {key: key for key in REVIEW_SECTIONS})
    moved = conn.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.version == expected_version,
                                                Campaign.status == detail["status"]).values(**values))
    if moved.rowcount != 1:
        raise CampaignRefusedError("refused_stale")
    _status_change(conn, scope, campaign_id, detail["status"], rule.to_status, (comment or "").strip() or None)
    audit.record(conn, f"campaign_{action}", user_id=scope.user_id, username=scope.username, entity="campaign",
                 entity_id=campaign_id, detail={"from": detail["status"], "to": rule.to_status, "comment": comment})
    return rule.to_status


def shift_year(day: dt.date | None, years: int) -> dt.date | None:
    """The same calendar day some years later (29 Feb becomes 28 Feb)."""
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def duplicate_plan(conn: Connection, scope: Scope, campaign_id: int, years: int = 1) -> PlanInput:
    """A starting point from an earlier visible campaign, for planning roles: its plan moved `years` later, the first year
    in its name too. Regional staff get it as their own region's plan; from a national campaign without its national figures:
    no KPI targets (the query keeps them from her), no budget, and its channels at ¥0 to plan for her region."""
    if not scope.can("edit_campaign"):
        raise CampaignRefusedError("refused_role")
    plan = plan_of(_current(conn, scope, campaign_id))
    plan.name = YEAR_IN_NAME.sub(lambda found: str(int(found.group()) + years), plan.name, count=1)
    plan.start_date, plan.end_date = shift_year(plan.start_date, years), shift_year(plan.end_date, years)
    plan.phases = {phase: (shift_year(first, years), shift_year(last, years)) for phase, (first, last) in plan.phases.items()}
    if not scope.sees_all_regions:  # regional staff start from it as their own region's plan
        if plan.region_id is None:
            plan.budget_total, plan.budget_lines = None, dict.fromkeys(plan.budget_lines, 0.0)
        plan.owner_id, plan.region_id = scope.user_id, scope.region_ids[0]
    return plan
