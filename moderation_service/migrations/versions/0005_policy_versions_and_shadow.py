"""policy version label and shadow decisions on moderation items

Revision ID: 0005
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_items") as batch:
        batch.add_column(sa.Column("policy_version", sa.String(64)))
        batch.add_column(sa.Column("shadow_policy_name", sa.String(128)))
        batch.add_column(sa.Column("shadow_policy_sha256", sa.String(64)))
        batch.add_column(sa.Column("shadow_decision", sa.String(16)))
        batch.add_column(sa.Column("shadow_reasons", sa.JSON))
    op.create_index("ix_moderation_items_surface_created", "moderation_items", ["surface", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_moderation_items_surface_created", "moderation_items")
    with op.batch_alter_table("moderation_items") as batch:
        for column in ("shadow_reasons", "shadow_decision", "shadow_policy_sha256", "shadow_policy_name",
                       "policy_version"):
            batch.drop_column(column)
