"""Every label the user sees, in Chinese (default) and English."""
from __future__ import annotations

LANGUAGES = {"zh": "中文", "en": "English"}  # language code -> name shown in the switch
DEFAULT_LANGUAGE = "zh"  # the UI opens in Chinese

LABELS: dict[str, tuple[str, str]] = {  # key -> (Chinese, English)
    "app_title": ("营销驾驶舱", "Marketing Cockpit"),
    "language": ("语言 / Language", "Language / 语言"),
    # login and account
    "login_title": ("登录营销驾驶舱", "Sign in to the Marketing Cockpit"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "login_button": ("登录", "Sign in"),
    "logout": ("退出登录", "Sign out"),
    "login_failed": ("用户名或密码错误。", "Wrong username or password."),
    "login_locked": ("连续登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试或联系管理员。",
                     "Too many failed sign-ins: the account is locked. Try again in {minutes} minutes or ask an admin."),
    "login_disabled": ("该账号已停用，请联系管理员。", "This account is deactivated. Please contact an admin."),
    "demo_logins_hint": ("演示账号见 README（仅限演示环境）。", "Demo accounts are listed in the README (demo install only)."),
    "signed_in_as": ("当前用户：{name}（{role}）", "Signed in as {name} ({role})"),
    "region_label": ("所属大区：{region}", "Region: {region}"),
    "must_change_password": ("管理员已重置您的密码，请先设置新密码。", "An admin reset your password: please set a new one first."),
    "no_users": ("数据库中还没有用户。请运行 `python -m lib.seed` 生成演示数据，或由管理员创建账号。",
                 "The database has no users yet. Run `python -m lib.seed` for demo data, or have an admin create accounts."),
    "config_missing": ("配置缺失，请联系系统管理员：{error}", "A setting is missing; please tell the system administrator: {error}"),
    "page_not_allowed": ("您的角色无权打开此页面。", "Your role may not open this page."),
    "db_unavailable": ("暂时无法连接数据库，请稍后刷新页面。（{error}）", "The database cannot be reached right now; please refresh in a moment. ({error})"),
    # roles
    "role_executive": ("高管", "Executive"),
    "role_campaign_manager": ("活动经理", "Campaign manager"),
    "role_regional_staff": ("区域专员", "Regional staff"),
    "role_admin": ("管理员", "Admin"),
    # navigation
    "nav_overview": ("经营总览", "Overview"),
    "nav_account": ("我的账号", "My account"),
    "nav_audit": ("审计日志", "Audit log"),
    "nav_section_dashboards": ("看板", "Dashboards"),
    "nav_section_admin": ("系统", "System"),
    # demo data
    "demo_banner": ("演示数据：本系统当前显示的是程序生成的模拟数据（种子 {seed}，规模 {scale}），不是真实经营数据。",
                    "Demo data: everything shown is generated sample data (seed {seed}, scale {scale}), not real business figures."),
    "seeding_failed": ("生成演示数据失败：{error}", "Generating the demo data failed: {error}"),
    "seeding_title": ("首次启动：正在生成演示数据… {percent}", "First start: generating demo data… {percent}"),
    # overview
    "overview_title": ("经营总览", "Overview"),
    "overview_caption": ("{start} 至 {end} 年初至今，对比目标与去年同期。", "Year to date {start} – {end}, against target and the same period last year."),
    "overview_scope_all": ("范围：全国（含未分摊到大区的全国品牌投放）", "Scope: national (incl. brand spend not attributed to a region)"),
    "overview_scope_region": ("范围：{region}（仅本大区可归属的投放与线索）", "Scope: {region} (only spend and leads attributable to the region)"),
    "metric_spend": ("投放花费", "Spend"),
    "metric_leads": ("线索量", "Leads"),
    "metric_cpl": ("单条线索成本 CPL", "Cost per lead (CPL)"),
    "metric_cpql": ("有效线索成本 CPQL", "Cost per valid lead (CPQL)"),
    "metric_valid_rate": ("线索有效率", "Valid-lead rate"),
    "metric_orders": ("订单数", "Orders"),
    "metric_lead_to_order": ("线索成交转化率", "Lead-to-order rate"),
    "metric_roi": ("投入产出比 ROI", "Return on spend (ROI)"),
    "benchmark_roi": ("成交额 ÷ 投放花费（按线索归因）", "Attributed sales revenue ÷ spend"),
    "metric_valid_leads": ("有效线索", "Valid leads"),
    "metric_active_members": ("活跃会员（近{days}天）", "Active members ({days} days)"),
    "metric_members": ("会员总数", "Members"),
    "metric_new_members": ("今年新增会员", "New members this year"),
    "metric_outstanding_points": ("未兑换积分", "Outstanding points"),
    "metric_liability": ("积分负债", "Points liability"),
    "vs_target": ("目标 {target} · 达成 {attainment}", "Target {target} · {attainment} attained"),
    "vs_last_year": ("同比", "vs last year"),
    "no_target": ("无目标", "no target"),
    "benchmark_cpl": ("参考：目标 ¥120 / 行业 ¥170", "Reference: target ¥120 / industry ¥170"),
    "benchmark_cpql": ("参考：目标 ¥240 / 行业 ¥330", "Reference: target ¥240 / industry ¥330"),
    "benchmark_valid_rate": ("参考：51.4% → 目标 60%+", "Reference: 51.4% → target 60%+"),
    "benchmark_lead_to_order": ("参考：2.3% → 目标 2.8%+，行业 2–3%", "Reference: 2.3% → target 2.8%+, industry 2–3%"),
    "active_members_help": ("近{days}天内入会、获得、兑换或调整过积分的会员（积分过期不算活跃）。会员总数：{members}",
                            "Members who joined, earned, redeemed or had points adjusted in the last {days} days (expiry is not activity). All members: {members}"),
    "points_budget": ("年度积分预算 {budget} · 负债占 {share}", "Points budget this year {budget} · liability is {share} of it"),
    "liability_help": ("按积分汇率 ¥{rate}/分 折算", "At the exchange rate of ¥{rate} per point"),
    "trend_title": ("月度趋势", "Monthly trend"),
    "trend_leads": ("线索量", "Leads"),
    "trend_leads_target": ("线索目标", "Leads target"),
    "trend_month": ("月份", "Month"),
    "trend_this_year": ("{year} 年", "{year}"),
    "alerts_title": ("预警", "Alerts"),
    "alert_channel_under": ("{channel}：线索 {leads}，仅达成目标的 {attainment}", "{channel}: {leads} leads, only {attainment} of target"),
    "alert_campaign_over": ("活动「{name}」超预算 {over}：已花费 {spent} / 预算 {budget}", "Campaign “{name}” over budget by {over}: spent {spent} of {budget}"),
    "alert_points_expiring": ("未来 {days} 天将有 {points} 积分（约 {cny}）过期，涉及 {members} 位会员", "{points} points (≈ {cny}) expire in the next {days} days, held by {members} members"),
    "alerts_none": ("暂无预警。", "No alerts."),
    # account
    "account_title": ("我的账号", "My account"),
    "current_password": ("当前密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "repeat_password": ("再次输入新密码", "Repeat the new password"),
    "change_password": ("修改密码", "Change password"),
    "password_changed": ("密码已修改。", "Password changed."),
    "password_wrong": ("当前密码不正确。", "The current password is wrong."),
    "password_mismatch": ("两次输入的新密码不一致。", "The two new passwords differ."),
    "password_too_short": ("密码至少需要 {n} 个字符。", "The password needs at least {n} characters."),
    "password_is_username": ("密码不能与用户名相同。", "The password must not be the username."),
    "unknown_role": ("未知角色：{role}", "Unknown role: {role}"),
    "unknown_region": ("未知大区：{region}", "Unknown region: {region}"),
    "regional_needs_region": ("区域专员必须指定所属大区。", "Regional staff need a region."),
    # audit (action names; an action without a label is shown by its code)
    "action_login": ("登录", "Sign-in"),
    "action_logout": ("退出", "Sign-out"),
    "action_login_failed": ("登录失败", "Failed sign-in"),
    "action_user_locked": ("账号锁定", "Account locked"),
    "action_user_create": ("创建用户", "User created"),
    "action_password_change": ("修改密码", "Password changed"),
    "audit_title": ("审计日志", "Audit log"),
    "audit_caption": ("谁在何时做了什么（只增不改）。", "Who did what and when (append-only)."),
    "audit_action": ("操作", "Action"),
    "audit_user": ("用户", "User"),
    "audit_days": ("最近天数", "Last days"),
    "audit_at": ("时间", "Time"),
    "audit_entity": ("对象", "Object"),
    "audit_entity_id": ("编号", "ID"),
    "audit_detail": ("详情", "Detail"),
    "audit_all": ("全部", "All"),
    "audit_empty": ("所选范围内没有记录。", "No entries in this range."),
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """The label for key in the language, with {params} filled in; the key itself if unknown."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text

