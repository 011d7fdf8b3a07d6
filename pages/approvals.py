"""Approvals (待审批): the plans waiting for the approver, oldest submission first, each with its key figures and goals
and a link to the plan, where it is approved or rejected."""
import streamlit as st

from lib import ui
from lib.components import workflow
from lib.queries import calendar

user = ui.page_user(__file__)
scope, lang = user.scope, ui.lang()
st.title(ui.tr("approvals_title"))
ui.show_flash()
waiting = ui.load(calendar.awaiting_approval, scope)
st.caption(ui.tr("approvals_caption", count=len(waiting)))


def plan_card(plan: dict) -> None:
    """One waiting plan: its name, who submitted it and when, its key figures and goals, and the way in."""
    with st.container(border=True, key=f"approval_{plan['id']}"):
        name, link = st.columns([3, 1])
        name.markdown(ui.bold(plan["name"]))
        name.caption(ui.tr_literal("submitted_line", submission=workflow.submission_text(plan["submitted_by"], plan["submitted_at"])))
        link.page_link("pages/campaign.py", label=ui.tr("approvals_open"), icon=":material/open_in_new:",
                       query_params={"id": str(plan["id"])})
        goals = {metric: plan[f"target_{metric}"] for metric in calendar.GOAL_METRICS}
        workflow.show_figures(workflow.plan_figures(plan, goals, lang), 5)


if waiting.empty:
    st.success(ui.tr("approvals_none"), icon=":material/task_alt:")
for plan in waiting.to_dict("records"):
    plan_card(plan)
