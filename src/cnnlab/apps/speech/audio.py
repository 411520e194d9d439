"""Audio in: WAV files to fixed-length mono waveforms at the model's sample rate.

Every clip a speech model sees, in training and in ``predict``, goes through :func:`prepare` (the same
code, the same settings), and the model's own front end (:mod:`.frontend`) turns the waveform into a
log-mel spectrogram. Conversions, all documented and never silent failures:

- stereo or multichannel files are averaged to mono;
- any sample rate is resampled to the model's rate (band-limited FFT resampling: the spectrum above the new
  Nyquist frequency is dropped, like ``scipy.signal.resample``);
- leading and trailing silence is trimmed (frames quieter than ``top_db`` below the loudest frame);
- the clip is centred in a fixed window (zero padding), or centre-cropped when longer (a 0.1 s clip is
  padded, a 3 s clip keeps its middle second).

An unreadable or corrupt file, an empty file or an all-zero clip raise a one-line :class:`DataError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnlab.errors import DataError, MissingDependencyError

__all__ = ["read_wav", "to_mono", "resample", "trim", "fix_length", "prepare", "load_clip"]


def _soundfile():
    try:
        import soundfile
    except ImportError as exc:  # the wheel bundles libsndfile; a missing system library also lands here
        raise MissingDependencyError(f"reading WAV files needs `soundfile` ({exc}); install it with: "
                                     "pip install soundfile") from None
    return soundfile


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 samples in [-1, 1].

    Args:
        path: a WAV (or any format libsndfile reads: FLAC, OGG...).

    Returns:
        ``(samples, sample_rate)``; samples of shape (L,) for mono or (L, C) for C channels.

    Raises:
        DataError: the file is missing, unreadable/corrupt or holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"audio file `{path}` does not exist")
    sf = _soundfile()
    try:
        samples, sr = sf.read(str(path), dtype="float32", always_2d=False)
    except Exception as exc:  # soundfile raises LibsndfileError/RuntimeError/TypeError for broken files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"`{path}` is not a readable audio file ({reason})") from None
    if samples.size == 0:
        raise DataError(f"`{path}` holds no audio samples (an empty file)")
    return samples, int(sr)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """(L,) stays; (L, C) becomes the mean over channels, (L,)."""
    samples = np.asarray(samples, dtype=np.float32)
    return samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples


def resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Band-limited resampling of a 1-D signal by FFT: keep the spectrum below both Nyquist frequencies.

    The output has ``round(L · sr_to / sr_from)`` samples. For a tone below both Nyquist frequencies
    this is exact up to the edge effect of treating the clip as periodic.

    Raises:
        DataError: a sample rate that is not positive.
    """
    if sr_from <= 0 or sr_to <= 0:
        raise DataError(f"sample rates must be positive; got {sr_from} Hz -> {sr_to} Hz")
    x = np.asarray(x, dtype=np.float64)
    if sr_from == sr_to or x.size == 0:
        return x.astype(np.float32)
    n_in = x.shape[0]
    n_out = max(1, int(round(n_in * sr_to / sr_from)))
    spec = np.fft.rfft(x)
    keep = min(len(spec), n_out // 2 + 1)
    out_spec = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    out_spec[:keep] = spec[:keep]
    if n_out % 2 == 0 and keep == n_out // 2 + 1:  # the new Nyquist bin is shared by ± frequencies
        out_spec[-1] = out_spec[-1].real
    if n_in % 2 == 0 and keep == n_in // 2 + 1 and n_out > n_in:  # split the old Nyquist bin in two halves
        out_spec[keep - 1] *= 0.5
    return (np.fft.irfft(out_spec, n=n_out) * (n_out / n_in)).astype(np.float32)


def trim(x: np.ndarray, top_db: float = 40.0, frame: int = 256, hop: int = 64) -> np.ndarray:
    """Drop leading and trailing frames whose RMS is more than ``top_db`` below the loudest frame.

    Raises:
        DataError: the clip is all zeros.
    """
    x = np.asarray(x, dtype=np.float32)
    if not np.any(x):
        raise DataError("the clip is silent (all samples are zero)")
    if x.shape[0] <= frame:
        return x
    starts = np.arange(0, x.shape[0] - frame + 1, hop)
    # (L,) -> (frames, frame) windows without a copy; RMS per frame
    windows = np.lib.stride_tricks.sliding_window_view(x, frame)[starts]
    rms = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1))
    loud = np.nonzero(20.0 * np.log10(np.maximum(rms, 1e-12) / rms.max()) > -top_db)[0]
    return x[starts[loud[0]]:starts[loud[-1]] + frame]


def fix_length(x: np.ndarray, length: int) -> np.ndarray:
    """Centre ``x`` in ``length`` samples: zero-pad both sides, or keep the middle when longer."""
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    if n >= length:
        start = (n - length) // 2
        return x[start:start + length].copy()
    out = np.zeros(length, dtype=np.float32)
    start = (length - n) // 2
    out[start:start + n] = x
    return out


def prepare(samples: np.ndarray, sr: int, *, sample_rate: int = 8000, length: int = 8000,
            top_db: float = 40.0) -> np.ndarray:
    """Samples as read -> the fixed-length mono waveform a speech model takes (see the module docstring).

    Args:
        samples: (L,) or (L, C) floats.
        sr: their sample rate.
        sample_rate: the model's sample rate.
        length: the model's window in samples.
        top_db: silence threshold for :func:`trim` (``None``/0 disables trimming).

    Returns:
        float32 array of shape (length,), peak-normalised to 1 (the front end's log-mel is relative to the
        loudest bin anyway; this keeps the waveform in a fixed range for noise augmentation).
    """
    x = resample(to_mono(samples), sr, sample_rate)
    x = trim(x, top_db) if top_db else x
    if not np.any(x):
        raise DataError("the clip is silent (all samples are zero)")
    x = fix_length(x, length)
    return x / np.abs(x).max()


def load_clip(path: str | Path, *, sample_rate: int = 8000, length: int = 8000, top_db: float = 40.0) -> np.ndarray:
    """:func:`read_wav` then :func:`prepare`; a silent file names itself in the error.

    Raises:
        DataError: unreadable, empty or silent file.
    """
    samples, sr = read_wav(path)
    try:
        return prepare(samples, sr, sample_rate=sample_rate, length=length, top_db=top_db)
    except DataError as exc:
        raise DataError(f"`{path}`: {exc}") from None
