"""lead_month_lags: the whole-hour lags between funnel stages per creation month (a rollup of the leads for the funnel's
speed view, lib.rollups), filled from the leads

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the rollup and compute it from the leads."""
    from lib.rollups import rebuild

    op.create_table(
        "lead_month_lags",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("leads", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_month_lags", "lead_month_lags", ["month", "region_id"], unique=False)
    rebuild(op.get_bind(), ["lead_month_lags"])


def downgrade() -> None:
    """Drop the rollup (the speed view is then read from the leads by older code)."""
    op.drop_index("ix_lead_month_lags", table_name="lead_month_lags")
    op.drop_table("lead_month_lags")
