"""Master data that other loads refer to by code: the channels leads and facts come from, and the vehicle models."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sqlalchemy import Connection

from lib.ingest import undo
from lib.ingest.checks import Checked, Problems
from lib.ingest.fields import Field
from lib.ingest.kind import Applied, Kind
from lib.ingest.upsert import upsert
from lib.models import CHANNEL_FAMILIES, POWERTRAINS, Channel, PointsRule, Reward, VehicleModel

CODE_PATTERN = r"[a-z0-9][a-z0-9_\-]*"  # codes other files name: lower-case letters, digits, _ and -


def check_code(frame: pd.DataFrame, problems: Problems) -> None:
    """Codes in the code pattern, each once per file."""
    codes = frame["code"].fillna("")
    problems.flag(codes.ne("") & ~codes.str.fullmatch(CODE_PATTERN), "code", "ingest_err_code")
    problems.flag(codes.ne("") & codes.duplicated(keep="first"), "code", "ingest_err_repeated_key")


def check_choice(frame: pd.DataFrame, problems: Problems, name: str, choices: tuple[str, ...]) -> None:
    """A field's values among the choices (blank allowed when the field is optional)."""
    values = frame[name]
    problems.flag(values.notna() & ~values.isin(choices), name, "ingest_err_choice", choices=", ".join(choices))


CHANNEL_FIELDS = (
    Field("code", "code", True, ("渠道编码", "编码"), 32, rule_zh="小写字母、数字、_ 或 -", rule_en="lower-case letters, digits, _ or -"),
    Field("name_zh", "text", True, ("渠道名称", "中文名"), 32),
    Field("name_en", "text", True, ("英文名",), 64),
    Field("family", "code", True, ("渠道类型", "类型"), 16, rule_zh=" / ".join(CHANNEL_FAMILIES), rule_en=" / ".join(CHANNEL_FAMILIES)),
    Field("sort_order", "int", False, ("排序",)),
    Field("active", "bool", False, ("启用",), rule_zh="是/否，默认是", rule_en="yes/no, default yes"),
)


def check_channels(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Channel rows: codes well formed and unique, a known family."""
    problems = Problems(frame.index)
    frame = frame.assign(code=frame["code"].str.lower(), family=frame["family"].str.lower())
    check_code(frame, problems)
    check_choice(frame, problems, "family", CHANNEL_FAMILIES)
    rows = frame.assign(sort_order=frame["sort_order"].fillna(0).astype(int), active=frame["active"].fillna(True))
    return Checked(rows[["code", "name_zh", "name_en", "family", "sort_order", "active"]], problems.sorted())


CatalogueTable = type[Channel] | type[VehicleModel] | type[PointsRule] | type[Reward]  # the tables of catalogue kinds


def apply_catalogue(table: CatalogueTable) -> Callable[[Connection, pd.DataFrame, int], Applied]:
    """The apply step of a catalogue kind: rows upserted by code."""
    def apply(conn: Connection, rows: pd.DataFrame, batch_id: int) -> Applied:
        """Upsert the rows by code."""
        written = upsert(conn, table.__table__, "code", rows, batch_id)
        return Applied(new=len(written.inserted), updated=len(written.updated), unchanged=written.unchanged)
    return apply


def rollback_catalogue(table: CatalogueTable) -> Callable[[Connection, int], None]:
    """The rollback of a catalogue kind: its journal undone."""
    def rollback(conn: Connection, batch_id: int) -> None:
        """Undo the batch's inserts and updates."""
        undo.restore(conn, batch_id, table.__table__)
    return rollback


MODEL_FIELDS = (
    Field("code", "code", True, ("车型编码", "编码"), 16, rule_zh="小写字母、数字、_ 或 -", rule_en="lower-case letters, digits, _ or -"),
    Field("name_zh", "text", True, ("车型名称", "中文名"), 64),
    Field("name_en", "text", True, ("英文名",), 64),
    Field("segment", "text", True, ("级别", "细分市场"), 16, rule_zh="如 SUV、轿车、MPV", rule_en="e.g. SUV, sedan, MPV"),
    Field("powertrain", "code", True, ("动力类型", "动力"), 8, rule_zh=" / ".join(POWERTRAINS), rule_en=" / ".join(POWERTRAINS)),
    Field("msrp", "number", True, ("指导价", "厂商指导价"), rule_zh="元", rule_en="CNY"),
    Field("launched_on", "date", True, ("上市日期",), future_ok=True),
    Field("active", "bool", False, ("在售",), rule_zh="是/否，默认是", rule_en="yes/no, default yes"),
)


def check_models(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Model rows: codes well formed and unique, a known powertrain, a positive price."""
    problems = Problems(frame.index)
    frame = frame.assign(code=frame["code"].str.lower(), powertrain=frame["powertrain"].str.upper())
    check_code(frame, problems)
    check_choice(frame, problems, "powertrain", POWERTRAINS)
    problems.flag(frame["msrp"] <= 0, "msrp", "ingest_err_positive")
    rows = frame.assign(active=frame["active"].fillna(True), msrp=frame["msrp"].round(2),
                        launched_on=frame["launched_on"].dt.date)
    return Checked(rows[["code", "name_zh", "name_en", "segment", "powertrain", "msrp", "launched_on", "active"]],
                   problems.sorted())


RULE_PER = ("yuan", "action")  # points per ¥1 spent, or per action
RULE_FIELDS = (
    Field("code", "code", True, ("规则编码", "编码"), 32, rule_zh="小写字母、数字、_ 或 -", rule_en="lower-case letters, digits, _ or -"),
    Field("name_zh", "text", True, ("规则名称", "中文名"), 32),
    Field("name_en", "text", True, ("英文名",), 64),
    Field("points", "int", True, ("积分",), rule_zh="大于 0", rule_en="greater than 0"),
    Field("per", "code", True, ("计分方式",), 8, rule_zh="yuan（每消费 1 元）/ action（每次行为）",
          rule_en="yuan (per ¥1 spent) / action (per action)"),
    Field("daily_cap", "int", False, ("每日上限",)),
    Field("active", "bool", False, ("启用",), rule_zh="是/否，默认是", rule_en="yes/no, default yes"),
)


def check_rules(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Earn rules: codes well formed and unique, positive points, a known basis, a positive daily cap when given."""
    problems = Problems(frame.index)
    frame = frame.assign(code=frame["code"].str.lower(), per=frame["per"].str.lower())
    check_code(frame, problems)
    check_choice(frame, problems, "per", RULE_PER)
    problems.flag(frame["points"] <= 0, "points", "ingest_err_positive")
    problems.flag(frame["daily_cap"] <= 0, "daily_cap", "ingest_err_positive")
    rows = frame.assign(active=frame["active"].fillna(True))
    return Checked(rows[["code", "name_zh", "name_en", "points", "per", "daily_cap", "active"]], problems.sorted())


REWARD_FIELDS = (
    Field("code", "code", True, ("礼品编码", "编码"), 32, rule_zh="小写字母、数字、_ 或 -", rule_en="lower-case letters, digits, _ or -"),
    Field("name_zh", "text", True, ("礼品名称", "中文名"), 64),
    Field("name_en", "text", True, ("英文名",), 64),
    Field("category", "code", True, ("类别",), 32, rule_zh="如 voucher、membership、merchandise", rule_en="e.g. voucher, membership, merchandise"),
    Field("points_cost", "int", True, ("所需积分",), rule_zh="大于 0", rule_en="greater than 0"),
    Field("cash_value", "number", True, ("价值", "折合金额"), rule_zh="元，不小于 0", rule_en="CNY, at least 0"),
    Field("active", "bool", False, ("上架",), rule_zh="是/否，默认是", rule_en="yes/no, default yes"),
)


def check_rewards(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Rewards: codes well formed and unique, a positive points cost, a value not below 0."""
    problems = Problems(frame.index)
    frame = frame.assign(code=frame["code"].str.lower(), category=frame["category"].str.lower())
    check_code(frame, problems)
    problems.flag(frame["points_cost"] <= 0, "points_cost", "ingest_err_positive")
    problems.flag(frame["cash_value"] < 0, "cash_value", "import_err_negative")
    rows = frame.assign(active=frame["active"].fillna(True), cash_value=frame["cash_value"].round(2))
    return Checked(rows[["code", "name_zh", "name_en", "category", "points_cost", "cash_value", "active"]], problems.sorted())


CHANNELS = Kind("channels", "渠道", "Channels", CHANNEL_FIELDS, ("code",), check_channels, apply_catalogue(Channel),
                rollback_catalogue(Channel))
MODELS = Kind("models", "车型", "Vehicle models", MODEL_FIELDS, ("code",), check_models, apply_catalogue(VehicleModel),
              rollback_catalogue(VehicleModel))
POINTS_RULES = Kind("points-rules", "积分规则", "Points earn rules", RULE_FIELDS, ("code",), check_rules,
                    apply_catalogue(PointsRule), rollback_catalogue(PointsRule))
REWARDS = Kind("rewards", "积分礼品", "Rewards", REWARD_FIELDS, ("code",), check_rewards, apply_catalogue(Reward),
               rollback_catalogue(Reward))
