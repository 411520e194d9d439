"""Speech augmentation against hand-computed cases: SNR measured back, shifted impulses, tone frequencies
after a speed change or a frequency warp, masks on exactly the right bins; reproducible and resumable in fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnlab.apps.speech.augment import SpeechAugment, add_noise, mask, speed_shift, warp_frequency
from cnnlab.apps.speech.frontend import LogMel
from cnnlab.errors import ConfigError, ShapeError

SR = 8000


def _tone(freq, n=8000, sr=SR):
    return torch.sin(2 * math.pi * freq * torch.arange(n, dtype=torch.float64) / sr).float()


def _peak_hz(x: np.ndarray, sr=SR, pad=16) -> float:
    """Frequency of the largest peak of a Hann-windowed, zero-padded FFT (resolution sr / (pad · len))."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=pad * len(x)))
    return float(np.argmax(spec) * sr / (pad * len(x)))


def test_noise_is_added_at_the_requested_snr_and_colour():
    x = torch.stack([_tone(440), 0.1 * _tone(1000), _tone(300)])
    snr = torch.tensor([0.0, 10.0, 25.0])
    y = add_noise(x, snr, torch.tensor([0.0, 1.0, 2.0]), torch.Generator().manual_seed(0))
    noise = (y - x).double()
    measured = 10 * torch.log10(x.double().square().sum(1) / noise.square().sum(1))
    torch.testing.assert_close(measured, snr.double(), atol=1e-4, rtol=0)
    # colour: white noise has a flat spectrum, brown (β = 2) falls 6 dB per octave in power ∝ f^-2
    white = add_noise(torch.ones(200, 4096) * 1e-3, torch.zeros(200), torch.zeros(200), torch.Generator().manual_seed(1))
    brown = add_noise(torch.ones(200, 4096) * 1e-3, torch.zeros(200), torch.full((200,), 2.0),
                      torch.Generator().manual_seed(1))
    pw = torch.fft.rfft(white.double() - 1e-3, dim=1).abs().square().mean(0)
    pb = torch.fft.rfft(brown.double() - 1e-3, dim=1).abs().square().mean(0)
    assert float(pw[100:200].mean() / pw[400:800].mean()) == pytest.approx(1.0, rel=0.1)
    # mean of f^-2 over [100, 200) / over [400, 800) = ((1/100 - 1/200) / 100) / ((1/400 - 1/800) / 400) = 16
    assert float(pb[100:200].mean() / pb[400:800].mean()) == pytest.approx(16.0, rel=0.15)
    off = add_noise(x, snr, torch.zeros(3), torch.Generator().manual_seed(0), active=torch.tensor([True, False, True]))
    assert torch.equal(off[1], x[1]) and not torch.equal(off[0], x[0])


def test_a_time_shift_moves_an_impulse_by_the_shift():
    x = torch.zeros(3, 100)
    x[:, 40] = 1.0
    y = speed_shift(x, torch.ones(3), torch.tensor([7.0, -12.0, 2.5]))
    assert int(y[0].argmax()) == 47 and float(y[0, 47]) == 1.0 and float(y[0].sum()) == 1.0
    assert int(y[1].argmax()) == 28 and float(y[1, 28]) == 1.0
    # a half-sample delay splits the impulse between its two neighbours (linear interpolation)
    assert (float(y[2, 42]), float(y[2, 43])) == (0.5, 0.5) and float(y[2].sum()) == 1.0
    # shifted out of the window: nothing wraps around
    assert float(speed_shift(x, torch.ones(1), torch.tensor([70.0]))[0].abs().sum()) == 0.0


def test_a_speed_change_moves_a_pure_tone_by_the_factor_and_keeps_the_centre():
    x = torch.stack([_tone(500), _tone(500), _tone(1200)])
    speed = torch.tensor([1.0, 1.1, 0.9])
    y = speed_shift(x, speed, torch.zeros(3)).numpy()
    mid = slice(1000, 7000)  # away from the zero-filled edges of the slowed-down clip
    assert _peak_hz(y[0, mid]) == pytest.approx(500, abs=1)
    assert _peak_hz(y[1, mid]) == pytest.approx(550, abs=1)
    assert _peak_hz(y[2, mid]) == pytest.approx(1080, abs=1)
    imp = torch.zeros(1, 101)
    imp[0, 50] = 1.0  # the centre sample (L - 1) / 2 stays where it is under any speed
    assert torch.equal(speed_shift(imp, torch.tensor([1.3]), torch.zeros(1)), imp)


def test_frequency_warp_moves_a_spectral_peak_and_keeps_the_frames():
    power = torch.zeros(2, 129, 5)
    power[:, 20, :] = 1.0
    out = warp_frequency(power, torch.tensor([1.5, 1.0]))
    assert int(out[0, :, 3].argmax()) == 30 and float(out[0, 30, 3]) == 1.0
    torch.testing.assert_close(out[1], power[1], rtol=0, atol=0)
    # a warped tone through the front end lands where a tone at a·f does
    fe = LogMel()
    tone = _tone(1000)[None]
    warped = fe.from_power(warp_frequency(fe.power(tone), torch.tensor([1.2])))
    assert int(warped.mean(2).argmax()) == int(fe(_tone(1200)[None]).mean(2).argmax())


def test_masks_set_exactly_the_chosen_bins():
    z = torch.randn(2, 40, 63)
    out = mask(z, torch.tensor([[3, 30], [0, 0]]), torch.tensor([[2, 4], [0, 0]]), dim=1, value=0.0)
    hit = torch.zeros(40, dtype=torch.bool)
    hit[[3, 4, 30, 31, 32, 33]] = True
    assert torch.equal(out[0][hit], torch.zeros(6, 63)) and torch.equal(out[0][~hit], z[0][~hit])
    assert torch.equal(out[1], z[1])  # width 0: no mask
    out = mask(z, torch.tensor([[60], [10]]), torch.tensor([[8], [1]]), dim=2, value=-1.0)
    assert torch.equal(out[0, :, 60:], torch.full((40, 3), -1.0)) and torch.equal(out[0, :, :60], z[0, :, :60])
    assert torch.equal(out[1, :, 10], torch.full((40,), -1.0)) and torch.equal(out[1, :, 11:], z[1, :, 11:])


def test_apply_with_hand_picked_random_numbers():
    fe = LogMel()
    aug = SpeechAugment(speed=None, shift=0.0, snr=None, warp=None, freq_masks=1, freq_width=5, time_masks=1,
                        time_width=8).bind(fe)
    x = torch.randn(1, 8000)
    rand = torch.zeros(1, 7 + 4)
    rand[0, 7], rand[0, 8] = 0.5, 0.25  # freq width floor(0.5 · 6) = 3; start floor(0.25 · (40 − 3 + 1)) = 9
    rand[0, 9], rand[0, 10] = 0.99, 0.0  # time width floor(0.99 · 9) = 8; start 0
    out, ref = aug.apply(x, rand)[0], fe(x)[0]
    hit = torch.zeros(40, 63, dtype=torch.bool)
    hit[9:12, :] = True
    hit[:, 0:8] = True
    assert torch.equal(out[hit], torch.zeros(int(hit.sum()))) and torch.equal(out[~hit], ref[~hit])
    # everything off: exactly the front end's features
    none = SpeechAugment(speed=None, shift=0.0, snr=None, warp=None, freq_masks=0, time_masks=0).bind(fe)
    torch.testing.assert_close(none(x, torch.Generator().manual_seed(0))[0], ref, rtol=0, atol=0)


def test_sampled_augmentation_is_reproducible_and_batch_independent_of_python_loops():
    fe = LogMel()
    aug = SpeechAugment().bind(fe)
    x = torch.randn(6, 8000)
    a = aug(x, torch.Generator().manual_seed(5))
    b = aug(x, torch.Generator().manual_seed(5))
    c = aug(x, torch.Generator().manual_seed(6))
    assert a.shape == (6, 40, 63) and torch.equal(a, b) and not torch.equal(a, c)
    waves = SpeechAugment(warp=None, freq_masks=0, time_masks=0)(x, torch.Generator().manual_seed(0))
    assert waves.shape == (6, 8000)


def test_bad_options_are_one_line_errors():
    with pytest.raises(ConfigError, match="`speed` must satisfy 0.25 ≤ low ≤ high ≤ 4; got"):
        SpeechAugment(speed=(1.2, 0.9))
    with pytest.raises(ConfigError, match="`snr` must be a .low, high. pair or None; got 5"):
        SpeechAugment(snr=5)
    with pytest.raises(ConfigError, match="`time_masks` must be an integer ≥ 0; got -1"):
        SpeechAugment(time_masks=-1)
    with pytest.raises(ConfigError, match="need the front end"):
        SpeechAugment()(torch.zeros(2, 100))
    with pytest.raises(ShapeError, match="takes waveforms .N, samples.; got shape .2, 40, 63."):
        SpeechAugment().bind(LogMel())(torch.zeros(2, 40, 63))


def test_fit_with_speech_augmentation_resumes_to_the_uninterrupted_run(tmp_path):
    from cnnlab import zoo
    from cnnlab.data import Dataset
    from cnnlab.train import Callback, fit
    from cnnlab.train.checkpoint import load_weights

    g = torch.Generator().manual_seed(0)
    y = torch.arange(40) % 10
    x = torch.stack([_tone(300 + 300 * int(d)) for d in y]) * (0.5 + torch.rand(40, 1, generator=g))
    ds = Dataset("tones", x[:30], y[:30], x[30:], y[30:], x[:0], y[:0], classes=[str(d) for d in range(10)])

    def run(out, callbacks=(), resume=False):
        torch.manual_seed(0)
        net = zoo.create("speech_dnn", utterance_norm="mvn")
        opts = dict(epochs=2, batch_size=8, lr=3e-3, precision="fp32", layout="nchw", device="cpu",
                    deterministic=True, checkpoint_every=2, progress=False,
                    augment=SpeechAugment().bind(net.frontend))
        if resume:
            return fit(net, ds, resume=out, **opts)
        return fit(net, ds, out=out, callbacks=list(callbacks), **opts)

    class Stop(Callback):
        def on_step_end(self, state):
            if state.global_step == 5:
                raise KeyboardInterrupt

    run(tmp_path / "full")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "part", [Stop()])
    run(tmp_path / "part", resume=True)
    a, b = load_weights(tmp_path / "full" / "weights.safetensors"), load_weights(tmp_path / "part" / "weights.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ConfigError, match="`augment`=.* differs from the run being resumed"):
        net = zoo.create("speech_dnn", utterance_norm="mvn")
        fit(net, ds, resume=tmp_path / "part", epochs=2, augment=SpeechAugment(snr=None).bind(net.frontend))
