"""Member lookup at the top of the points page: one member by number, the first digits of a number, or a full mobile number
(matched by its hash only: phones are stored hashed and masked, so no partial phone match); masked data only, and "another
region's member" told apart from "no such member" without a word about them. Admins can record a redemption or an
adjustment there, each confirmed with the member, the points and their ¥ value before anything is written."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from lib import formatting, literal, privacy, ui
from lib.queries import members
from lib.scope import Scope
from lib.services import points

LEDGER_KINDS = ("earn", "redeem", "expire", "adjust")  # ledger row kinds, labelled points_kind_<kind>
PENDING_KEY = "points_pending"  # the redemption or adjustment waiting for the admin's confirmation
MEMBER_INPUTS = ("points_ledger_page", "points_adjust", "points_reason", "points_reward", PENDING_KEY)  # one member's inputs
MATCH_KEY = "points_match"  # the member picked among those a number's first characters find


def _forget_member_inputs(*also: str) -> None:
    """Another member was looked up: their ledger opens on page 1, the admin forms start empty, nothing waits to be confirmed
    (and the inputs `also` named start empty)."""
    for key in (*MEMBER_INPUTS, *also):
        st.session_state.pop(key, None)


def _ask_redeem(member: dict, rewards: pd.DataFrame) -> None:
    """Form callback: hold the chosen redemption until the admin confirms it."""
    reward = rewards.set_index("id").loc[st.session_state["points_reward"]]
    st.session_state[PENDING_KEY] = {"kind": "redeem", "member_id": int(member["id"]), "reward_id": int(reward.name),
                                     "points": -int(reward["points_cost"]), "cny": float(reward["cash_value"]),
                                     "what": reward[f"name_{ui.lang()}"]}


def _ask_adjust(member: dict, point_value_cny: float) -> None:
    """Form callback: hold the adjustment until the admin confirms it."""
    amount = int(st.session_state["points_adjust"] or 0)
    st.session_state[PENDING_KEY] = {"kind": "adjust", "member_id": int(member["id"]), "points": amount,
                                     "cny": amount * point_value_cny, "what": st.session_state["points_reason"]}


@ui.keeps_input_on_outage
def _confirmed(scope: Scope, day: dt.date) -> None:
    """Button callback: write the held redemption or adjustment."""
    pending = st.session_state.pop(PENDING_KEY)
    if pending["kind"] == "redeem":
        ui.write(points.redeem, scope, pending["member_id"], pending["reward_id"], day, done="points_saved")
    else:
        ui.write(points.adjust, scope, pending["member_id"], pending["points"], pending["what"], day, done="points_saved")


def _confirmation(scope: Scope, member: dict, today: dt.date) -> None:
    """The held action with the member, the points and their ¥ value, and buttons to confirm or drop it."""
    pending = st.session_state.get(PENDING_KEY)
    if not pending or pending["member_id"] != int(member["id"]):
        return
    with st.container(border=True):
        st.warning(ui.tr_literal(f"points_confirm_{pending['kind']}", member=f"{member['member_no']} · {member['name_masked']}",
                                 points=f"{pending['points']:+,}", cny=f"¥{abs(pending['cny']):,.2f}", what=pending["what"]),
                   icon=":material/help:")
        confirm, cancel = st.columns(2)
        confirm.button(ui.tr("points_confirm"), type="primary", on_click=_confirmed, args=(scope, today), key="points_confirm")
        cancel.button(ui.tr("points_cancel"), on_click=st.session_state.pop, args=(PENDING_KEY, None), key="points_cancel")


def _admin_forms(member: dict, rewards: pd.DataFrame, point_value_cny: float) -> None:
    """Redeem a reward or adjust points for the member (admins): each asks for confirmation first."""
    lang = ui.lang()
    left, right = st.columns(2)
    with left.form("points_redeem_form"):
        names = {int(row.id): f"{row[f'name_{lang}']} · {row.points_cost:,}" for _, row in rewards[rewards["active"].astype(bool)].iterrows()}
        st.selectbox(ui.tr("points_reward"), list(names), format_func=names.get, key="points_reward")
        st.form_submit_button(ui.tr("points_do_redeem"), on_click=_ask_redeem, args=(member, rewards))
    with right.form("points_adjust_form"):
        st.number_input(ui.tr("points_adjust_amount"), value=0, step=10, key="points_adjust")
        st.text_input(ui.tr("points_adjust_reason"), key="points_reason", max_chars=points.REASON_MAX)
        st.form_submit_button(ui.tr("points_do_adjust"), on_click=_ask_adjust, args=(member, point_value_cny))
    st.caption(ui.tr("points_write_rule"))


def _ledger_table(rows: pd.DataFrame) -> pd.DataFrame:
    """A member's ledger as users read it."""
    lang = ui.lang()
    kinds = ui.labelled("points_kind", LEDGER_KINDS)
    what = rows[f"rule_{lang}"].fillna(rows[f"reward_{lang}"]).fillna("")
    return pd.DataFrame({ui.tr("points_col_day"): rows["occurred_on"], ui.tr("points_col_kind"): rows["kind"].map(kinds),
                         ui.tr("points_col_points"): rows["points"], ui.tr("points_col_what"): what,
                         ui.tr("points_col_expires"): rows["expires_on"], ui.tr("points_col_left"): rows["lot_remaining"]})


def _not_found(scope: Scope, shown: str, **match: str) -> None:
    """Say the member is another region's (nothing more about them) or that there is no such member."""
    elsewhere = ui.load(members.member_elsewhere, scope, **match)
    st.warning(ui.tr_literal("points_member_elsewhere" if elsewhere else "points_member_not_found", number=shown))


def _picked_number(scope: Scope, text: str) -> str | None:
    """The member number the typed text stands for: itself, the one member it starts, or the one picked among several."""
    matches = ui.load(members.members_by_prefix, scope, text)
    numbers, typed = list(matches["member_no"]), text.strip().upper()
    if typed in numbers or len(numbers) == 1:
        return typed if typed in numbers else numbers[0]
    if not numbers:
        _not_found(scope, text.strip(), member_no=text)
        return None
    shown = numbers[:members.LOOKUP_MATCHES]
    labels = {row.member_no: f"{row.member_no} · {row.name_masked} · {row.phone_masked}" for row in matches.itertuples()}
    picked = st.selectbox(ui.tr("points_lookup_pick", count=f"{len(shown)}{'+' if len(numbers) > len(shown) else ''}"), shown,
                          index=None, format_func=labels.get, key=MATCH_KEY, placeholder=ui.tr("points_lookup_pick_hint"),
                          on_change=_forget_member_inputs)
    if len(numbers) > len(shown):
        st.caption(ui.tr("points_lookup_more", count=len(shown)))
    return picked


def _found(scope: Scope, text: str) -> dict | None:
    """The member the text finds in the scope (a full mobile number by its hash, else a member number or its first characters);
    None, with a word on screen, when it finds none."""
    phone_hash = privacy.lookup_hash(text)  # a phone number is looked up by its hash: the number itself is never cached
    if phone_hash:
        member = ui.load(members.find_member, scope, phone_hash=phone_hash)
        if member is None:
            _not_found(scope, privacy.mask_phone(text), phone_hash=phone_hash)
        return member
    number = _picked_number(scope, text)
    return None if number is None else ui.load(members.find_member, scope, number)


def _card(scope: Scope, member: dict, today: dt.date, rewards: pd.DataFrame, point_value_cny: float) -> None:
    """The member's tiles, expiring points and ledger; the admin's forms and the confirmation of a held action."""
    lang = ui.lang()
    st.header(" · ".join(literal.markdown(member[field]) for field in ("member_no", "name_masked", "phone_masked")))
    tiles = st.columns(4)
    tiles[0].metric(ui.tr("points_balance"), f"{member['points_balance']:,}", border=True)
    tiles[1].metric(ui.tr("points_tier"), literal.markdown(member[f"tier_{lang}"]), border=True)
    tiles[2].metric(ui.tr("points_growth"), f"{member['growth_value']:,}", border=True)
    tiles[3].metric(ui.tr("points_owner") if member["is_owner"] else ui.tr("points_fan"), str(member["joined_on"]), border=True,
                    help=ui.tr("points_joined_help", last=member["last_active_on"] or formatting.NO_VALUE))
    if scope.can("manage_points"):
        _confirmation(scope, member, today)
        _admin_forms(member, rewards, point_value_cny)
    expiring = ui.load(members.member_expiring, scope, int(member["id"]), today)
    st.markdown(ui.bold(ui.tr("points_member_expiring")))
    st.dataframe(expiring.rename(columns={"expires_on": ui.tr("points_col_expires"), "points": ui.tr("points_col_points")}),
                 hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    page = int(st.number_input(ui.tr("list_page"), min_value=1, value=1, step=1, key="points_ledger_page")) - 1
    st.markdown(ui.bold(ui.tr("points_member_ledger")))
    st.dataframe(_ledger_table(ui.load(members.member_ledger, scope, int(member["id"]), page)), hide_index=True, width="stretch",
                 placeholder=formatting.NO_VALUE)


def show(scope: Scope, today: dt.date, rewards: pd.DataFrame, point_value_cny: float) -> None:
    """The search box; the member it finds, with their expiring points and ledger."""
    number = st.text_input(ui.tr("points_lookup"), key="points_member_no", placeholder="M0000012 / 138 1234 5678", max_chars=20,
                           on_change=_forget_member_inputs, args=(MATCH_KEY,))
    if not number.strip():
        st.caption(ui.tr("points_lookup_hint"))
        return
    member = _found(scope, number)
    if member is not None:
        _card(scope, member, today, rewards, point_value_cny)
