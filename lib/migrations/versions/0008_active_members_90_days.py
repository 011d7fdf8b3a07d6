"""member_active_edges recomputed with the 90-day window (the day and the 89 before it): the rows written before counted
members active for 91 days after their last activity

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 20:00:00
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rebuild the activity edges from the raw rows with lib.rollups' current window."""
    from lib.rollups import rebuild

    rebuild(op.get_bind(), ["member_active_edges"])


def downgrade() -> None:
    """Nothing to undo in the schema: the edges stay as the current code computes them."""
