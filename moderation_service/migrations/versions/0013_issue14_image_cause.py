"""which of an item's image hashes carry its image decision (issue 14)

An animation blocked for one banked frame had every sampled frame's hash inherit the
block, so a later still of a benign frame (and everything near it, item after item) was
blocked too. A row now says whether its view caused the item's image decision; rows
from before are null and carry it, as they did.

Revision ID: 0013_i14
Revises: 0012_i11
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_i14"
down_revision = "0012_i11"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_hashes") as batch:
        batch.add_column(sa.Column("image_cause", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_hashes") as batch:
        batch.drop_column("image_cause")
