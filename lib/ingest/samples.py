"""Sample files for the README's production walk: what a car maker's own exports look like, generated (no real people:
names from common characters, mobile numbers drawn at random), deterministic, written with their mapping profiles:

    python -m lib.ingest.samples [DIR]     write them (default: samples/)

Two lead sources with their own headers, codes, encodings and time formats (Douyin: GBK, epoch milliseconds, an area
column; Autohome: UTF-8 with a byte-order mark, "2026/11/01 10:20" times, province and city columns), the call centre's
progress on them, members and the loyalty system's points transactions, and the master data they refer to.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from collections.abc import Iterable
from pathlib import Path

SEED = 20261203  # the samples' random seed
FIRST_DAY = dt.datetime(2026, 9, 1)  # the samples' leads start here …
DAYS = 61  # … and run this many days (to 2026-10-31)
PLACES = (  # province, city, district, dealer code, dealer name, lat, lon (real city centres, dealers made up)
    ("湖北省", "武汉市", "洪山区", "hb-wh-01", "武汉光谷星驰4S店", 30.506, 114.399),
    ("湖北省", "宜昌市", "西陵区", "hb-yc-01", "宜昌江城星驰4S店", 30.702, 111.286),
    ("四川省", "成都市", "武侯区", "sc-cd-01", "成都天府星驰4S店", 30.642, 104.043),
    ("四川省", "绵阳市", "涪城区", "sc-my-01", "绵阳科技城星驰城市展厅", 31.468, 104.679),
    ("浙江省", "杭州市", "西湖区", "zj-hz-01", "杭州西溪星驰4S店", 30.259, 120.130),
    ("广东省", "广州市", "天河区", "gd-gz-01", "广州天河星驰4S店", 23.125, 113.361),
    ("北京市", "北京市", "朝阳区", "bj-bj-01", "北京望京星驰4S店", 39.996, 116.481),
)
MODELS = (("sx-5", "星驰5", "Stellar 5", "SUV", "BEV", 189_800, "2025-04-18"),
          ("sx-7", "星驰7", "Stellar 7", "SUV", "PHEV", 239_800, "2025-09-26"))
CHANNELS = (("douyin", "抖音", "Douyin", "video"), ("autohome", "汽车之家", "Autohome", "vertical"))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
DOUYIN_GRADES = {"high": "高意向", "medium": "中意向", "low": "低意向"}  # how Douyin writes the grades
AUTOHOME_GRADES = {"high": "A", "medium": "B", "low": "C"}
LOST_REASONS_ZH = {"no_answer": "无人接听", "bought_elsewhere": "已购竞品", "budget": "预算不足", "not_interested": "无意向"}
RULES = (("purchase", "购车", "Car purchase", 1, "yuan", ""), ("check_in", "每日签到", "Daily check-in", 5, "action", "5"))
REWARDS = (("car_wash", "精洗服务券", "Car wash voucher", "voucher", 2000, 20),)
LEADS_PER_SOURCE = 240  # leads in each lead file
MEMBERS = 120  # members in the members file
LAST_TRANSACTION = dt.datetime(2026, 11, 30)  # the points file ends here


def _phone(rng: random.Random) -> str:
    """A random mainland mobile number in one of the ways exports write them."""
    digits = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    return rng.choice((digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                       f"+86 {digits}", f"86{digits}"))


def _name(rng: random.Random) -> str:
    """A made-up Chinese name."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _csv(rows: Iterable[Iterable[object]], encoding: str = "utf-8") -> bytes:
    """Rows as CSV bytes."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode(encoding)


def _lead_times(rng: random.Random) -> list[dt.datetime]:
    """Creation times of one source's leads, in order."""
    return sorted(FIRST_DAY + dt.timedelta(seconds=rng.randrange(DAYS * 86_400)) for _ in range(LEADS_PER_SOURCE))


def _people(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """People (phone, name); some ask twice, so the lead files hold duplicates."""
    people = [(_phone(rng), _name(rng)) for _ in range(count)]
    return [rng.choice(people[:count // 2]) if rng.random() < 0.08 else person for person in people]


def douyin_leads(rng: random.Random) -> tuple[bytes, list[dict]]:
    """Douyin's lead export (GBK, epoch ms, area column) and its leads as canonical rows."""
    rows, leads = [["线索ID", "线索创建时间", "意向车型", "所在地区", "意向等级", "手机号", "用户昵称", "广告计划"]], []
    for number, (created, (phone, name)) in enumerate(zip(_lead_times(rng), _people(rng, LEADS_PER_SOURCE)), start=1):
        province, city, district, *_dealer = rng.choice(PLACES)
        model, grade = rng.choice(MODELS), rng.choice(("high", "medium", "medium", "low"))
        millis = int((created - dt.timedelta(hours=8)).replace(tzinfo=dt.UTC).timestamp() * 1000)
        rows.append([f"7{number:018d}", millis, model[1], f"{province}-{city}-{district}", DOUYIN_GRADES[grade], phone, name,
                     "星驰秋季试驾"])
        leads.append({"channel": "douyin", "external_id": f"7{number:018d}", "created_at": created, "model": model[0],
                      "province": province, "dealer": None, "grade": grade, "phone": phone})
    return _csv(rows, "gbk"), leads


def autohome_leads(rng: random.Random) -> tuple[bytes, list[dict]]:
    """Autohome's lead export (UTF-8 with BOM, "2026/09/01 10:20" times, province and city, a dealer) and its leads."""
    rows, leads = [["clueId", "createTime", "seriesName", "provinceName", "cityName", "dealerCode", "level", "mobile"]], []
    for number, (created, (phone, _unnamed)) in enumerate(zip(_lead_times(rng), _people(rng, LEADS_PER_SOURCE)), start=1):
        province, city, _district, dealer, *_rest = rng.choice(PLACES)
        model, grade = rng.choice(MODELS), rng.choice(("high", "medium", "low", "low"))
        created = created.replace(second=0)
        rows.append([f"AH{number:08d}", created.strftime("%Y/%m/%d %H:%M"), model[2], province, city, dealer,
                     AUTOHOME_GRADES[grade], phone])
        leads.append({"channel": "autohome", "external_id": f"AH{number:08d}", "created_at": created, "model": model[0],
                      "province": province, "dealer": dealer, "grade": grade, "phone": phone})
    return _csv(rows, "utf-8-sig"), leads


def progress(rng: random.Random, leads: list[dict]) -> bytes:
    """The call centre's progress export: stages reached by some of the leads, lost reasons in Chinese."""
    rows = [["线索编号", "来源平台", "有效时间", "到店时间", "试驾时间", "下单时间", "交车时间", "战败时间", "战败原因", "首次响应分钟"]]
    for lead in leads:
        if rng.random() < 0.3:
            continue
        stamps, at = [], lead["created_at"]
        for chance in (0.6, 0.45, 0.6, 0.3, 0.9):
            if rng.random() > chance:
                break
            at += dt.timedelta(hours=rng.randrange(2, 24 * 6))
            stamps.append(at.strftime("%Y-%m-%d %H:%M:%S"))
        lost = len(stamps) < 4 and rng.random() < 0.4
        lost_at = (at + dt.timedelta(days=rng.randrange(10, 30))).strftime("%Y-%m-%d %H:%M:%S") if lost else ""
        reason = rng.choice(list(LOST_REASONS_ZH.values())) if lost else ""
        rows.append([lead["external_id"], "抖音" if lead["channel"] == "douyin" else "汽车之家", *stamps,
                     *[""] * (5 - len(stamps)), lost_at, reason, rng.randrange(1, 240)])
    return _csv(rows)


def members(rng: random.Random) -> tuple[bytes, list[str]]:
    """The loyalty system's members (Chinese headers) and their member numbers."""
    rows, numbers = [["会员编号", "手机号", "姓名", "入会日期", "省份", "城市", "经销商编码", "是否车主"]], []
    for number in range(1, MEMBERS + 1):
        province, city, _district, dealer, *_rest = rng.choice(PLACES)
        joined = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(600))
        rows.append([f"M{number:07d}", _phone(rng), _name(rng), joined.isoformat(), province, city, dealer,
                     rng.choice(("是", "否"))])
        numbers.append((f"M{number:07d}", joined))
    return _csv(rows), numbers


def points(rng: random.Random, joined: list[tuple[str, dt.date]]) -> bytes:
    """The loyalty system's transactions (epoch seconds, kinds in Chinese): earns, and redemptions only where the points
    not yet expired (12 months, with a day's margin) cover them."""
    rows, number = [["流水号", "会员编号", "交易时间", "交易类型", "积分", "规则", "礼品"]], 0
    for member_no, joined_on in joined:
        lots, day = [], dt.datetime.combine(joined_on, dt.time(10))  # lots: [expiry day, points left], oldest first
        for _ in range(rng.randrange(1, 6)):
            day += dt.timedelta(days=rng.randrange(1, 60))
            if day > LAST_TRANSACTION:
                break
            number += 1
            stamp = int((day - dt.timedelta(hours=8)).replace(tzinfo=dt.UTC).timestamp())
            lots = [lot for lot in lots if lot[0] > day.date() + dt.timedelta(days=1)]
            if sum(left for _expiry, left in lots) >= REWARDS[0][4] and rng.random() < 0.4:
                rows.append([f"T{number:09d}", member_no, stamp, "消耗", REWARDS[0][4], "", REWARDS[0][0]])
                _consume(lots, REWARDS[0][4])
            else:
                earned = rng.choice((5, 500, 1500, 3000))
                rows.append([f"T{number:09d}", member_no, stamp, "获得", earned, "check_in" if earned == 5 else "purchase", ""])
                lots.append([day.date().replace(year=day.year + 1) if (day.month, day.day) != (2, 29) else
                             dt.date(day.year + 1, 2, 28), earned])
    return _csv(rows)


def _consume(lots: list[list], spent: int) -> None:
    """Take points from the oldest lots first."""
    for lot in lots:
        taken = min(lot[1], spent)
        lot[1] -= taken
        spent -= taken


FACT_REGIONS = ("华中", "西南", "华东", "华南", "华北")  # the regions of the samples' places, as a marketer writes them


def channel_facts(rng: random.Random) -> bytes:
    """The daily channel facts (Chinese template headers): spend and results per day, channel and region."""
    rows = [["日期", "渠道", "大区", "花费", "曝光", "点击", "线索", "有效线索", "订单", "交易额"]]
    for offset in range(DAYS):
        day = (FIRST_DAY + dt.timedelta(days=offset)).date()
        for channel in ("抖音", "汽车之家"):
            for region in FACT_REGIONS:
                impressions = rng.randrange(40_000, 160_000)
                clicks = impressions * rng.randrange(8, 25) // 1000
                leads = clicks * rng.randrange(4, 12) // 100
                valid = leads * rng.randrange(45, 70) // 100
                orders = valid * rng.randrange(0, 6) // 100
                rows.append([day.isoformat(), channel, region, f"{rng.randrange(3_000_00, 12_000_00) / 100:.2f}", impressions,
                             clicks, leads, valid, orders, orders * MODELS[0][5]])
    return _csv(rows)


def master_data() -> dict[str, bytes]:
    """The master data files (Chinese headers, as an admin would fill the templates)."""
    return {
        "channels.csv": _csv([["渠道编码", "渠道名称", "英文名", "渠道类型"], *CHANNELS]),
        "models.csv": _csv([["车型编码", "车型名称", "英文名", "级别", "动力类型", "指导价", "上市日期"], *MODELS]),
        "dealers.csv": _csv([["code", "name", "province", "city", "type", "lat", "lon", "opened_on"],
                             *[[dealer, name, province, city, "4S", lat, lon, "2020-05-01"]
                               for province, city, _district, dealer, name, lat, lon in PLACES]]),
        "points-rules.csv": _csv([["code", "name_zh", "name_en", "points", "per", "daily_cap"], *RULES]),
        "rewards.csv": _csv([["code", "name_zh", "name_en", "category", "points_cost", "cash_value"], *REWARDS]),
    }


PROFILES = {  # profile file → its TOML
    "douyin-leads.toml": """[profile]
kind = "leads"
channel = "douyin"
encoding = "gbk"
created_at_format = "epoch_ms"
file_pattern = "douyin_leads_*.csv"
[columns]
external_id = "线索ID"
created_at = "线索创建时间"
model = "意向车型"
area = "所在地区"
grade = "意向等级"
phone = "手机号"
name = "用户昵称"
[values.grade]
"高意向" = "high"
"中意向" = "medium"
"低意向" = "low"
""",
    "autohome-leads.toml": """[profile]
kind = "leads"
channel = "autohome"
created_at_format = "%Y/%m/%d %H:%M"
file_pattern = "autohome_leads_*.csv"
[columns]
external_id = "clueId"
created_at = "createTime"
model = "seriesName"
province = "provinceName"
city = "cityName"
dealer_code = "dealerCode"
grade = "level"
phone = "mobile"
[values.grade]
"A" = "high"
"B" = "medium"
"C" = "low"
""",
    "crm-progress.toml": """[profile]
kind = "lead-progress"
file_pattern = "crm_progress_*.csv"
[columns]
external_id = "线索编号"
channel = "来源平台"
valid_at = "有效时间"
visit_at = "到店时间"
test_drive_at = "试驾时间"
order_at = "下单时间"
delivery_at = "交车时间"
lost_at = "战败时间"
lost_reason = "战败原因"
first_response_minutes = "首次响应分钟"
[values.lost_reason]
""" + "".join(f'"{zh}" = "{code}"\n' for code, zh in LOST_REASONS_ZH.items()),
    "loyalty-points.toml": """[profile]
kind = "points"
occurred_at_format = "epoch_s"
file_pattern = "loyalty_points_*.csv"
[columns]
txn_id = "流水号"
member_no = "会员编号"
occurred_at = "交易时间"
kind = "交易类型"
points = "积分"
rule_code = "规则"
reward_code = "礼品"
[values.kind]
"获得" = "earn"
"消耗" = "redeem"
"调整" = "adjust"
""",
}


def files() -> dict[str, bytes]:
    """Every sample file by its path under the samples folder."""
    rng = random.Random(SEED)
    douyin, douyin_rows = douyin_leads(rng)
    autohome, autohome_rows = autohome_leads(rng)
    member_file, joined = members(rng)
    return {
        **master_data(), "douyin_leads_2026-10.csv": douyin, "autohome_leads_2026-10.csv": autohome,
        "crm_progress_2026-11.csv": progress(rng, douyin_rows + autohome_rows), "members.csv": member_file,
        "loyalty_points_2026-11.csv": points(rng, joined), "channel_facts_2026-10.csv": channel_facts(rng),
        **{f"profiles/{name}": body.encode() for name, body in PROFILES.items()},
    }


def write(folder: Path) -> list[Path]:
    """Write the samples into a folder; the paths written."""
    written = []
    for name, data in files().items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "samples")):
        print(path)
