"""the other orientations of a bank entry's picture, for retro-hunt (issue 14)

Earlier items keep only their plain PDQ hash (eight per view would make the index 8x), so a
hunt for a new entry's hash missed a mirrored or rotated copy published before it. An entry
taken from a picture (a reviewer's reject) now keeps PDQ's seven flips and rotations of it,
and the hunt searches them too. Entries from hash lists have none (null).

Revision ID: 0014_i14
Revises: 0013_i14
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_i14"
down_revision = "0013_i14"
branch_labels = None
depends_on = "0003"  # hash_bank_entries, on a branch of its own after 0002


def upgrade() -> None:
    with op.batch_alter_table("hash_bank_entries") as batch:
        batch.add_column(sa.Column("variants", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hash_bank_entries") as batch:
        batch.drop_column("variants")
