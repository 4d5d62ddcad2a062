"""Display links: read-only wall-screen links (signed, expiring, revocable)."""

import pandas as pd
import streamlit as st

from core.errors import SwitchboardError
from core.wall_screen import create_display_link, list_display_links, revoke_display_link
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Display links")
st.caption("A display link opens the wall screen without signing in, and nothing else.")
show_flash()

with st.form("new_link"):
    name = st.text_input("Name", placeholder="Ops TV")
    days = st.number_input("Valid for (days)", value=30, step=1)
    refresh = st.number_input("Refresh every (seconds)", value=30, step=1)
    if st.form_submit_button("Create link"):
        try:
            token = create_display_link(
                ws, me, name=name, valid_days=int(days), refresh_seconds=int(refresh)
            )
            st.success("Link created. Copy it now: it is shown only once.")
            st.code(f"{st.context.url.split('?')[0].rsplit('/', 1)[0]}/?display={token}")
        except SwitchboardError as exc:
            show_error(exc)

links = list_display_links(ws, me)
if links:
    st.dataframe(
        pd.DataFrame(
            [{**link, "created_at": local_time(link["created_at"]),
              "expires_at": local_time(link["expires_at"]),
              "last_used_at": local_time(link["last_used_at"])} for link in links]
        ),
        hide_index=True,
        width="stretch",
    )  # fmt: skip
    active = {link["id"]: link["name"] for link in links if link["state"] == "active"}
    if active:
        chosen = st.selectbox("Link to revoke", list(active), format_func=active.get)
        if st.button("Revoke"):
            revoke_display_link(ws, me, chosen)
            flash(f"“{active[chosen]}” no longer opens the wall screen.")
            st.rerun()
