"""quality sampling: how a review entry was drawn and its inclusion probability

Revision ID: 0008_i17
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_i17"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_queue") as batch:
        batch.add_column(sa.Column("sampling", sa.String(16)))
        batch.add_column(sa.Column("sampling_probability", sa.Float))
    op.create_index("ix_review_queue_sampling_enqueued", "review_queue", ["sampling", "enqueued_at"])


def downgrade() -> None:
    op.drop_index("ix_review_queue_sampling_enqueued", "review_queue")
    with op.batch_alter_table("review_queue") as batch:
        batch.drop_column("sampling_probability")
        batch.drop_column("sampling")
