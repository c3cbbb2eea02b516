"""The URL each webhook delivery was created for, so retries go there

Revision ID: 0010_i12
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_i12"
down_revision = "0004"  # the revision that created webhook_deliveries (main has several heads)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("url", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("url")
