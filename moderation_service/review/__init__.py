"""Human review: a durable queue with leased claims, verdicts, an append-only audit
log, near-duplicate groups, appeals, signed webhooks and the labelled-data export."""
