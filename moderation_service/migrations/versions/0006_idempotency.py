"""client and idempotency key on moderation items

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_items") as batch:
        batch.add_column(sa.Column("client", sa.String(128)))
        batch.add_column(sa.Column("idempotency_key", sa.String(128)))
        batch.add_column(sa.Column("request_sha256", sa.String(64)))
        batch.create_unique_constraint("uq_items_client_idempotency_key", ["client", "idempotency_key"])
    op.create_index("ix_moderation_items_client", "moderation_items", ["client"])


def downgrade() -> None:
    op.drop_index("ix_moderation_items_client", "moderation_items")
    with op.batch_alter_table("moderation_items") as batch:
        batch.drop_constraint("uq_items_client_idempotency_key", type_="unique")
        for column in ("request_sha256", "idempotency_key", "client"):
            batch.drop_column(column)
