"""The console's other pages: queue overview, history, statistics, and banks (admins)."""
from __future__ import annotations

import streamlit as st

from review_ui import render
from review_ui.api_client import ApiProblem, ReviewApi

state = st.session_state


def queues_page(client: ReviewApi, overview: dict) -> None:
    st.subheader("Queues")
    rows = [{"queue": q["queue"], "waiting": q["pending"], "claimed": q["claimed"],
             "oldest": render.age(q["oldest_age_s"]), "SLA": render.age(q["sla_s"]),
             "SLA status": "BREACHED" if q["sla_breached"] else "ok", "open": f"?page=Review&queue={q['queue']}"}
            for q in overview["queues"]]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch",
                     column_config={"open": st.column_config.LinkColumn("review", display_text="review")})
    else:
        st.info("Every queue is empty.")
    st.metric("Your decisions today", overview["my_decisions_today"])


def history_page(client: ReviewApi) -> None:
    st.subheader("History")
    columns = st.columns([3, 2, 1.3, 1.5, 1.6])
    query = columns[0].text_input("Item id or external id", key="history_q")
    reviewer = columns[1].text_input("Reviewer", key="history_reviewer")
    verdict = columns[2].selectbox("Verdict", ["", "approve", "reject"], key="history_verdict")
    day = columns[3].date_input("Day", value=None, key="history_day")
    renewals = columns[4].checkbox("Show lease renewals", key="history_renewals", value=False)
    try:
        entries = client.history(q=query, reviewer=reviewer, verdict=verdict, day=day.isoformat() if day else None)
    except ApiProblem as problem:
        st.error(f"{problem.message} ({problem.code})")
        return
    if not renewals:
        entries = [e for e in entries if e["action"] != "renew"]
    st.dataframe([{"at": e["at"][:19].replace("T", " "), "item": f"?item={e['item_id']}",
                   "external id": e.get("external_id") or "", "actor": e["actor"], "action": e["action"],
                   "from": e["previous_state"].get("status"), "to": e["new_state"].get("status"),
                   "verdict": e["new_state"].get("verdict"), "reason": e["details"].get("reason_code"),
                   "note": e["details"].get("note") or e["details"].get("reason") or ""}
                  for e in entries], hide_index=True, width="stretch",
                 column_config={"item": st.column_config.LinkColumn("item", display_text=r"\?item=(.{8})")})


def _rate(value: float | None, of: int, none: str) -> str:
    return none if value is None else f"{value:.0%} of {of}"


def _estimate(value: dict) -> str:
    if value.get("estimate") is None:
        return "not enough labels"
    return f"{value['estimate']:.1%} [{value['ci_low']:.1%}, {value['ci_high']:.1%}]"


def _enforcement(client: ReviewApi) -> None:
    """What the live policy lets through, from the blind quality sample (GET /v1/stats/enforcement)."""
    try:
        report = client.enforcement()
    except ApiProblem as problem:
        st.caption(f"enforcement estimates unavailable: {problem.message}")
        return
    estimates, labelled = report["estimates"], sum(s["labelled"] for s in report["strata"].values())
    columns = st.columns(3)
    help_text = (f"95% interval; from {labelled} labelled items (blind quality sample and decided reviews), "
                 "weighted by their sampling probabilities. Harmful means a reviewer rejected it.")
    columns[0].metric("Harmful among allowed", _estimate(estimates["prevalence_allowed"]), help=help_text)
    columns[1].metric("Policy precision", _estimate(estimates["precision"]), help=help_text)
    columns[2].metric("Policy recall", _estimate(estimates["recall"]), help=help_text)


def stats_page(client: ReviewApi) -> None:
    import pandas as pd

    st.subheader("Statistics")
    try:
        stats = client.stats()
    except ApiProblem as problem:
        st.error(f"{problem.message} ({problem.code})")
        return
    agreement, between = stats["agreement"], stats.get("reviewer_agreement") or {}
    appeals, waits = stats.get("appeals") or {}, stats["time_to_decision_s"]
    decided = waits["count"]
    first, second = st.columns(3), st.columns(3)
    first[0].metric("Decisions", decided)
    first[1].metric("Median time to decision", render.age(waits["median"]) if waits["median"] is not None else "none yet",
                    help="From the item's creation to the verdict.")
    first[2].metric("Appeals overturned", _rate(appeals.get("overturn_rate"), appeals.get("decided", 0), "none decided"))
    second[0].metric("Reviewers agree (items decided twice)",
                     _rate(between.get("rate"), between.get("items_decided_twice", 0), "none decided twice"),
                     help="Items decided by two reviewers (a re-review or an appeal): how often the later verdict "
                          "repeats the earlier one.")
    sure = agreement.get("agree", 0) + agreement.get("disagree", 0)
    second[1].metric("Reviewers agree with the policy",
                     _rate(agreement.get("rate"), sure, "all sent to review" if decided else "no verdict yet"),
                     help="Only items where the policy itself decided (allow/block) before a person looked; the "
                          "others it sent to review without a verdict of its own.")
    _enforcement(client)
    throughput = stats.get("throughput") or {}
    rows = []
    for reviewer, counts in stats["per_reviewer"].items():
        seen = throughput.get(reviewer, {})
        rows.append({"reviewer": reviewer, "approve": counts.get("approve", 0), "reject": counts.get("reject", 0),
                     "decisions": seen.get("decisions", sum(counts.values())),
                     "median handling": render.age(seen.get("median_handling_s")),
                     "per hour": round(seen["per_hour"], 1) if seen.get("per_hour") is not None else None})
    left, right = st.columns(2)
    with left:
        st.markdown("**Throughput per reviewer**")
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch")
            # Long format: reviewer names (``user:alice``) stay values, never chart field names.
            long = pd.DataFrame([{"reviewer": r["reviewer"], "verdict": v, "count": r[v]}
                                 for r in rows for v in ("approve", "reject")])
            st.bar_chart(long, x="reviewer", y="count", color="verdict", height=220)
        else:
            st.caption("no verdict yet")
    with right:
        st.markdown("**Verdicts per queue**")
        queues = [{"queue": q, "verdict": v, "count": n} for q, counts in stats["per_queue"].items()
                  for v, n in counts.items()]
        if queues:
            st.bar_chart(pd.DataFrame(queues), x="queue", y="count", color="verdict", height=220)
        else:
            st.caption("no verdict yet")


def banks_page(client: ReviewApi) -> None:
    """HMA-style bank management and match debugging (admin scope)."""
    st.subheader("Banks")
    try:
        listing = client.banks()
    except ApiProblem as problem:
        st.error(f"{problem.message} ({problem.code})")
        return
    banks = listing["banks"]
    st.dataframe([{"bank": b["name"], "purpose": b.get("purpose"), "entries": b.get("entries"),
                   "thresholds": ", ".join(f"{k}≤{v}" for k, v in (b.get("thresholds") or {}).items()) or "defaults",
                   "description": b.get("description") or ""} for b in banks], hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        st.markdown("**Entries**")
        if banks:
            name = st.selectbox("Bank", [b["name"] for b in banks], key="bank_name")
            entries = client.bank_entries(name)
            st.dataframe([{"id": e["id"], "signal": e["signal_type"], "hash": e["hash"], "label": e.get("label") or ""}
                          for e in entries], hide_index=True, height=200)
            with st.form("add_entry", clear_on_submit=True):
                cols = st.columns([1, 2, 1])
                signal = cols[0].selectbox("Signal", ["pdq", "phash", "sha256", "text_sha256"])
                value = cols[1].text_input("Hash")
                label = cols[2].text_input("Label")
                if st.form_submit_button("Add entry"):
                    try:
                        client.add_bank_entry(name, signal, value.strip(), label.strip())
                        st.success("added")
                        st.rerun()
                    except ApiProblem as problem:
                        st.error(f"{problem.message} ({problem.code})")
            if entries:
                remove = st.selectbox("Remove entry", [e["id"] for e in entries], key="bank_remove")
                if st.button("Remove", key="bank_remove_button"):
                    try:
                        client.remove_bank_entry(name, remove)
                        st.rerun()
                    except ApiProblem as problem:
                        st.error(f"{problem.message} ({problem.code})")
    with right:
        st.markdown("**Test an image against the banks**")
        upload = st.file_uploader("Image", type=["png", "jpg", "jpeg", "webp", "gif"], key="bank_test")
        if upload is not None:
            try:
                found = client.bank_lookup_image(upload.getvalue())
            except ApiProblem as problem:
                st.error(f"{problem.message} ({problem.code})")
                return
            st.caption("hashes: " + ", ".join(f"{k}: {v[0] if v else ''}" for k, v in found.get("hashes", {}).items()))
            matches = found.get("matches") or []
            if matches:
                st.dataframe(matches, hide_index=True)
            else:
                st.info("No bank matches this image within its thresholds.")
