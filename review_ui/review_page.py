"""The Review page: one item on one screen, decided with the keyboard, the next one loaded at once.

Every change goes through a button callback, so it is done before the page renders: the queue
counts, the lease and the URL (``?queue=`` and ``?item=``) always show the state after it.
"""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import streamlit as st

from review_ui import render
from review_ui.api_client import ApiProblem, ReviewApi

state = st.session_state
PER_ITEM = ("revealed_prompt", "revealed_image", "reason", "view", "client_items", "hover_image")


# -- state changes (button callbacks) ------------------------------------------------------------------

def flash(kind: str, message: str) -> None:
    state.setdefault("flash", []).append((kind, message))


def _reset_item() -> None:
    for key in PER_ITEM:
        state.pop(key, None)


def _take(claimed: dict) -> None:
    """Makes a claim response the item on screen, with the lease it came with."""
    _reset_item()
    state.current, state.group = claimed.get("item"), claimed.get("group") or []
    if state.current is not None:
        expires = claimed.get("lease_expires_at") or (state.current.get("review") or {}).get("lease_expires_at")
        if expires:
            state.setdefault("lease", {})[state.current["id"]] = datetime.fromisoformat(expires)
        st.query_params["item"] = state.current["id"]
    else:
        st.query_params.pop("item", None)


def _release_current(client: ReviewApi) -> None:
    if state.get("current"):  # never leave an item claimed behind us
        for held in [state.current, *(state.get("group") or [])]:
            try:
                client.give_back(held["id"], "release")
            except ApiProblem:
                pass
    state.current, state.group = None, []
    _reset_item()


def claim_next(client: ReviewApi) -> None:
    queue = state.get("queue") or "default"
    _release_current(client)
    try:
        claimed = client.claim(queue)
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")
        st.query_params.pop("item", None)
        return
    _take(claimed)
    if claimed.get("item") is None:
        flash("info", f"Nothing waiting in {queue!r}. Press q for the next queue with work.")
    elif claimed.get("only_skipped"):
        flash("info", f"Every item left in {queue!r} is one you skipped: they come back in the order you "
                      "skipped them.")


def next_queue(client: ReviewApi, names: list[str]) -> None:
    counts = {q["queue"]: q["pending"] for q in client.queues()["queues"]}
    current = state.get("queue")
    order = names[names.index(current) + 1:] + names[: names.index(current) + 1] if current in names else names
    for name in order:
        if counts.get(name, 0) > 0:
            state.queue = name
            st.query_params["queue"] = name
            claim_next(client)
            return
    flash("info", "Every queue you may work is empty.")


def claim_item(client: ReviewApi, item_id: str) -> None:
    _release_current(client)
    try:
        _take(client.claim_item(item_id))
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")


def decide(client: ReviewApi, verdict: str, config: dict) -> None:
    item = state.get("current")
    if not item:
        return
    fits = config.get("reason_codes_by_verdict") or {}
    reason = state.get("reason")
    if verdict == "reject":
        if reason is None or reason not in fits.get("reject", config["reason_codes"]):
            flash("error", "A reject needs a reason that names the violation: press its number first "
                  f"({', '.join(fits.get('reject', []))}).")
            return
    else:
        approve = fits.get("approve") or config["reason_codes"]
        if reason is None:
            reason = approve[0]
        elif reason not in approve:
            flash("error", f"{reason!r} names a violation, which does not fit an approve: pick one of "
                           f"{', '.join(approve)}, or reject.")
            return
    note = state.get(f"note_{item['id']}", "") or ""
    bank = state.get(f"bank_{item['id']}", True)
    group = [g["id"] for g in state.get("group") or []]
    try:
        result = client.verdict(item["id"], verdict, reason, note, group, bank=bank)
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")
        return
    outcome = ", ".join(sorted({d["appeal_outcome"] for d in result["decided"] if d.get("appeal_outcome")}))
    flash("success", f"{verdict} ({reason}) recorded for {len(result['decided'])} item(s)"
                     + (f" · appeal {outcome}" if outcome else "") + ("" if bank else " · not banked"))
    state.current, state.group = None, []
    _reset_item()
    st.query_params.pop("item", None)
    if state.get("auto_advance", True):
        claim_next(client)


def give_back(client: ReviewApi, how: str) -> None:
    item = state.get("current")
    if not item:
        return
    try:
        for held in [item, *(state.get("group") or [])]:
            client.give_back(held["id"], how)
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")
    state.current, state.group = None, []
    _reset_item()
    st.query_params.pop("item", None)
    if how == "skip" and state.get("auto_advance", True):
        claim_next(client)


def hand_on(client: ReviewApi, how: str) -> None:
    """Move to another queue or escalate to seniors: the item and its group leave this reviewer."""
    item = state.get("current")
    if not item:
        return
    note = state.get(f"note_{item['id']}", "") or ""
    try:
        for held in [item, *(state.get("group") or [])]:
            if how == "escalate":
                client.escalate(held["id"], note)
            else:
                client.move(held["id"], state.get("move_to") or "default", note)
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")
        return
    flash("success", "escalated to senior reviewers" if how == "escalate" else f"moved to {state.get('move_to')!r}")
    state.current, state.group = None, []
    _reset_item()
    st.query_params.pop("item", None)
    if state.get("auto_advance", True):
        claim_next(client)


def legal_report(client: ReviewApi) -> None:
    item = state.get("current")
    try:
        client.legal_report(item["id"], state.get(f"note_{item['id']}", "") or "")
        flash("warning", "Escalated for a legal report: recorded in the audit log and the legal-report export. "
                         "Now reject the item.")
        state.pop("view", None)
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")


def ungroup(client: ReviewApi, member_id: str) -> None:
    try:
        client.ungroup(member_id, state.current["id"])
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")
        return
    state.group = [g for g in state.get("group") or [] if g["id"] != member_id]
    flash("info", f"{member_id[:8]} taken out of the group and returned to the queue; this verdict will not decide it.")


def reveal_image(client: ReviewApi, item_id: str) -> None:
    try:
        state.revealed_image = client.image(item_id, original=True)
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")


def reveal_prompt(client: ReviewApi, item_id: str) -> None:
    try:
        state.revealed_prompt = client.reveal_prompt(item_id)["prompt"]
    except ApiProblem as problem:
        flash("error", f"{problem.message} ({problem.code})")


def set_reason(code: str) -> None:
    state.reason = code


# -- the page --------------------------------------------------------------------------------------------

def page(client: ReviewApi, config: dict, me: dict, overview: dict) -> None:
    senior = me.get("may_decide_appeals")
    senior_queues = {config.get("appeals_queue", "appeals"), config.get("escalations_queue", "escalations")}
    names = [q["queue"] for q in overview["queues"]]
    names = [n for n in names if senior or n not in senior_queues] or ["default"]
    wanted = st.query_params.get("queue")
    if "queue" not in state or state.queue not in names:
        state.queue = wanted if wanted in names else (state.get("queue") if state.get("queue") in names else names[0])
    counts = {q["queue"]: q for q in overview["queues"]}

    head = st.columns([2.2, 2.6, 1.1, 1.3, 1.6], vertical_alignment="center")
    head[0].selectbox("Queue", names, key="queue", label_visibility="collapsed",
                      on_change=lambda: st.query_params.__setitem__("queue", state.queue))
    st.query_params["queue"] = state.queue
    mine_q = counts.get(state.queue, {})
    head[1].caption(f"**{mine_q.get('pending', 0)}** waiting · **{mine_q.get('claimed', 0)}** claimed · oldest "
                    f"{render.age(mine_q.get('oldest_age_s'))} · you decided **{overview['my_decisions_today']}** today")
    head[2].button("Next (n)", key="claim", shortcut="n", type="primary", on_click=claim_next, args=(client,))
    head[3].button("Next queue (q)", key="next_queue", shortcut="q", on_click=next_queue, args=(client, names))
    head[4].toggle("Auto-advance", key="auto_advance", value=state.get("auto_advance", True),
                   help="After a verdict, skip, move or escalation, the next item of this queue loads at once.")

    for kind, message in state.pop("flash", []):
        getattr(st, kind)(message)

    if "resumed" not in state:  # after a reload: the items this reviewer still holds
        state.resumed = True
        held = client.mine()
        wanted_item = st.query_params.get("item")
        if held and not state.get("current"):
            first = next((h for h in held if h["id"] == wanted_item), held[0])
            _take({"item": first, "group": [h for h in held if h["id"] != first["id"]]})

    current = state.get("current")
    linked = st.query_params.get("item")
    if linked and (current is None or current["id"] != linked):
        shared_item(client, config, linked)
        return
    if current:
        item_view(client, config, current)
    else:
        st.info("No item open. Press **n** for the next item of this queue, **q** for the next queue with work.")


def shared_item(client: ReviewApi, config: dict, item_id: str) -> None:
    """An item opened from its link (``?item=``): read-only until claimed."""
    try:
        view = client.item(item_id)
    except ApiProblem as problem:
        st.error(f"{problem.message} ({problem.code})")
        return
    review = view.get("review") or {}
    status = review.get("status")
    st.caption(f"Shared link · status **{status}**" + (f" · held by {review.get('claimed_by')}"
                                                        if status == "claimed" else ""))
    if status in ("pending", None) or (status == "claimed" and (review.get("lease_seconds_left") or 0) <= 0):
        st.button("Claim this item", key="claim_item", type="primary", on_click=claim_item, args=(client, item_id))
    item_view(client, config, view, read_only=True)


def _full_view(client: ReviewApi, item: dict) -> dict:
    if state.get("view", {}).get("id") != item["id"]:
        state.view = client.item(item["id"])
    return state.view


def item_view(client: ReviewApi, config: dict, item: dict, read_only: bool = False) -> None:
    view = item if read_only else _full_view(client, item)
    review = view.get("review") or {}
    appeal = next((a for a in view.get("appeals") or [] if a.get("status") == "open"), None)
    enqueued = review.get("enqueued_at")
    waited = (datetime.now(timezone.utc) - datetime.fromisoformat(enqueued)).total_seconds() if enqueued else None
    st.html(
        f'<div style="font-size:15px"><b>Item {render.esc(view["id"][:8])}</b> · queue <b>{render.esc(review.get("queue"))}'
        f'</b> · external id <code>{render.esc(view.get("external_id"))}</code> · surface '
        f'<b>{render.esc(view.get("surface"))}</b> · client <b>{render.esc(view.get("client"))}</b> · in queue '
        f'{render.esc(render.age(waited))} · policy says <b>{render.esc(view["policy"]["decision"])}</b>'
        f'{" · <b style=color:#b71c1c>APPEAL</b>" if appeal else ""}</div>')
    left, middle, right = st.columns([4.6, 3.8, 3.6], gap="small")
    with left:
        prompt_panel(client, view, read_only)
        rules_panel(view)
        bars = render.score_bars_html(render.score_rows(view.get("signals") or {}, view.get("thresholds") or {}))
        if bars:
            st.html(bars)
    with middle:
        image_panel(client, view, read_only)
        group_panel(client, view, read_only)
    with right:
        if appeal:
            appeal_panel(view, appeal)
        if not read_only:
            lease_countdown(client, view["id"], config["lease_s"])
            verdict_panel(client, view, config, appeal)
        context_panel(client, view)


def prompt_panel(client: ReviewApi, view: dict, read_only: bool) -> None:
    matched = render.matched_words(view.get("reasons"))
    if state.get("revealed_prompt") is not None:
        st.html(render.prompt_html(state.revealed_prompt, matched))
        st.caption("original prompt — this view was audited")
    else:
        st.html(render.prompt_html(view.get("prompt_redacted"), matched))
        if view.get("raw_prompt_stored"):
            if not read_only:
                st.button("Reveal original prompt (p)", key="reveal_prompt", shortcut="p",
                          on_click=reveal_prompt, args=(client, view["id"]))
        else:
            st.caption("Redacted prompt. No original is stored for this item, so there is nothing to reveal.")
    if matched:
        st.html('<div style="font-size:13px">Rule matched: '
                + ", ".join(f'<b style="color:#8b0000">{render.esc(w)}</b>' for w in matched) + "</div>")


def rules_panel(view: dict) -> None:
    rows = []
    for reason in view.get("reasons") or []:
        values = " ".join(f'<code>{render.esc(k)}={render.esc(render.short(v))}</code>'
                          for k, v in (reason.get("values") or {}).items())
        colour = {"block": "#b71c1c", "review": "#e65100", "redact": "#1565c0"}.get(reason.get("action"), "#424242")
        rows.append(f'<div style="font-size:13px;margin:1px 0"><b style="color:{colour}">{render.esc(reason.get("action"))}'
                    f'</b> <code>{render.esc(reason.get("rule_id"))}</code> {render.esc(reason.get("description"))} '
                    f'{values}</div>')
    st.html('<div data-testid="fired-rules"><b style="font-size:13px">Rules that fired</b>'
            + ("".join(rows) or '<div style="font-size:13px">none</div>') + "</div>")


def image_panel(client: ReviewApi, view: dict, read_only: bool) -> None:
    if not view.get("has_image"):
        st.caption("no image")
        return
    prefs = state.get("prefs") or {}
    try:
        if state.get("revealed_image") is not None:
            data, caption = state.revealed_image, "original — this view was audited (v again to blur)"
        elif state.get("hover_unblur") and not read_only:
            if state.get("hover_image") is None:  # fetching the original is the audited reveal
                state.hover_image = client.image(view["id"], original=True)
            data, caption = None, "hover to unblur — the original was fetched, and that is audited"
        else:
            data, caption = client.image(view["id"], size=384), "blurred — hold or tap v to reveal (audited)"
    except ApiProblem as problem:
        st.error(f"{problem.message} ({problem.code})")
        return
    grayscale = state.get("grayscale", False)
    if data is None:
        encoded = base64.b64encode(_grey(state.hover_image) if grayscale else state.hover_image).decode()
        st.html(f'<div class="hover-unblur" style="overflow:hidden;max-width:360px"><img alt="item image" '
                f'src="data:image/png;base64,{encoded}" style="max-width:360px;max-height:360px"></div>')
    else:
        st.image(_grey(data) if grayscale else data, width=360)
    st.caption(caption + f" · blur {prefs.get('blur_radius', '?')}")
    if read_only:
        return
    buttons = st.container(horizontal=True, gap="small")
    if state.get("revealed_image") is None:
        buttons.button("Reveal (v)", key="reveal_image", on_click=reveal_image, args=(client, view["id"]))
    else:
        buttons.button("Blur again (v)", key="hide_image", on_click=lambda: state.pop("revealed_image", None))
    buttons.button("Grayscale (g)", key="grayscale_key", shortcut="g",
                   on_click=lambda: state.__setitem__("grayscale", not state.get("grayscale", False)))


def _grey(data: bytes) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("L").save(buffer, "PNG")
    return buffer.getvalue()


def group_panel(client: ReviewApi, view: dict, read_only: bool) -> None:
    group = [] if read_only else state.get("group") or []
    earlier = view.get("near_duplicates") or []
    if group:
        st.caption(f"**Near-duplicate group: {len(group)} more** — your verdict decides them too (each audited). "
                   "Take out any that differ.")
        box = st.container(height=min(70 * len(group) + 10, 220), border=False)
        for member in group:
            row = box.container(horizontal=True, gap="small", vertical_alignment="center")
            if member.get("has_image"):
                try:
                    row.image(client.image(member["id"], size=96), width=56)
                except ApiProblem:
                    row.caption("(no image)")
            row.html(f'<div style="font-size:12px;max-width:230px"><code>{render.esc(member["id"][:8])}</code> '
                     f'distance <b>{render.esc(member.get("distance"))}</b><br>'
                     f'{render.esc((member.get("prompt_redacted") or "")[:80])}</div>')
            row.button("Take out", key=f"ungroup_{member['id']}", on_click=ungroup, args=(client, member["id"]))
    if earlier:
        st.caption("Earlier near-duplicates: " + "; ".join(
            f"{str(e.get('item_id', ''))[:8]} d={e.get('distance')} policy {e.get('decision')} final "
            f"{e.get('final_decision')}" for e in earlier[:5]))


def appeal_panel(view: dict, appeal: dict) -> None:
    decisions = [e for e in view.get("audit") or [] if e["action"] in ("verdict", "appeal_verdict")]
    earlier = decisions[0] if decisions else None  # newest first
    lines = [f'<div style="border:2px solid #b71c1c;border-radius:6px;padding:6px 8px;font-size:13px">'
             f'<b style="color:#b71c1c">Appeal</b> from <b>{render.esc(appeal.get("client") or "the client")}</b>: '
             f'<span style="white-space:pre-wrap">{render.visible_text(appeal.get("reason") or "")}</span>']
    if earlier:
        lines.append(f'<div>Earlier verdict: <b>{render.esc(earlier["new_state"].get("verdict"))}</b> → '
                     f'{render.esc(earlier["new_state"].get("final_decision"))} by <b>{render.esc(earlier["actor"])}</b>, '
                     f'reason <code>{render.esc(earlier["details"].get("reason_code"))}</code>, '
                     f'{render.esc(earlier["at"][:16].replace("T", " "))}</div>')
        lines.append(f'<div>Note: <i>{render.visible_text(earlier["details"].get("note") or "(none)")}</i></div>')
    else:
        lines.append(f'<div>Earlier decision: the policy alone, <b>{render.esc(view["policy"]["decision"])}</b>.</div>')
    st.html("".join(lines) + "</div>")


def appealed_decision(view: dict) -> str:
    return (view.get("review") or {}).get("final_decision") or view["policy"]["decision"]


def verdict_panel(client: ReviewApi, view: dict, config: dict, appeal: dict | None) -> None:
    codes = config["reason_codes"]
    reason = state.get("reason")
    row = st.container(horizontal=True, gap="small")
    for index, code in enumerate(codes[:9]):
        row.button(f"{index + 1} {code}", key=f"reason_{index}", shortcut=str(index + 1), on_click=set_reason,
                   args=(code,), type="primary" if reason == code else "secondary")
    st.caption(f"reason: **{reason or 'none yet'}**" + ("" if reason else " (a reject needs one)"))
    st.text_input("Note", key=f"note_{view['id']}", label_visibility="collapsed",
                  placeholder="Note (Enter or Esc leaves the field)")
    note = state.get(f"note_{view['id']}")
    if note:
        st.html(f'<div style="font-size:12px;color:#555" data-testid="note-saved">note kept with the verdict: '
                f'{render.esc(note)}</div>')
    if view.get("has_image"):
        st.checkbox("On reject, add to the reviewer-rejected bank", key=f"bank_{view['id']}", value=True)
        st.caption("Its hashes then block reposts without review. Untick to keep this image out.")
    if appeal:
        appealed = appealed_decision(view)
        approve_label = ("Uphold: keep allowed (a)" if appealed in ("allow", "redact") else "Overturn: allow (a)")
        reject_label = ("Uphold: keep blocked (r)" if appealed == "block" else "Overturn: block (r)")
    else:
        approve_label, reject_label = "Approve (a)", "Reject (r)"
    buttons = st.container(horizontal=True, gap="small")
    buttons.button(approve_label, key="approve", shortcut="a", on_click=decide, args=(client, "approve", config))
    buttons.button(reject_label, key="reject", type="primary", on_click=decide, args=(client, "reject", config))
    buttons.button("Skip (s)", key="skip", shortcut="s", on_click=give_back, args=(client, "skip"))
    more = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    if view.get("reportable"):
        st.warning("A rule marked reportable fired (e.g. sexual content involving minors).")
        st.button("Escalate for legal report", key="legal_report", type="primary", on_click=legal_report,
                  args=(client,))
    more.button("Escalate to seniors (e)", key="escalate", shortcut="e", on_click=hand_on, args=(client, "escalate"))
    more.button("Release", key="release", on_click=give_back, args=(client, "release"))
    with st.popover("Move to queue"):
        st.text_input("Queue", key="move_to", value=state.get("move_to", "default"))
        st.button("Move", key="move", on_click=hand_on, args=(client, "move"))


@st.fragment(run_every=10)
def lease_countdown(client: ReviewApi, item_id: str, lease_s: float) -> None:
    """Time left on this item's lease (from the claim that gave it), renewed well before it runs out."""
    expires = state.get("lease", {}).get(item_id)
    now = datetime.now(timezone.utc)
    if expires is None or (expires - now).total_seconds() < lease_s / 2:
        try:
            expires = datetime.fromisoformat(client.renew(item_id)["lease_expires_at"])
            state.setdefault("lease", {})[item_id] = expires
        except ApiProblem as problem:
            st.warning(f"Lease lost: {problem.message}")
            return
    left = max(0, int((expires - now).total_seconds()))
    st.progress(min(1.0, left / lease_s), text=f"Lease: {left // 60}:{left % 60:02d} left (renewed automatically)")


def context_panel(client: ReviewApi, view: dict) -> None:
    if state.get("client_items", {}).get("for") != view["id"]:
        try:
            state.client_items = {"for": view["id"], "items": client.client_items(view["id"])}
        except ApiProblem:
            state.client_items = {"for": view["id"], "items": []}
    earlier = state.client_items["items"]
    blocked = sum(1 for e in earlier if (e.get("final_decision") or e.get("decision")) == "block")
    with st.expander(f"Same client's earlier items: {len(earlier)} ({blocked} blocked)", expanded=False):
        if earlier:
            st.dataframe([{"when": e["created_at"][:16].replace("T", " "), "policy": e["decision"],
                           "verdict": e.get("verdict") or "", "final": e.get("final_decision") or "",
                           "prompt": e.get("prompt_redacted") or "", "open": f"?item={e['id']}"} for e in earlier],
                         hide_index=True, column_config={"open": st.column_config.LinkColumn("item", display_text="open")})
        else:
            st.caption("none")
