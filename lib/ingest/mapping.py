"""The map step: a file's columns onto a kind's canonical fields (by a profile, else by the canonical names and their
documented Chinese aliases), its values translated, its constants filled in, every cell typed; phone numbers and names
leave this step only as hashes and masked forms."""
from __future__ import annotations

import pandas as pd

from lib.ingest.checks import Problems
from lib.ingest.fields import parse, text
from lib.ingest.kind import Kind
from lib.ingest.limits import FileRefusedError
from lib.ingest.profile import Profile
from lib.ingest.read import Table, listed


def aliases(kind: Kind) -> dict[str, str]:
    """Headers accepted without a profile (lower case) → canonical field: the field's name and its Chinese aliases."""
    return {alias.lower(): field.name for field in kind.fields for alias in (field.name, *field.zh)}


def header_fields(kind: Kind, header: list[str], profile: Profile | None) -> dict[int, str]:
    """Column position → canonical field: the profile's headers first, the canonical names and aliases for the rest. A
    profile header missing from the file, a field given twice, or a required field missing is refused."""
    positions = {name.lower(): index for index, name in enumerate(header)}
    mapped = dict(profile.columns) if profile else {}
    absent = [written for written in mapped.values() if written.lower() not in positions]
    if absent:
        raise FileRefusedError("ingest_profile_headers_absent", names=listed(absent))
    fields = {positions[written.lower()]: name for name, written in mapped.items()}
    fallback = aliases(kind)
    for index, name in enumerate(header):
        field_name = fallback.get(name.lower())
        if index not in fields and field_name and field_name not in mapped:
            if field_name in fields.values():
                raise FileRefusedError("import_repeated_columns", columns=field_name)
            fields[index] = field_name
    check_present(kind, set(fields.values()) | set(profile.constants if profile else ()))
    return fields


def check_present(kind: Kind, present: set[str]) -> None:
    """Refuse a file without a required field, or without any whole group of alternative fields."""
    missing = [field.name for field in kind.fields if field.required and field.name not in present]
    if missing:
        raise FileRefusedError("import_missing_columns", columns="、".join(missing))
    if kind.one_of and not any(set(group) <= present for group in kind.one_of):
        raise FileRefusedError("ingest_missing_one_of", groups=" / ".join("+".join(group) for group in kind.one_of))


def cells(table: Table, fields: dict[int, str], first_label: int) -> tuple[pd.DataFrame, pd.Series]:
    """The mapped columns of the body rows (blank rows dropped), labelled from `first_label` on, and each label's row number
    in the file."""
    positions = sorted(fields)
    numbers, rows = [], []
    for number, row_cells in table.rows:
        picked = [row_cells[index] for index in positions]
        if any(cell is not None and str(cell).strip() for cell in picked):
            numbers.append(number)
            rows.append(picked)
    labels = pd.RangeIndex(first_label, first_label + len(rows))
    frame = pd.DataFrame(rows, index=labels, columns=[fields[index] for index in positions], dtype=object)
    return frame, pd.Series(numbers, index=labels, dtype=int)


def typed(kind: Kind, frame: pd.DataFrame, profile: Profile | None, problems: Problems) -> pd.DataFrame:
    """Every field of the kind typed (constants and translations applied; absent fields as missing values): one column per
    field, two (…_hash, …_masked) for phone and person fields."""
    columns = []
    for field in kind.fields:
        if field.name in frame:
            written = text(frame[field.name])
        else:
            constant = profile.constants.get(field.name, "") if profile else ""
            written = pd.Series(constant, index=frame.index, dtype=object)
        translations = profile.values.get(field.name) if profile else None
        if translations:
            written = written.map(lambda cell, table=translations: table.get(cell, cell))
        time_format = profile.formats.get(field.name) if profile else None
        columns.append(parse(field, written, problems, time_format))
    return pd.concat(columns, axis=1) if columns else pd.DataFrame(index=frame.index)

