"""The README's reference of every kind's fields, written from the kinds themselves (a test keeps the README equal):

    python -m lib.ingest.docs        print the Markdown
"""
from __future__ import annotations

from lib.ingest.fields import Field
from lib.ingest.kind import Kind
from lib.ingest.kinds import KINDS

TYPE_NAMES = {  # field type → how the README names it
    "text": "text", "code": "code", "int": "whole number", "number": "number", "date": "date", "datetime": "date-time",
    "bool": "yes/no", "phone": "mobile number (hashed + masked at the door)", "person": "name (hashed + masked at the door)",
}
BEGIN, END = "<!-- kinds:begin -->", "<!-- kinds:end -->"  # the README's generated part lies between these


def _row(field: Field) -> str:
    """One field as a table row."""
    rule = " · ".join(dict.fromkeys(part for part in (field.rule_en, field.rule_zh) if part))
    return (f"| `{field.name}` | {TYPE_NAMES[field.type]} | {'yes' if field.required else ''} | "
            f"{'、'.join(field.zh)} | {rule} |")


def kind_section(kind: Kind) -> str:
    """One kind's fields as Markdown."""
    lines = [f"#### `{kind.name}` · {kind.label_zh} {kind.label_en}", "",
             f"Natural key: {' + '.join(f'`{name}`' for name in kind.key)}."]
    if kind.one_of:
        lines.append(f"A file needs one of: {' or '.join(' + '.join(f'`{name}`' for name in group) for group in kind.one_of)}.")
    lines += ["", "| field | type | required | Chinese headers | rule |", "|---|---|---|---|---|",
              *[_row(field) for field in kind.fields]]
    return "\n".join(lines)


def reference() -> str:
    """Every kind's section, between the markers."""
    return "\n\n".join([BEGIN, *[kind_section(kind) for kind in KINDS.values()], END])


if __name__ == "__main__":
    print(reference())
