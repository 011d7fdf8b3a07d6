"""Dealers (经销商) as master data: upserted by code, placed in a province and one of its cities, their region taken from
the province. A dealer without coordinates keeps the ones it has (same city) or takes its city's centre; a dealer whose
closing day has come is inactive. Leads keep the region of their own area, so a dealer moving between regions changes
no lead rollup (lead_month_dealer groups by the lead's region and province, and by dealer id only)."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select, update

from lib import clock
from lib.ingest import undo
from lib.ingest.checks import Checked, Problems, RowError
from lib.ingest.fields import Field
from lib.ingest.kind import Applied, Kind
from lib.ingest.places import places, resolve
from lib.ingest.upsert import stored_rows, upsert
from lib.models import DEALER_GRADES, DOUYIN_TIERS, City, Dealer
from lib.services.geography import COORDINATE_DECIMALS, coordinate_errors

DEALER_CODE = r"[A-Za-z0-9][A-Za-z0-9_\-]*"  # dealer codes as the makers write them (DLR0001, sh-001)
GRADE_WORDS = {"4s": "4S", "4s店": "4S", "urban": "urban", "城市展厅": "urban", "展厅": "urban", "satellite": "satellite",
               "卫星店": "satellite"}  # a type cell (lower case) → the dealer grade
TIER_WORDS = {"head": "head", "头部": "head", "middle": "middle", "中部": "middle", "tail": "tail", "尾部": "tail"}  # Douyin tiers
DEFAULT_TIER = "tail"  # a new dealer's Douyin tier when the file gives none (尾部: 80% of accounts)
GRADE_RULE = f"{' / '.join(DEALER_GRADES)}（4S店 / 城市展厅 / 卫星店）"  # the type field's choices, for messages and docs
TIER_RULE = f"{' / '.join(DOUYIN_TIERS)}（头部 / 中部 / 尾部）"  # the Douyin tier's choices

DEALER_FIELDS = (
    Field("code", "code", True, ("经销商编码", "经销商代码", "编码"), 16, rule_zh="字母、数字、_ 或 -", rule_en="letters, digits, _ or -"),
    Field("name", "text", True, ("经销商名称", "名称"), 128),
    Field("province", "text", True, ("省份", "省"), 32, rule_zh="省份名称、简称或行政区划代码", rule_en="province name, short name or adcode"),
    Field("city", "text", True, ("城市", "市"), 32, rule_zh="该省份下的城市名称或代码", rule_en="a city of the province, by name or adcode"),
    Field("type", "text", True, ("类型", "经销商类型", "网点类型"), 16, rule_zh=GRADE_RULE, rule_en=GRADE_RULE),
    Field("lat", "number", False, ("纬度",), rule_zh="不填则保留原坐标或取城市中心", rule_en="blank: the stored one, else the city's centre"),
    Field("lon", "number", False, ("经度",), rule_zh="不填则保留原坐标或取城市中心", rule_en="blank: the stored one, else the city's centre"),
    Field("opened_on", "date", True, ("开业日期",), future_ok=True),
    Field("closed_on", "date", False, ("关闭日期", "闭店日期"), future_ok=True, rule_zh="不早于开业日期；已到日期则为停业",
          rule_en="not before opened_on; inactive once reached"),
    Field("douyin_tier", "text", False, ("抖音账号等级", "抖音等级"), 8, rule_zh=f"{TIER_RULE}，默认尾部", rule_en=f"{TIER_RULE}, default tail"),
)
ROW_COLUMNS = ["code", "name", "city_id", "province_adcode", "region_id", "lat", "lon", "grade", "opened_on", "closed_on", "active",
               "douyin_tier", "version"]  # the dealer columns a load writes (version only on new dealers)


def _places(conn: Connection, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Each row's province adcode, region, city id and the city's centre (missing where unknown, which is reported)."""
    found = resolve(frame["province"], frame["city"], places(conn))
    problems.flag(frame["province"].notna() & found["province_adcode"].isna(), "province", "ingest_err_province")
    problems.flag(found["city_unknown"] | (found["province_adcode"].notna() & found["city_id"].isna()), "city", "ingest_err_city")
    centres = {row.id: (row.lat, row.lon) for row in conn.execute(select(City.id, City.lat, City.lon))}
    centre = found["city_id"].map(lambda city_id: centres.get(city_id, (None, None)) if pd.notna(city_id) else (None, None))
    return found.drop(columns="city_unknown").assign(city_lat=centre.str[0], city_lon=centre.str[1])


def _coordinates(conn: Connection, frame: pd.DataFrame, places: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Each row's coordinates: as given (checked inside China and the province), else the dealer's stored ones when it stays
    in its city, else its city's centre."""
    given = frame["lat"].notna() & frame["lon"].notna()
    problems.flag(frame["lat"].notna() ^ frame["lon"].notna(), "lat", "ingest_err_lat_lon_pair")
    for label in frame.index[given & places["province_adcode"].notna()]:
        for error in coordinate_errors(conn, int(places.at[label, "province_adcode"]), float(frame.at[label, "lat"]),
                                       float(frame.at[label, "lon"])):
            problems.errors.append(RowError(int(label), "lat", error.key, error.params))
    stored = stored_rows(conn, Dealer.__table__, "code", ["city_id", "lat", "lon", "douyin_tier"],
                         frame["code"].dropna().tolist()).set_index("code")
    before = stored.reindex(frame["code"].fillna(""))
    before.index = frame.index
    same_city = before["city_id"].eq(places["city_id"])
    lat = frame["lat"].fillna(before["lat"].where(same_city)).fillna(places["city_lat"])
    lon = frame["lon"].fillna(before["lon"].where(same_city)).fillna(places["city_lon"])
    return pd.DataFrame({"lat": lat.astype(float).round(COORDINATE_DECIMALS), "lon": lon.astype(float).round(COORDINATE_DECIMALS),
                         "stored_tier": before["douyin_tier"]}, index=frame.index)


def _choices(frame: pd.DataFrame, problems: Problems, stored_tier: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The dealer grade of each type cell and the Douyin tier (blank: the stored tier, else tail); unknown words reported."""
    grades = frame["type"].fillna("").str.lower().map(GRADE_WORDS)
    problems.flag(frame["type"].notna() & grades.isna(), "type", "ingest_err_choice", choices=GRADE_RULE)
    tiers = frame["douyin_tier"].fillna("").str.lower().map(TIER_WORDS)
    problems.flag(frame["douyin_tier"].notna() & tiers.isna(), "douyin_tier", "ingest_err_choice", choices=TIER_RULE)
    return grades, tiers.fillna(stored_tier).fillna(DEFAULT_TIER)


def check_dealers(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Dealer rows: codes well formed and once per file, a known province and one of its cities, a known type and tier,
    coordinates inside the province, closing not before opening."""
    problems = Problems(frame.index)
    codes = frame["code"].fillna("")
    problems.flag(codes.ne("") & ~codes.str.fullmatch(DEALER_CODE), "code", "ingest_err_dealer_code")
    problems.flag(codes.ne("") & codes.duplicated(keep="first"), "code", "ingest_err_repeated_key")
    problems.flag(frame["closed_on"] < frame["opened_on"], "closed_on", "ingest_err_closed_before_opened")
    places = _places(conn, frame, problems)
    located = _coordinates(conn, frame, places, problems)
    grades, tiers = _choices(frame, problems, located["stored_tier"])
    today = pd.Timestamp(clock.today())
    rows = pd.DataFrame({
        "code": frame["code"], "name": frame["name"], "city_id": places["city_id"], "province_adcode": places["province_adcode"],
        "region_id": places["region_id"], "lat": located["lat"], "lon": located["lon"], "grade": grades,
        "opened_on": frame["opened_on"].dt.date, "closed_on": frame["closed_on"].dt.date,
        "active": ~(frame["closed_on"] <= today), "douyin_tier": tiers, "version": 1,
    }, index=frame.index)
    if problems.errors:
        return Checked(rows[ROW_COLUMNS], problems.sorted())
    return Checked(rows.astype({"city_id": int, "province_adcode": int, "region_id": int})[ROW_COLUMNS], problems.sorted())


def _bump_versions(conn: Connection, dealer_ids: list[int]) -> None:
    """Dealers changed by a load or its rollback get a new version (an admin's edit based on the old one is refused)."""
    for start in range(0, len(dealer_ids), 1000):
        conn.execute(update(Dealer).where(Dealer.id.in_(dealer_ids[start:start + 1000])).values(version=Dealer.version + 1))


def apply_dealers(conn: Connection, rows: pd.DataFrame, batch_id: int) -> Applied:
    """Upsert the dealers by code (journalled); updated dealers get a new version."""
    written = upsert(conn, Dealer.__table__, "code", rows, batch_id, inserted_only=("version",))
    _bump_versions(conn, written.updated)
    return Applied(new=len(written.inserted), updated=len(written.updated), unchanged=written.unchanged)


def rollback_dealers(conn: Connection, batch_id: int) -> None:
    """Undo the batch's dealer inserts and updates (restored dealers get a new version)."""
    _inserted, updated = undo.restore(conn, batch_id, Dealer.__table__)
    _bump_versions(conn, [row_id for row_id, _before in updated])


DEALERS = Kind("dealers", "经销商", "Dealers", DEALER_FIELDS, ("code",), check_dealers, apply_dealers, rollback_dealers)
