"""human review: claims with leases, verdicts, the audit log, appeals, reviewers, webhooks

Revision ID: 0004
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
WHO = sa.String(160)


def upgrade() -> None:
    with op.batch_alter_table("review_queue") as batch:
        batch.add_column(sa.Column("risk_score", sa.Float))
        batch.add_column(sa.Column("claimed_by", WHO))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("skipped_by", WHO))
        batch.add_column(sa.Column("verdict", sa.String(16)))
        batch.add_column(sa.Column("reason_code", sa.String(64)))
        batch.add_column(sa.Column("final_decision", sa.String(16)))
        batch.add_column(sa.Column("decided_by", WHO))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True)))
    op.create_index("ix_review_queue_claim_order", "review_queue", ["queue", "status", "priority", "enqueued_at"])

    op.create_table(
        "review_audit",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("actor", WHO, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("previous_state", sa.JSON, nullable=False),
        sa.Column("new_state", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("policy_sha256", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    for column in ("item_id", "actor", "action", "created_at"):
        op.create_index(f"ix_review_audit_{column}", "review_audit", [column])
    _make_append_only("review_audit")

    op.create_table(
        "review_verdict_keys",
        sa.Column("actor", WHO, primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "review_appeals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("moderation_items.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("client", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "review_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "review_user_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("client", sa.String(128), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String(128), nullable=False, index=True),
        sa.Column("item_id", sa.String(36), nullable=False, index=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("attempt_log", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sqlite_autoincrement=True,
    )


def _make_append_only(table: str) -> None:
    """The audit log can be added to, never changed: the database itself refuses."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$;""")
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
    elif op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS review_audit_append_only ON review_audit")
        op.execute("DROP FUNCTION IF EXISTS review_audit_append_only()")
    for table in ("webhook_deliveries", "webhook_endpoints", "review_user_tokens", "review_users",
                  "review_appeals", "review_verdict_keys", "review_audit"):
        op.drop_table(table)
    op.drop_index("ix_review_queue_claim_order", "review_queue")
    with op.batch_alter_table("review_queue") as batch:
        for column in ("decided_at", "decided_by", "final_decision", "reason_code", "verdict", "skipped_by",
                       "lease_expires_at", "claimed_at", "claimed_by", "risk_score"):
            batch.drop_column(column)
