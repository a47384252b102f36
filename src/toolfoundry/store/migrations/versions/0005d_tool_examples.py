"""tool examples: natural-language requests a tool serves, joined to its discovery text

Revision ID: 0005d
Revises: 0005
Create Date: 2026-12-02 17:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005d"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.add_column(sa.Column("examples", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.drop_column("examples")
