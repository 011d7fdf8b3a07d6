"""member_tier_reached: the day each member first reached each tier (a rollup of the ledger's earn rows, lib.rollups),
filled from the ledger

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the rollup and compute it from the ledger."""
    from lib.rollups import rebuild

    op.create_table(
        "member_tier_reached",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "tier_id"),
    )
    op.create_index("ix_member_tier_reached_region", "member_tier_reached", ["region_id", "reached_on"], unique=False)
    rebuild(op.get_bind(), ["member_tier_reached"])


def downgrade() -> None:
    """Drop the rollup (the tier upgrades are then read from the ledger by older code)."""
    op.drop_index("ix_member_tier_reached_region", table_name="member_tier_reached")
    op.drop_table("member_tier_reached")
