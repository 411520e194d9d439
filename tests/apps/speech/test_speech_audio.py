"""WAV loading and clip preparation: documented conversions and one-line errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.apps.speech import audio
from cnnlab.errors import DataError

sf = pytest.importorskip("soundfile", reason="pip install soundfile")


def tone(freq: float, seconds: float, sr: int) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(int(round(seconds * sr))) / sr).astype(np.float32)


def test_resample_a_tone_from_44100_to_8000_hz_is_exact():
    x = tone(1000.0, 0.5, 44100)  # 500 whole periods: the clip is periodic
    y = audio.resample(x, 44100, 8000)
    assert y.shape == (4000,)
    np.testing.assert_allclose(y, tone(1000.0, 0.5, 8000), atol=1e-4)


def test_resample_up_and_drop_what_the_new_rate_cannot_hold():
    np.testing.assert_allclose(audio.resample(tone(500.0, 0.25, 8000), 8000, 16000), tone(500.0, 0.25, 16000),
                               atol=1e-4)
    high = audio.resample(tone(6000.0, 0.5, 44100), 44100, 8000)  # above the new Nyquist (4 kHz)
    assert np.sqrt(np.mean(high ** 2)) < 1e-4
    with pytest.raises(DataError, match="sample rates must be positive; got 0 Hz -> 8000 Hz"):
        audio.resample(np.ones(10), 0, 8000)


def test_trim_removes_the_silence_around_a_sound():
    x = np.concatenate([np.zeros(4000), tone(440.0, 0.25, 8000), np.zeros(3000)]).astype(np.float32)
    y = audio.trim(x, top_db=40)
    assert 2000 <= len(y) <= 2000 + 2 * 256  # the tone plus at most one frame on each side
    assert np.abs(y[:64]).max() < 1.0 and np.abs(y).max() == pytest.approx(1.0, abs=1e-3)


def test_fix_length_centres_pads_and_crops():
    np.testing.assert_array_equal(audio.fix_length(np.array([1, 2], np.float32), 6), [0, 0, 1, 2, 0, 0])
    np.testing.assert_array_equal(audio.fix_length(np.arange(7, dtype=np.float32), 3), [2, 3, 4])


def test_a_stereo_44100_hz_file_is_averaged_and_resampled(tmp_path):
    left, right = tone(1000.0, 0.5, 44100), np.zeros(22050, np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], 1), 44100, subtype="FLOAT")
    samples, sr = audio.read_wav(path)
    assert (samples.shape, sr) == ((22050, 2), 44100)
    clip = audio.load_clip(path, top_db=0)  # no trimming: the whole half second, centred in 1 s
    assert clip.shape == (8000,)
    expected = audio.fix_length(tone(1000.0, 0.5, 8000) / 2, 8000)
    np.testing.assert_allclose(clip, expected / np.abs(expected).max(), atol=2e-3)


def test_a_0_1_s_clip_is_zero_padded_to_the_window(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, 0.3 * tone(700.0, 0.1, 8000), 8000, subtype="PCM_16")
    clip = audio.load_clip(path)
    nonzero = np.nonzero(clip)[0]
    assert clip.shape == (8000,) and np.abs(clip).max() == pytest.approx(1.0)
    assert nonzero[0] >= 3550 and nonzero[-1] <= 4450  # ≤ 800 samples in the middle


@pytest.mark.parametrize("content, message", [
    (b"", "not a readable audio file"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt garbage bytes", "not a readable audio file"),
])
def test_corrupt_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        audio.load_clip(path)
    assert "\n" not in str(err.value) and "bad.wav" in str(err.value)


def test_empty_silent_and_missing_files(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 8000)
    with pytest.raises(DataError, match=r"empty.wav` holds no audio samples \(an empty file\)"):
        audio.load_clip(empty)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(800, np.float32), 8000)
    with pytest.raises(DataError, match=r"silent.wav`: the clip is silent \(all samples are zero\)"):
        audio.load_clip(silent)
    with pytest.raises(DataError, match="nope.wav` does not exist"):
        audio.load_clip(tmp_path / "nope.wav")
