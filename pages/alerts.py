"""Alerts: open alerts to acknowledge, silences, the alert policy, channels and the log."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core import alert_channels as channels_core
from core import alert_delivery as delivery_core
from core.alerts import (
    LEVELS,
    acknowledge,
    create_silence,
    end_silence,
    get_policy,
    list_alerts,
    list_silences,
    update_level,
)
from core.errors import SwitchboardError
from core.integrations import list_integrations
from core.permissions import Action
from pages.common import actor, flash, gateway, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Alerts")
show_flash()
handles = me.may(Action.HANDLE_ALERTS)
manages = me.may(Action.MANAGE_MONITORING)
HELD = {
    "": "",
    "silenced": "🔕 silenced",
    "maintenance": "🛠 maintenance",
    "flapping": "〰 flapping",
}

alerts_tab, silences_tab, policy_tab, channels_tab, log_tab = st.tabs(
    ["Open alerts", "Silences", "Policy", "Channels", "Deliveries and tickets"]
)
with alerts_tab:
    show_resolved = st.toggle("Show resolved alerts too")
    alerts = list_alerts(ws, me, include_resolved=show_resolved)
    if not alerts:
        st.success("No open alert: every check passes or has no data.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {"#": a.id, "Level": a.level, "Alert": a.title, "Status": a.status,
                     "Held back": HELD.get(a.held, a.held), "Repeats": a.repeats,
                     "Escalations": a.escalations, "Opened": local_time(a.opened_at),
                     "Acknowledged by": a.acknowledged_by, "Detail": a.message}
                    for a in alerts
                ]
            ),
            hide_index=True,
            width="stretch",
        )  # fmt: skip
        open_ones = {a.id: a for a in alerts if a.status == "open"}
        if handles and open_ones:
            chosen = st.selectbox(
                "Alert to acknowledge", list(open_ones),
                format_func=lambda i: f"#{i} {open_ones[i].title}",
            )  # fmt: skip
            if st.button("Acknowledge"):
                try:
                    acknowledge(ws, me, chosen)
                    flash(f"Alert #{chosen} acknowledged: escalation stopped.")
                    st.rerun()
                except SwitchboardError as exc:
                    show_error(exc)

with silences_tab:
    silences = list_silences(ws, me)
    if silences:
        st.dataframe(pd.DataFrame(silences), hide_index=True, width="stretch")
    else:
        st.caption("No silence or maintenance window now or ahead.")
    if handles:
        flows = {f.id: f.name for f in list_integrations(ws, me)}
        with st.form("silence"):
            st.subheader("Hold alerts back")
            flow_id = st.selectbox(
                "Flow",
                [None, *flows],
                format_func=lambda i: "(every flow)" if i is None else flows[i],
            )
            kind = st.radio("Kind", ["silence", "maintenance"], horizontal=True)
            hours = st.number_input("For how many hours", value=2.0, min_value=0.0)
            reason = st.text_input("Reason")
            if st.form_submit_button("Start"):
                try:
                    now = datetime.now(UTC)
                    create_silence(
                        ws, me, integration_id=flow_id, kind=kind, starts_at=now,
                        ends_at=now + timedelta(hours=hours), reason=reason,
                    )  # fmt: skip
                    flash("Alerts are held back until the window ends.")
                    st.rerun()
                except SwitchboardError as exc:
                    show_error(exc)
        if silences and st.button("End the first window now"):
            end_silence(ws, me, silences[0]["id"])
            st.rerun()

channels = channels_core.list_channels(ws, me)
names = {c.id: c.name for c in channels}
with policy_tab:
    policy = get_policy(ws, me)
    st.dataframe(
        pd.DataFrame(
            [
                {"Level": p.severity, "Respond within (min)": p.response_minutes,
                 "Channels": ", ".join(names.get(i, "?") for i in p.channel_ids),
                 "Escalate to": p.escalate_to}
                for p in policy
            ]
        ),
        hide_index=True,
        width="stretch",
    )  # fmt: skip
    if manages:
        with st.form("policy"):
            severity = st.selectbox("Level", LEVELS)
            current = next(p for p in policy if p.severity == severity)
            minutes = st.number_input("Respond within (minutes)", value=current.response_minutes)
            chosen_channels = st.multiselect(
                "Channels", list(names), default=current.channel_ids, format_func=names.get
            )
            target = st.text_input("Escalate to", value=current.escalate_to)
            if st.form_submit_button("Save level"):
                try:
                    update_level(ws, me, severity, response_minutes=int(minutes),
                                 channel_ids=chosen_channels, escalate_to=target)  # fmt: skip
                    flash(f"The {severity} level is saved.")
                    st.rerun()
                except SwitchboardError as exc:
                    show_error(exc)

with channels_tab:
    for c in channels:
        st.markdown(
            f"**{c.name}** — {c.kind_label} {c.secret_hint} "
            f"{'' if c.enabled else '(disabled)'}  \n`{c.config or ''}`"
        )
    if manages:
        if channels:
            test_id = st.selectbox("Channel to test", list(names), format_func=names.get)
            if st.button("Send test alert"):
                try:
                    answer = delivery_core.send_test(ws, me, gateway(), test_id)
                    (st.success if answer.ok else st.error)(f"The channel answered: {answer.text}")
                except SwitchboardError as exc:
                    show_error(exc)
        with st.form("channel"):
            st.subheader("Add a channel")
            kind = st.selectbox(
                "Kind", list(channels_core.KINDS), format_func=channels_core.KINDS.get
            )
            name = st.text_input("Name")
            secret = st.text_input(
                "Secret: Slack webhook URL, PagerDuty routing key or SMTP password",
                type="password",
            )
            url = st.text_input("URL (generic webhook) or PagerDuty events URL (optional)")
            host = st.text_input("SMTP host")
            port = st.number_input("SMTP port", value=587, step=1)
            username = st.text_input("SMTP user name (optional)")
            sender = st.text_input("From")
            to = st.text_input("To (comma-separated)")
            starttls = st.checkbox("Use STARTTLS")
            if st.form_submit_button("Save channel"):
                config = {"url": url, "events_url": url, "host": host, "port": int(port),
                          "username": username, "sender": sender, "to": to,
                          "starttls": starttls}  # fmt: skip
                try:
                    channels_core.save_channel(
                        ws, me, channels_core.ChannelInput(name, kind, secret, config)
                    )
                    flash(f"Channel “{name}” saved.")
                    st.rerun()
                except SwitchboardError as exc:
                    show_error(exc)

with log_tab:
    st.subheader("Deliveries")
    st.dataframe(
        pd.DataFrame(delivery_core.list_deliveries(ws, me)), hide_index=True, width="stretch"
    )
    st.subheader("Tickets")
    st.dataframe(pd.DataFrame(delivery_core.list_tickets(ws, me)), hide_index=True, width="stretch")
