"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 12:43:44.154192
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('app_setting',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('family', sa.String(length=16), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("family IN ('official', 'marketplace', 'vertical', 'video', 'social', 'search', 'cross', 'offline')", name='ck_channel_family'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('data_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('marketing_node',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('festival', 'ecommerce', 'auto_show')", name='ck_node_kind'),
    sa.CheckConstraint('end_date >= start_date', name='ck_node_dates'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code', 'start_date', name='uq_node_code_start')
    )
    with op.batch_alter_table('marketing_node', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_marketing_node_start_date'), ['start_date'], unique=False)

    op.create_table('member_tier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=32), nullable=False),
    sa.Column('min_growth', sa.Integer(), nullable=False),
    sa.Column('benefits_zh', sa.Text(), nullable=True),
    sa.Column('benefits_en', sa.Text(), nullable=True),
    sa.CheckConstraint('min_growth >= 0', name='ck_tier_min_growth'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('min_growth')
    )
    op.create_table('points_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('per', sa.String(length=8), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("per IN ('yuan', 'action')", name='ck_rule_per'),
    sa.CheckConstraint('points > 0', name='ck_rule_points'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('region',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('reward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('points_cost', sa.Integer(), nullable=False),
    sa.Column('cash_value', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('cash_value >= 0', name='ck_reward_value'),
    sa.CheckConstraint('points_cost > 0', name='ck_reward_cost'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('vehicle_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('segment', sa.String(length=16), nullable=False),
    sa.Column('powertrain', sa.String(length=8), nullable=False),
    sa.Column('msrp', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('launched_on', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("powertrain IN ('ICE', 'BEV', 'PHEV', 'HEV')", name='ck_model_powertrain'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=128), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=128), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("role <> 'regional_staff' OR region_id IS NOT NULL", name='ck_user_regional_has_region'),
    sa.CheckConstraint("role IN ('executive', 'campaign_manager', 'regional_staff', 'admin')", name='ck_user_role'),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('channel_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('target_value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("metric IN ('spend', 'impressions', 'clicks', 'leads', 'valid_leads', 'coupons', 'orders', 'gmv', 'cpl', 'cpql', 'valid_rate', 'lead_to_order')", name='ck_target_metric'),
    sa.CheckConstraint('target_value >= 0', name='ck_target_value'),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], ),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('channel_target', schema=None) as batch_op:
        batch_op.create_index('ix_target_month', ['month', 'metric'], unique=False)

    op.create_table('province',
    sa.Column('adcode', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name_zh', sa.String(length=32), nullable=False),
    sa.Column('short_zh', sa.String(length=16), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('has_dealers', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('adcode')
    )
    with op.batch_alter_table('province', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_province_region_id'), ['region_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=True),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('hashtag', sa.String(length=64), nullable=True),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('objective', sa.String(length=16), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('budget_total', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('review_text', sa.Text(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("objective IN ('awareness', 'leads', 'conversion')", name='ck_campaign_objective'),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'running', 'completed', 'reviewed', 'cancelled')", name='ck_campaign_status'),
    sa.CheckConstraint("type IN ('ecommerce', 'launch', 'festival', 'owner_event', 'brand', 'auto_show')", name='ck_campaign_type'),
    sa.CheckConstraint('budget_total >= 0', name='ck_campaign_budget'),
    sa.CheckConstraint('end_date >= start_date', name='ck_campaign_dates'),
    sa.ForeignKeyConstraint(['model_id'], ['vehicle_model.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_dates', ['start_date', 'end_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_status'), ['status'], unique=False)

    op.create_table('city',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('adcode', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=64), nullable=False),
    sa.Column('province_adcode', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=8), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.CheckConstraint("tier IN ('一线', '新一线', '二线', '三线', '四线', '五线')", name='ck_city_tier'),
    sa.ForeignKeyConstraint(['province_adcode'], ['province.adcode'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('adcode')
    )
    with op.batch_alter_table('city', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_city_province_adcode'), ['province_adcode'], unique=False)

    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rolled_back_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('committed', 'rolled_back')", name='ck_import_status'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('campaign_budget_line',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.CheckConstraint('amount >= 0', name='ck_budget_line_amount'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'channel_id')
    )
    op.create_table('campaign_kpi_target',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=16), nullable=False),
    sa.Column('target_value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint("metric IN ('spend', 'impressions', 'clicks', 'leads', 'valid_leads', 'coupons', 'orders', 'gmv', 'cpl', 'cpql', 'valid_rate', 'lead_to_order')", name='ck_campaign_kpi_metric'),
    sa.CheckConstraint('target_value >= 0', name='ck_campaign_kpi_value'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'metric')
    )
    op.create_table('campaign_phase',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.CheckConstraint("phase IN ('warmup', 'presale', 'peak', 'spread')", name='ck_phase_name'),
    sa.CheckConstraint('end_date >= start_date', name='ck_phase_dates'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'phase')
    )
    op.create_table('campaign_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['changed_by'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaign_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_status_change_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('channel_daily',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('spend', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('impressions', sa.BigInteger(), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.Column('leads', sa.Integer(), nullable=False),
    sa.Column('valid_leads', sa.Integer(), nullable=False),
    sa.Column('coupons', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('gmv', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('fans', sa.Integer(), nullable=False),
    sa.Column('live_sessions', sa.Integer(), nullable=False),
    sa.Column('live_views', sa.BigInteger(), nullable=False),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('clicks <= impressions', name='ck_daily_clicks_le_impressions'),
    sa.CheckConstraint('clicks >= 0', name='ck_daily_clicks_nonneg'),
    sa.CheckConstraint('coupons >= 0', name='ck_daily_coupons_nonneg'),
    sa.CheckConstraint('fans >= 0', name='ck_daily_fans_nonneg'),
    sa.CheckConstraint('gmv >= 0', name='ck_daily_gmv_nonneg'),
    sa.CheckConstraint('impressions >= 0', name='ck_daily_impressions_nonneg'),
    sa.CheckConstraint('leads >= 0', name='ck_daily_leads_nonneg'),
    sa.CheckConstraint('live_sessions >= 0', name='ck_daily_live_sessions_nonneg'),
    sa.CheckConstraint('live_views >= 0', name='ck_daily_live_views_nonneg'),
    sa.CheckConstraint('orders >= 0', name='ck_daily_orders_nonneg'),
    sa.CheckConstraint('spend >= 0', name='ck_daily_spend_nonneg'),
    sa.CheckConstraint('valid_leads <= leads', name='ck_daily_valid_le_leads'),
    sa.CheckConstraint('valid_leads >= 0', name='ck_daily_valid_leads_nonneg'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], ),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batch.id'], ),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('channel_daily', schema=None) as batch_op:
        batch_op.create_index('ix_daily_campaign', ['campaign_id'], unique=False)
        batch_op.create_index('ix_daily_day_channel', ['day', 'channel_id'], unique=False)
        batch_op.create_index('ix_daily_region_day', ['region_id', 'day'], unique=False)

    op.create_table('dealer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('province_adcode', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('grade', sa.String(length=16), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('douyin_tier', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("douyin_tier IN ('head', 'middle', 'tail')", name='ck_dealer_douyin_tier'),
    sa.CheckConstraint("grade IN ('4S', 'urban', 'satellite')", name='ck_dealer_grade'),
    sa.CheckConstraint('lat BETWEEN 3 AND 54 AND lon BETWEEN 73 AND 136', name='ck_dealer_in_china'),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], ),
    sa.ForeignKeyConstraint(['province_adcode'], ['province.adcode'], ),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('dealer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dealer_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dealer_province_adcode'), ['province_adcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_dealer_region_id'), ['region_id'], unique=False)

    op.create_table('lead',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('province_adcode', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=False),
    sa.Column('valid_at', sa.DateTime(), nullable=True),
    sa.Column('visit_at', sa.DateTime(), nullable=True),
    sa.Column('test_drive_at', sa.DateTime(), nullable=True),
    sa.Column('order_at', sa.DateTime(), nullable=True),
    sa.Column('delivery_at', sa.DateTime(), nullable=True),
    sa.Column('lost_at', sa.DateTime(), nullable=True),
    sa.Column('lost_stage', sa.String(length=16), nullable=True),
    sa.Column('lost_reason', sa.String(length=32), nullable=True),
    sa.Column('dormant_at', sa.DateTime(), nullable=True),
    sa.Column('reactivated_at', sa.DateTime(), nullable=True),
    sa.Column('first_response_minutes', sa.Integer(), nullable=True),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('phone_masked', sa.String(length=16), nullable=False),
    sa.Column('name_masked', sa.String(length=16), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("grade IN ('high', 'medium', 'low')", name='ck_lead_grade'),
    sa.CheckConstraint("lost_reason IS NULL OR lost_reason IN ('no_answer', 'bought_elsewhere', 'budget', 'not_interested', 'invalid_contact', 'other')", name='ck_lead_lost_reason'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], ),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealer.id'], ),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batch.id'], ),
    sa.ForeignKeyConstraint(['model_id'], ['vehicle_model.id'], ),
    sa.ForeignKeyConstraint(['province_adcode'], ['province.adcode'], ),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index('ix_lead_channel_created', ['channel_id', 'created_at'], unique=False)
        batch_op.create_index('ix_lead_created', ['created_at'], unique=False)
        batch_op.create_index('ix_lead_dealer_created', ['dealer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_lead_phone_hash', ['phone_hash'], unique=False)
        batch_op.create_index('ix_lead_region_created', ['region_id', 'created_at'], unique=False)

    op.create_table('member',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_no', sa.String(length=20), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('province_adcode', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=True),
    sa.Column('tier_id', sa.Integer(), nullable=False),
    sa.Column('is_owner', sa.Boolean(), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('last_active_on', sa.Date(), nullable=False),
    sa.Column('growth_value', sa.Integer(), nullable=False),
    sa.Column('points_balance', sa.Integer(), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('phone_masked', sa.String(length=16), nullable=False),
    sa.Column('name_masked', sa.String(length=16), nullable=True),
    sa.CheckConstraint('points_balance >= 0', name='ck_member_balance_nonneg'),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealer.id'], ),
    sa.ForeignKeyConstraint(['province_adcode'], ['province.adcode'], ),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.ForeignKeyConstraint(['tier_id'], ['member_tier.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_no')
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index('ix_member_joined', ['joined_on'], unique=False)
        batch_op.create_index('ix_member_region_active', ['region_id', 'last_active_on'], unique=False)

    op.create_table('points_ledger',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('reward_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('lot_remaining', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'earn' AND points > 0) OR (kind IN ('redeem', 'expire') AND points < 0) OR kind = 'adjust'", name='ck_ledger_sign'),
    sa.CheckConstraint("kind IN ('earn', 'redeem', 'expire', 'adjust')", name='ck_ledger_kind'),
    sa.CheckConstraint('lot_remaining IS NULL OR (lot_remaining >= 0 AND lot_remaining <= points)', name='ck_ledger_lot'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], ),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], ),
    sa.ForeignKeyConstraint(['rule_id'], ['points_rule.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_expiry', ['expires_on'], unique=False)
        batch_op.create_index('ix_ledger_member', ['member_id', 'occurred_on'], unique=False)
        batch_op.create_index('ix_ledger_region_day', ['region_id', 'occurred_on'], unique=False)



def downgrade() -> None:
    """Revert this revision (dropping a table drops its indexes too)."""
    op.drop_table('points_ledger')
    op.drop_table('member')
    op.drop_table('lead')
    op.drop_table('dealer')
    op.drop_table('channel_daily')
    op.drop_table('campaign_status_change')
    op.drop_table('campaign_phase')
    op.drop_table('campaign_kpi_target')
    op.drop_table('campaign_budget_line')
    op.drop_table('import_batch')
    op.drop_table('city')
    op.drop_table('campaign')
    op.drop_table('audit_log')
    op.drop_table('province')
    op.drop_table('channel_target')
    op.drop_table('app_user')
    op.drop_table('vehicle_model')
    op.drop_table('reward')
    op.drop_table('region')
    op.drop_table('points_rule')
    op.drop_table('member_tier')
    op.drop_table('marketing_node')
    op.drop_table('data_version')
    op.drop_table('channel')
    op.drop_table('app_setting')
