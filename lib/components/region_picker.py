"""The region filter of the dashboards: HQ roles choose regions; regional staff see which region their figures cover."""
from __future__ import annotations

from streamlit.delta_generator import DeltaGenerator

from lib import ui
from lib.auth import CurrentUser


def pick(column: DeltaGenerator, user: CurrentUser, regions: list[dict], key: str, caption_key: str = "overview_scope_region",
         placeholder_key: str = "filter_all") -> tuple[int, ...]:
    """Chosen region ids (none: every region); regional staff get a caption instead, their scope applies in the queries."""
    lang = ui.lang()
    if not user.scope.sees_all_regions:
        column.caption(ui.tr_literal(caption_key, region=user.region_name(lang)))
        return ()
    names = {row["id"]: row[f"name_{lang}"] for row in regions}
    return tuple(column.multiselect(ui.tr("filter_reach"), list(names), format_func=names.get, key=key,
                                    placeholder=ui.tr(placeholder_key), select_all=False))
