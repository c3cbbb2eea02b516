"""candidate models: shadow scores and promotions

Revision ID: 0009_i17
Revises: 0008_i17
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_i17"
down_revision = "0008_i17"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "shadow_scores",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("moderation_items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("entry", sa.String(64), nullable=False),
        sa.Column("signal", sa.String(64), nullable=False),
        sa.Column("model", sa.JSON, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "entry", name="uq_shadow_scores_item_entry"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_shadow_scores_item_id", "shadow_scores", ["item_id"])
    op.create_index("ix_shadow_scores_entry", "shadow_scores", ["entry"])
    op.create_index("ix_shadow_scores_created_at", "shadow_scores", ["created_at"])
    op.create_table(
        "model_promotions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("signal", sa.String(64), nullable=False),
        sa.Column("entry", sa.String(64), nullable=False),
        sa.Column("model", sa.JSON),
        sa.Column("actor", sa.String(160), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("forced", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("report", sa.JSON),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_model_promotions_signal", "model_promotions", ["signal"])
    # The promotion log is the audit trail of which model decided when: the database refuses edits.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION model_promotions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                      BEGIN RAISE EXCEPTION 'model_promotions is append-only'; END $$;""")
        op.execute("CREATE TRIGGER model_promotions_append_only BEFORE UPDATE OR DELETE ON model_promotions "
                   "FOR EACH ROW EXECUTE FUNCTION model_promotions_append_only()")
    elif op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER model_promotions_no_{event.lower()} BEFORE {event} ON model_promotions "
                       "BEGIN SELECT RAISE(ABORT, 'model_promotions is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS model_promotions_append_only ON model_promotions")
        op.execute("DROP FUNCTION IF EXISTS model_promotions_append_only()")
    op.drop_table("model_promotions")
    op.drop_table("shadow_scores")
