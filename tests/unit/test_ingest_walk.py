"""The README's production walk on a fresh database (SQLite, or a PostgreSQL database of the test's own): lib.setup, then
every `python -m lib.ingest` line of the README with the sample files; then every dashboard's figures against counts
computed here from the sample files themselves (their own headers and encodings, read with pandas, the ledger and
duplicate rules applied by hand), then the same walk again changes nothing, and no phone number is stored anywhere."""
from __future__ import annotations

import datetime as dt
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, inspect, select, text

from lib.clock import today
from lib.db import make_engine
from lib.ingest import samples
from lib.ingest.__main__ import run as ingest
from lib.queries import channels, dealers, funnel, members, overview
from lib.scope import Scope
from tests.conftest import own_postgres
from tests.faults import snapshot

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
ADMIN = Scope(role="admin")
PERIOD = (dt.date(2026, 9, 1), dt.date(2026, 10, 31))  # the sample leads' span
DUPLICATE_DAYS = 30  # the same person and model again this soon: a duplicate (issue: 重复线索)
MODEL_NAMES = {name: code for code, name_zh, name_en, *_rest in samples.MODELS for name in (code, name_zh, name_en)}
STAGES = ("valid", "visit", "test_drive", "order", "delivery")  # after the lead, in order
PROGRESS_HEADERS = dict(zip(("有效时间", "到店时间", "试驾时间", "下单时间", "交车时间"), STAGES))


def walk_commands() -> list[list[str]]:
    """The README walk's `python -m lib.ingest` commands, as argument lists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("<!-- walk:begin -->"):readme.index("<!-- walk:end -->")]
    return [shlex.split(line)[3:] for line in block.splitlines() if line.startswith("python -m lib.ingest ")]


def run_walk(url: str) -> None:
    """Run the README walk's load commands from the repository's root, each to exit 0."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for command in walk_commands():
            assert ingest([*command, "--database-url", url, "--json"]) == 0, command
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    """A fresh database after lib.setup and the README's walk."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        with own_postgres(f"cockpit_walk_{os.getpid()}") as url:
            yield from _walk(url)
    else:
        yield from _walk(f"sqlite:///{tmp_path_factory.mktemp('walk') / 'walk.db'}")


def set_up(url: str) -> None:
    """The README's first step on a fresh database: lib.setup with its first admin."""
    from lib.setup import main as setup

    os.environ["COCKPIT_ADMIN_PASSWORD"] = "Quiet-Orchard-Lantern-58"
    try:
        assert setup(["--database-url", url, "--admin", "it.admin", "--display-name", "IT 管理员"]) in (0, None)
    finally:
        del os.environ["COCKPIT_ADMIN_PASSWORD"]


def _walk(url: str) -> Iterator[tuple[str, Engine]]:
    """Set up, walk, hand over the engine."""
    set_up(url)
    run_walk(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def the_samples_are_current() -> None:
    """The committed samples equal what the generator writes."""
    for name, data in samples.files().items():
        assert (SAMPLES / name).read_bytes() == data, name


def test_the_committed_samples_are_what_the_generator_writes():
    the_samples_are_current()


def _digits(phone: str) -> str:
    """A written phone number's 11 digits."""
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def sample_leads() -> pd.DataFrame:
    """Both sources' leads from their files: channel, id, created_at, model, province, dealer, phone digits, duplicate."""
    douyin = pd.read_csv(SAMPLES / "douyin_leads_2026-10.csv", encoding="gbk", dtype=str)
    autohome = pd.read_csv(SAMPLES / "autohome_leads_2026-10.csv", encoding="utf-8-sig", dtype=str)
    leads = pd.concat([
        pd.DataFrame({"channel": "douyin", "external_id": douyin["线索ID"],
                      "created_at": pd.to_datetime(douyin["线索创建时间"].astype("int64"), unit="ms") + pd.Timedelta(hours=8),
                      "model": douyin["意向车型"].map(MODEL_NAMES), "province": douyin["所在地区"].str.split("-").str[0],
                      "dealer": None, "phone": douyin["手机号"].map(_digits)}),
        pd.DataFrame({"channel": "autohome", "external_id": autohome["clueId"],
                      "created_at": pd.to_datetime(autohome["createTime"], format="%Y/%m/%d %H:%M"),
                      "model": autohome["seriesName"].map(MODEL_NAMES), "province": autohome["provinceName"],
                      "dealer": autohome["dealerCode"], "phone": autohome["mobile"].map(_digits)}),
    ], ignore_index=True)
    leads["duplicate"] = False
    for _key, chain in leads.sort_values("created_at").groupby(["phone", "model"]):
        gaps = chain["created_at"].diff()
        leads.loc[chain.index, "duplicate"] = (gaps <= pd.Timedelta(days=DUPLICATE_DAYS)).to_numpy()
    return leads


def reached(leads: pd.DataFrame) -> pd.DataFrame:
    """Per lead, whether it reached each later stage by now (a later stage implies the earlier ones), from the CRM file."""
    progress = pd.read_csv(SAMPLES / "crm_progress_2026-11.csv", dtype=str)
    progress["channel"] = progress["来源平台"].map({"抖音": "douyin", "汽车之家": "autohome"})
    stamps = progress.rename(columns=PROGRESS_HEADERS)[["channel", "线索编号", *STAGES]].rename(columns={"线索编号": "external_id"})
    merged = leads.merge(stamps, on=["channel", "external_id"], how="left")
    for index, stage in enumerate(STAGES):
        merged[f"{stage}_reached"] = merged[list(STAGES[index:])].notna().any(axis=1)
    return merged


def test_the_funnel_counts_unique_leads_and_the_stages_reached(walked):
    _url, engine = walked
    expected = reached(sample_leads())
    unique = expected[~expected["duplicate"]]
    with engine.connect() as conn:
        shown = funnel.funnel(conn, ADMIN, funnel.FunnelFilter(*PERIOD), "cohort").iloc[0]
    assert shown["lead"] == len(unique)
    for stage in STAGES:
        assert shown[stage] == unique[f"{stage}_reached"].sum(), stage
    assert 0 < expected["duplicate"].sum() < len(expected)


def test_the_channel_page_shows_each_sources_duplicate_rate(walked):
    _url, engine = walked
    leads = sample_leads()
    with engine.connect() as conn:
        rates = channels.duplicate_rates(conn, ADMIN, channels.ChannelFilter(*PERIOD)).set_index("channel")
    for channel, rows in leads.groupby("channel"):
        assert (rates.at[channel, "leads"], rates.at[channel, "duplicates"]) == (len(rows), rows["duplicate"].sum())


def test_the_map_counts_each_dealers_unique_leads(walked):
    _url, engine = walked
    leads = sample_leads()
    expected = leads[~leads["duplicate"] & leads["dealer"].notna()].groupby("dealer").size()
    with engine.connect() as conn:
        shown = dealers.map_figures(conn, ADMIN, dealers.MapFilter(*PERIOD))["dealers"].set_index("code")["leads"]
    assert shown[shown > 0].sort_index().to_dict() == expected.sort_index().astype(float).to_dict()


def test_the_overview_and_channel_facts_equal_the_facts_file(walked):
    _url, engine = walked
    facts = pd.read_csv(SAMPLES / "channel_facts_2026-10.csv")
    with engine.connect() as conn:
        scorecard = overview.ytd_scorecard(conn, ADMIN, today()).set_index("metric")["actual"]
    assert scorecard["spend"] == pytest.approx(facts["花费"].sum())
    assert (scorecard["leads"], scorecard["orders"]) == (facts["线索"].sum(), facts["订单"].sum())
    assert scorecard["valid_rate"] == pytest.approx(facts["有效线索"].sum() / facts["线索"].sum())
    assert scorecard["roi"] == pytest.approx(facts["交易额"].sum() / facts["花费"].sum())


def ledger_by_hand() -> tuple[int, int, int]:
    """Points issued, redeemed, and outstanding today from the loyalty file: FIFO lots that expire 12 months on."""
    rows = pd.read_csv(SAMPLES / "loyalty_points_2026-11.csv", dtype={"会员编号": str})
    rows["day"] = (pd.to_datetime(rows["交易时间"], unit="s") + pd.Timedelta(hours=8)).dt.date
    outstanding = 0
    for _member, moves in rows.sort_values(["交易时间", "流水号"]).groupby("会员编号"):
        lots: list[list] = []
        for move in moves.itertuples():
            lots = [lot for lot in lots if lot[0] > move.day]
            if move.交易类型 == "获得":
                lots.append([_year_later(move.day), move.积分])
                continue
            spent = move.积分
            for lot in lots:
                taken = min(lot[1], spent)
                lot[1], spent = lot[1] - taken, spent - taken
        outstanding += sum(left for expiry, left in lots if expiry > today())
    kinds = rows.groupby("交易类型")["积分"].sum()
    return int(kinds["获得"]), int(kinds["消耗"]), outstanding


def _year_later(day: dt.date) -> dt.date:
    """The day a lot earned on `day` expires (Feb 29 → Feb 28)."""
    return dt.date(day.year + 1, 2, 28) if (day.month, day.day) == (2, 29) else day.replace(year=day.year + 1)


def test_the_members_page_equals_the_members_and_points_files(walked):
    _url, engine = walked
    people = pd.read_csv(SAMPLES / "members.csv", dtype=str)
    issued, redeemed, outstanding = ledger_by_hand()
    with engine.connect() as conn:
        shown = members.headline(conn, ADMIN, members.DaySpan(dt.date(2024, 1, 1), today()), today())
    assert (shown["members"], shown["owners"]) == (len(people), (people["是否车主"] == "是").sum())
    assert (shown["issued"], -shown["redeemed"] if shown["redeemed"] < 0 else shown["redeemed"]) == (issued, redeemed)
    assert shown["outstanding"] == outstanding


def test_walking_again_changes_nothing_and_no_phone_number_is_stored(walked):
    url, engine = walked
    before = snapshot(engine)
    run_walk(url)
    assert snapshot(engine) == before
    numbers = set(sample_leads()["phone"]) | {_digits(phone) for phone in pd.read_csv(SAMPLES / "members.csv", dtype=str)["手机号"]}
    found = _text_containing(engine, numbers)
    assert found == [], found


def _text_containing(engine: Engine, numbers: set[str]) -> list[tuple[str, str]]:
    """(table, column) of every text column holding one of the numbers (their digits anywhere, separators ignored)."""
    pattern = re.compile("|".join(sorted(numbers)))
    found = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for column in inspect(conn).get_columns(table):
                if "CHAR" in str(column["type"]).upper() or "TEXT" in str(column["type"]).upper():
                    values = conn.execute(select(text(f'"{column["name"]}"')).select_from(text(f'"{table}"'))).scalars()
                    if any(value and pattern.search(re.sub(r"\D", "", str(value))) for value in values):
                        found.append((table, column["name"]))
    return found
