"""Text CNN pieces of the builder: global 1-D pooling (Keras semantics) on token ids, and the layers package
layout (no import cycle; the old ``cnnlab.blocks`` path still works)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

import cnnlab
from cnnlab import spec
from cnnlab.errors import ConfigError, ShapeError
from cnnlab.layers import (Conv1D, Dense, Embedding, GlobalAveragePooling1D, GlobalMaxPooling1D, Sequential,
                           layer_from_config)

# Keras 3 reports, for Embedding(1000, 16) -> Conv1D(32, 3, relu) -> GlobalMaxPooling1D -> Dense(2) on 50 ids:
KERAS_SHAPES = [(None, 50, 16), (None, 48, 32), (None, 32), (None, 2)]  # channels last, batch axis first
KERAS_PARAMS = 1000 * 16 + (16 * 32 * 3 + 32) + (32 * 2 + 2)  # 16,000 + 1,568 + 66 = 17,634


def text_cnn(pool=GlobalMaxPooling1D, seed: int = 0, **pool_kw) -> Sequential:
    torch.manual_seed(seed)
    return Sequential([Embedding(1000, 16), Conv1D(32, 3, activation="relu"), pool(**pool_kw), Dense(2)],
                      input_shape=(50,))


def channels_last(shape):
    """Builder (C, L) -> Keras (None, L, C); (F,) -> (None, F)."""
    return (None,) + (tuple(shape[1:]) + (shape[0],) if len(shape) == 2 else tuple(shape))


@pytest.mark.parametrize("pool", [GlobalMaxPooling1D, GlobalAveragePooling1D])
def test_shapes_and_parameters_equal_keras(pool):
    m = text_cnn(pool)
    assert [r.output_shape for r in m.records] == [(16, 50), (32, 48), (32,), (2,)]
    assert [channels_last(r.output_shape) for r in m.records] == KERAS_SHAPES
    assert sum(p.numel() for p in m.parameters()) == KERAS_PARAMS == 17_634
    assert list(m._modules) == ["embedding", "embedding_transpose", "conv1d", "conv1d_relu", pool.kind,
                                f"{pool.kind}_flatten", "dense"]


@pytest.mark.parametrize("pool,reduce", [(GlobalMaxPooling1D, lambda t: t.amax(-1)),
                                         (GlobalAveragePooling1D, lambda t: t.mean(-1))])
def test_pooled_values_match_an_independent_forward(pool, reduce):
    m = text_cnn(pool).double().requires_grad_(False)
    ids = torch.randint(0, 1000, (5, 50), generator=torch.Generator().manual_seed(3))  # int64 token ids
    assert ids.dtype == torch.int64
    # (N, L) -> (N, L, D) -> (N, D, L), then the conv by hand from the weights
    x = F.embedding(ids, m.embedding.weight).transpose(1, 2)
    h = F.relu(F.conv1d(x, m.conv1d.weight, m.conv1d.bias))  # (N, 32, 48)
    pooled = reduce(h)  # (N, 32)
    assert torch.allclose(m[:6](ids), pooled, rtol=0, atol=1e-12)
    logits = pooled @ m.dense.weight.T + m.dense.bias
    assert torch.allclose(m(ids), logits, rtol=0, atol=1e-12)
    # every id row differs, so the pooled features do too (the pooling is not constant)
    assert float((pooled[0] - pooled[1]).abs().max()) > 1e-3


@pytest.mark.parametrize("pool,reduce", [(GlobalMaxPooling1D, torch.amax), (GlobalAveragePooling1D, torch.mean)])
def test_keepdims_keeps_the_step_axis(pool, reduce):
    m = Sequential([pool(keepdims=True)], input_shape=(4, 7))
    assert m.output_shape == (4, 1) and list(m._modules) == [pool.kind]
    x = torch.arange(2 * 4 * 7, dtype=torch.float64).reshape(2, 4, 7).sin()
    assert torch.allclose(m(x), reduce(x, dim=-1, keepdim=True), rtol=0, atol=1e-15)
    assert layer_from_config(pool(keepdims=True).to_config()).keepdims is True
    assert pool().to_config() == {"class": pool.__name__, "config": {"keepdims": False}}


def test_json_round_trip_rebuilds_the_model():
    m = text_cnn(GlobalMaxPooling1D, keepdims=False)
    desc = json.loads(json.dumps(spec.describe(m)))
    assert desc == spec.describe(m)
    assert desc["sequential"][2] == {"class": "GlobalMaxPooling1D", "config": {"keepdims": False}}
    again = spec.build(desc)
    assert [r.output_shape for r in again.records] == [r.output_shape for r in m.records]
    again.load_state_dict(m.state_dict())
    ids = torch.randint(0, 1000, (3, 50), generator=torch.Generator().manual_seed(4))
    assert torch.equal(again.eval()(ids), m.eval()(ids))
    assert spec.describe(again) == desc


def test_summary_feeds_token_ids_to_an_embedding_model():
    m = text_cnn()
    s = cnnlab.summary(m, (50,))
    assert s.total_params == KERAS_PARAMS
    # conv MACs = OL·F·C·K = 48·32·16·3; dense MACs = 32·2
    assert s.total_macs == 48 * 32 * 16 * 3 + 32 * 2
    assert s.layer("global_max_pooling1d_flatten").output_shape == [1, 32]
    assert "int64" in str(s)
    floats = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 3))  # no embedding: inputs stay float
    assert "float32" in str(cnnlab.summary(floats, (2, 9)))


def test_errors():
    with pytest.raises(ShapeError, match=r"expected an input \(C, L\); got 3 axes at layer 0 \(GlobalMaxPooling1D, "
                                         r"input 3×4×4\)"):
        Sequential([GlobalMaxPooling1D()], input_shape=(3, 4, 4))
    with pytest.raises(ConfigError, match=r"`keepdims` must be True or False; got 'yes' \(GlobalAveragePooling1D\)"):
        GlobalAveragePooling1D(keepdims="yes")


# ---------------------------------------------------------------------------------------------- package layout

LAYERS_DIR = Path(cnnlab.__file__).parent / "layers"
ORDER = ["modules", "core", "conv", "pool", "basic", "sequential", "blocks"]  # bottom up


def _cnnlab_imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cnnlab"):
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("cnnlab"))


def test_each_layers_module_imports_only_modules_below_it():
    assert sorted(p.stem for p in LAYERS_DIR.glob("*.py") if p.stem != "__init__") == sorted(ORDER)
    for i, stem in enumerate(ORDER):
        for mod in _cnnlab_imports(LAYERS_DIR / f"{stem}.py"):
            assert mod in ("cnnlab", "cnnlab.errors", "cnnlab.shapes") or (
                mod.startswith("cnnlab.layers.") and mod.split(".")[2] in ORDER[:i]), (stem, mod)
        assert len((LAYERS_DIR / f"{stem}.py").read_text().splitlines()) < 400, stem


def test_old_blocks_path_and_json_from_a_fresh_process():
    import cnnlab.blocks
    import cnnlab.layers.blocks

    assert cnnlab.blocks.ResidualBlock is cnnlab.layers.blocks.ResidualBlock is cnnlab.layers.ResidualBlock
    # importing only the registry module must still know the blocks (the package registers them first)
    code = ("from cnnlab.layers.core import layer_from_config as f; "
            "b = f({'class': 'ResidualBlock', 'config': {'layers': [{'class': 'Conv2D', 'config': "
            "{'filters': 2, 'kernel_size': 3, 'padding': 'same'}}]}}); print(type(b).__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "cnnlab.layers.blocks"
