"""Who may see what: a Scope travels with every query and every service call."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, true

ALL_REGION_ROLES = frozenset({"executive", "campaign_manager", "admin"})  # roles that see every region
PERMISSIONS: dict[str, frozenset[str]] = {  # action -> roles allowed to perform it
    "view_dashboards": frozenset({"executive", "campaign_manager", "regional_staff", "admin"}),
    "approve_campaign": frozenset({"executive", "admin"}),
    "edit_campaign": frozenset({"campaign_manager", "regional_staff", "admin"}),
    "edit_targets": frozenset({"campaign_manager", "admin"}),
    "import_data": frozenset({"campaign_manager", "admin"}),
    "export_data": frozenset({"executive", "campaign_manager", "admin"}),
    "manage_users": frozenset({"admin"}),
    "view_audit": frozenset({"admin"}),
    "manage_geography": frozenset({"admin"}),
    "manage_points": frozenset({"admin"}),
    "manage_profiles": frozenset({"admin"}),  # mapping profiles of the ingestion layer (importers use them)
    "manage_settings": frozenset({"admin"}),
    "manage_alerts": frozenset({"campaign_manager", "admin"}),  # threshold alert rules (lib.notify)
}


@dataclass(frozen=True)
class Scope:
    """A user's reach: their role and, for regional staff, the region ids they may see (hashable)."""

    role: str
    region_ids: tuple[int, ...] | None = None  # None: every region, national rows included
    user_id: int | None = None
    username: str | None = None

    def __post_init__(self) -> None:
        """A regional role without regions would see nothing; refuse it early."""
        if self.role not in ALL_REGION_ROLES and not self.region_ids:
            raise ValueError(f"role {self.role!r} needs at least one region")

    @property
    def sees_all_regions(self) -> bool:
        """True when no region filter applies."""
        return self.region_ids is None

    def region_filter(self, column: ColumnElement) -> ColumnElement[bool]:
        """WHERE clause limiting rows to this scope; rows without a region are national, HQ only."""
        if self.sees_all_regions:
            return true()
        return column.in_(self.region_ids)

    def national_or_region_filter(self, column: ColumnElement) -> ColumnElement[bool]:
        """WHERE clause for rows everybody may see when national (region None) plus this scope's regions."""
        if self.sees_all_regions:
            return true()
        return or_(column.is_(None), column.in_(self.region_ids))

    def may_touch_region(self, region_id: int | None) -> bool:
        """Whether this scope reaches a region (None: national, HQ roles only)."""
        return self.sees_all_regions or (region_id is not None and region_id in self.region_ids)

    def can(self, action: str) -> bool:
        """Whether this role may perform the action."""
        return self.role in PERMISSIONS.get(action, frozenset())


def scope_for_user(role: str, region_id: int | None, user_id: int | None = None, username: str | None = None) -> Scope:
    """The scope of a user row: every region for HQ roles, their own region for regional staff."""
    if role in ALL_REGION_ROLES:
        return Scope(role=role, user_id=user_id, username=username)
    return Scope(role=role, region_ids=(region_id,) if region_id is not None else (), user_id=user_id, username=username)
