"""ix_lead_month_lags_step: the lag histogram overall and by channel read in its grouping's order (no sort)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 18:30:00
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

COLUMNS = ["step", "hours", "channel_id", "month", "region_id", "model_id", "leads"]


def upgrade() -> None:
    """Create the covering index."""
    op.create_index("ix_lead_month_lags_step", "lead_month_lags", COLUMNS)


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_lead_month_lags_step", table_name="lead_month_lags")
