"""Mapping profiles kept in the database (mapping_profile): admins create, edit and delete them as TOML text, checked by
lib.ingest.profile.parse; importers use them. Every save is one transaction with an audit row; a save or delete based on
the version the admin opened is refused when someone saved the profile since."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

from lib.clock import now
from lib.ingest.profile import Profile, ProfileError, parse
from lib.models import AppUser, MappingProfile
from lib.scope import Scope
from lib.services import audit
from lib.services.errors import FieldError, InputInvalidError, RefusedError, require
from lib.sqlfuncs import equals

COLUMNS = ["id", "name", "kind", "body", "updated_by", "updated_at", "version"]  # what the list gives


def list_profiles(conn: Connection, scope: Scope, kind: str | None = None) -> pd.DataFrame:
    """The stored profiles (of one kind, or all) by name, with who saved them last; nothing for roles that do not import."""
    if not scope.can("import_data"):
        return pd.DataFrame(columns=COLUMNS)
    query = (select(MappingProfile.id, MappingProfile.name, MappingProfile.kind, MappingProfile.body,
                    AppUser.display_name.label("updated_by"), MappingProfile.updated_at, MappingProfile.version)
             .outerjoin(AppUser, AppUser.id == MappingProfile.updated_by).order_by(MappingProfile.name))
    if kind is not None:
        query = query.where(MappingProfile.kind == kind)
    return pd.DataFrame(conn.execute(query).mappings().all(), columns=COLUMNS)


def load_profile(conn: Connection, scope: Scope, profile_id: int) -> Profile:
    """A stored profile, parsed (importers only)."""
    require(scope, "import_data", "import_not_allowed")
    row = conn.execute(select(MappingProfile.name, MappingProfile.body).where(equals(MappingProfile.id, profile_id))).first()
    if row is None:
        raise RefusedError("profile_missing")
    return parse(row.body, row.name)


def stored_profiles(conn: Connection, scope: Scope) -> list[Profile]:
    """Every stored profile, parsed (importers only; each was checked when it was saved)."""
    require(scope, "import_data", "import_not_allowed")
    return [parse(row.body, row.name) for row in conn.execute(select(MappingProfile.name, MappingProfile.body))]


def checked(name: str, body: str) -> Profile:
    """The profile a name and TOML text make; refused with the reason in the user's language when it is not one."""
    try:
        return parse(body, name)
    except ProfileError as error:
        field = "name" if error.key == "profile_bad_name" else "body"
        raise InputInvalidError([FieldError(field, error.key, error.params)]) from error


def _name_taken(conn: Connection, name: str, profile_id: int | None) -> bool:
    """Whether another profile has the name."""
    other = conn.execute(select(MappingProfile.id).where(MappingProfile.name == name)).scalar()
    return other is not None and other != profile_id


def save_profile(conn: Connection, scope: Scope, profile_id: int | None, name: str, body: str,
                 expected_version: int | None = None) -> int:
    """Create (profile_id None) or replace a profile (on the version the admin opened); its id. Admins only."""
    require(scope, "manage_profiles", "profile_not_allowed")
    profile = checked(name, body)
    audit.serialise_writes(conn)
    if _name_taken(conn, profile.name, profile_id):
        raise InputInvalidError([FieldError("name", "profile_name_taken", {})])
    values = {"name": profile.name, "kind": profile.kind, "body": body, "updated_by": scope.user_id, "updated_at": now()}
    if profile_id is None:
        new_id = conn.execute(insert(MappingProfile).values(**values, version=1)).inserted_primary_key[0]
        audit.record(conn, "profile_create", user_id=scope.user_id, username=scope.username, entity="mapping_profile",
                     entity_id=new_id, detail={"name": profile.name, "kind": profile.kind})
        return new_id
    before = conn.execute(select(MappingProfile.name, MappingProfile.body).where(equals(MappingProfile.id, profile_id))).first()
    if before is None:
        raise RefusedError("profile_missing")
    saved = conn.execute(update(MappingProfile).where(MappingProfile.id == profile_id, MappingProfile.version == expected_version)
                         .values(**values, version=MappingProfile.version + 1))
    if saved.rowcount != 1:
        raise RefusedError("profile_stale")
    audit.record(conn, "profile_update", user_id=scope.user_id, username=scope.username, entity="mapping_profile",
                 entity_id=profile_id, detail={"name": {"before": before.name, "after": profile.name},
                                               "body": {"before": before.body, "after": body}})
    return profile_id


def delete_profile(conn: Connection, scope: Scope, profile_id: int, expected_version: int) -> None:
    """Delete a profile on the version the admin opened (batches keep its name). Admins only."""
    require(scope, "manage_profiles", "profile_not_allowed")
    audit.serialise_writes(conn)
    name = conn.execute(select(MappingProfile.name).where(equals(MappingProfile.id, profile_id))).scalar()
    if name is None:
        raise RefusedError("profile_missing")
    if conn.execute(delete(MappingProfile).where(MappingProfile.id == profile_id,
                                                 MappingProfile.version == expected_version)).rowcount != 1:
        raise RefusedError("profile_stale")
    audit.record(conn, "profile_delete", user_id=scope.user_id, username=scope.username, entity="mapping_profile",
                 entity_id=profile_id, detail={"name": name})
