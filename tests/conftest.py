"""Shared test set-up: one torch thread per worker (2 cores shared by 2 xdist workers), fixed seeds."""

from __future__ import annotations

import os
import random
import tempfile

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# the precision/layout probe's disk cache: one fresh folder per test process, never the user's ~/.cache
os.environ["CNNLAB_CACHE"] = tempfile.mkdtemp(prefix="cnnlab-test-cache-")


def pytest_configure(config):
    import torch

    # Two xdist workers on two cores: one thread each degrades gracefully under contention.
    if os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("CNNLAB_TEST_THREADS"):
        torch.set_num_threads(int(os.environ.get("CNNLAB_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def _seed():
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
