"""The review console. Run: `moderation review-ui` (or `make review-ui`).

It talks only to the HTTP API (review_ui/api_client.py), never to the database,
so everything a reviewer does is authenticated, validated and audited there.
"""
from __future__ import annotations

import io
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run` puts only review_ui/ on the path

from review_ui.api_client import ApiProblem, ReviewApi, api_url  # noqa: E402

SHORTCUTS = [("a", "approve"), ("r", "reject"), ("s", "skip"), ("n", "next item"), ("v", "reveal image"),
             ("p", "reveal prompt"), ("g", "grayscale"), ("1-9", "reason code")]
PLACEHOLDER = re.compile(r"<([A-Z_]+)>")

st.set_page_config(page_title="Review console", layout="wide")
state = st.session_state


def api() -> ReviewApi:
    return ReviewApi(api_url(), state.get("token"))


def report(problem: ApiProblem) -> None:
    st.error(f"{problem.message} ({problem.code})")


# -- login --------------------------------------------------------------------------------------------

def login_page() -> None:
    st.title("Review console")
    with st.form("login"):
        username = st.text_input("Username", key="username")
        password = st.text_input("Password", type="password", key="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            found = ReviewApi(api_url()).login(username, password)
        except ApiProblem as problem:
            report(problem)
            return
        state.token, state.user = found["token"], found
        st.rerun()


def logged_in() -> bool:
    # A token from `POST /v1/auth/login` may also come from the environment (a kiosk, or the browser test).
    if not state.get("token") and os.environ.get("MODERATION_REVIEW_TOKEN"):
        state.token = os.environ["MODERATION_REVIEW_TOKEN"]
    return bool(state.get("token"))


# -- queue and item ----------------------------------------------------------------------------------

def queue_page() -> None:
    client = api()
    overview = client.queues()
    config = state.setdefault("config", client.config())
    left, right = st.columns([3, 1])
    with left:
        st.subheader("Queues")
        rows = [{"queue": q["queue"], "waiting": q["pending"], "claimed": q["claimed"],
                 "oldest": _age(q["oldest_age_s"]), "SLA": _age(q["sla_s"]),
                 "SLA status": "BREACHED" if q["sla_breached"] else "ok"} for q in overview["queues"]]
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch")
        else:
            st.info("Every queue is empty.")
    with right:
        st.metric("Your decisions today", overview["my_decisions_today"])
    names = [q["queue"] for q in overview["queues"]] or ["default"]
    if not state.get("me", {}).get("may_decide_appeals"):
        names = [n for n in names if n != config["appeals_queue"]] or ["default"]
    queue = st.selectbox("Queue", names, key="queue")
    if "current" not in state:  # resume what this reviewer still holds (after a reload, say)
        held = client.mine()
        state.current = held[0] if held else None
        state.group = held[1:] if held else []
    if st.button("Claim next (n)", key="claim", shortcut="n", type="primary"):
        claim_next(client, queue)
    if state.current:
        item_view(client, config)


def claim_next(client: ReviewApi, queue: str) -> None:
    if state.get("current"):  # never leave an item claimed behind us
        try:
            client.give_back(state.current["id"], "release")
        except ApiProblem:
            pass
    try:
        claimed = client.claim(queue)
    except ApiProblem as problem:
        report(problem)
        return
    _reset_item()
    state.current, state.group = claimed["item"], claimed.get("group", [])
    if claimed["item"] is None:
        st.info(f"Nothing waiting in {queue!r}.")


def _reset_item() -> None:
    for key in ("revealed_prompt", "revealed_image", "reason"):
        state.pop(key, None)


def item_view(client: ReviewApi, config: dict) -> None:
    item = state.current
    st.divider()
    st.subheader(f"Item {item['id'][:8]} · {item['review']['queue'] if item.get('review') else ''}")
    lease_countdown(client, item["id"], config["lease_s"])
    prompt_col, image_col = st.columns([3, 2])
    with prompt_col:
        st.markdown("**Prompt** (redacted)")
        if state.get("revealed_prompt") is not None:
            st.code(state.revealed_prompt, language=None)
            st.caption("revealed — this view was audited")
        else:
            st.markdown(highlight(item.get("prompt_redacted") or "_no prompt_"))
            if st.button("Reveal prompt (p)", key="reveal_prompt", shortcut="p"):
                try:
                    state.revealed_prompt = client.reveal_prompt(item["id"])["prompt"]
                    st.rerun()
                except ApiProblem as problem:
                    report(problem)
        st.markdown("**Rules that fired**")
        for reason in item.get("reasons") or []:
            st.markdown(f"- `{reason['rule_id']}` → {reason['action']}: {reason.get('description', '')} "
                        f"{_values(reason.get('values'))}")
        st.markdown(f"**Policy decision:** {item['policy']['decision']} · policy `{item['policy']['sha256'][:12]}`")
        st.markdown("**Scores**")
        st.dataframe(scores(item.get("signals") or {}), hide_index=True)
    with image_col:
        image_panel(client, item)
    duplicates_panel(item)
    verdict_panel(client, item, config)


def highlight(text: str) -> str:
    """PII placeholders stand out, so a reviewer sees what was taken out."""
    return PLACEHOLDER.sub(lambda m: f":orange-background[**{m.group(1)}**]", text.replace("*", r"\*"))


def scores(signals: dict) -> list[dict]:
    rows = []
    for name, signal in signals.items():
        if not isinstance(signal, dict):
            continue
        if "error" in signal:
            rows.append({"classifier": name, "score": "failed", "value": None})
        if isinstance(signal.get("probability"), (int, float)):
            rows.append({"classifier": name, "score": "probability", "value": round(signal["probability"], 4)})
        for label, value in (signal.get("scores") or {}).items():
            rows.append({"classifier": name, "score": label, "value": round(value, 4)})
    return rows


def image_panel(client: ReviewApi, item: dict) -> None:
    if not item.get("has_image"):
        st.caption("no image")
        return
    grayscale = st.toggle("Grayscale (g)", key="grayscale")
    st.button("Toggle grayscale", key="grayscale_key", shortcut="g", on_click=_flip, args=("grayscale",))
    try:
        if state.get("revealed_image") is not None:
            data, caption = state.revealed_image, "revealed — this view was audited"
        else:
            data, caption = client.image(item["id"]), "blurred — press v to reveal"
    except ApiProblem as problem:
        report(problem)
        return
    if grayscale:
        from PIL import Image

        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("L").save(buffer, "PNG")
        data = buffer.getvalue()
    st.image(data, width="stretch")
    st.caption(caption)
    if state.get("revealed_image") is None and st.button("Reveal image (v)", key="reveal_image", shortcut="v"):
        state.revealed_image = client.image(item["id"], original=True)
        st.rerun()


def _flip(key: str) -> None:
    state[key] = not state.get(key, False)


def duplicates_panel(item: dict) -> None:
    group = state.get("group") or []
    earlier = item.get("near_duplicates") or []
    if not group and not earlier:
        return
    st.markdown("**Near-duplicates**")
    if group:
        st.caption(f"{len(group)} near-duplicate(s) claimed with this item; your verdict decides them too "
                   "(each is audited).")
        st.dataframe([{"item": g["id"][:8], "distance": g.get("distance"), "risk": g["review"]["risk_score"]}
                      for g in group], hide_index=True)
    if earlier:
        st.caption("Earlier near-duplicates and their decisions")
        st.dataframe([{"item": str(e.get("item_id", ""))[:8], "distance": e.get("distance"),
                       "policy": e.get("decision"), "final": e.get("final_decision")} for e in earlier],
                     hide_index=True)


@st.fragment(run_every=10)
def lease_countdown(client: ReviewApi, item_id: str, lease_s: float) -> None:
    """Shows the time left and renews while the item is open, well before it runs out."""
    expires = state.get("lease_expires_at", {}).get(item_id)
    now = datetime.now(timezone.utc)
    if expires is None or (expires - now).total_seconds() < lease_s / 2:
        try:
            expires = datetime.fromisoformat(client.renew(item_id)["lease_expires_at"])
            state.setdefault("lease_expires_at", {})[item_id] = expires
        except ApiProblem as problem:
            st.warning(f"Lease lost: {problem.message}")
            return
    left = max(0, int((expires - now).total_seconds()))
    st.progress(min(1.0, left / lease_s), text=f"Lease: {left // 60}:{left % 60:02d} left (renewed automatically)")


def verdict_panel(client: ReviewApi, item: dict, config: dict) -> None:
    codes = config["reason_codes"]
    st.markdown("**Reason** (number keys)")
    columns = st.columns(min(len(codes), 9))
    for index, code in enumerate(codes[:9]):
        with columns[index]:
            st.button(f"{index + 1} {code}", key=f"reason_{index}", shortcut=str(index + 1),
                      on_click=_set_reason, args=(code,),
                      type="primary" if state.get("reason") == code else "secondary")
    reason = state.get("reason") or codes[0]
    st.caption(f"reason: **{reason}**")
    note = st.text_input("Note", key="note")
    approve, reject, skip, release = st.columns(4)
    if approve.button("Approve (a)", key="approve", shortcut="a"):
        decide(client, item, "approve", reason, note)
    # Streamlit reserves "r" (rerun) for its own shortcut, so a small key handler clicks this button.
    reject_key_handler()
    if reject.button("Reject (r)", key="reject"):
        decide(client, item, "reject", reason, note)
    if skip.button("Skip (s)", key="skip", shortcut="s"):
        give_back(client, item, "skip")
    if release.button("Release", key="release"):
        give_back(client, item, "release")


def reject_key_handler() -> None:
    import streamlit.components.v1 as components

    components.html("""<script>
    const doc = window.parent.document;
    if (!doc.__rejectKey) {
      doc.__rejectKey = true;
      doc.addEventListener("keydown", (event) => {
        const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
        if (event.key !== "r" || typing || event.ctrlKey || event.metaKey || event.altKey) return;
        const button = [...doc.querySelectorAll("button")].find((b) => b.innerText.trim().startsWith("Reject (r)"));
        if (button) { event.preventDefault(); event.stopImmediatePropagation(); button.click(); }
      }, true);
    }
    </script>""", height=0)


def _set_reason(code: str) -> None:
    state.reason = code


def decide(client: ReviewApi, item: dict, verdict: str, reason: str, note: str) -> None:
    group = [g["id"] for g in state.get("group") or []]
    try:
        result = client.verdict(item["id"], verdict, reason, note, group)
    except ApiProblem as problem:
        report(problem)
        return
    state.last_result = f"{verdict} ({reason}) recorded for {len(result['decided'])} item(s)"
    state.current, state.group = None, []
    _reset_item()
    st.rerun()


def give_back(client: ReviewApi, item: dict, how: str) -> None:
    try:
        for held in [item, *(state.get("group") or [])]:
            client.give_back(held["id"], how)
    except ApiProblem as problem:
        report(problem)
    state.current, state.group = None, []
    _reset_item()
    st.rerun()


# -- history and stats -------------------------------------------------------------------------------

def history_page() -> None:
    st.subheader("History")
    columns = st.columns(4)
    query = columns[0].text_input("Item id or external id", key="history_q")
    reviewer = columns[1].text_input("Reviewer", key="history_reviewer")
    verdict = columns[2].selectbox("Verdict", ["", "approve", "reject"], key="history_verdict")
    day = columns[3].date_input("Day", value=None, key="history_day")
    try:
        entries = api().history(q=query, reviewer=reviewer, verdict=verdict, day=day.isoformat() if day else None)
    except ApiProblem as problem:
        report(problem)
        return
    st.dataframe([{"at": e["at"], "item": e["item_id"], "actor": e["actor"], "action": e["action"],
                   "from": e["previous_state"].get("status"), "to": e["new_state"].get("status"),
                   "verdict": e["new_state"].get("verdict"), "reason": e["details"].get("reason_code")}
                  for e in entries], hide_index=True, width="stretch")


def stats_page() -> None:
    st.subheader("Statistics")
    try:
        stats = api().stats()
    except ApiProblem as problem:
        report(problem)
        return
    left, right = st.columns(2)
    with left:
        st.markdown("Verdicts per reviewer")
        if stats["per_reviewer"]:
            st.bar_chart({reviewer: counts for reviewer, counts in stats["per_reviewer"].items()})
    with right:
        st.markdown("Verdicts per queue")
        if stats["per_queue"]:
            st.bar_chart({queue: counts for queue, counts in stats["per_queue"].items()})
    agreement = stats["agreement"]
    rate = agreement.get("rate")
    st.metric("Reviewers agree with the policy", "n/a" if rate is None else f"{rate:.0%}")
    waits = stats["time_to_decision_s"]
    st.metric("Median time to decision", "n/a" if waits["median"] is None else _age(waits["median"]))


# -- helpers and layout ------------------------------------------------------------------------------

def _age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds // 3600}h {(seconds % 3600) // 60}m"


def _values(values: dict | None) -> str:
    return " ".join(f"`{k}={v}`" for k, v in (values or {}).items())


def main() -> None:
    if not logged_in():
        login_page()
        return
    try:
        state.setdefault("me", api().me())
    except ApiProblem as problem:
        if problem.status == 401:  # expired or revoked: back to the login form
            state.clear()
            st.rerun()
        report(problem)
        return
    with st.sidebar:
        st.markdown(f"**{state.me['name']}** · {state.me['kind']}")
        page = st.radio("Page", ["Queue", "History", "Stats"], key="page")
        st.markdown("**Keyboard**")
        st.markdown("\n".join(f"- `{key}` {what}" for key, what in SHORTCUTS))
        if st.button("Log out", key="logout"):
            try:
                api().logout()
            finally:
                state.clear()
            st.rerun()
    if state.get("last_result"):
        st.success(state.pop("last_result"))
    try:
        {"Queue": queue_page, "History": history_page, "Stats": stats_page}[page]()
    except ApiProblem as problem:
        report(problem)


main()
