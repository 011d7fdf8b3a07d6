"""Scope: regional users are limited to their region, HQ roles see all, permissions by role."""
import pytest
from sqlalchemy import column, select, table
from sqlalchemy.dialects import sqlite

from lib.scope import PERMISSIONS, Scope, scope_for_user


def compiled(scope: Scope) -> str:
    """The WHERE clause a scope produces, as SQLite SQL with literal values."""
    facts = table("facts", column("region_id"))
    return str(select(facts).where(scope.region_filter(facts.c.region_id)).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def test_hq_roles_see_every_region():
    for role in ("executive", "campaign_manager", "admin"):
        scope = scope_for_user(role, region_id=3)
        assert scope.sees_all_regions
        assert "region_id" not in compiled(scope).split("WHERE")[-1]


def test_regional_staff_limited_to_own_region():
    scope = scope_for_user("regional_staff", region_id=3)
    assert not scope.sees_all_regions
    assert compiled(scope).endswith("WHERE facts.region_id IN (3)")


def test_regional_role_without_region_is_refused():
    with pytest.raises(ValueError):
        scope_for_user("regional_staff", region_id=None)


def test_scope_is_hashable_for_caching():
    assert hash(scope_for_user("regional_staff", 2)) == hash(scope_for_user("regional_staff", 2))


def test_permissions_by_role():
    executive, manager, regional, admin = (scope_for_user(r, 1) for r in ("executive", "campaign_manager", "regional_staff", "admin"))
    assert executive.can("approve_campaign") and not manager.can("approve_campaign")
    assert manager.can("edit_targets") and not executive.can("edit_targets") and not regional.can("edit_targets")
    assert admin.can("manage_users") and not any(s.can("manage_users") for s in (executive, manager, regional))
    assert not regional.can("export_data")
    assert all(isinstance(roles, frozenset) for roles in PERMISSIONS.values())
