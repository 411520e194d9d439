"""Synthesised spoken digits with espeak-ng and flite (Debian packages; both write a WAV to stdout).

Each utterance is resampled to 8 kHz mono 16-bit (:func:`~.audio.resample`) and written atomically as
``{digit}_{speaker}_{take}.wav``, the FSDD layout, so ``cnnlab speech train --data DIR`` trains on it and
``--split speaker:NAME`` holds out one synthetic voice. ``speaker`` is ``espeak-<voice>`` or
``flite-<voice>`` (``+``/``_`` in the voice name become ``-``); ``take`` numbers the (rate, pitch) pairs.

espeak-ng: ``-v VOICE -s RATE -p PITCH`` (rate in words per minute, pitch 0–99). flite: ``-voice VOICE`` with
``duration_stretch = 175 / RATE`` and ``int_f0_target_mean = 60 + PITCH·1.6`` Hz, so the same rate/pitch
grid means about the same thing for both engines.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from cnnlab.errors import ConfigError, DataError, MissingDependencyError

from cnnlab.apps.speech.audio import resample, to_mono

__all__ = ["WORDS", "ESPEAK_VOICES", "FLITE_VOICES", "synthesize", "engine_path"]

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ESPEAK_VOICES = ("en-us", "en-us+f3", "en-us+m3", "en-gb+f2", "en-gb-scotland", "en-029+m5", "en+f4", "en+klatt")
FLITE_VOICES = ("kal", "awb", "rms", "slt")
_ENGINES = {"espeak": "espeak-ng", "flite": "flite"}


def engine_path(engine: str) -> str:
    """The executable of ``espeak`` / ``flite``, or a one-line error with the install command."""
    exe = _ENGINES.get(engine)
    if exe is None:
        raise ConfigError(f"`engine` must be espeak or flite; got {engine!r}")
    path = shutil.which(exe)
    if path is None:
        raise MissingDependencyError(f"`{exe}` is not installed; install it with: apt-get install -y {exe}")
    return path


def _command(engine: str, voice: str, rate: int, pitch: int, word: str) -> list[str]:
    if engine == "espeak":
        return [engine_path("espeak"), "-v", voice, "-s", str(rate), "-p", str(pitch), "--stdout", word]
    return [engine_path("flite"), "-voice", voice, "--setf", f"duration_stretch={175.0 / rate:.4f}",
            "--setf", f"int_f0_target_mean={60 + 1.6 * pitch:.1f}", "-t", word, "-o", "/dev/stdout"]


def _speak(engine: str, voice: str, rate: int, pitch: int, word: str, sample_rate: int) -> np.ndarray:
    import soundfile as sf

    cmd = _command(engine, voice, rate, pitch, word)
    done = subprocess.run(cmd, capture_output=True, timeout=60)
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise DataError(f"{Path(cmd[0]).name} failed for voice {voice!r} ({reason[0] if reason else 'no audio'})")
    samples, sr = sf.read(io.BytesIO(done.stdout), dtype="float32")
    return resample(to_mono(samples), sr, sample_rate)


def _speaker(engine: str, voice: str) -> str:
    return f"{engine}-" + re.sub(r"[^A-Za-z0-9-]+", "-", voice).strip("-")


def synthesize(out: str | Path, *, espeak_voices=ESPEAK_VOICES, flite_voices=FLITE_VOICES, rates=(130, 175, 220),
               pitches=(30, 50, 70), sample_rate: int = 8000) -> list[Path]:
    """Write the ten digits for every voice × rate × pitch; returns the files written.

    Args:
        out: folder (created).
        espeak_voices, flite_voices: voices per engine (an empty tuple skips that engine).
        rates: words per minute; pitches: 0–99.

    Raises:
        MissingDependencyError: an engine with voices is not installed. DataError: an engine failed (e.g.
        an unknown voice). ConfigError: empty or out-of-range rates/pitches.
    """
    import soundfile as sf

    from cnnlab.io import atomic_write

    rates, pitches = [int(r) for r in rates], [int(p) for p in pitches]
    if not rates or not pitches or min(rates) <= 0 or not all(0 <= p <= 99 for p in pitches):
        raise ConfigError(f"`rates` must be positive words per minute and `pitches` in 0..99; got {rates}, {pitches}")
    jobs = [("espeak", v) for v in espeak_voices] + [("flite", v) for v in flite_voices]
    for engine in {e for e, _ in jobs}:
        engine_path(engine)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for engine, voice in jobs:
        speaker = _speaker(engine, voice)
        for take, (rate, pitch) in enumerate((r, p) for r in rates for p in pitches):
            for digit, word in enumerate(WORDS):
                x = _speak(engine, voice, rate, pitch, word, sample_rate)
                buf = io.BytesIO()
                sf.write(buf, np.clip(x, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
                path = out / f"{digit}_{speaker}_{take}.wav"
                with atomic_write(path) as fh:
                    fh.write(buf.getvalue())
                written.append(path)
    return written
