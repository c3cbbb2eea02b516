"""Earlier items' image hashes on the banks' index; retro-hunt cursor

Revision ID: 0010_i14
Revises: 0009_i17
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_i14"
down_revision = "0009_i17"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    # One row per image hash an item carries (pHash and PDQ; an animated image may have several frames).
    # The id orders additions, so every process syncs them into the banks' index like bank entries.
    op.create_table(
        "item_hashes",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("moderation_items.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    # Earlier items' hashes, copied once so the index can load them at start-up.
    bind = op.get_bind()
    bind.execute(sa.text(
        "INSERT INTO item_hashes (item_id, signal_type, hash, created_at) "
        "SELECT id, 'phash', phash, created_at FROM moderation_items WHERE phash IS NOT NULL ORDER BY created_at"))
    # Retro-hunt: the highest bank entry id whose hunt has committed. The row is created at the first
    # start-up (moderation_service/retro_hunt.py) at the newest entry then: entries banked before this
    # upgrade are not hunted, so an upgrade never takes down old items unannounced.
    op.create_table(
        "retro_hunt_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("entry_id", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retro_hunt_cursor")
    op.drop_table("item_hashes")
