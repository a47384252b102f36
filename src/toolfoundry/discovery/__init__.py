"""Tool discovery: a hybrid (lexical + dense + toolkit + usage prior) retrieval index."""

from toolfoundry.discovery.bench import run_discovery_benchmark
from toolfoundry.discovery.documents import ToolDocument
from toolfoundry.discovery.embedders import (
    DEFAULT_EMBEDDER,
    CachedEmbedder,
    E5Embedder,
    Embedder,
    EmbeddingCache,
    InMemoryEmbeddingCache,
    MiniLMEmbedder,
    NullEmbedder,
    OpenAIEmbedder,
    StaticEmbedder,
    get_embedder,
)
from toolfoundry.discovery.index import HybridIndex, ScoredTool, Signals
from toolfoundry.discovery.tokenize import tokenize

__all__ = [
    "DEFAULT_EMBEDDER",
    "CachedEmbedder",
    "E5Embedder",
    "Embedder",
    "EmbeddingCache",
    "HybridIndex",
    "InMemoryEmbeddingCache",
    "MiniLMEmbedder",
    "NullEmbedder",
    "OpenAIEmbedder",
    "ScoredTool",
    "Signals",
    "StaticEmbedder",
    "ToolDocument",
    "get_embedder",
    "run_discovery_benchmark",
    "tokenize",
]
