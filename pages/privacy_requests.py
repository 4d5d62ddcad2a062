"""Privacy requests."""

import streamlit as st

st.title("Privacy requests")
