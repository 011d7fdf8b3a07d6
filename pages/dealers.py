"""Dealer regional map (经销商地图): provinces and dealers coloured by a KPI, league tables, ranking and a dealer's card."""
import pandas as pd
import streamlit as st

from lib import formatting, maps, ui
from lib.components import data_status, dealer_card, map_tables, period_picker, region_picker
from lib.models import CITY_TIERS, DEALER_GRADES
from lib.queries import calendar, dealers
from lib.queries.dealers import METRICS, MapFilter

PICK_KEY = "map_dealer"  # session-state key of the dealer whose card is open (set by the map, the ranking or the list)
MAP_KEY = "dealer_map"  # the map's selection state

user = ui.page_user(__file__)
scope, lang, last_day = user.scope, ui.lang(), ui.as_of()
st.title(ui.tr("map_title"))
ui.demo_banner()
data_status.freshness_caption(("leads", "lead-progress"))
if data_status.missing(scope, ("dealers", "leads", "lead-progress")) & {"dealers", "leads"}:
    st.stop()


def pick_filter() -> tuple[MapFilter, str]:
    """Period, place, tier, grade, model and the metric to colour by."""
    start, end = period_picker.pick("map", last_day, default="ytd")
    choices = ui.load(dealers.filter_choices, scope)
    columns = [*st.columns(3), *st.columns(3)]  # two rows of three: a chosen 浙江 shows whole
    region_ids = region_picker.pick(columns[0], user, choices["regions"], "map_regions", caption_key="map_scope_region")
    provinces = {row["id"]: row[f"name_{lang}"] for row in choices["provinces"] if not region_ids or row["region_id"] in region_ids}
    province_ids = columns[1].multiselect(ui.tr("filter_province"), list(provinces), format_func=provinces.get, key="map_provinces",
                                          placeholder=ui.tr("filter_all"), select_all=False)
    tiers = columns[2].multiselect(ui.tr("filter_city_tier"), CITY_TIERS, format_func=ui.labelled("tier", CITY_TIERS).get,
                                   key="map_tiers", placeholder=ui.tr("filter_all"), select_all=False)
    grades = columns[3].multiselect(ui.tr("filter_dealer_grade"), DEALER_GRADES, key="map_grades", placeholder=ui.tr("filter_all"),
                                    format_func=ui.labelled("dealer_grade", DEALER_GRADES).get, select_all=False)
    models = {row["id"]: row[f"name_{lang}"] for row in ui.load(calendar.filter_options, scope)["models"]}
    model_ids = columns[4].multiselect(ui.tr("filter_model"), list(models), format_func=models.get, key="map_models",
                                       placeholder=ui.tr("filter_all"), select_all=False)
    metric = columns[5].selectbox(ui.tr("map_metric"), METRICS, format_func=ui.labelled("map_metric", METRICS).get, key="map_metric")
    return MapFilter(start, end, tuple(region_ids), tuple(province_ids), tuple(tiers), tuple(grades), tuple(model_ids)), metric


def remember_map_pick() -> None:
    """A dealer clicked on the map opens its card; a province name or a city clicked narrows the map to that province."""
    objects = st.session_state[MAP_KEY].selection.objects
    if objects.get("dealers"):
        st.session_state[PICK_KEY] = int(objects["dealers"][0]["id"])
    elif objects.get("province-names") or objects.get("cities"):
        place = (objects.get("province-names") or objects["cities"])[0]
        st.session_state["map_provinces"] = [int(place["adcode"])]


def legend_table(bins: maps.Bins, metric: str, title: str) -> None:
    """A legend: each colour class with its range."""
    rows = maps.legend(bins, metric, lang)
    if rows.empty:
        st.caption(ui.tr("map_no_values", what=title))
        return
    shown = rows.rename(columns={"swatch": title, "range": ui.tr("map_legend_range")})
    st.dataframe(shown, hide_index=True, width="stretch", column_config={title: st.column_config.ImageColumn()}, placeholder=formatting.NO_VALUE)


def marks_legend(figures: dict[str, pd.DataFrame], bins: maps.Bins, metric: str) -> None:
    """The legend of what the map marks at its level: nothing nationally, cities in a region, dealers in a province."""
    level = maps.level_of(figures["provinces"])
    if level == "region":
        legend_table(bins, metric, ui.tr("map_legend_cities"))
    elif level == "province" and metric == "dealers":
        st.caption(ui.tr("map_dealers_neutral"))
    elif level == "province":
        legend_table(bins, metric, ui.tr("map_legend_dealers"))
    st.caption(ui.tr(f"map_marks_{level}"))


def show_map(source: ui.Source, figures: dict[str, pd.DataFrame], metric: str) -> None:
    """The map (its spec cached) with its legends and source line."""
    province_bins, mark_bins = ui.derived(maps.map_bins, source, metric)
    deck = maps.SpecDeck(ui.derived(maps.map_spec, source, metric, lang))
    st.pydeck_chart(deck, height=maps.MAP_HEIGHT, on_select=remember_map_pick, selection_mode="single-object", key=MAP_KEY,
                    alt=ui.tr("map_alt", metric=ui.tr(f"map_metric_{metric}")))
    st.caption(ui.tr("map_source"))
    left, right = st.columns(2)
    with left:
        legend_table(province_bins, metric, ui.tr("map_legend_provinces"))
    with right:
        marks_legend(figures, mark_bins, metric)


with ui.filters():
    flt, metric = pick_filter()
ui.filters_note(flt.start, flt.end)
source = ui.source(dealers.map_figures, scope, flt)
figures = ui.loaded(source)
shown_dealers = figures["dealers"]
st.caption(ui.tr("map_counts", dealers=f"{int(shown_dealers['active'].astype(bool).sum()):,}",
                 provinces=len(figures["provinces"]), regions=len(figures["regions"])))
show_map(source, figures, metric)
dealer_card.show(scope, figures, flt, PICK_KEY)
map_tables.leagues(figures, flt)
ranking = ui.derived(map_tables.ranked_dealers, source, metric)
map_tables.dealer_ranking(ranking, metric, PICK_KEY)
map_tables.export_button(figures, ranking, flt, scope)
with st.expander(ui.tr("map_definitions_title"), icon=":material/info:"):
    st.caption(ui.tr("map_definitions"))
