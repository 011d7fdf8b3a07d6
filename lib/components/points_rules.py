"""The programme on the points page: earn rules, rewards and tiers as configured; admins edit them (checked, audited)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import formatting, ui
from lib.scope import Scope
from lib.services import catalogue
from lib.services.catalogue import RewardInput, RuleInput, TierInput
from lib.services.errors import InputInvalidError, RefusedError

TIERS_BASE_KEY = "points_tiers_base"  # session-state key: the tier table the editor started from
FIELD_LABELS = {"name_zh": "points_name_zh", "name_en": "points_name_en", "points": "points_rule_points", "per": "points_rule_per",
                "daily_cap": "points_rule_cap", "category": "points_category", "points_cost": "points_cost", "cash_value": "points_cash",
                "min_growth": "tiers_threshold", "benefits_zh": "tiers_benefits_zh", "benefits_en": "tiers_benefits_en"}  # field -> label key


def _field_label(field: str) -> str:
    """A refused field's label (tier fields come as '<tier id>.<field>')."""
    name = field.rsplit(".", 1)[-1]
    return ui.tr(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def _save(action, *args: object) -> bool:
    """Run a catalogue save in one transaction and queue its outcome (each broken rule named); False when the input was
    invalid (the user's input stays), True when it was saved or refused as stale (the editor reloads)."""
    try:
        with ui.engine().begin() as conn:
            changed = action(conn, *args)
    except InputInvalidError as invalid:
        for error in invalid.errors:
            ui.flash("error", ui.tr("field_error", field=_field_label(error.field), message=ui.tr_literal(error.key, **error.params)))
        return False
    except RefusedError as refused:
        ui.flash("error", ui.tr_literal(refused.key, **refused.params))
    else:
        ui.flash("success", ui.tr("points_saved") if changed else ui.tr("geo_nothing_changed"))
    return True


def _edit_rule(scope: Scope, rules: pd.DataFrame) -> None:
    """Pick a rule and edit it in a form (saved on the version shown)."""
    lang = ui.lang()
    names = {int(row.id): row[f"name_{lang}"] for _, row in rules.iterrows()}
    rule_id = st.selectbox(ui.tr("points_edit_rule"), list(names), format_func=names.get, key="points_rule_pick")
    row = rules.set_index("id").loc[rule_id]
    with st.form(f"points_rule_form_{rule_id}"):
        left, right = st.columns(2)
        name_zh = left.text_input(ui.tr("points_name_zh"), row["name_zh"])
        name_en = right.text_input(ui.tr("points_name_en"), row["name_en"])
        amount = left.number_input(ui.tr("points_rule_points"), value=int(row["points"]), step=1)
        per = right.selectbox(ui.tr("points_rule_per"), catalogue.RULE_PER, index=catalogue.RULE_PER.index(row["per"]),
                              format_func=ui.labelled("points_per", catalogue.RULE_PER).get)
        cap = left.number_input(ui.tr("points_rule_cap"), value=None if pd.isna(row["daily_cap"]) else int(row["daily_cap"]), step=1)
        active = right.checkbox(ui.tr("points_active"), bool(row["active"]))
        if st.form_submit_button(ui.tr("points_save_rule")):
            _save(catalogue.save_rule, scope, int(rule_id), int(row["version"]),
                  RuleInput(name_zh, name_en, amount, per, None if cap is None else cap, active))
            st.rerun()


def _edit_reward(scope: Scope, rewards: pd.DataFrame) -> None:
    """Pick a reward and edit it in a form (saved on the version shown)."""
    lang = ui.lang()
    names = {int(row.id): row[f"name_{lang}"] for _, row in rewards.iterrows()}
    reward_id = st.selectbox(ui.tr("points_edit_reward"), list(names), format_func=names.get, key="points_reward_pick")
    row = rewards.set_index("id").loc[reward_id]
    with st.form(f"points_reward_form_{reward_id}"):
        left, right = st.columns(2)
        name_zh = left.text_input(ui.tr("points_name_zh"), row["name_zh"])
        name_en = right.text_input(ui.tr("points_name_en"), row["name_en"])
        category = left.text_input(ui.tr("points_category"), row["category"])
        cost = right.number_input(ui.tr("points_cost"), value=int(row["points_cost"]), step=100)
        cash = left.number_input(ui.tr("points_cash"), value=float(row["cash_value"]), step=1.0, format="%.2f")
        active = right.checkbox(ui.tr("points_active"), bool(row["active"]))
        if st.form_submit_button(ui.tr("points_save_reward")):
            _save(catalogue.save_reward, scope, int(reward_id), int(row["version"]), RewardInput(name_zh, name_en, category, cost, cash, active))
            st.rerun()


def _tier_inputs(frame: pd.DataFrame) -> list[TierInput]:
    """Tier rows (as stored or edited) as service input."""
    return [TierInput(int(row.id), row.name_zh or "", row.name_en or "", row.min_growth if pd.isna(row.min_growth) else int(row.min_growth),
                      row.benefits_zh or "", row.benefits_en or "") for row in frame.itertuples()]


def _edit_tiers(scope: Scope, tiers: pd.DataFrame) -> None:
    """The tier table in an editor; saving re-tiers every member."""
    base = st.session_state.setdefault(TIERS_BASE_KEY, tiers)
    edited = st.data_editor(base[["id", "name_zh", "name_en", "min_growth", "benefits_zh", "benefits_en"]], hide_index=True, width="stretch",
                            disabled=["id"], num_rows="fixed", key="points_tier_editor",
                            column_config={"id": None, "name_zh": ui.tr("points_name_zh"), "name_en": ui.tr("points_name_en"),
                                           "min_growth": st.column_config.NumberColumn(ui.tr("tiers_threshold"), min_value=0, step=1),
                                           "benefits_zh": ui.tr("tiers_benefits_zh"), "benefits_en": ui.tr("tiers_benefits_en")}, placeholder=formatting.NO_VALUE)
    if st.button(ui.tr("tiers_save"), key="points_tiers_save"):
        if _save(catalogue.save_tiers, scope, _tier_inputs(base), _tier_inputs(edited)):  # saved or stale: start from the stored table
            for key in (TIERS_BASE_KEY, "points_tier_editor"):
                st.session_state.pop(key, None)
        st.rerun()
    st.caption(ui.tr("tiers_rule"))


def show(scope: Scope, programme: dict[str, pd.DataFrame]) -> None:
    """Rules, rewards and tiers; editors for admins."""
    lang = ui.lang()
    rules, rewards = programme["rules"], programme["rewards"]
    st.markdown(ui.bold(ui.tr("points_rules")))
    st.dataframe(pd.DataFrame({ui.tr("points_name"): rules[f"name_{lang}"], ui.tr("points_rule_points"): rules["points"],
                               ui.tr("points_rule_per"): rules["per"].map(ui.labelled("points_per", catalogue.RULE_PER)),
                               ui.tr("points_rule_cap"): rules["daily_cap"], ui.tr("points_active"): rules["active"].astype(bool)}),
                 hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    st.markdown(ui.bold(ui.tr("points_rewards")))
    st.dataframe(pd.DataFrame({ui.tr("points_name"): rewards[f"name_{lang}"], ui.tr("points_category"): rewards["category"],
                               ui.tr("points_cost"): rewards["points_cost"], ui.tr("points_cash"): rewards["cash_value"].astype(float),
                               ui.tr("points_active"): rewards["active"].astype(bool)}),
                 hide_index=True, width="stretch", column_config={ui.tr("points_cash"): st.column_config.NumberColumn(format="¥%.2f")}, placeholder=formatting.NO_VALUE)
    if scope.can("manage_points"):
        with st.expander(ui.tr("points_edit_programme")):
            _edit_rule(scope, rules)
            _edit_reward(scope, rewards)
            st.markdown(ui.bold(ui.tr("tiers_edit")))
            _edit_tiers(scope, programme["tiers"])
