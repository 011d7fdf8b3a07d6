"""lead_month_lost: the lost leads per creation month, month lost, stage and reason (a rollup of the leads for the funnel's
lost reasons, lib.rollups), filled from the leads; ix_lead_lost_at for the partial months of the activity view

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 23:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the rollup and compute it from the leads."""
    from lib.rollups import rebuild

    op.create_table(
        "lead_month_lost",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("lost_month", sa.String(length=7), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("lost_stage", sa.String(length=16), nullable=True),
        sa.Column("lost_reason", sa.String(length=32), nullable=True),
        sa.Column("leads", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_month_lost", "lead_month_lost", ["month", "region_id"], unique=False)
    op.create_index("ix_lead_month_lost_when", "lead_month_lost", ["lost_month", "region_id"], unique=False)
    op.create_index("ix_lead_lost_at", "lead", ["lost_at"], unique=False)
    rebuild(op.get_bind(), ["lead_month_lost"])


def downgrade() -> None:
    """Drop the rollup and the index (the lost reasons are then read from the leads by older code)."""
    op.drop_index("ix_lead_lost_at", table_name="lead")
    op.drop_index("ix_lead_month_lost_when", table_name="lead_month_lost")
    op.drop_index("ix_lead_month_lost", table_name="lead_month_lost")
    op.drop_table("lead_month_lost")
