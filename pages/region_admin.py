"""Regions and dealers (区域与经销商, admins only): which region each province belongs to; dealers' grade, status, coordinates."""
import streamlit as st

from lib import formatting, ui
from lib.models import DEALER_GRADES, DOUYIN_TIERS
from lib.queries import calendar, dealers
from lib.services import geography
from lib.services.errors import FieldError, InputInvalidError, RefusedError
from lib.services.geography import DealerInput

ERRORS_KEY = "geo_dealer_errors"  # session-state key: (dealer id, field errors) of the last refused dealer save
FORM_FIELDS = ("grade", "active", "douyin", "lat", "lon")  # the dealer form's widgets, keyed geo_<field>_<dealer id>

user = ui.page_user(__file__)
scope, lang = user.scope, ui.lang()
st.title(ui.tr("geo_title"))
ui.show_flash()
st.caption(ui.tr("geo_caption"))


def refused_message(error: RefusedError) -> None:
    """Queue the message of a refused save."""
    ui.flash("error", ui.tr_literal(error.key, **error.params))


@ui.keeps_input_on_outage
def move_province(adcode: int, seen_region_id: int) -> None:
    """Form callback: move the province to the chosen region, based on the region the admin saw."""
    try:
        with ui.engine().begin() as conn:
            moved = geography.move_province(conn, scope, adcode, st.session_state[f"geo_target_region_{adcode}"], seen_region_id)
    except RefusedError as refused:
        refused_message(refused)
    except InputInvalidError as invalid:
        for error in invalid.errors:
            ui.flash("error", ui.tr_literal(error.key, **error.params))
    else:
        ui.flash("success", ui.tr("geo_moved", **{kind: f"{count:,}" for kind, count in moved.items()}) if moved
                 else ui.tr("geo_nothing_changed"))


def seen_version_key(dealer_id: int) -> str:
    """Session-state key of the dealer version the form was filled from."""
    return f"geo_seen_version_{dealer_id}"


@ui.keeps_input_on_outage
def save_dealer(dealer_id: int) -> None:
    """Form callback: save the dealer's fields on the version the form was filled from (a newer one is refused)."""
    state = st.session_state
    edited = DealerInput(*(state[f"geo_{field}_{dealer_id}"] for field in FORM_FIELDS))
    state[ERRORS_KEY] = (dealer_id, [])
    try:
        with ui.engine().begin() as conn:
            changed = geography.update_dealer(conn, scope, dealer_id, state[seen_version_key(dealer_id)], edited)
    except RefusedError as refused:
        refused_message(refused)
    except InputInvalidError as invalid:
        state[ERRORS_KEY] = (dealer_id, invalid.errors)
    else:
        forget_edits(dealer_id)  # the form refills from the saved row and its new version
        ui.flash("success", ui.tr("geo_dealer_saved") if changed else ui.tr("geo_nothing_changed"))


def forget_edits(dealer_id: int) -> None:
    """Drop the form's input and the version it was filled from, so it shows the dealer as stored now."""
    for key in [*(f"geo_{field}_{dealer_id}" for field in FORM_FIELDS), seen_version_key(dealer_id)]:
        st.session_state.pop(key, None)
    st.session_state[ERRORS_KEY] = (dealer_id, [])


def show_errors(errors: list[FieldError], field: str) -> None:
    """The messages of one field's broken rules, under it."""
    for error in errors:
        if error.field == field:
            st.error(ui.tr_literal(error.key, **error.params))


def province_section() -> None:
    """The province → region table and the form that moves one province."""
    st.header(ui.tr("geo_provinces"))
    provinces = ui.load(dealers.province_regions, scope)
    table = provinces.rename(columns={f"name_{lang}": ui.tr("map_col_province"), f"region_{lang}": ui.tr("map_col_region"),
                                      "dealers": ui.tr("map_col_dealers"), "adcode": ui.tr("geo_adcode")})
    st.dataframe(table[[ui.tr("geo_adcode"), ui.tr("map_col_province"), ui.tr("map_col_region"), ui.tr("map_col_dealers")]],
                 hide_index=True, width="stretch", height=300, placeholder=formatting.NO_VALUE)
    names = dict(zip(provinces["adcode"], provinces[f"name_{lang}"]))
    adcode = st.selectbox(ui.tr("map_col_province"), list(names), format_func=names.get, key="geo_province")
    current = provinces.set_index("adcode").loc[adcode]
    regions = {row["id"]: row[f"name_{lang}"] for row in ui.load(calendar.filter_options, scope)["regions"]}
    with st.form("geo_move"):
        st.selectbox(ui.tr("geo_target_region"), list(regions), index=list(regions).index(int(current["region_id"])),
                     format_func=regions.get, key=f"geo_target_region_{adcode}")
        st.caption(ui.tr("geo_move_effect"))
        st.form_submit_button(ui.tr("geo_move"), on_click=move_province, args=(int(adcode), int(current["region_id"])), type="primary")


def dealer_section() -> None:
    """Pick a dealer and edit its grade, status, Douyin tier and coordinates."""
    st.header(ui.tr("geo_dealers"))
    records = ui.load(dealers.dealer_records, scope)
    names = dict(zip(records["id"].astype(int), records["code"] + " " + records["name"] + " · " + records[f"city_{lang}"]))
    dealer_id = st.selectbox(ui.tr("card_pick"), list(names), format_func=names.get, key="geo_dealer", index=None,
                             placeholder=ui.tr("card_pick_placeholder"))
    if dealer_id is None:
        return
    row = records[records["id"] == dealer_id].iloc[0]
    seen = st.session_state.setdefault(seen_version_key(dealer_id), int(row["version"]))
    errors_of, errors = st.session_state.get(ERRORS_KEY, (None, []))
    errors = errors if errors_of == dealer_id else []
    st.caption(ui.tr_literal("geo_dealer_place", province=row[f"province_{lang}"], region=row[f"region_{lang}"], version=seen))
    with st.form(f"geo_dealer_form_{dealer_id}"):
        left, right = st.columns(2)
        left.selectbox(ui.tr("map_col_grade"), DEALER_GRADES, index=DEALER_GRADES.index(row["grade"]), key=f"geo_grade_{dealer_id}",
                       format_func=ui.labelled("dealer_grade", DEALER_GRADES).get)
        right.selectbox(ui.tr("geo_douyin_tier"), DOUYIN_TIERS, index=DOUYIN_TIERS.index(row["douyin_tier"]),
                        key=f"geo_douyin_{dealer_id}", format_func=ui.labelled("douyin", DOUYIN_TIERS).get)
        left.number_input(ui.tr("geo_lat"), value=float(row["lat"]), format="%.5f", step=0.001, key=f"geo_lat_{dealer_id}")
        right.number_input(ui.tr("geo_lon"), value=float(row["lon"]), format="%.5f", step=0.001, key=f"geo_lon_{dealer_id}")
        show_errors(errors, "coordinates")
        st.checkbox(ui.tr("dealer_active"), value=bool(row["active"]), key=f"geo_active_{dealer_id}")
        for field in ("grade", "douyin_tier"):
            show_errors(errors, field)
        st.form_submit_button(ui.tr("geo_dealer_save"), on_click=save_dealer, args=(int(dealer_id),), type="primary")
    st.button(ui.tr("geo_dealer_reload"), on_click=forget_edits, args=(int(dealer_id),), key="geo_dealer_reload")


province_section()
st.divider()
dealer_section()
