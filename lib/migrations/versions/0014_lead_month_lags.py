"""lead_month_lags and lead_month_dealer_lags: the whole-hour lags between funnel stages per creation month (rollups of the
leads for the funnel's speed view, by channel, region and model or by dealer; lib.rollups), filled from the leads

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


def _lag_columns() -> tuple[sa.Column, ...]:
    """The columns every lag rollup has after its dimensions (new objects: a column belongs to one table)."""
    return (sa.Column("step", sa.String(length=24), nullable=False), sa.Column("hours", sa.Integer(), nullable=False),
            sa.Column("leads", sa.BigInteger(), nullable=False))


def upgrade() -> None:
    """Create the rollups and compute them from the leads."""
    from lib.rollups import rebuild

    dimensions = {"lead_month_lags": (sa.Column("region_id", sa.Integer(), nullable=False),
                                      sa.Column("channel_id", sa.Integer(), nullable=False),
                                      sa.Column("model_id", sa.Integer(), nullable=False)),
                  "lead_month_dealer_lags": (sa.Column("region_id", sa.Integer(), nullable=False),
                                             sa.Column("province_adcode", sa.Integer(), nullable=False),
                                             sa.Column("dealer_id", sa.Integer(), nullable=True))}
    for table, kept in dimensions.items():
        op.create_table(
            table,
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("month", sa.String(length=7), nullable=False),
            *kept,
            *_lag_columns(),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{table}", table, ["month", "region_id"], unique=False)
    rebuild(op.get_bind(), list(dimensions))


def downgrade() -> None:
    """Drop the rollups (the speed view is then read from the leads by older code)."""
    for table in ("lead_month_dealer_lags", "lead_month_lags"):
        op.drop_index(f"ix_{table}", table_name=table)
        op.drop_table(table)
