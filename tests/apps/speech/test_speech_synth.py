"""Synthesised digits: the expected files, 8 kHz mono, trainable through the FSDD layout."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from cnnlab.apps.speech import synth
from cnnlab.apps.speech.audio import load_clip, read_wav
from cnnlab.apps.speech.data import list_fsdd, split_clips
from cnnlab.cli.app import main
from cnnlab.errors import ConfigError, DataError

ESPEAK = shutil.which("espeak-ng")
FLITE = shutil.which("flite")


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng missing: apt-get install -y espeak-ng")
def test_espeak_writes_the_ten_digits_per_voice_rate_and_pitch(tmp_path):
    files = synth.synthesize(tmp_path, espeak_voices=("en-us", "en-us+f3"), flite_voices=(), rates=(150, 200),
                             pitches=(40,))
    names = sorted(p.name for p in files)
    assert names == sorted(f"{d}_espeak-{v}_{t}.wav" for d in range(10) for v in ("en-us", "en-us-f3") for t in (0, 1))
    for path in files[:3]:
        samples, sr = read_wav(path)
        assert sr == 8000 and samples.ndim == 1 and 0.2 * 8000 < len(samples) < 2 * 8000
        assert np.abs(samples).max() > 0.05
    # faster speech is shorter
    assert len(read_wav(tmp_path / "7_espeak-en-us_1.wav")[0]) < len(read_wav(tmp_path / "7_espeak-en-us_0.wav")[0])
    clips = list_fsdd(tmp_path)
    assert len(clips) == 40 and {c.speaker for c in clips} == {"espeak-en-us", "espeak-en-us-f3"}
    assert len(split_clips(clips, "speaker:espeak-en-us-f3")["test"]) == 20
    assert load_clip(files[0]).shape == (8000,)


@pytest.mark.skipif(FLITE is None, reason="flite missing: apt-get install -y flite")
def test_flite_and_the_cli(tmp_path, capsys):
    assert main(["speech", "synth", "--out", str(tmp_path), "--voices", "none", "--flite-voices", "kal",
                 "--rates", "175", "--pitches", "50"]) == 0
    assert "wrote 10 WAV files" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == sorted(f"{d}_flite-kal_0.wav" for d in range(10))
    assert read_wav(tmp_path / "3_flite-kal_0.wav")[1] == 8000


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng missing: apt-get install -y espeak-ng")
def test_bad_voices_and_grids(tmp_path):
    with pytest.raises(DataError, match="espeak-ng failed for voice 'xx-nope'"):
        synth.synthesize(tmp_path, espeak_voices=("xx-nope",), flite_voices=(), rates=(150,), pitches=(50,))
    with pytest.raises(ConfigError, match=r"`pitches` in 0..99; got \[150\], \[120\]"):
        synth.synthesize(tmp_path, rates=(150,), pitches=(120,))
