"""Review console: when an item was skipped (skipped items come back oldest skip first) and
per-reviewer preferences (blur strength)

Revision ID: 0011_i15
Revises: 0010_i14
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_i15"
down_revision = "0010_i14"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_queue") as batch:
        batch.add_column(sa.Column("skipped_at", sa.DateTime(timezone=True)))
    op.create_table(
        "reviewer_preferences",
        sa.Column("actor", sa.String(160), primary_key=True),
        sa.Column("blur_radius", sa.Integer),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reviewer_preferences")
    with op.batch_alter_table("review_queue") as batch:
        batch.drop_column("skipped_at")
