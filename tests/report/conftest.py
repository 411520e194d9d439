"""A real run folder for the report tests: a small builder CNN trained for a few seconds on sklearn digits."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    import cnnlab
    from cnnlab.layers import Conv2D, Dense, Flatten, MaxPooling2D, Sequential

    model = Sequential([Conv2D(8, 3, padding="same", activation="relu"), MaxPooling2D(2),
                        Conv2D(16, 3, padding="same", activation="relu"), MaxPooling2D(2), Flatten(),
                        Dense(32, activation="relu"), Dense(10)], input_shape=(1, 8, 8))
    out = tmp_path_factory.mktemp("runs") / "digits-cnn"
    cnnlab.fit(model, "digits", epochs=8, lr=0.01, out=out, progress=False, seed=0)
    return out


@pytest.fixture(scope="session")
def digits_report(digits_run):
    from cnnlab.report import write_report

    return write_report(digits_run, steps=12, n_test=300, n_examples=3)
