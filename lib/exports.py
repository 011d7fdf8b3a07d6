"""Downloads: the campaign plan (Excel, iCalendar), scorecards and result tables, the audit log, each kind's import
template, a load's problems.

Every export of data takes the user's scope first and refuses roles that may not export, whatever the page does.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from io import BytesIO
from typing import ParamSpec, TypeVar

import pandas as pd
from icalendar import Calendar, Event
from openpyxl.worksheet.worksheet import Worksheet

from lib import metrics
from lib.i18n import LABELS, label_or_code, name_or, t
from lib.ingest.fields import Field
from lib.ingest.kind import Kind
from lib.queries.channels import SCORECARD_METRICS
from lib.scope import Scope
from lib.services.errors import require

PLAN_SHEET_WIDTHS = {"A": 8, "B": 30, "C": 18}  # column widths (characters) of id, name and hashtag
OTHER_COLUMN_WIDTH = 13  # every other column
ICS_DOMAIN = "marketing-cockpit"  # the right-hand side of event UIDs, stable across exports
ICS_PRODUCT = "-//Marketing Cockpit//Campaign calendar//ZH"  # PRODID of the exported calendar
AUDIT_SUMMARY_CHARS = 120  # the audit table's one-line summary of a row's details is cut here
P = ParamSpec("P")
R = TypeVar("R")


def export_for(action: str = "export_data") -> Callable[[Callable[P, R]], Callable[..., R]]:
    """Decorator: the export takes the user's scope as its first argument and refuses roles without the permission."""
    def wrap(build: Callable[P, R]) -> Callable[..., R]:
        @functools.wraps(build)
        def checked(scope: Scope, *args: P.args, **kwargs: P.kwargs) -> R:
            require(scope, action, "refused_export")
            return build(*args, **kwargs)
        return checked
    return wrap


def _scope_label(row: pd.Series, lang: str) -> str:
    """National, or the campaign's region."""
    return name_or(row[f"region_{lang}"], "national", lang)


def plan_table(campaigns: pd.DataFrame, lines: pd.DataFrame, lang: str) -> pd.DataFrame:
    """One row per campaign with its budget lines as one column per channel, allocated sum and reserve."""
    per_channel = (lines.pivot_table(index="campaign_id", columns=f"name_{lang}", values="amount", aggfunc="sum")
                   if not lines.empty else pd.DataFrame())
    channel_order = list(dict.fromkeys(lines.sort_values("sort_order")[f"name_{lang}"])) if not lines.empty else []
    rows = []
    for _, row in campaigns.iterrows():
        allocated = float(per_channel.loc[row["id"]].fillna(0).sum()) if row["id"] in per_channel.index else 0.0
        record = {
            t("col_id", lang): int(row["id"]), t("col_name", lang): row["name"], t("col_hashtag", lang): row["hashtag"] or "",
            t("col_type", lang): t(f"type_{row['type']}", lang), t("col_objective", lang): t(f"objective_{row['objective']}", lang),
            t("col_model", lang): name_or(row[f"model_{lang}"], "all_models", lang),
            t("col_scope", lang): _scope_label(row, lang), t("col_status", lang): t(f"status_{row['status']}", lang),
            t("col_start", lang): row["start_date"], t("col_end", lang): row["end_date"], t("col_owner", lang): row["owner_name"],
            t("col_budget", lang): float(row["budget_total"]),
        }
        for channel in channel_order:
            value = per_channel.at[row["id"], channel] if row["id"] in per_channel.index else None
            record[channel] = None if pd.isna(value) else float(value)
        record[t("col_allocated", lang)] = allocated
        record[t("col_reserve", lang)] = float(row["budget_total"]) - allocated
        rows.append(record)
    return pd.DataFrame(rows)


@export_for()
def plan_workbook(campaigns: pd.DataFrame, lines: pd.DataFrame, lang: str, notes: list[tuple[str, str]]) -> bytes:
    """The plan as an .xlsx: the plan sheet (header frozen, ¥ formats) and a sheet saying what was exported."""
    table = plan_table(campaigns, lines, lang)
    buffer = BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name=t("sheet_plan", lang), index=False)
        pd.DataFrame(notes, columns=[t("col_item", lang), t("col_value", lang)]).to_excel(
            writer, sheet_name=t("sheet_about", lang), index=False)
        sheet = writer.sheets[t("sheet_plan", lang)]
        sheet.freeze_panes = "C2"
        for cells in sheet.iter_cols(min_row=1, max_row=1):
            letter = cells[0].column_letter
            sheet.column_dimensions[letter].width = PLAN_SHEET_WIDTHS.get(letter, OTHER_COLUMN_WIDTH)
        money_from = table.columns.get_loc(t("col_budget", lang)) + 1
        for row in sheet.iter_rows(min_row=2, min_col=money_from):
            for cell in row:
                cell.number_format = metrics.EXCEL_MONEY
        writer.sheets[t("sheet_about", lang)].column_dimensions["A"].width = 16
        writer.sheets[t("sheet_about", lang)].column_dimensions["B"].width = 80
        for worksheet in writer.sheets.values():
            _texts_stay_text(worksheet)
    return buffer.getvalue()


def _format_columns(worksheet: Worksheet, formats: dict[str, str]) -> None:
    """Give the body cells of the columns headed so their Excel number formats (the cells keep the raw numbers)."""
    for header in worksheet[1]:
        if header.value in formats:
            for (cell,) in worksheet.iter_rows(min_row=2, min_col=header.column, max_col=header.column):
                cell.number_format = formats[header.value]


def _texts_stay_text(worksheet: Worksheet) -> None:
    """Store text typed by users as text: openpyxl turns strings starting with '=' into live formulas."""
    for row in worksheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


@export_for()
def plan_calendar(campaigns: pd.DataFrame, lang: str, stamp: dt.datetime) -> bytes:
    """The plan as an iCalendar file: one all-day event per campaign, stable UIDs so re-imports update events."""
    calendar = Calendar()
    calendar.add("prodid", ICS_PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", t("ics_calendar_name", lang))
    for _, row in campaigns.iterrows():
        event = Event()
        event.add("uid", f"campaign-{int(row['id'])}@{ICS_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("summary", t("name_with_status", lang, name=row["name"], status=t(f"status_{row['status']}", lang)))
        event.add("dtstart", row["start_date"])
        event.add("dtend", row["end_date"] + dt.timedelta(days=1))  # all-day events end on the day after
        event.add("description", t("ics_description", lang, hashtag=row["hashtag"] or "—",
                                   type=t(f"type_{row['type']}", lang), scope=_scope_label(row, lang),
                                   budget=f"{float(row['budget_total']):,.0f}", owner=row["owner_name"]))
        event.add("categories", [t(f"type_{row['type']}", lang)])
        calendar.add_component(event)
    return calendar.to_ical()


SCORECARD_PARTS = {"": "value", "_target": "value", "_attainment": "attainment", "_vs_previous": "vs_previous",
                   "_vs_last_year": "vs_last_year"}  # per metric: value, target, attainment, Δs -> the view its cells are written as


def _scorecard_header(metric: str, part: str, lang: str) -> str:
    """A scorecard sheet's column header: the metric, and the part after it."""
    return t(f"metric_{metric}", lang) + (t(f"part{part}", lang) if part else "")


def scorecard_table(card: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The scorecard as a flat sheet: per metric its value, target, attainment and both changes, one row per channel + total."""
    columns = {f"name_{lang}": t("channel", lang)}
    for metric in SCORECARD_METRICS:
        for part in SCORECARD_PARTS:
            columns[f"{metric}{part}"] = _scorecard_header(metric, part, lang)
    return card[list(columns)].rename(columns=columns)


def _scorecard_formats(lang: str) -> dict[str, str]:
    """The scorecard sheet's Excel number format per column header (a target is written like its metric)."""
    return {_scorecard_header(metric, part, lang): metrics.excel_format(metric, view)
            for metric in SCORECARD_METRICS for part, view in SCORECARD_PARTS.items()}


@export_for()
def scorecard_workbook(card: pd.DataFrame, lang: str) -> bytes:
    """The scorecard as an .xlsx (header frozen), built when the user downloads it."""
    buffer = BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        scorecard_table(card, lang).to_excel(writer, sheet_name=t("sheet_scorecard", lang), index=False)
        sheet = writer.sheets[t("sheet_scorecard", lang)]
        sheet.freeze_panes = "B2"
        _format_columns(sheet, _scorecard_formats(lang))
        _texts_stay_text(sheet)
    return buffer.getvalue()


def template_header(field: Field, lang: str) -> str:
    """A field's header in a template: its first Chinese alias in Chinese (its name when it has none), its name in English."""
    return field.zh[0] if lang == "zh" and field.zh else field.name


def _example(field: Field) -> object:
    """A field's value in the template's example row: the field's own example, else one made from its type."""
    if field.example:
        return field.example
    return {"int": 1, "number": 1.5, "date": "2026-11-01", "datetime": "2026-11-01 10:30:00", "bool": "是",
            "phone": "13800138000", "person": "张三"}.get(field.type, "" if not field.required else field.name)


def _template_frame(kind: Kind, lang: str) -> pd.DataFrame:
    """A kind's template: every field's header in the language and one example row."""
    return pd.DataFrame([{template_header(field, lang): _example(field) for field in kind.fields}])


def _fields_frame(kind: Kind, lang: str) -> pd.DataFrame:
    """What each field of a kind holds: canonical name, Chinese headers, type, required, rule."""
    return pd.DataFrame([{t("template_field", lang): field.name, t("template_zh", lang): "、".join(field.zh),
                          t("template_type", lang): t(f"template_type_{field.type}", lang),
                          t("template_required", lang): t("template_yes" if field.required else "template_no", lang),
                          t("template_rule", lang): field.rule_zh if lang == "zh" else field.rule_en} for field in kind.fields])


def import_template_csv(kind: Kind, lang: str) -> bytes:
    """A kind's template as UTF-8 CSV with a BOM (so Excel opens the Chinese headers): the header and one example row."""
    return _template_frame(kind, lang).to_csv(index=False).encode("utf-8-sig")


def import_template_xlsx(kind: Kind, lang: str) -> bytes:
    """A kind's template as an .xlsx: the header and one example row on the first sheet (the one loaded), the fields'
    names, Chinese headers, types and rules on a second one."""
    return _workbook({kind.label_zh if lang == "zh" else kind.label_en: _template_frame(kind, lang),
                      t("template_fields_sheet", lang): _fields_frame(kind, lang)})


@export_for()
def problems_csv(table: pd.DataFrame) -> bytes:
    """A load's problems (file, row, field, reason) as UTF-8 CSV with a BOM."""
    return table.to_csv(index=False).encode("utf-8-sig")


@export_for()
def frame_workbook(frame: pd.DataFrame, sheet_name: str, lang: str) -> bytes:
    """Any result table as an .xlsx with labelled columns (metric names in the language), header frozen."""
    labels = {column: t(f"metric_{column}", lang) if f"metric_{column}" in LABELS else t(f"col_{column}", lang)
              for column in frame.columns}
    labels.update({f"name_{lang}": t("channel", lang), "period": t("col_period", lang)})
    formats = {labels[column]: metrics.excel_format(column) for column in frame.columns
               if f"metric_{column}" in LABELS and pd.api.types.is_numeric_dtype(frame[column])}
    return _workbook({sheet_name: frame.rename(columns=labels)}, formats)


@export_for()
def sheets_workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Tables already labelled for people, one sheet each (header frozen, texts stay text)."""
    return _workbook(sheets)


def audit_table(entries: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Audit rows for people: time, user, action and object in words, and a one-line summary of the details."""
    return pd.DataFrame({
        t("audit_at", lang): entries["at"], t("audit_user", lang): entries["username"].fillna(""),
        t("audit_action", lang): [label_or_code("action", code, lang) for code in entries["action"]],
        t("audit_entity", lang): [label_or_code("entity", code, lang) if isinstance(code, str) else "" for code in entries["entity"]],
        t("audit_entity_id", lang): entries["entity_id"].fillna(""),
        t("audit_detail", lang): [_summary(detail) for detail in entries["detail"]],
    })


def _summary(detail: str | None) -> str:
    """A row's details on one line, cut to the summary length."""
    text = detail if isinstance(detail, str) else ""
    return text if len(text) <= AUDIT_SUMMARY_CHARS else text[:AUDIT_SUMMARY_CHARS - 1] + "…"


@export_for("view_audit")
def audit_workbook(entries: pd.DataFrame, lang: str) -> bytes:
    """The filtered audit log as an .xlsx: one row per entry with its row number, codes and the full details (JSON)."""
    table = audit_table(entries, lang).assign(**{t("audit_detail", lang): entries["detail"].fillna("")})
    table.insert(0, t("audit_row_id", lang), entries["id"])
    table.insert(4, t("audit_action_code", lang), entries["action"])
    return _workbook({t("sheet_audit", lang): table})


def _workbook(sheets: dict[str, pd.DataFrame], formats: dict[str, str] | None = None) -> bytes:
    """Tables already labelled for people, one sheet each, header frozen, numbers in the given formats per column header;
    texts stay text (no formulas)."""
    buffer = BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            writer.sheets[name[:31]].freeze_panes = "A2"
            _format_columns(writer.sheets[name[:31]], formats or {})
            _texts_stay_text(writer.sheets[name[:31]])
    return buffer.getvalue()
