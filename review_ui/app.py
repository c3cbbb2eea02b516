"""The review console. Run: `moderation review-ui` (or `make review-ui`).

It talks only to the HTTP API (review_ui/api_client.py), never to the database,
so everything a reviewer does is authenticated, validated and audited there.
Pages: Review (one item per screen), Queues, History, Stats, and Banks for admins.
The page, queue and open item live in the URL (``?page=``, ``?queue=``, ``?item=``), and the
login survives a reload through a cookie with the token's own expiry.
"""
from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run` puts only review_ui/ on the path

from review_ui import keys, pages, review_page  # noqa: E402
from review_ui.api_client import ApiProblem, ReviewApi, api_url  # noqa: E402

SHORTCUTS = [("a", "approve"), ("r", "reject"), ("1-9", "reason"), ("s", "skip"), ("n", "next item"),
             ("q", "next queue with work"), ("e", "escalate to seniors"), ("v", "tap: reveal image / hold: peek"),
             ("p", "reveal prompt (when stored)"), ("g", "grayscale"), ("Enter/Esc", "leave the note field")]
PAGES = ["Review", "Queues", "History", "Stats", "Banks"]

st.set_page_config(page_title="Review console", layout="wide")
state = st.session_state


def api() -> ReviewApi:
    return ReviewApi(api_url(), state.get("token"))


def login_page() -> None:
    st.title("Review console")
    if state.pop("clear_cookie", False):
        keys.clear_session_cookie()
    with st.form("login"):
        username = st.text_input("Username", key="username")
        password = st.text_input("Password", type="password", key="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            found = ReviewApi(api_url()).login(username, password)
        except ApiProblem as problem:
            st.error(f"{problem.message} ({problem.code})")
            return
        state.token = found["token"]
        expires = datetime.fromisoformat(found["expires_at"])
        state.set_cookie = (found["token"], (expires - datetime.now(timezone.utc)).total_seconds())
        st.rerun()


def logged_in() -> bool:
    """A token from the login form, the session cookie (after a reload) or the environment (a kiosk)."""
    if not state.get("token") and not state.get("logged_out"):
        token = keys.cookie_token() or os.environ.get("MODERATION_REVIEW_TOKEN")
        if token:
            state.token = token
    return bool(state.get("token"))


def log_out(revoke: bool) -> None:
    if revoke:
        try:
            api().logout()
        except ApiProblem:
            pass
    state.clear()
    state.logged_out, state.clear_cookie = True, True


def sidebar(client: ReviewApi, me: dict) -> str:
    with st.sidebar:
        st.markdown(f"**{me['name']}** · {me['kind']}")
        allowed = [p for p in PAGES if p != "Banks" or "admin" in me.get("scopes", [])]
        wanted = st.query_params.get("page")
        if "page" not in state:
            state.page = wanted if wanted in allowed else "Review"
        page = st.radio("Page", allowed, key="page", on_change=lambda: st.query_params.__setitem__("page", state.page))
        st.query_params["page"] = page
        with st.expander("Image settings"):
            prefs = state.get("prefs") or {}
            st.slider("Blur strength", 2, 60, int(prefs.get("blur_radius", 18)), key="blur",
                      on_change=_save_blur, args=(client,),
                      help=f"Your own; the organisation default is {prefs.get('organisation_blur_radius', '?')}.")
            st.toggle("Unblur on hover", key="hover_unblur", value=False,
                      help="Fetches each item's original (that fetch is the audited reveal) and blurs it in the "
                           "browser; hovering shows it.")
        st.markdown("**Keyboard**")
        st.markdown("\n".join(f"- `{key}` {what}" for key, what in SHORTCUTS))
        st.button("Log out", key="logout", on_click=log_out, args=(True,))
    return page


def _save_blur(client: ReviewApi) -> None:
    try:
        state.prefs = client.set_blur(int(state.blur))
    except ApiProblem as problem:
        review_page.flash("error", f"{problem.message} ({problem.code})")


def main() -> None:
    if not logged_in():
        login_page()
        return
    client = api()
    try:
        me = state.get("me") or client.me()
        state.me = me
    except ApiProblem as problem:
        if problem.status == 401:  # expired or revoked: back to the login form
            log_out(False)
            st.rerun()
        st.error(f"{problem.message} ({problem.code})")
        return
    if "set_cookie" in state:
        keys.set_session_cookie(*state.pop("set_cookie"))
    keys.install()
    try:
        config = state.get("config") or client.config()
        state.config = config
        if "prefs" not in state:
            state.prefs = client.preferences()
        if state.get("hover_unblur"):
            keys.hover_style(int(state.prefs.get("blur_radius", 18)))
        page = sidebar(client, me)
        if page == "Review":
            review_page.page(client, config, me, client.queues())
        elif page == "Queues":
            pages.queues_page(client, client.queues())
        elif page == "History":
            pages.history_page(client)
        elif page == "Stats":
            pages.stats_page(client)
        elif page == "Banks":
            pages.banks_page(client)
    except ApiProblem as problem:
        st.error(f"{problem.message} ({problem.code})")


main()
