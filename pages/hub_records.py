"""Hub records."""

import streamlit as st

st.title("Hub records")
