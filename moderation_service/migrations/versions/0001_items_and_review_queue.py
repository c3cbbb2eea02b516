"""moderation items and the review queue

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moderation_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("external_id", sa.String(255)),
        sa.Column("surface", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("policy_name", sa.String(128), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("prompt_redacted", sa.Text),
        sa.Column("prompt_raw", sa.Text),
        sa.Column("image_sha256", sa.String(64)),
        sa.Column("image_format", sa.String(16)),
        sa.Column("phash", sa.String(16)),
        sa.Column("dhash", sa.String(16)),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("model_versions", sa.JSON, nullable=False),
        sa.Column("timings_ms", sa.JSON, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
    )
    op.create_index("ix_moderation_items_external_id", "moderation_items", ["external_id"])
    op.create_index("ix_moderation_items_created_at", "moderation_items", ["created_at"])
    op.create_index("ix_moderation_items_image_sha256", "moderation_items", ["image_sha256"])
    op.create_index("ix_moderation_items_phash", "moderation_items", ["phash"])
    op.create_table(
        "review_queue",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(36),
                  sa.ForeignKey("moderation_items.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_queue_queue", "review_queue", ["queue"])
    op.create_index("ix_review_queue_status", "review_queue", ["status"])


def downgrade() -> None:
    op.drop_table("review_queue")
    op.drop_table("moderation_items")
