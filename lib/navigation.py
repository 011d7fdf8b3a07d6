"""Which pages exist and which roles see them; Home.py turns this into st.navigation."""
from __future__ import annotations

from dataclasses import dataclass

from lib.models import ROLES
from lib.scope import PERMISSIONS

EVERYONE = frozenset(ROLES)  # every role
PLANNERS = frozenset({"campaign_manager", "regional_staff", "admin"})  # roles that write campaign plans
IMPORTERS = frozenset({"campaign_manager", "admin"})  # roles that import data
TARGET_EDITORS = frozenset({"campaign_manager", "admin"})  # roles that set channel targets
APPROVERS = PERMISSIONS["approve_campaign"]  # roles that approve plans: they have the approvals inbox
APPROVALS_PAGE = "pages/approvals.py"  # the inbox, whose navigation title carries the number of plans waiting


@dataclass(frozen=True)
class PageSpec:
    """One screen: its file, label key, icon, URL path, section and the roles allowed to open it.

    URL paths differ from the file names on purpose: Streamlit's pages-directory fallback serves
    pages/<name>.py at /<name> without running Home.py, so a navigation URL must never match one
    (lib.ui.page_user sends such direct hits back through Home.py's login gate).
    """

    path: str
    title_key: str
    icon: str
    url_path: str
    section_key: str
    roles: frozenset[str]


PAGES: tuple[PageSpec, ...] = (  # in navigation order
    PageSpec("pages/overview.py", "nav_overview", ":material/dashboard:", "cockpit", "nav_section_dashboards", EVERYONE),
    PageSpec("pages/channels.py", "nav_channels", ":material/query_stats:", "channel-kpis", "nav_section_dashboards", EVERYONE),
    PageSpec("pages/funnel.py", "nav_funnel", ":material/filter_alt:", "lead-funnel", "nav_section_dashboards", EVERYONE),
    PageSpec("pages/dealers.py", "nav_dealers", ":material/map:", "dealer-map", "nav_section_dashboards", EVERYONE),
    PageSpec("pages/members.py", "nav_members", ":material/loyalty:", "member-points", "nav_section_dashboards", EVERYONE),
    PageSpec(APPROVALS_PAGE, "nav_approvals", ":material/approval:", "approval-inbox", "nav_section_planning", APPROVERS),
    PageSpec("pages/calendar.py", "nav_calendar", ":material/calendar_month:", "campaign-calendar", "nav_section_planning", EVERYONE),
    PageSpec("pages/campaign.py", "nav_campaign", ":material/campaign:", "campaign-detail", "nav_section_planning", EVERYONE),
    PageSpec("pages/plan_editor.py", "nav_plan_editor", ":material/edit_calendar:", "plan-editor", "nav_section_planning", PLANNERS),
    PageSpec("pages/targets.py", "nav_targets", ":material/flag:", "channel-targets", "nav_section_planning", TARGET_EDITORS),
    PageSpec("pages/data_import.py", "nav_import", ":material/upload_file:", "data-import", "nav_section_admin", IMPORTERS),
    PageSpec("pages/notifications.py", "nav_notifications", ":material/notifications:", "digests-and-alerts", "nav_section_admin",
             EVERYONE),
    PageSpec("pages/account.py", "nav_account", ":material/person:", "my-account", "nav_section_admin", EVERYONE),
    PageSpec("pages/users.py", "nav_users", ":material/group:", "user-admin", "nav_section_admin", frozenset({"admin"})),
    PageSpec("pages/region_admin.py", "nav_region_admin", ":material/edit_location_alt:", "regions-and-dealers", "nav_section_admin",
             frozenset({"admin"})),
    PageSpec("pages/audit.py", "nav_audit", ":material/history:", "audit-log", "nav_section_admin", frozenset({"admin"})),
)
PASSWORD_CHANGE_ONLY = ("pages/account.py",)  # all a user with a reset password may open


def pages_for(role: str, must_change_password: bool = False) -> list[PageSpec]:
    """The pages a role may open, in order (only the account page until a reset password is changed)."""
    allowed = [page for page in PAGES if role in page.roles]
    if must_change_password:
        return [page for page in allowed if page.path in PASSWORD_CHANGE_ONLY]
    return allowed


def counted(title: str, waiting: int) -> str:
    """A navigation title with the number of items waiting there ('待审批 (3)'); the bare title when none wait."""
    return f"{title} ({waiting})" if waiting else title
