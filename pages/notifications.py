"""Digests and alerts (简报与告警): my digest subscriptions (admins: anyone's), the threshold alert rules (managers and admins),
and the record of messages sent with a resend (admins)."""
import streamlit as st

from lib import formatting, ui
from lib.components import alert_rules
from lib.models import DIGEST_CADENCES
from lib.notify import deliveries
from lib.notify.deliveries import EMAIL_DESTINATION, ROBOT_PREFIX
from lib.notify.message import Message
from lib.notify.transports import robots
from lib.queries import notifications as listed
from lib.queries import system
from lib.services import notifications
from lib.services.errors import RefusedError

user = ui.page_user(__file__)
scope, lang = user.scope, ui.lang()
st.title(ui.tr("notify_title"))
ui.show_flash()
st.caption(ui.tr("notify_caption"))


def destination_name(destination: str) -> str:
    """A destination as users read it: the e-mail of the account, or the robot's name."""
    return ui.tr("digest_destination_email") if destination == EMAIL_DESTINATION else destination.removeprefix(ROBOT_PREFIX)


@ui.keeps_input_on_outage
def subscribe(user_id: int) -> None:
    """Form callback: subscribe the user to the chosen digest."""
    state = st.session_state
    ui.write(notifications.subscribe, scope, user_id, state["digest_cadence"], state["digest_language"], state["digest_destination"],
             done="digest_subscribed")


@ui.keeps_input_on_outage
def unsubscribe(subscription_id: int) -> None:
    """Button callback: end a subscription."""
    ui.write(notifications.unsubscribe, scope, subscription_id, done="digest_unsubscribed")


def whose_subscriptions() -> int:
    """The user whose subscriptions are shown: oneself, or (admins) the user picked."""
    if not scope.can("manage_users"):
        return user.id
    people = ui.fresh(system.user_list, scope)
    names = {int(person.id): f"{person.display_name} ({person.username})" for person in people.itertuples() if person.active}
    ids = list(names)
    return st.selectbox(ui.tr("digest_for_user"), ids, index=ids.index(user.id) if user.id in ids else 0, format_func=names.get,
                        key="digest_user")


def subscriptions_section() -> None:
    """The digest subscriptions of the chosen user, each with its unsubscribe button, and the form for a new one."""
    st.header(ui.tr("digest_mine"))
    user_id = whose_subscriptions()
    mine = ui.fresh(listed.subscriptions, scope, user_id)
    if mine.empty:
        st.caption(ui.tr("digest_none"))
    for row in mine.itertuples():
        text, button = st.columns([4, 1])
        text.text(f"{ui.tr(f'digest_cadence_{row.cadence}')} · {'中文' if row.language == 'zh' else 'English'} · "
                  f"{destination_name(row.destination)}")
        button.button(ui.tr("digest_unsubscribe"), key=f"digest_unsubscribe_{row.id}", on_click=unsubscribe, args=(int(row.id),))
    destinations = [EMAIL_DESTINATION, *[f"{ROBOT_PREFIX}{name}" for name in sorted(robots())]]
    with st.form("digest_subscribe_form"):
        left, middle, right = st.columns(3)
        left.selectbox(ui.tr("digest_cadence"), DIGEST_CADENCES, format_func=lambda code: ui.tr(f"digest_cadence_{code}"),
                       key="digest_cadence")
        middle.selectbox(ui.tr("digest_language"), ["zh", "en"], index=0 if lang == "zh" else 1,
                         format_func={"zh": "中文", "en": "English"}.get, key="digest_language")
        right.selectbox(ui.tr("digest_destination"), destinations, format_func=destination_name, key="digest_destination")
        st.form_submit_button(ui.tr("digest_subscribe"), type="primary", on_click=subscribe, args=(user_id,))


@ui.keeps_input_on_outage
def resend(delivery_id: int) -> None:
    """Button callback: queue a delivery's message again."""
    try:
        with ui.engine().begin() as conn:
            queued = deliveries.resend(conn, scope, delivery_id)
    except RefusedError as refused:
        ui.flash("error", ui.tr_literal(refused.key, **refused.params))
    else:
        ui.flash("success" if queued else "warning", ui.tr("delivery_resent" if queued else "delivery_not_resendable"))


@ui.keeps_input_on_outage
def send_test() -> None:
    """Button callback: send a test message now to the chosen destination (the admin's own e-mail or a robot)."""
    destination = st.session_state["test_destination"]
    message = Message(ui.tr("test_subject"), (ui.tr("test_body", user=user.display_name),))
    status = deliveries.send_test(ui.engine(), scope, destination, message)
    ui.flash("success" if status == "sent" else "error", ui.tr("test_sent" if status == "sent" else "test_failed"))


def deliveries_section() -> None:
    """The configured robots (their webhooks masked), the newest messages and their status; a resend of the chosen one
    (admins)."""
    st.header(ui.tr("delivery_title"))
    configured = robots()
    st.caption(ui.tr_literal("robots_configured", robots="; ".join(f"{name} ({robot.kind}, {robot.shown_url})" for name, robot in configured.items())
                     if configured else ui.tr("robots_none")))
    targets = {f"{deliveries.EMAIL_PREFIX}{user.id}": ui.tr("digest_destination_email"),
               **{f"{ROBOT_PREFIX}{name}": ui.tr("delivery_by_robot", name=name) for name in configured}}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.selectbox(ui.tr("test_destination"), list(targets), format_func=targets.get, key="test_destination")
    right.button(ui.tr("test_send"), key="test_send", on_click=send_test)
    sent = ui.fresh(listed.deliveries, scope)
    if sent.empty:
        st.caption(ui.tr("delivery_none"))
        return
    shown = sent.assign(kind=[ui.tr(f"delivery_kind_{kind}") for kind in sent["kind"]],
                        status=[ui.tr(f"delivery_status_{status}") for status in sent["status"]],
                        destination=[ui.tr("delivery_by_email") if value.startswith(deliveries.EMAIL_PREFIX)
                                     else ui.tr("delivery_by_robot", name=value.removeprefix(ROBOT_PREFIX)) for value in sent["destination"]])
    columns = {"id": "#", "kind": ui.tr("col_delivery_kind"), "recipient": ui.tr("col_delivery_recipient"),
               "destination": ui.tr("col_delivery_destination"), "subject": ui.tr("col_delivery_subject"),
               "status": ui.tr("col_delivery_status"), "attempts": ui.tr("col_delivery_attempts"),
               "last_error": ui.tr("col_delivery_error"), "created_at": ui.tr("col_delivery_created"), "sent_at": ui.tr("col_delivery_sent")}
    st.dataframe(shown[list(columns)].rename(columns=columns), hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    resendable = {int(row.id): f"#{row.id} {row.subject}" for row in sent.itertuples() if row.status in deliveries.RESENDABLE}
    if resendable:
        picked = st.selectbox(ui.tr("delivery_resend"), list(resendable), format_func=resendable.get, key="delivery_pick")
        st.button(ui.tr("delivery_resend"), key="delivery_resend", on_click=resend, args=(picked,))


subscriptions_section()
if scope.can("manage_alerts"):
    alert_rules.section(scope)
if scope.can("manage_users"):
    deliveries_section()
