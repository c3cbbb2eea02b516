"""hash banks, their entries, and the change log processes sync from

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "hash_banks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("thresholds", sa.JSON, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hash_bank_entries",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("hash_banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(255)),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True)),
        sa.Column("quarantine_reason", sa.Text),
        sa.UniqueConstraint("bank_id", "signal_type", "hash", name="uq_bank_entries_hash"),
        sqlite_autoincrement=True,  # never reuse a removed id: processes sync by id
    )
    op.create_index("ix_hash_bank_entries_bank_id", "hash_bank_entries", ["bank_id"])
    op.create_table(
        "hash_bank_changes",
        sa.Column("seq", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("op", sa.String(24), nullable=False),
        sa.Column("bank_id", sa.Integer),
        sa.Column("entry_id", sa.BigInteger),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("hash_bank_changes")
    op.drop_table("hash_bank_entries")
    op.drop_table("hash_banks")
