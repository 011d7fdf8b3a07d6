"""digest_subscription, alert_rule, notify_delivery: digests, threshold alerts and the record of every message sent
(lib.notify)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables."""
    op.create_table(
        "digest_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("cadence", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=72), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("cadence IN ('daily', 'weekly', 'monthly')", name="ck_digest_cadence"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "cadence", "destination", name="uq_digest_user_cadence_destination"),
    )
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channel.id"), nullable=True),
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=True),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("vehicle_model.id"), nullable=True),
        sa.Column("comparison", sa.String(length=2), nullable=False),
        sa.Column("threshold", sa.Numeric(18, 4), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Numeric(18, 4), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("comparison IN ('gt', 'ge', 'lt', 'le')", name="ck_alert_comparison"),
        sa.CheckConstraint("window_days >= 1", name="ck_alert_window"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "notify_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=72), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('digest', 'alert', 'recovery', 'test')", name="ck_delivery_kind"),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'gave_up')", name="ck_delivery_status"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_delivery_due", "notify_delivery", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_delivery_created", "notify_delivery", ["created_at"], unique=False)


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_delivery_created", table_name="notify_delivery")
    op.drop_index("ix_delivery_due", table_name="notify_delivery")
    op.drop_table("notify_delivery")
    op.drop_table("alert_rule")
    op.drop_table("digest_subscription")
