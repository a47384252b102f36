import json

import httpx
import numpy as np

from toolfoundry.discovery import CachedEmbedder, InMemoryEmbeddingCache, OpenAIEmbedder


class _CountingEmbedder:
    name = "counting"
    dim = 2

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], np.float32)

    embed_query = embed


def test_cached_embedder_embeds_each_text_once() -> None:
    inner, cache = _CountingEmbedder(), InMemoryEmbeddingCache()
    cached = CachedEmbedder(inner, cache)
    first = cached.embed(["a", "bb", "a"])
    second = cached.embed(["bb", "ccc"])
    assert inner.seen == ["a", "bb", "ccc"]
    assert len(cache) == 3
    np.testing.assert_array_equal(first[1], second[0])


def test_openai_embedder_batches_orders_and_normalises() -> None:
    requests = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        requests.append(body)
        assert request.headers["authorization"] == "Bearer sk-test"
        data = [{"index": i, "embedding": [3.0, 4.0 + i]} for i in range(len(body["input"]))]
        return httpx.Response(200, json={"data": list(reversed(data))})

    client = httpx.Client(
        base_url="http://embed.test/v1",
        headers={"Authorization": "Bearer sk-test"},
        transport=httpx.MockTransport(handler),
    )
    emb = OpenAIEmbedder("text-embedding-3-small", api_key="sk-test", batch_size=2, client=client)
    vectors = emb.embed(["a", "b", "c"])
    assert [r["input"] for r in requests] == [["a", "b"], ["c"]]
    assert vectors.shape == (3, 2) and emb.dim == 2
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(vectors[0], [0.6, 0.8], rtol=1e-6)
