"""Retention."""

import streamlit as st

st.title("Retention")
