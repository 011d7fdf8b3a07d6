"""Lead progress from the call centre (DCC) and the dealers' CRM (kind `lead-progress`): each row names a stored lead by
its channel and platform id and gives the times it reached later stages, left (lost with a reason, or dormant), came
back, and the first response time. A blank cell leaves the stored value alone, a given one overwrites it; the stage the
lead was lost at is derived as the seed derives it (its furthest stage by the time it was lost)."""
from __future__ import annotations

from functools import partial

import pandas as pd
from sqlalchemy import Connection

from lib.ingest.checks import Checked, Problems
from lib.ingest.fields import Field
from lib.ingest.kind import Applied, Kind
from lib.ingest.kinds.leads import (FUNNEL_STAMPS, KEY, LEAD, PART_ROWS, STAMPS,
                                    repeated_keys, resolved_ids, rollback_leads, settle_progress, stored_leads,
                                    words)
from lib.ingest.upsert import upsert
from lib.models import FUNNEL_STAGES, LOST_REASONS, Channel
from lib.rollups import note_leads, stale_parts

REASON_WORDS = words("reason_", LOST_REASONS)  # lost reasons by code or label (profiles translate the platforms' own)
EXITS = ("lost_at", "dormant_at")  # the side exits a reactivation follows
PROGRESS = (*STAMPS, "lost_reason", "first_response_minutes")  # what a progress file sets
WRITTEN = (*STAMPS, "lost_stage", "lost_reason", "first_response_minutes")  # the lead columns a progress load writes
STORED = sorted({"created_at", *WRITTEN})  # what the check reads of each stored lead (the apply compares WRITTEN)
AS_READ = "stored_"  # the prefix of those values in the checked rows
STAGE_NAMES_ZH = {"valid_at": "有效", "visit_at": "到店", "test_drive_at": "试驾", "order_at": "订单", "delivery_at": "交车",
                  "lost_at": "战败", "dormant_at": "沉睡", "reactivated_at": "激活"}  # stamp → its stage (the Chinese headers accepted)

PROGRESS_FIELDS = (
    Field("external_id", "text", True, ("线索ID", "线索编号", "线索id"), 64, rule_zh="平台的线索编号", rule_en="the platform's lead id"),
    Field("channel", "text", True, ("渠道", "来源渠道", "线索来源"), 64, rule_zh="线索的渠道（编码或名称；可在映射方案中固定）",
          rule_en="the lead's channel (code or name; a profile may fix it)"),
    *[Field(stamp, "datetime", False, (f"{STAGE_NAMES_ZH[stamp]}时间",)) for stamp in STAMPS],
    Field("lost_reason", "text", False, ("战败原因",), 32, rule_zh=" / ".join(LOST_REASONS), rule_en=" / ".join(LOST_REASONS)),
    Field("first_response_minutes", "int", False, ("首次响应分钟", "首响时长"), rule_zh="分钟，≥ 0", rule_en="minutes, ≥ 0"),
)


def _effective(frame: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Each row's values once loaded: the given ones, else the stored ones."""
    values = pd.DataFrame(index=frame.index)
    for name in PROGRESS:
        given, kept = frame[name], stored[name]
        if name in STAMPS:
            given, kept = pd.to_datetime(given), pd.to_datetime(kept)
        values[name] = given.where(given.notna(), kept)
    return values


def _check_order(frame: pd.DataFrame, stored: pd.DataFrame, values: pd.DataFrame, problems: Problems) -> None:
    """Stamps not before the lead's creation; funnel stages in order (a pair is checked when the row gives one of them);
    a lost reason only with a lost time; a reactivation after an exit."""
    created = pd.to_datetime(stored["created_at"])
    for stamp in STAMPS:
        problems.flag(frame[stamp].notna() & (values[stamp] < created), stamp, "ingest_err_before_created")
    for index, earlier in enumerate(FUNNEL_STAMPS):
        for later in FUNNEL_STAMPS[index + 1:]:
            wrong = values[later] < values[earlier]
            problems.flag(wrong & frame[later].notna(), later, "ingest_err_stage_order", earlier=earlier)
            problems.flag(wrong & frame[later].isna() & frame[earlier].notna(), earlier, "ingest_err_stage_order_later", later=later)
    given_reason = frame["lost_reason"].notna() | frame["lost_at"].notna()
    problems.flag(given_reason & values["lost_reason"].notna() & values["lost_at"].isna(), "lost_reason", "ingest_err_reason_without_lost")
    exit_at = values[list(EXITS)].min(axis=1)
    given_return = frame["reactivated_at"].notna() | frame[list(EXITS)].notna().any(axis=1)
    problems.flag(given_return & values["reactivated_at"].notna() & ~(values["reactivated_at"] > exit_at), "reactivated_at",
                  "ingest_err_reactivated_order")


def lost_stages(values: pd.DataFrame, created: pd.Series) -> pd.Series:
    """The stage each lost lead was lost at: its furthest funnel stage reached by its lost time (None when not lost)."""
    lost_at = values["lost_at"]
    stage = pd.Series(FUNNEL_STAGES[0], index=values.index, dtype=object).where(lost_at.notna() & (created <= lost_at))
    for name, stamp in zip(FUNNEL_STAGES[1:], FUNNEL_STAMPS):
        stage = stage.mask(values[stamp].notna() & (values[stamp] <= lost_at), name)
    return stage.where(lost_at.notna())


def check_progress(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Progress rows: a known channel and a stored lead, each lead once per file, known lost reasons, a response time not
    negative, and the stages in order with what is stored."""
    problems = Problems(frame.index)
    reasons = frame["lost_reason"].map(lambda value: REASON_WORDS.get(value.strip().lower()) if isinstance(value, str) else None)
    problems.flag(frame["lost_reason"].notna() & reasons.isna(), "lost_reason", "ingest_err_choice", choices=", ".join(LOST_REASONS))
    problems.flag(frame["first_response_minutes"] < 0, "first_response_minutes", "ingest_err_not_negative")
    frame = frame.assign(channel_id=resolved_ids(conn, frame, problems, "channel", Channel), lost_reason=reasons)
    repeated_keys(frame, problems)
    stored = stored_leads(conn, frame, STORED)
    problems.flag(frame["channel_id"].notna() & stored["id"].isna(), "external_id", "ingest_err_unknown_lead")
    values = _effective(frame, stored)
    _check_order(frame, stored, values, problems)
    rows = values.assign(channel_id=frame["channel_id"].astype("Int64"), external_id=frame["external_id"],
                         lost_stage=lost_stages(values, pd.to_datetime(stored["created_at"])),
                         first_response_minutes=pd.to_numeric(values["first_response_minutes"]).astype("Int64"),
                         newest=frame[list(STAMPS)].max(axis=1))
    return Checked(pd.concat([rows[[*KEY, *WRITTEN, "newest"]], stored[["id", *STORED]].add_prefix(AS_READ)], axis=1),
                   problems.sorted())


def _as_read(rows: pd.DataFrame) -> pd.DataFrame:
    """The stored leads the check read for these rows, one per row that names one (id, key and STORED, as upsert's `stored`
    takes them; whole numbers may be floats, which its comparison allows): nothing writes the leads between a part's check
    and its apply, so the apply need not read them again."""
    read = rows[[f"{AS_READ}{name}" for name in ("id", *STORED)]].set_axis(["id", *STORED], axis=1)
    return read[read["id"].notna()].assign(id=lambda frame: frame["id"].astype(int), **{name: rows[name] for name in KEY})


def apply_progress(conn: Connection, rows: pd.DataFrame, batch_id: int) -> Applied:
    """Update the leads' progress (prior values noted for undo; the leads that change noted as they were, for the rollups)."""
    written = upsert(conn, LEAD, KEY, rows[[*KEY, *WRITTEN]], batch_id, stored=_as_read(rows),
                     before_update=partial(note_leads, conn))
    stale = stale_parts(written.columns) if written.updated else frozenset()
    newest = rows["newest"].max()
    return Applied(updated=len(written.updated), unchanged=written.unchanged,
                   newest_record_at=None if pd.isna(newest) else newest.to_pydatetime(), stale=stale)


LEAD_PROGRESS = Kind("lead-progress", "线索跟进", "Lead progress", PROGRESS_FIELDS, ("channel", "external_id"), check_progress,
                     apply_progress, rollback_leads, part_rows=PART_ROWS, settle=settle_progress)
