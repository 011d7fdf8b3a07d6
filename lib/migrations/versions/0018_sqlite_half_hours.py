"""The lag rollups recomputed on SQLite, whose whole hours now round a half hour up as PostgreSQL does (lib.sqlfuncs
hours_between: the julian days × 24 had put 8 h 30 min at 8.4999999963 and rounded it down)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:00:00
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

LAG_ROLLUPS = ["lead_month_lags", "lead_month_dealer_lags"]


def upgrade() -> None:
    """Recompute the lag rollups from the leads on SQLite (other databases computed these hours right already)."""
    from lib.rollups import rebuild

    if op.get_bind().dialect.name == "sqlite":
        rebuild(op.get_bind(), LAG_ROLLUPS)


def downgrade() -> None:
    """Nothing to undo: the rollups keep a half hour rounded up (the older code rounds it down on SQLite only)."""
