"""Threshold alert rules on the digests and alerts page: the list with each rule's state, and one form to create a rule or
change or delete the chosen one (managers and admins; checked and audited by lib.services.notifications)."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from lib import formatting, ui
from lib.metrics import RATE_METRICS, format_value
from lib.notify.alerts import ALERT_METRICS, COMPARE, Recipients
from lib.notify.transports import robots
from lib.queries import calendar
from lib.queries import notifications as listed
from lib.scope import Scope
from lib.services import notifications
from lib.services.errors import InputInvalidError, RefusedError
from lib.services.notifications import MAX_WINDOW_DAYS, RuleInput

NEW_RULE = 0  # the choice "a new rule" in the rule picker
PERCENT = 100  # a rate's threshold is typed as a percentage, stored as a fraction
FIELD_LABELS = {"name": "alert_name", "metric": "alert_metric", "comparison": "alert_comparison", "threshold": "alert_threshold",
                "window_days": "alert_window", "language": "digest_language", "channel_id": "alert_channel", "region_id": "alert_region",
                "model_id": "alert_model", "recipients": "alert_users"}  # refused field -> its label key


def _run(action: Callable[..., object], *args: object, done_key: str) -> bool:
    """Run a rule save or delete in one transaction and queue its outcome (each broken rule named); whether it was done."""
    try:
        with ui.engine().begin() as conn:
            action(conn, *args)
    except InputInvalidError as invalid:
        for error in invalid.errors:
            st.error(ui.tr("field_error", field=ui.tr(FIELD_LABELS.get(error.field, "alert_name")),
                           message=ui.tr_literal(error.key, **error.params)))
        return False
    except RefusedError as refused:
        st.error(ui.tr_literal(refused.key, **refused.params))
        return False
    ui.flash("success", ui.tr(done_key))
    return True


def rule_table(rules: pd.DataFrame, lang: str) -> None:
    """The rules as a table: name (as typed), condition, window, narrowing, state and last value."""
    shown = pd.DataFrame({
        ui.tr("alert_name"): rules["name"],
        ui.tr("alert_metric"): [ui.tr(f"metric_{metric}") for metric in rules["metric"]],
        ui.tr("alert_comparison"): [f"{ui.tr(f'comparison_{sign}')} {format_value(metric, value, lang)}"
                                    for sign, metric, value in zip(rules["comparison"], rules["metric"], rules["threshold"])],
        ui.tr("alert_window"): rules["window_days"],
        ui.tr("alert_channel"): rules[f"channel_{lang}"].fillna(ui.tr("alert_any")),
        ui.tr("alert_region"): rules[f"region_{lang}"].fillna(ui.tr("alert_any")),
        ui.tr("alert_model"): rules[f"model_{lang}"].fillna(ui.tr("alert_any")),
        ui.tr("alert_active"): rules["active"].astype(bool),
        ui.tr("alert_state"): [ui.tr("alert_state_breached" if breached else "alert_state_ok") for breached in rules["breached"]],
        ui.tr("alert_last_value"): [formatting.NO_VALUE if formatting.is_missing(value) else format_value(metric, value, lang)
                                    for metric, value in zip(rules["metric"], rules["last_value"])],
    })
    st.dataframe(shown, hide_index=True, width="stretch")


def _choice(label_key: str, options: list[dict], current: object, lang: str, key: str) -> int | None:
    """A select box of named rows with "all" first; the chosen id or None."""
    names = {None: ui.tr("alert_any"), **{row["id"]: row[f"name_{lang}"] for row in options}}
    ids = list(names)
    return st.selectbox(ui.tr(label_key), ids, index=ids.index(current) if current in ids else 0, format_func=names.get, key=key)


def rule_form(scope: Scope, rules: pd.DataFrame) -> None:
    """Create a rule or change or delete the chosen one, in one form."""
    lang = ui.lang()
    names = {NEW_RULE: ui.tr("alert_new"), **{int(row.id): row.name for row in rules.itertuples()}}
    rule_id = st.selectbox(ui.tr("alert_edit"), list(names), format_func=names.get, key="alert_rule_pick")
    row = rules.set_index("id").loc[rule_id].to_dict() if rule_id != NEW_RULE else {}
    options = ui.load(calendar.filter_options, scope)
    people = ui.fresh(listed.recipient_choices, scope)
    people_names = {int(person.id): f"{person.display_name} ({person.username})" for person in people.itertuples()}
    robot_names = sorted(robots())
    with st.form(f"alert_rule_form_{rule_id}"):
        left, right = st.columns(2)
        name = left.text_input(ui.tr("alert_name"), row.get("name", ""), max_chars=notifications.NAME_LENGTH)
        metric = right.selectbox(ui.tr("alert_metric"), ALERT_METRICS, index=ALERT_METRICS.index(row.get("metric", "leads")),
                                 format_func=lambda code: ui.tr(f"metric_{code}"))
        comparison = left.selectbox(ui.tr("alert_comparison"), list(COMPARE), index=list(COMPARE).index(row.get("comparison", "lt")),
                                    format_func=lambda code: ui.tr(f"comparison_{code}"))
        stored = row.get("threshold", 0.0)
        typed = right.number_input(ui.tr("alert_threshold"), value=float(stored * PERCENT if row.get("metric") in RATE_METRICS else stored),
                                   help=ui.tr("alert_threshold_help"))
        window = left.number_input(ui.tr("alert_window"), min_value=1, max_value=MAX_WINDOW_DAYS, value=int(row.get("window_days", 3)),
                                   step=1, help=ui.tr("alert_window_help"))
        language = right.selectbox(ui.tr("digest_language"), ["zh", "en"], index=["zh", "en"].index(row.get("language", lang)),
                                   format_func={"zh": "中文", "en": "English"}.get)
        channel = _choice("alert_channel", options["channels"], row.get("channel_id"), lang, f"alert_channel_{rule_id}")
        region = _choice("alert_region", options["regions"], row.get("region_id"), lang, f"alert_region_{rule_id}")
        model = _choice("alert_model", options["models"], row.get("model_id"), lang, f"alert_model_{rule_id}")
        users = st.multiselect(ui.tr("alert_users"), list(people_names), default=[user for user in row.get("users", ()) if user in people_names],
                               format_func=people_names.get)
        chosen_robots = st.multiselect(ui.tr("alert_robots"), robot_names,
                                       default=[name for name in row.get("robots", ()) if name in robot_names])
        active = st.checkbox(ui.tr("alert_active"), bool(row.get("active", True)))
        save = st.form_submit_button(ui.tr("alert_save"), type="primary")
        remove = st.form_submit_button(ui.tr("alert_delete"), disabled=rule_id == NEW_RULE)
    rule = RuleInput(name=name, metric=metric, comparison=comparison, threshold=typed / PERCENT if metric in RATE_METRICS else typed,
                     window_days=int(window), language=language, recipients=Recipients(tuple(users), tuple(chosen_robots)),
                     channel_id=channel, region_id=region, model_id=model, active=active)
    if save and _run(notifications.save_rule, scope, rule, None if rule_id == NEW_RULE else rule_id,
                     None if rule_id == NEW_RULE else int(row["version"]), done_key="alert_saved"):
        st.rerun()
    if remove and _run(notifications.delete_rule, scope, rule_id, int(row["version"]), done_key="alert_deleted"):
        st.rerun()


def section(scope: Scope) -> None:
    """The alert rules: their table and the form (roles that set rules)."""
    st.header(ui.tr("alert_rules"))
    rules = ui.fresh(listed.alert_rules, scope)
    if rules.empty:
        st.caption(ui.tr("alert_rules_none"))
    else:
        rule_table(rules, ui.lang())
    rule_form(scope, rules)
