"""Keras 3 / TensorFlow side of the training-speed benchmarks, run by the Keras venv's own Python.

TensorFlow is not a cnnlab dependency (it would triple the venv); ``benchmarks/setup_keras.sh`` puts it
in ``benchmarks/.venv-keras`` and the benchmarks start this file there as a separate process. It never
imports torch or cnnlab: images come as a ``.npy`` file of N×1×28×28 float32 in [0, 1] plus labels.

Modes (one JSON object per line on stdout):
- ``serve``: build and compile the model, warm it up on two batches, then answer each ``epoch`` line read
  on stdin with ``{"seconds": ...}`` for one ``model.fit`` epoch over all images (so a parent can
  alternate Keras epochs with cnnlab epochs in one run); ``quit`` ends it.
- ``short``: a user's short run, set-up included: build, compile, one ``fit(epochs=E)`` call; prints
  ``{"seconds": ...}`` measured from before the model is built to after ``fit`` returns.

Usage: python _keras_worker.py MODE --data FILE.npz --model lecture_cnn|lenet5 [--threads 2] [--epochs 4]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def build(name: str):
    import keras
    from keras import layers

    if name == "lecture_cnn":
        body = [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"),
                layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"), layers.Flatten(),
                layers.Dense(64, activation="relu"), layers.Dense(10)]
    elif name == "lenet5":
        body = [layers.Conv2D(6, 5, padding="same", activation="relu"), layers.MaxPooling2D(2),
                layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                layers.Dense(120, activation="relu"), layers.Dense(84, activation="relu"), layers.Dense(10)]
    else:
        raise SystemExit(f"unknown model {name!r}; expected lecture_cnn or lenet5")
    model = keras.Sequential([keras.Input((28, 28, 1)), *body])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("serve", "short"))
    parser.add_argument("--data", required=True, help=".npz with x (N,1,28,28 float32) and y (N,) int")
    parser.add_argument("--model", default="lecture_cnn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    with np.load(args.data) as npz:
        x = np.ascontiguousarray(np.transpose(npz["x"], (0, 2, 3, 1)))  # Keras is channels-last
        y = npz["y"].astype("int64")
    info = {"tensorflow": tf.__version__, "keras": keras.__version__}
    if args.mode == "short":
        start = time.perf_counter()
        model = build(args.model)
        model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
        print(json.dumps({"seconds": time.perf_counter() - start, **info}), flush=True)
        return 0
    model = build(args.model)
    model.fit(x[:args.batch_size * 2], y[:args.batch_size * 2], batch_size=args.batch_size, epochs=1, verbose=0)
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
