"""purged_at for retention

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_items") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("moderation_items") as batch:
        batch.drop_column("purged_at")
