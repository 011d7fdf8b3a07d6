"""natural keys: one channel fact per day/channel/region/campaign, one target per month/channel/region/metric

A missing region or campaign counts as 0 in the key (an expression index), so national rows are
unique too. MySQL/MariaDB cannot index those expressions the same way; there the services' upserts
are the only guard.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

EXPRESSION_INDEX_DIALECTS = ("sqlite", "postgresql")  # databases with expression indexes as used here


def upgrade() -> None:
    """Add the natural-key unique indexes."""
    if op.get_bind().dialect.name not in EXPRESSION_INDEX_DIALECTS:
        return
    op.create_index("uq_daily_natural_key", "channel_daily",
                    ["day", "channel_id", sa.text("coalesce(region_id, 0)"), sa.text("coalesce(campaign_id, 0)")], unique=True)
    op.create_index("uq_target_natural_key", "channel_target",
                    ["month", "channel_id", sa.text("coalesce(region_id, 0)"), "metric"], unique=True)


def downgrade() -> None:
    """Drop the natural-key unique indexes."""
    if op.get_bind().dialect.name not in EXPRESSION_INDEX_DIALECTS:
        return
    op.drop_index("uq_target_natural_key", table_name="channel_target")
    op.drop_index("uq_daily_natural_key", table_name="channel_daily")
