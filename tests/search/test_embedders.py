"""The embedders on real SciFact abstracts and claims: the int8 ONNX model against sentence-transformers,
its export cache, the factory that reads the setting, and the static WordLlama model.

The ONNX export is made once for the whole run (tens of seconds), in a temporary data dir.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("onnxruntime")
pytest.importorskip("sentence_transformers")

from dailypapers.config import Settings  # noqa: E402
from dailypapers.errors import ConfigurationError, MissingExtraError  # noqa: E402
from dailypapers.search.embedders import (  # noqa: E402
    MINILM_NAME,
    OnnxMiniLMEmbedder,
    SentenceTransformerEmbedder,
    WordLlamaEmbedder,
    load_embedder,
    packaged_minilm_dir,
)
from dailypapers.search.embedders.onnx_export import MANIFEST_FILE, MODEL_FILE  # noqa: E402
from dailypapers.search.embedders.openvino_minilm import OpenVinoMiniLMEmbedder, cpu_has_bf16  # noqa: E402

SAMPLE_DOCS = 24
SAMPLE_QUERIES = 6


@dataclass(frozen=True)
class Sample:
    """A few real abstracts, and test claims whose cited abstracts are among them."""

    doc_ids: list[str]
    docs: list[str]
    queries: list[str]
    relevant: list[set[int]]  # positions in docs, per query


@pytest.fixture(scope="session")
def sample(shared_data: Path) -> Sample:
    folder = shared_data / "beir-scifact"
    qrels: dict[str, set[str]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, _score = line.split("\t")
        qrels.setdefault(query_id, set()).add(doc_id)
    query_ids = sorted(qrels, key=int)[:SAMPLE_QUERIES]
    wanted = {doc for q in query_ids for doc in qrels[q]}
    doc_ids: list[str] = []
    docs: list[str] = []
    with (folder / "corpus.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            if len(doc_ids) < SAMPLE_DOCS or record["_id"] in wanted:
                doc_ids.append(record["_id"])
                docs.append(f"{record['title']} {record['text']}")
    queries = {}
    with (folder / "queries.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            if record["_id"] in query_ids:
                queries[record["_id"]] = record["text"]
    return Sample(
        doc_ids=doc_ids,
        docs=docs,
        queries=[queries[q] for q in query_ids],
        relevant=[{doc_ids.index(d) for d in qrels[q]} for q in query_ids],
    )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def int8(data_dir: Path) -> OnnxMiniLMEmbedder:
    """The default embedder, exported into this run's data dir (the one slow step of this module)."""
    return OnnxMiniLMEmbedder(cache_dir=data_dir / "models")


@pytest.fixture(scope="session")
def reference() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(packaged_minilm_dir(), key=f"{MINILM_NAME}:st-fp32")


@pytest.fixture(scope="session")
def doc_vectors(
    sample: Sample, int8: OnnxMiniLMEmbedder, reference: SentenceTransformerEmbedder
) -> tuple[np.ndarray, np.ndarray]:
    return int8.embed_documents(sample.docs), reference.embed_documents(sample.docs)


def test_int8_vectors_agree_with_sentence_transformers(doc_vectors: tuple[np.ndarray, np.ndarray]) -> None:
    ours, theirs = doc_vectors
    assert ours.shape == theirs.shape == (len(ours), 384)
    assert ours.dtype == np.float32
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.98, cosines


def test_int8_ranks_relevant_abstracts_like_sentence_transformers(
    sample: Sample,
    doc_vectors: tuple[np.ndarray, np.ndarray],
    int8: OnnxMiniLMEmbedder,
    reference: SentenceTransformerEmbedder,
) -> None:
    ours, theirs = doc_vectors
    for query, relevant in zip(sample.queries, sample.relevant, strict=True):
        our_order = list(np.argsort(-(ours @ int8.embed_query(query))))
        their_order = list(np.argsort(-(theirs @ reference.embed_query(query))))
        assert [our_order.index(d) for d in relevant] == [their_order.index(d) for d in relevant], query
        assert our_order[:3] == their_order[:3], query


def test_rows_are_unit_length(doc_vectors: tuple[np.ndarray, np.ndarray], int8: OnnxMiniLMEmbedder) -> None:
    ours, _ = doc_vectors
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.linalg.norm(int8.embed_query("protein folding")) == pytest.approx(1.0, abs=1e-5)


def test_length_sorted_batches_keep_the_input_order(
    sample: Sample, doc_vectors: tuple[np.ndarray, np.ndarray], data_dir: Path
) -> None:
    ours, _ = doc_vectors
    permutation = list(range(len(sample.docs)))
    random.Random(7).shuffle(permutation)
    small_batches = OnnxMiniLMEmbedder(cache_dir=data_dir / "models", batch_size=5)
    shuffled = small_batches.embed_documents([sample.docs[i] for i in permutation])
    # Activations are quantised with one scale per batch, so other batch mates move a vector a little
    # (cosine ≥ 0.99): each row must be nearest the vector of its own text.
    similarity = shuffled @ ours.T
    assert list(similarity.argmax(axis=1)) == permutation
    assert similarity.max(axis=1).min() > 0.99


def test_progress_reports_every_batch(sample: Sample, data_dir: Path) -> None:
    embedder = OnnxMiniLMEmbedder(cache_dir=data_dir / "models", batch_size=8)
    calls: list[tuple[int, int]] = []
    embedder.embed_documents(sample.docs[:20], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(8, 20), (16, 20), (20, 20)]


def test_empty_and_very_long_texts(
    sample: Sample, int8: OnnxMiniLMEmbedder, reference: SentenceTransformerEmbedder
) -> None:
    long_text = " ".join(sample.docs)[:10_000]
    assert len(long_text.encode()) >= 10_000
    texts = ["", long_text, "   "]
    ours = int8.embed_documents(texts)
    assert ours.shape == (3, 384)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # Both stop reading at the model's 256 tokens, so the long text still gets sentence-transformers' vector.
    assert int8.max_tokens == 256
    assert float(ours[1] @ reference.embed_query(long_text)) >= 0.98
    assert int8.embed_documents([]).shape == (0, 384)


def test_a_second_load_reuses_the_export(int8: OnnxMiniLMEmbedder, data_dir: Path) -> None:
    model_file = int8.export.model_path
    written = model_file.stat().st_mtime_ns
    again = OnnxMiniLMEmbedder(cache_dir=data_dir / "models")
    assert again.export.exported is False
    assert again.export.model_path == model_file
    assert model_file.stat().st_mtime_ns == written
    manifest = json.loads((model_file.parent / MANIFEST_FILE).read_text())
    assert manifest["key"] == "all-MiniLM-L6-v2:onnx-int8"
    assert manifest["quantization"] == "int8"
    assert not [p.name for p in model_file.parent.parent.iterdir() if p.name.startswith(".")]


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A copy of the packaged model folder that a test may edit (the weights are linked, not copied)."""
    source = packaged_minilm_dir()
    copy = tmp_path / "minilm"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("model.safetensors"))
    (copy / "model.safetensors").symlink_to(source / "model.safetensors")
    return copy


@pytest.mark.slow
def test_a_changed_model_is_exported_again(
    int8: OnnxMiniLMEmbedder, model_copy: Path, tmp_path: Path, sample: Sample
) -> None:
    cache = tmp_path / "models"
    shutil.copytree(int8.export.folder, cache / int8.export.folder.name)

    unchanged = OnnxMiniLMEmbedder(cache_dir=cache, model_dir=model_copy)
    assert unchanged.export.exported is False

    config = json.loads((model_copy / "config.json").read_text())
    config["layer_norm_eps"] = 1e-6
    (model_copy / "config.json").write_text(json.dumps(config))
    changed = OnnxMiniLMEmbedder(cache_dir=cache, model_dir=model_copy)
    assert changed.export.exported is True
    assert changed.export.folder == unchanged.export.folder
    assert changed.export.manifest["source_checksum"] != int8.export.manifest["source_checksum"]
    assert json.loads((changed.export.folder / MANIFEST_FILE).read_text()) == changed.export.manifest
    assert (changed.export.folder / MODEL_FILE).stat().st_mtime_ns > (
        int8.export.folder / MODEL_FILE
    ).stat().st_mtime_ns
    assert changed.embed_query(sample.queries[0]).shape == (384,)


def test_load_embedder_maps_every_accepted_value(int8: OnnxMiniLMEmbedder, data_dir: Path) -> None:
    def load(value: str) -> object:
        return load_embedder(Settings(data_dir=data_dir, embedder=value, embed_batch_size=16))

    int8_loaded = load("minilm-int8")
    assert isinstance(int8_loaded, OnnxMiniLMEmbedder)
    assert (int8_loaded.key, int8_loaded.dim, int8_loaded.batch_size) == (
        "all-MiniLM-L6-v2:onnx-int8",
        384,
        16,
    )
    assert int8_loaded.export.exported is False  # the export made for this run's data dir

    default = load("minilm")
    if cpu_has_bf16():
        assert isinstance(default, OpenVinoMiniLMEmbedder) and default.key == "all-MiniLM-L6-v2:openvino-bf16"
    else:
        assert isinstance(default, OnnxMiniLMEmbedder) and default.key == "all-MiniLM-L6-v2:onnx-int8"

    fp32 = load("minilm-fp32")
    assert isinstance(fp32, SentenceTransformerEmbedder)
    assert (fp32.key, fp32.dim, fp32.max_tokens) == ("all-MiniLM-L6-v2:st-fp32", 384, 256)

    by_path = load(str(packaged_minilm_dir()))
    assert isinstance(by_path, SentenceTransformerEmbedder)
    assert by_path.key.startswith("model@") and by_path.key.endswith(":st-fp32")

    static = load("wordllama")
    assert isinstance(static, WordLlamaEmbedder)
    assert static.dim == 256


@pytest.mark.parametrize("value", ["bert", "MiniLM", "", "openai:text-embedding-3"])
def test_load_embedder_rejects_unknown_names(value: str, data_dir: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown embedder") as raised:
        load_embedder(Settings(data_dir=data_dir, embedder=value))
    message = str(raised.value)
    assert "\n" not in message
    for accepted in (
        "`minilm`",
        "`minilm-int8`",
        "`minilm-fp32`",
        "`wordllama`",
        "sentence-transformers model folder",
    ):
        assert accepted in message


def test_load_embedder_rejects_missing_and_non_model_folders(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_embedder(Settings(data_dir=data_dir, embedder=str(tmp_path / "no-such-model")))
    with pytest.raises(ConfigurationError, match="not a sentence-transformers model folder"):
        load_embedder(Settings(data_dir=data_dir, embedder=str(tmp_path)))


def test_a_missing_optional_package_gives_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    # A None entry in sys.modules makes ``import wordllama`` fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "wordllama", None)
    monkeypatch.delitem(sys.modules, "dailypapers.search.embedders.word_llama", raising=False)
    with pytest.raises(MissingExtraError, match=r"pip install 'dailypapers\[wordllama\]'"):
        load_embedder(Settings(data_dir=data_dir, embedder="wordllama"))


def test_wordllama_loads_offline_and_gives_256_d_unit_vectors(
    sample: Sample, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("wordllama")
    # An empty home: the weights must come from the package itself, not from a download cache.
    monkeypatch.setenv("HOME", str(tmp_path))
    embedder = WordLlamaEmbedder()
    assert (embedder.key, embedder.dim) == ("wordllama-l2_supercat-256:static", 256)
    vectors = embedder.embed_documents([*sample.docs, "x " * 5000])
    assert vectors.shape == (len(sample.docs) + 1, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # A text without tokens has no direction: the zero vector, never NaN.
    assert not embedder.embed_query("").any()
    # Still a semantic model: each claim is nearer its own cited abstract than the average abstract.
    for query, relevant in zip(sample.queries, sample.relevant, strict=True):
        scores = vectors[: len(sample.docs)] @ embedder.embed_query(query)
        assert max(scores[d] for d in relevant) > np.median(scores)


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bfloat16 arithmetic for OpenVINO")
def test_openvino_bf16_agrees_with_sentence_transformers(
    sample: Sample, data_dir: Path, doc_vectors: tuple[np.ndarray, np.ndarray]
) -> None:
    embedder = OpenVinoMiniLMEmbedder(cache_dir=data_dir / "models")
    ours = embedder.embed_documents(sample.docs)
    _, theirs = doc_vectors
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    query = embedder.embed_query(sample.queries[0])
    assert query.shape == (384,) and abs(float(np.linalg.norm(query)) - 1.0) < 1e-5


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bfloat16 arithmetic for OpenVINO")
def test_openvino_embeds_from_many_threads_at_once(sample: Sample, data_dir: Path) -> None:
    # The site embeds each search query in a worker thread of its own.
    embedder = OpenVinoMiniLMEmbedder(cache_dir=data_dir / "models")
    queries = sample.queries * 4
    alone = np.stack([embedder.embed_query(q) for q in queries])
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = np.stack(list(pool.map(embedder.embed_query, queries)))
    np.testing.assert_allclose(together, alone, atol=1e-6)
