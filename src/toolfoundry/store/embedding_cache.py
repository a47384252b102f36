"""Embeddings cached in the database by model and text hash, so a restart or a re-index does
not run the encoder again for texts it has seen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from toolfoundry.store.tables import EmbeddingRow

_CHUNK = 500  # keeps IN (...) lists and insert batches well inside driver limits


class DatabaseEmbeddingCache:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def load(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        async with self._sessions() as session:
            for start in range(0, len(hashes), _CHUNK):
                chunk = list(hashes[start : start + _CHUNK])
                rows = await session.execute(
                    select(EmbeddingRow.text_hash, EmbeddingRow.vector).where(
                        EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(chunk)
                    )
                )
                for text_hash, blob in rows:
                    found[text_hash] = np.frombuffer(blob, dtype=np.float32)
        return found

    async def save(self, model: str, items: Mapping[str, np.ndarray]) -> None:
        if not items:
            return
        values = [
            {"model": model, "text_hash": h, "vector": np.asarray(v, dtype=np.float32).tobytes()}
            for h, v in items.items()
        ]
        async with self._sessions() as session:
            dialect = session.bind.dialect.name if session.bind else "sqlite"
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            for start in range(0, len(values), _CHUNK):
                stmt = insert(EmbeddingRow).values(values[start : start + _CHUNK])
                # Another replica may have cached the same text meanwhile: same vector, keep it.
                await session.execute(stmt.on_conflict_do_nothing())
            await session.commit()
