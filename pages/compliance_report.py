"""Compliance report."""

import streamlit as st

st.title("Compliance report")
