"""staging tables: one per kind of load (stage_leads, stage_lead_progress, …), where an ETL tool inserts rows of the kind's
canonical fields as text for `python -m lib.ingest --from-staging` to load

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # 64-bit ids, SQLite's rowid alias
FIELDS = {  # staging table → the canonical fields of its kind, in order
    "stage_channels": ('code', 'name_zh', 'name_en', 'family', 'sort_order', 'active'),
    "stage_models": ('code', 'name_zh', 'name_en', 'segment', 'powertrain', 'msrp', 'launched_on', 'active'),
    "stage_dealers": ('code', 'name', 'province', 'city', 'type', 'lat', 'lon', 'opened_on', 'closed_on', 'douyin_tier'),
    "stage_points_rules": ('code', 'name_zh', 'name_en', 'points', 'per', 'daily_cap', 'active'),
    "stage_rewards": ('code', 'name_zh', 'name_en', 'category', 'points_cost', 'cash_value', 'active'),
    "stage_leads": (
        'external_id', 'created_at', 'channel', 'campaign', 'model', 'dealer_code', 'province', 'city', 'area',
        'grade', 'phone', 'name',
    ),
    "stage_lead_progress": (
        'external_id', 'channel', 'valid_at', 'visit_at', 'test_drive_at', 'order_at', 'delivery_at', 'lost_at',
        'dormant_at', 'reactivated_at', 'lost_reason', 'first_response_minutes',
    ),
    "stage_members": ('member_no', 'phone', 'name', 'joined_on', 'province', 'city', 'dealer_code', 'is_owner'),
    "stage_points": ('txn_id', 'member_no', 'occurred_at', 'kind', 'points', 'rule_code', 'reward_code', 'campaign'),
    "stage_channel_facts": (
        'day', 'channel', 'region', 'campaign_id', 'spend', 'impressions', 'clicks', 'leads', 'valid_leads', 'coupons',
        'orders', 'gmv', 'fans', 'live_sessions', 'live_views',
    ),
}


def upgrade() -> None:
    """Create the staging tables."""
    for table, fields in FIELDS.items():
        op.create_table(
            table,
            sa.Column("stage_id", BIG_ID, nullable=False, autoincrement=True),
            *(sa.Column(name, sa.Text(), nullable=True) for name in fields),
            sa.Column("staged_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
            sa.Column("refused_at", sa.DateTime(), nullable=True),
            sa.Column("refused_reason", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("stage_id"),
        )


def downgrade() -> None:
    """Drop the staging tables (and whatever waits in them)."""
    for table in reversed(FIELDS):
        op.drop_table(table)
