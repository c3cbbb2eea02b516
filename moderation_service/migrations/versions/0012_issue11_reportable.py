"""reportable flag on moderation items (issue 11)

An item a rule marked `reportable` (sexualised minors) must be reported to the
authorities; the flag is stored with the decision and indexed so a reporting
workflow can list them.

Revision ID: 0012_i11
Revises: 0011_i15
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_i11"
down_revision = "0011_i15"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_items") as batch:
        batch.add_column(sa.Column("reportable", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_moderation_items_reportable", ["reportable"])


def downgrade() -> None:
    with op.batch_alter_table("moderation_items") as batch:
        batch.drop_index("ix_moderation_items_reportable")
        batch.drop_column("reportable")
