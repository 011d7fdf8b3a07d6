"""rollup tables of the points ledger, member activity and the leads (lib.rollups), filled from the raw rows; covering
indexes of the member table, an index per lead stage timestamp

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # surrogate keys, as lib.models
MEMBER_INDEXES = {"ix_member_place": ("province_adcode", "dealer_id", "joined_on", "region_id"),
                  "ix_member_tier": ("tier_id", "region_id"),
                  "ix_member_figures": ("joined_on", "region_id", "is_owner", "points_balance")}  # covering indexes, lib.models
LATER_STAGES = ("valid", "visit", "test_drive", "order", "delivery")  # lead stages after creation, one timestamp index each
LEAD_SUMS = ("leads", "valid", "visits", "test_drives", "orders", "deliveries")  # lib.models._LeadStageSums


def _lead_sums() -> list[sa.Column]:
    """The count columns of a lead rollup."""
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in LEAD_SUMS]


def upgrade() -> None:
    """Create the rollups and their indexes, then fill them from the rows already there."""
    op.create_table("points_daily", sa.Column("id", ID, primary_key=True), sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("region_id", sa.Integer(), nullable=False), sa.Column("kind", sa.String(8), nullable=False),
                    sa.Column("rule_id", sa.Integer()), sa.Column("reward_id", sa.Integer()), sa.Column("campaign_id", sa.Integer()),
                    sa.Column("points", sa.BigInteger(), nullable=False), sa.Column("entries", sa.BigInteger(), nullable=False))
    op.create_index("ix_points_daily_day", "points_daily", ["day", "region_id"])
    op.create_index("ix_points_daily_region", "points_daily", ["region_id", "day"])
    op.create_table("points_open_lots", sa.Column("expires_on", sa.Date(), primary_key=True),
                    sa.Column("region_id", sa.Integer(), primary_key=True), sa.Column("points", sa.BigInteger(), nullable=False),
                    sa.Column("lots", sa.BigInteger(), nullable=False))
    op.create_table("member_active_edges", sa.Column("day", sa.Date(), primary_key=True),
                    sa.Column("region_id", sa.Integer(), primary_key=True), sa.Column("change", sa.BigInteger(), nullable=False))
    op.create_table("lead_month_mix", sa.Column("id", ID, primary_key=True), sa.Column("month", sa.String(7), nullable=False),
                    sa.Column("region_id", sa.Integer(), nullable=False), sa.Column("channel_id", sa.Integer(), nullable=False),
                    sa.Column("model_id", sa.Integer(), nullable=False),
                    sa.Column("grade", sa.String(8), nullable=False), sa.Column("campaign_id", sa.Integer()), *_lead_sums())
    op.create_index("ix_lead_month_mix", "lead_month_mix", ["month", "region_id"])
    op.create_table("lead_month_events", sa.Column("id", ID, primary_key=True), sa.Column("month", sa.String(7), nullable=False),
                    sa.Column("stage", sa.String(16), nullable=False), sa.Column("region_id", sa.Integer(), nullable=False),
                    sa.Column("channel_id", sa.Integer(), nullable=False), sa.Column("model_id", sa.Integer(), nullable=False),
                    sa.Column("grade", sa.String(8), nullable=False), sa.Column("campaign_id", sa.Integer()),
                    sa.Column("events", sa.BigInteger(), nullable=False))
    op.create_index("ix_lead_month_events", "lead_month_events", ["month", "region_id"])
    for stage in LATER_STAGES:
        op.create_index(f"ix_lead_{stage}_at", "lead", [f"{stage}_at"])
    op.create_table("lead_month_dealer", sa.Column("id", ID, primary_key=True), sa.Column("month", sa.String(7), nullable=False),
                    sa.Column("region_id", sa.Integer(), nullable=False), sa.Column("province_adcode", sa.Integer(), nullable=False),
                    sa.Column("dealer_id", sa.Integer()), sa.Column("channel_id", sa.Integer(), nullable=False), *_lead_sums())
    op.create_index("ix_lead_month_dealer", "lead_month_dealer", ["month", "region_id"])
    for name, columns in MEMBER_INDEXES.items():
        op.create_index(name, "member", list(columns))
    from lib.rollups import rebuild

    rebuild(op.get_bind(), ["points_daily", "points_open_lots", "member_active_edges"])  # the ledger's rollups made here; the
    # lead rollups are filled in 0010, which adds the column they now read (duplicate_of_id), the tiers reached in 0012


def downgrade() -> None:
    """Drop them."""
    for name in MEMBER_INDEXES:
        op.drop_index(name, table_name="member")
    for stage in LATER_STAGES:
        op.drop_index(f"ix_lead_{stage}_at", table_name="lead")
    for table in ("lead_month_dealer", "lead_month_events", "lead_month_mix", "member_active_edges", "points_open_lots", "points_daily"):
        op.drop_table(table)
