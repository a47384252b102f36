"""the catalog change feed, and the code hash that pins a function tool version

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005d"
branch_labels = None
depends_on = None

# PostgreSQL wakes followers at commit (NOTIFY is transactional); SQLite followers poll.
_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION toolfoundry_catalog_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('toolfoundry_catalog', NEW.id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER catalog_changes_notify AFTER INSERT ON catalog_changes
FOR EACH ROW EXECUTE FUNCTION toolfoundry_catalog_notify()
"""


def upgrade() -> None:
    op.create_table(
        "catalog_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("origin", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_catalog_changes_created_at", "catalog_changes", ["created_at"])
    with op.batch_alter_table("tool_versions") as batch:
        batch.add_column(sa.Column("code_hash", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_NOTIFY_FUNCTION)
        op.execute(_NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS catalog_changes_notify ON catalog_changes")
        op.execute("DROP FUNCTION IF EXISTS toolfoundry_catalog_notify()")
    with op.batch_alter_table("tool_versions") as batch:
        batch.drop_column("code_hash")
    op.drop_index("ix_catalog_changes_created_at", table_name="catalog_changes")
    op.drop_table("catalog_changes")
