"""Residual, inception and concatenation blocks: shapes, parameters, numerics against hand-written torch."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from cnnlab.blocks import Branches, Concatenate, InceptionModule, Residual, ResidualBlock
from cnnlab.errors import ConfigError, ShapeError
from cnnlab.layers import BatchNormalization, Conv2D, Dense, Flatten, GlobalAveragePooling2D, MaxPooling2D, Sequential


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_identity_residual_block_numerics():
    m = Sequential([ResidualBlock([Conv2D(4, 3, padding="same", activation="relu"), Conv2D(4, 3, padding="same")])],
                   input_shape=(4, 6, 6)).double()
    block = m.residual_block
    assert type(block) is Residual and type(block.shortcut) is nn.Identity and m.output_shape == (4, 6, 6)
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    c1, c2 = block.body.conv2d, block.body.conv2d_1
    ref = F.relu(F.conv2d(F.relu(F.conv2d(x, c1.weight, c1.bias, padding=1)), c2.weight, c2.bias, padding=1) + x)
    torch.testing.assert_close(m(x), ref)


def test_projection_residual_block_matches_resnet_downsampling():
    body = [Conv2D(8, 3, strides=2, padding=1, use_bias=False), BatchNormalization(), Conv2D(8, 3, padding=1)]
    m = Sequential([ResidualBlock(body, shortcut_batchnorm=True)], input_shape=(4, 8, 8)).eval()
    proj = m.residual_block.shortcut
    assert m.output_shape == (8, 4, 4)
    assert type(proj[0]) is nn.Conv2d and proj[0].stride == (2, 2) and proj[0].kernel_size == (1, 1)
    assert proj[0].bias is None and type(proj[1]) is nn.BatchNorm2d
    # parameters: body 4·8·9 + 2·8 (BN) + 8·8·9 + 8, shortcut 4·8 + 2·8
    assert n_params(m) == 288 + 16 + 584 + 32 + 16
    x = torch.randn(1, 4, 8, 8)
    torch.testing.assert_close(m(x), F.relu(m.residual_block.body(x) + proj(x)))


def test_inception_module_googlenet_3a():
    m = Sequential([InceptionModule(64, 96, 128, 16, 32, 32)], input_shape=(192, 28, 28))
    assert m.output_shape == (256, 28, 28)
    # Szegedy et al. Table 1, inception (3a): 1×1 64; 3×3 reduce 96, 3×3 128; 5×5 reduce 16, 5×5 32; pool proj 32
    expected = (192 * 64 + 64) + (192 * 96 + 96) + (96 * 128 * 9 + 128) + (192 * 16 + 16) + (16 * 32 * 25 + 32) \
        + (192 * 32 + 32)
    assert n_params(m) == expected
    b3 = m.inception_module.branch3
    assert b3.conv2d_1.kernel_size == (5, 5) and b3.conv2d_1.padding == (2, 2)


def test_concatenate_numerics():
    m = Sequential([Concatenate([[Conv2D(2, 1)], [Conv2D(3, 3, padding="same")], [MaxPooling2D(3, strides=1, padding=1)]]),
                    GlobalAveragePooling2D(), Dense(2)], input_shape=(4, 5, 5))
    cat = m.concatenate
    assert type(cat) is Branches and m.records[0].output_shape == (9, 5, 5)
    x = torch.randn(2, 4, 5, 5)
    ref = torch.cat([cat.branch1(x), cat.branch2(x), F.max_pool2d(x, 3, 1, 1)], dim=1)
    torch.testing.assert_close(cat(x), ref)


def test_block_errors():
    with pytest.raises(ConfigError, match=r"`layers` must be a non-empty list of cnnlab layers; got \[\] \(ResidualBlock\)"):
        ResidualBlock([])
    with pytest.raises(ConfigError, match=r"`shortcut` must be \"auto\", \"identity\" or \"projection\"; got 'none'"):
        ResidualBlock([Conv2D(4, 1)], shortcut="none")
    with pytest.raises(ShapeError, match=r"an identity shortcut needs the body to keep the shape; body gives 8×4×4 "
                                         r"at layer 1 \(ResidualBlock, input 4×4×4\)"):
        Sequential([Conv2D(4, 1), ResidualBlock([Conv2D(8, 1)], shortcut="identity")], input_shape=(4, 4, 4))
    with pytest.raises(ShapeError, match=r"the projection shortcut cannot map 4×4 to 3×3 with a strided 1×1 conv at layer 0"):
        Sequential([ResidualBlock([Conv2D(4, 2)])], input_shape=(4, 4, 4))
    with pytest.raises(ShapeError, match=r"the residual body must end with a \(C, H, W\) map; got 64"):
        Sequential([ResidualBlock([Flatten()])], input_shape=(4, 4, 4))
    with pytest.raises(ShapeError, match=r"expected an input \(C, H, W\); got 1 axes at layer 1 \(ResidualBlock"):
        Sequential([Flatten(), ResidualBlock([Dense(4)])], input_shape=(4, 1, 1))
    with pytest.raises(ShapeError, match=r"`kernel_size` 5×5 is larger than the input 4×4 \(with padding\) at layer 0.0 "
                                         r"\(Conv2D in ResidualBlock, input 4×4×4\)"):
        Sequential([ResidualBlock([Conv2D(4, 5)])], input_shape=(4, 4, 4))
    with pytest.raises(ConfigError, match=r"`branches` must be a non-empty list of layer lists; got \[\]"):
        Concatenate([])
    with pytest.raises(ConfigError, match=r"`branches\[1\]` must be a non-empty list of cnnlab layers"):
        Concatenate([[Conv2D(2, 1)], Conv2D(2, 1)])
    with pytest.raises(ShapeError, match=r"branches must give maps of the same spatial size to concatenate; got 2×5×5, "
                                         r"2×3×3 at layer 0 \(Concatenate"):
        Sequential([Concatenate([[Conv2D(2, 1)], [Conv2D(2, 3)]])], input_shape=(1, 5, 5))
    with pytest.raises(ShapeError, match=r"expected an input \(C, H, W\) or \(C, L\); got 1 axes"):
        Sequential([Concatenate([[Dense(2)]])], input_shape=(3,))
    with pytest.raises(ShapeError, match=r"`kernel_size` 3×3 is larger than the input 2×2 \(with padding\) at layer 0.1.1 "
                                         r"\(Conv2D in Concatenate, input 2×2×2\)"):
        Sequential([Concatenate([[Conv2D(1, 1)], [Conv2D(2, 1), Conv2D(1, 3)]])], input_shape=(3, 2, 2))
    with pytest.raises(ConfigError, match=r"`pool_proj` must be a positive int; got 0 \(InceptionModule\)"):
        InceptionModule(1, 1, 1, 1, 1, 0)
