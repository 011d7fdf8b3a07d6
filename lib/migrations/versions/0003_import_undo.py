"""import undo: the fact values an import overwrote, so that rolling the batch back restores them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(16, 2)  # CNY amounts, as in the fact table
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # row ids of big tables


def upgrade() -> None:
    """Add channel_daily_undo."""
    op.create_table(
        "channel_daily_undo",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fact_id", BIG_ID, nullable=False),
        sa.Column("previous_batch_id", sa.Integer(), nullable=True),
        sa.Column("spend", MONEY, nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("valid_leads", sa.Integer(), nullable=False),
        sa.Column("coupons", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv", MONEY, nullable=False),
        sa.Column("fans", sa.Integer(), nullable=False),
        sa.Column("live_sessions", sa.Integer(), nullable=False),
        sa.Column("live_views", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_channel_daily_undo_batch_id", "channel_daily_undo", ["batch_id"])


def downgrade() -> None:
    """Drop channel_daily_undo."""
    op.drop_index("ix_channel_daily_undo_batch_id", table_name="channel_daily_undo")
    op.drop_table("channel_daily_undo")
