"""Alembic environment: runs on the connection handed over by `store.database.upgrade`."""

from alembic import context

from toolfoundry.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Run migrations through `toolfoundry db upgrade`, which supplies the database connection."
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
