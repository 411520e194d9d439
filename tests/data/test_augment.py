"""Batched augmentation: exact shifts/rotations for known parameters, batch independence, reproducibility."""

from __future__ import annotations

import pytest
import torch

from cnnlab.data import RandomAffine, make_augment


def test_zero_parameters_are_the_identity():
    x = torch.rand(3, 1, 10, 10)
    out = RandomAffine(shift=0.0, degrees=0.0)(x, torch.Generator().manual_seed(0))
    assert torch.allclose(out, x, atol=1e-6)


def test_a_full_shift_moves_content_by_whole_pixels_with_zero_fill():
    x = torch.rand(1, 1, 10, 10)
    aug = RandomAffine(shift=0.1, degrees=0.0)  # 10% of 10 px = 1 px
    rand = torch.tensor([[0.5, 1.0, 0.5]])  # angle 0, tx = +max, ty = 0
    out = aug.apply(x, rand)
    expected = torch.zeros_like(x)
    expected[..., :-1] = x[..., 1:]  # sampling at x + 1 moves the content one pixel left
    assert torch.allclose(out, expected, atol=1e-6)


def test_a_90_degree_rotation_is_rot90():
    x = torch.rand(1, 2, 6, 6)
    out = RandomAffine(shift=0.0, degrees=90.0).apply(x, torch.tensor([[1.0, 0.5, 0.5]]))
    assert torch.allclose(out, torch.rot90(x, k=1, dims=(2, 3)), atol=1e-5) or \
        torch.allclose(out, torch.rot90(x, k=-1, dims=(2, 3)), atol=1e-5)


def test_batched_equals_one_by_one_and_the_generator_reproduces():
    x = torch.rand(5, 1, 12, 12)
    aug = RandomAffine()
    rand = aug.sample(5, torch.Generator().manual_seed(3))
    batched = aug.apply(x, rand)
    singles = torch.cat([aug.apply(x[i:i + 1], rand[i:i + 1]) for i in range(5)])
    assert torch.allclose(batched, singles, atol=1e-6)
    assert torch.equal(aug(x, torch.Generator().manual_seed(3)), batched)
    assert not torch.allclose(batched, x)


def test_make_augment_spec():
    assert make_augment(False) is None and make_augment(None) is None
    assert make_augment(True) == RandomAffine()
    with pytest.raises(TypeError, match="`augment` must be a bool or an augmenter with sample/apply .e.g. RandomAffine.; got str"):
        make_augment("yes")


def test_fit_takes_any_augmenter_with_sample_and_apply_on_non_image_data(tmp_path):
    from dataclasses import dataclass

    from cnnlab.data import Dataset, is_augmenter
    from cnnlab.errors import ConfigError
    from cnnlab.train import fit

    @dataclass
    class Flip:  # multiplies each vector by ±1: drawn in sample, applied in apply
        p: float = 0.5

        def sample(self, n, generator=None):
            return torch.rand(n, 1, generator=generator)

        def apply(self, x, rand):
            seen.append(rand.clone())
            return x * torch.where(rand < self.p, -1.0, 1.0).to(x)

    seen = []
    x = torch.randn(40, 6, generator=torch.Generator().manual_seed(0))
    y = (x[:, 0] > 0).long()
    ds = Dataset("vectors", x[:32], y[:32], x[32:], y[32:], x[:0], y[:0], classes=["neg", "pos"])
    assert is_augmenter(Flip()) and not is_augmenter(object())
    fit(torch.nn.Linear(6, 2), ds, epochs=2, batch_size=16, augment=Flip(), out=tmp_path / "run", progress=False,
        precision="fp32", device="cpu")
    assert len(seen) == 4 and all(r.shape == (16, 1) for r in seen)
    again = []
    seen, first = again, seen
    fit(torch.nn.Linear(6, 2), ds, epochs=2, batch_size=16, augment=Flip(), progress=False, precision="fp32",
        device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(first, again))  # the run's seed fixes every draw
    import json

    assert json.loads((tmp_path / "run" / "config.json").read_text())["fit"]["augment"] == {"p": 0.5}
    with pytest.raises(ConfigError, match="`augment` applies to images"):
        fit(torch.nn.Linear(6, 2), ds, epochs=1, augment=True, progress=False)
    with pytest.raises(ConfigError, match="pass the same one again as `augment=`"):
        make_augment({"p": 0.5})
