"""Member lookup on the points page: one member by number (masked data only), their ledger and expiring points; admins
can record a redemption or an adjustment there."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from lib import formatting, literal, privacy, ui
from lib.queries import members
from lib.scope import Scope
from lib.services import points
from lib.services.errors import InputInvalidError, RefusedError

LEDGER_KINDS = ("earn", "redeem", "expire", "adjust")  # ledger row kinds, labelled points_kind_<kind>


def _write(action, *args: object) -> None:
    """Run a points action for the admin in one transaction; queue its outcome."""
    try:
        with ui.engine().begin() as conn:
            action(conn, *args)
    except InputInvalidError as invalid:
        for error in invalid.errors:
            ui.flash("error", ui.tr_literal(error.key, **error.params))
    except RefusedError as refused:
        ui.flash("error", ui.tr_literal(refused.key, **refused.params))
    else:
        ui.flash("success", ui.tr("points_saved"))


MEMBER_INPUTS = ("points_ledger_page", "points_adjust", "points_reason", "points_reward")  # inputs that belong to one member


def _forget_member_inputs() -> None:
    """Another member was looked up: their ledger opens on page 1 and the admin forms start empty."""
    for key in MEMBER_INPUTS:
        st.session_state.pop(key, None)


@ui.keeps_input_on_outage
def _redeem(scope: Scope, member_id: int, day: dt.date) -> None:
    """Form callback: redeem the chosen reward."""
    _write(points.redeem, scope, member_id, st.session_state["points_reward"], day)


@ui.keeps_input_on_outage
def _adjust(scope: Scope, member_id: int, day: dt.date) -> None:
    """Form callback: add or deduct points with a reason."""
    _write(points.adjust, scope, member_id, int(st.session_state["points_adjust"]), st.session_state["points_reason"], day)


def _admin_forms(scope: Scope, member_id: int, rewards: pd.DataFrame, today: dt.date) -> None:
    """Redeem a reward or adjust points for the member (admins)."""
    lang = ui.lang()
    left, right = st.columns(2)
    with left.form("points_redeem_form"):
        names = {int(row.id): f"{row[f'name_{lang}']} · {row.points_cost:,}" for _, row in rewards[rewards["active"].astype(bool)].iterrows()}
        st.selectbox(ui.tr("points_reward"), list(names), format_func=names.get, key="points_reward")
        st.form_submit_button(ui.tr("points_do_redeem"), on_click=_redeem, args=(scope, member_id, today))
    with right.form("points_adjust_form"):
        st.number_input(ui.tr("points_adjust_amount"), value=0, step=10, key="points_adjust")
        st.text_input(ui.tr("points_adjust_reason"), key="points_reason", max_chars=points.REASON_MAX)
        st.form_submit_button(ui.tr("points_do_adjust"), on_click=_adjust, args=(scope, member_id, today))
    st.caption(ui.tr("points_write_rule"))


def _ledger_table(rows: pd.DataFrame) -> pd.DataFrame:
    """A member's ledger as users read it."""
    lang = ui.lang()
    kinds = ui.labelled("points_kind", LEDGER_KINDS)
    what = rows[f"rule_{lang}"].fillna(rows[f"reward_{lang}"]).fillna("")
    return pd.DataFrame({ui.tr("points_col_day"): rows["occurred_on"], ui.tr("points_col_kind"): rows["kind"].map(kinds),
                         ui.tr("points_col_points"): rows["points"], ui.tr("points_col_what"): what,
                         ui.tr("points_col_expires"): rows["expires_on"], ui.tr("points_col_left"): rows["lot_remaining"]})


def show(scope: Scope, today: dt.date, rewards: pd.DataFrame) -> None:
    """Search by member number; the member's card, expiring points and ledger."""
    lang = ui.lang()
    number = st.text_input(ui.tr("points_lookup"), key="points_member_no", placeholder="M00000001 / 138 1234 5678", max_chars=20,
                           on_change=_forget_member_inputs)
    if not number.strip():
        st.caption(ui.tr("points_lookup_hint"))
        return
    phone_hash = privacy.lookup_hash(number)  # a phone number is looked up by its hash: the number itself is never cached
    member = (ui.load(members.find_member, scope, phone_hash=phone_hash) if phone_hash else ui.load(members.find_member, scope, number))
    if member is None:
        shown = privacy.mask_phone(number) if phone_hash else number.strip()
        st.warning(ui.tr_literal("points_member_not_found", number=shown))
        return
    st.subheader(" · ".join(literal.markdown(member[field]) for field in ("member_no", "name_masked", "phone_masked")))
    tiles = st.columns(4)
    tiles[0].metric(ui.tr("points_balance"), f"{member['points_balance']:,}", border=True)
    tiles[1].metric(ui.tr("points_tier"), literal.markdown(member[f"tier_{lang}"]), border=True)
    tiles[2].metric(ui.tr("points_growth"), f"{member['growth_value']:,}", border=True)
    tiles[3].metric(ui.tr("points_owner") if member["is_owner"] else ui.tr("points_fan"), str(member["joined_on"]), border=True,
                    help=ui.tr("points_joined_help", last=member["last_active_on"] or formatting.NO_VALUE))
    expiring = ui.load(members.member_expiring, scope, int(member["id"]), today)
    st.markdown(f"**{ui.tr('points_member_expiring')}**")
    st.dataframe(expiring.rename(columns={"expires_on": ui.tr("points_col_expires"), "points": ui.tr("points_col_points")}),
                 hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    page = int(st.number_input(ui.tr("list_page"), min_value=1, value=1, step=1, key="points_ledger_page")) - 1
    st.markdown(f"**{ui.tr('points_member_ledger')}**")
    st.dataframe(_ledger_table(ui.load(members.member_ledger, scope, int(member["id"]), page)), hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    if scope.can("manage_points"):
        _admin_forms(scope, int(member["id"]), rewards, today)
