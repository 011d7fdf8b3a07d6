"""lead_month_orders: the orders of each creation month's leads per month of the order (a rollup of the leads for the
funnel's cohort matrix, lib.rollups), filled from the leads

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the rollup and compute it from the leads."""
    from lib.rollups import rebuild

    op.create_table(
        "lead_month_orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("ordered", sa.String(length=7), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_month_orders", "lead_month_orders", ["month", "region_id"], unique=False)
    rebuild(op.get_bind(), ["lead_month_orders"])


def downgrade() -> None:
    """Drop the rollup (the cohort matrix is then read from the leads by older code)."""
    op.drop_index("ix_lead_month_orders", table_name="lead_month_orders")
    op.drop_table("lead_month_orders")
