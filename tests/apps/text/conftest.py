"""A tiny sentiment corpus written as CSV (and a few hundred MR lines) for the text training tests."""

from __future__ import annotations

import random

import pytest

POS = ["good", "great", "excellent", "wonderful", "moving", "funny"]
NEG = ["bad", "awful", "terrible", "boring", "dull", "lifeless"]
FILL = ["the", "film", "movie", "was", "story", "plot", "acting", "really", "quite", "and", "its", "cast"]


def make_sentences(n: int, seed: int = 0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = rng.sample(FILL, 5)
        words.insert(rng.randrange(6), rng.choice(POS if label else NEG))
        rows.append((" ".join(words), "positive" if label else "negative"))
    return rows


@pytest.fixture
def toy_csv(tmp_path):
    path = tmp_path / "toy.csv"
    lines = ["sentence,sentiment"] + [f"{t},{lab}" for t, lab in make_sentences(240)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def small_mr(tmp_path, monkeypatch):
    """The first 200 + 200 MR lines under a temporary $CNNLAB_DATA (skips when MR is absent)."""
    from cnnlab.data import store
    from cnnlab.errors import DataError

    try:
        src = store.require("mr")
    except DataError:
        pytest.skip("MR is not under $CNNLAB_DATA")
    dest = tmp_path / "data" / "mr"
    dest.mkdir(parents=True)
    for name in ("rt-polarity.pos", "rt-polarity.neg"):
        with open(src / name, encoding="utf-8") as fh:
            (dest / name).write_text("".join(fh.readline() for _ in range(200)), encoding="utf-8")
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path / "data"))
    return dest
