"""Full MNIST training with the NumPy engine (slow: minutes per epoch on 2 shared cores)."""

from __future__ import annotations

import pytest

from cnnlab.scratch import train


@pytest.mark.slow
def test_numpy_lecture_cnn_reaches_98_percent_on_mnist():
    try:
        from cnnlab.scratch.data import mnist_path

        mnist_path()
    except ImportError as exc:
        pytest.skip(str(exc))
    lines = []
    result = train.train_mnist("lecture_cnn", epochs=3, threads=1, log=lines.append)
    assert result["test_accuracy"] >= 0.98, lines
    assert len(result["history"]) == 3 and lines[0].startswith("epoch 1/3  loss ")
