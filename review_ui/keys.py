"""Keyboard handling and page styling that Streamlit's own shortcuts cannot give.

The script runs in the page itself (``st.html(..., unsafe_allow_javascript=True)``), not in an
embedded frame, so its listener outlives every rerun: an earlier version installed it from a
component iframe, and once that frame was destroyed ``r`` stopped working after the first item.
It finds buttons by the ``st-key-<key>`` class Streamlit gives keyed elements.

- ``r`` clicks Reject (Streamlit reserves ``r`` for "rerun").
- ``v`` tapped toggles the audited reveal; held, it reveals until the key is released.
- Enter or Escape in a text field leaves the field, so the next letter is a shortcut again.
"""
from __future__ import annotations

import re

import streamlit as st

KEY_SCRIPT = """<script>
(() => {
  if (window.__reviewKeys) return;
  window.__reviewKeys = true;
  const button = (key) => document.querySelector(`.st-key-${key} button`);
  const press = (key) => { const b = button(key); if (b && !b.disabled) { b.click(); return true; } return false; };
  const typing = (el) => el && (["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) || el.isContentEditable);
  let revealedAt = 0;
  window.addEventListener("keydown", (event) => {
    if (typing(event.target)) {
      if (event.key === "Escape" || event.key === "Enter") {
        const field = event.target;
        setTimeout(() => field.blur(), 0);  // after Streamlit has taken the value
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    let handled = false;
    if (event.key === "r") handled = press("reject");
    else if (event.key === "v") {
      if (event.repeat) handled = true;
      else if (button("hide_image")) handled = press("hide_image");
      else { handled = press("reveal_image"); revealedAt = handled ? Date.now() : 0; }
    }
    if (handled) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);
  window.addEventListener("keyup", (event) => {
    // Held rather than tapped: blur again on release.
    if (event.key === "v" && revealedAt && Date.now() - revealedAt > 450) {
      revealedAt = 0;
      const hide = () => { if (!press("hide_image") && Date.now() - held < 15000) setTimeout(hide, 150); };
      const held = Date.now();
      hide();
    } else if (event.key === "v") revealedAt = 0;
  }, true);
})();
</script>"""

STYLE = """<style>
.block-container { padding-top: 3.9rem !important; padding-bottom: 0.5rem !important; }
[data-testid="stVerticalBlock"] { gap: 0.45rem; }
.stButton button { min-height: 2.1rem; padding: 0.15rem 0.6rem; }
[data-testid="stSidebarHeader"] { padding-bottom: 0; }
</style>"""

COOKIE = "moderation_review_session"
_TOKEN = re.compile(r"^[A-Za-z0-9._~-]{8,256}$")


def install() -> None:
    st.html(STYLE)
    st.html(KEY_SCRIPT, unsafe_allow_javascript=True)


def hover_style(blur_px: int) -> None:
    st.html(f"<style>.hover-unblur img {{ filter: blur({int(blur_px)}px); transition: filter .08s; }}"
            f".hover-unblur:hover img {{ filter: none; }}</style>")


def set_session_cookie(token: str, max_age_s: int) -> None:
    """Keeps the login across a reload (F5): same lifetime as the token, this site only."""
    if not _TOKEN.match(token):
        return
    st.html(f"<script>document.cookie = '{COOKIE}={token}; Max-Age={max(0, int(max_age_s))}; Path=/; "
            f"SameSite=Strict';</script>", unsafe_allow_javascript=True)


def clear_session_cookie() -> None:
    st.html(f"<script>document.cookie = '{COOKIE}=; Max-Age=0; Path=/; SameSite=Strict';</script>",
            unsafe_allow_javascript=True)


def cookie_token() -> str | None:
    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:  # no browser connection (AppTest, bare mode)
        return None
    return token if isinstance(token, str) and _TOKEN.match(token) else None
