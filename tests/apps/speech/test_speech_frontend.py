"""The log-mel front end against formulas computed independently in NumPy float64 (loops, the equations)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnlab.apps.speech.frontend import LogMel, hz_to_mel, mel_filterbank, mel_to_hz
from cnnlab.errors import ConfigError, ShapeError


# ------------------------------------------------------------------ the reference, written from the equations
def ref_hz_to_mel(f: float, scale: str) -> float:
    if scale == "htk":
        return 2595.0 * math.log10(1.0 + f / 700.0)
    return f / (200.0 / 3.0) if f < 1000.0 else 15.0 + math.log(f / 1000.0) * 27.0 / math.log(6.4)


def ref_mel_to_hz(m: float, scale: str) -> float:
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    return m * 200.0 / 3.0 if m < 15.0 else 1000.0 * math.exp((m - 15.0) * math.log(6.4) / 27.0)


def ref_filterbank(n_fft, sr, n_mels, fmin, fmax, scale, norm):
    lo, hi = ref_hz_to_mel(fmin, scale), ref_hz_to_mel(fmax, scale)
    edges = [ref_mel_to_hz(lo + (hi - lo) * i / (n_mels + 1), scale) for i in range(n_mels + 2)]
    fb = np.zeros((n_mels, n_fft // 2 + 1))
    for m in range(n_mels):
        left, centre, right = edges[m], edges[m + 1], edges[m + 2]
        for k in range(n_fft // 2 + 1):
            f = k * sr / n_fft
            if left < f <= centre:
                fb[m, k] = (f - left) / (centre - left)
            elif centre < f < right:
                fb[m, k] = (right - f) / (right - centre)
            if norm == "slaney":
                fb[m, k] *= 2.0 / (right - left)
    return fb, edges


def ref_logmel(x: np.ndarray, sr, n_fft, hop, n_mels, fmin, top_db):
    """Centred frames (zero padding), periodic Hann window, |rfft|², mel, dB relative to the max, floored."""
    window = np.array([0.5 - 0.5 * math.cos(2 * math.pi * n / n_fft) for n in range(n_fft)])
    padded = np.concatenate([np.zeros(n_fft // 2), x.astype(np.float64), np.zeros(n_fft // 2)])
    frames = 1 + len(x) // hop
    power = np.stack([np.abs(np.fft.rfft(padded[t * hop:t * hop + n_fft] * window)) ** 2 for t in range(frames)], 1)
    fb, _ = ref_filterbank(n_fft, sr, n_mels, fmin, sr / 2, "htk", "slaney")
    db = 10 * np.log10(np.maximum(fb @ power, 1e-10))
    db = np.maximum(db - db.max(), -top_db)
    return (db + top_db / 2) / (top_db / 2)


# ---------------------------------------------------------------------------------------------- mel scales
def test_mel_scales_golden_numbers():
    assert float(hz_to_mel(1000.0, "htk")) == pytest.approx(999.9855, abs=1e-4)  # 2595·log10(1 + 10/7)
    assert float(hz_to_mel(1000.0, "slaney")) == pytest.approx(15.0)
    assert float(hz_to_mel(6400.0, "slaney")) == pytest.approx(42.0)  # 15 + 27·ln(6.4)/ln(6.4)
    assert float(hz_to_mel(500.0, "slaney")) == pytest.approx(7.5)
    f = torch.tensor([0.0, 123.0, 999.0, 1000.0, 3999.0], dtype=torch.float64)
    for scale in ("htk", "slaney"):
        assert torch.allclose(mel_to_hz(hz_to_mel(f, scale), scale), f, atol=1e-9)


@pytest.mark.parametrize("scale", ["htk", "slaney"])
@pytest.mark.parametrize("norm", [None, "slaney"])
def test_filterbank_matches_the_formulas(scale, norm):
    fb = mel_filterbank(256, 8000, 40, 20.0, 4000.0, scale=scale, norm=norm)
    ref, _ = ref_filterbank(256, 8000, 40, 20.0, 4000.0, scale, norm)
    assert fb.shape == (40, 129)
    np.testing.assert_allclose(fb.numpy(), ref, rtol=1e-10, atol=1e-13)


def test_unnormalised_triangles_sum_to_one_between_the_outer_centres():
    fb = mel_filterbank(512, 8000, 24, 0.0, 4000.0, norm=None).numpy()
    _, edges = ref_filterbank(512, 8000, 24, 0.0, 4000.0, "htk", None)
    freqs = np.arange(257) * 8000 / 512
    inside = (freqs >= edges[1]) & (freqs <= edges[-2])
    np.testing.assert_allclose(fb[:, inside].sum(0), 1.0, atol=1e-12)


def test_slaney_norm_gives_unit_area_triangles():
    fb = mel_filterbank(8192, 8000, 10, 100.0, 4000.0, norm="slaney").numpy()
    area = fb.sum(1) * (8000 / 8192)  # Riemann sum over the bins, Hz
    np.testing.assert_allclose(area, 1.0, atol=2e-3)


def test_bad_filterbank_arguments():
    with pytest.raises(ConfigError, match="fmax ≤ 4000 Hz"):
        mel_filterbank(256, 8000, 40, 0.0, 5000.0)
    with pytest.raises(ConfigError, match="`scale` must be 'htk' or 'slaney'; got 'bark'"):
        mel_filterbank(256, 8000, 40, scale="bark")
    with pytest.raises(ShapeError, match=r"waveforms \(N, samples\); got shape \(8000,\)"):
        LogMel()(torch.zeros(8000))


# ------------------------------------------------------------------------------------------------- log-mel
def test_logmel_matches_a_float64_numpy_reference():
    rng = np.random.default_rng(0)
    t = np.arange(4000) / 8000
    x = (np.sin(2 * np.pi * 440 * t) * np.hanning(4000) + 0.05 * rng.standard_normal(4000)).astype(np.float32)
    ours = LogMel(sample_rate=8000, n_fft=256, hop_length=128, n_mels=40, fmin=20.0)(torch.from_numpy(x)[None])[0]
    ref = ref_logmel(x, 8000, 256, 128, 40, 20.0, 80.0)
    assert ours.shape == ref.shape == (40, 1 + 4000 // 128)
    np.testing.assert_allclose(ours.numpy(), ref, atol=2e-4)


@pytest.mark.parametrize("k", [3, 12, 25, 37])
def test_a_pure_tone_lands_in_the_mel_bin_centred_on_it(k):
    _, edges = ref_filterbank(256, 8000, 40, 20.0, 4000.0, "htk", "slaney")
    f = edges[k + 1]  # centre of filter k
    t = np.arange(8000) / 8000
    x = torch.from_numpy(np.sin(2 * np.pi * f * t).astype(np.float32))[None]
    front = LogMel(sample_rate=8000, n_mels=40, fmin=20.0)
    spectrum = front.mel(x)[0].mean(1)  # (n_mels,) mean over frames
    assert int(spectrum.argmax()) == k
    feats = front(x)[0, :, 5:-5]  # (n_mels, T) away from the edges
    assert torch.all(feats.argmax(0) == k)
    assert float(feats[k].max()) == pytest.approx(1.0, abs=1e-5)  # the loudest bin is 0 dB -> +1


def test_logmel_ignores_the_recording_level():
    x = torch.randn(2, 8000, generator=torch.Generator().manual_seed(1))
    front = LogMel()
    torch.testing.assert_close(front(x), front(0.01 * x), atol=1e-4, rtol=0)


@pytest.mark.parametrize("mode", ["mvn", "cmvn"])
def test_per_utterance_normalisation_matches_the_formulas(mode):
    rng = np.random.default_rng(2)
    t = np.arange(4000) / 8000
    x = (np.sin(2 * np.pi * 700 * t) * np.hanning(4000) + 0.05 * rng.standard_normal(4000)).astype(np.float32)
    ours = LogMel(fmin=20.0, utterance_norm=mode)(torch.from_numpy(x)[None])[0].numpy()
    db = ref_logmel(x, 8000, 256, 128, 40, 20.0, 80.0) * 40.0 - 40.0  # back to floored dB re the max
    axis = None if mode == "mvn" else 1
    ref = (db - db.mean(axis=axis, keepdims=True)) / db.std(axis=axis, ddof=1, keepdims=True)
    np.testing.assert_allclose(ours, ref, atol=2e-4)
    if mode == "cmvn":  # every band: mean 0, standard deviation 1 over the frames
        np.testing.assert_allclose(ours.mean(1), 0.0, atol=1e-5)
        np.testing.assert_allclose(ours.std(1, ddof=1), 1.0, atol=1e-4)
    with pytest.raises(ConfigError, match="`utterance_norm` must be one of max, mvn, cmvn; got 'pcen'"):
        LogMel(utterance_norm="pcen")
