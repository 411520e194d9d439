"""The log-mel front end: waveform -> STFT power -> mel filterbank -> dB, as a torch module inside the model.

Because the front end is part of the model, ``predict`` takes raw audio and training and inference compute
features with the same code and settings. Mel scales (Davis & Mermelstein 1980; O'Shaughnessy 1987):

- ``"htk"``: ``m = 2595 · log10(1 + f / 700)``;
- ``"slaney"`` (Auditory Toolbox, librosa's default): linear ``m = 3 f / 200`` below 1 kHz, logarithmic
  ``m = 15 + 27 · ln(f / 1000) / ln 6.4`` above.

Filters are triangles between adjacent centres equally spaced on the mel scale (``n_mels + 2`` edges from
``fmin`` to ``fmax``), weights interpolated linearly in Hz; ``norm="slaney"`` scales each triangle to unit
area (``2 / (f_right − f_left)``). The output is ``10·log10(max(mel, amin))`` relative to the clip's loudest
bin, floored ``top_db`` below it and mapped to about [−1, 1] by ``(dB + top_db/2) / (top_db/2)``: invariant to
the recording level, like ``librosa.power_to_db(S, ref=np.max, top_db=80)``.

Per-utterance normalisation (``utterance_norm``), applied to those floored dB values of each clip:

- ``"max"`` (default): the mapping to [−1, 1] above only;
- ``"mvn"``: minus the clip's mean, divided by its standard deviation (over all bins and frames);
- ``"cmvn"``: per mel band, minus its mean over the frames, divided by its standard deviation over the
  frames (cepstral-style mean/variance normalisation: a fixed spectral tilt of the voice or the microphone
  is a constant per band and is removed).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from cnnlab.errors import ConfigError, ShapeError

__all__ = ["hz_to_mel", "mel_to_hz", "mel_filterbank", "LogMel", "UTTERANCE_NORMS"]

UTTERANCE_NORMS = ("max", "mvn", "cmvn")


def hz_to_mel(f, scale: str = "htk"):
    """Frequency in Hz (a number or a tensor) -> mel, a float64 tensor (on the CPU for numbers)."""
    f = f.to(torch.float64) if isinstance(f, torch.Tensor) else torch.tensor(f, dtype=torch.float64, device="cpu")
    if scale == "htk":
        return 2595.0 * torch.log10(1.0 + f / 700.0)
    if scale == "slaney":
        logstep = math.log(6.4) / 27.0
        return torch.where(f < 1000.0, f * 3.0 / 200.0, 15.0 + torch.log(f.clamp_min(1e-12) / 1000.0) / logstep)
    raise ConfigError(f"`scale` must be 'htk' or 'slaney'; got {scale!r}")


def mel_to_hz(m, scale: str = "htk"):
    """Mel -> frequency in Hz (the inverse of :func:`hz_to_mel`)."""
    m = m.to(torch.float64) if isinstance(m, torch.Tensor) else torch.tensor(m, dtype=torch.float64, device="cpu")
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    if scale == "slaney":
        logstep = math.log(6.4) / 27.0
        return torch.where(m < 15.0, m * 200.0 / 3.0, 1000.0 * torch.exp(logstep * (m - 15.0)))
    raise ConfigError(f"`scale` must be 'htk' or 'slaney'; got {scale!r}")


def mel_filterbank(n_fft: int, sample_rate: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None, *,
                   scale: str = "htk", norm: str | None = "slaney") -> torch.Tensor:
    """Triangular mel filters over the ``n_fft // 2 + 1`` STFT bins.

    Returns:
        float64 tensor (n_mels, n_fft // 2 + 1).

    Raises:
        ConfigError: ``fmax`` above Nyquist, ``fmin`` ≥ ``fmax``, or an unknown scale/norm.
    """
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    if not 0.0 <= fmin < fmax <= sample_rate / 2.0:
        raise ConfigError(f"mel filterbank needs 0 ≤ fmin < fmax ≤ {sample_rate / 2:g} Hz (Nyquist); "
                          f"got fmin={fmin:g}, fmax={fmax:g}")
    if norm not in (None, "slaney"):
        raise ConfigError(f"`norm` must be None or 'slaney'; got {norm!r}")
    bins = torch.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1, dtype=torch.float64, device="cpu")  # (K,)
    edges = mel_to_hz(torch.linspace(float(hz_to_mel(fmin, scale)), float(hz_to_mel(fmax, scale)), n_mels + 2,
                                     dtype=torch.float64, device="cpu"), scale)  # (M + 2,)
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # (M, 1) each
    rising = (bins - left) / (centre - left)
    falling = (right - bins) / (right - centre)
    weights = torch.clamp(torch.minimum(rising, falling), min=0.0)  # (M, K)
    if norm == "slaney":
        weights = weights * (2.0 / (right - left))
    return weights


class LogMel(nn.Module):
    """Waveform (N, L) -> log-mel spectrogram (N, n_mels, T) in about [−1, 1].

    Args:
        sample_rate: Hz of the input waveform.
        n_fft: FFT size (the window is a periodic Hann of ``win_length`` samples, zero-padded to ``n_fft``).
        hop_length: samples between frames; frames are centred (``T = 1 + L // hop_length``, zero padding).
        win_length: window length (default ``n_fft``).
        n_mels, fmin, fmax, scale, norm: the filterbank (:func:`mel_filterbank`).
        top_db: dynamic range kept below the loudest bin of each clip.
        utterance_norm: ``"max"`` | ``"mvn"`` | ``"cmvn"`` (module docstring).

    Shape:
        input (N, L) float; output (N, n_mels, 1 + L // hop_length).
    """

    def __init__(self, sample_rate: int = 8000, n_fft: int = 256, hop_length: int = 128, win_length: int | None = None,
                 n_mels: int = 40, fmin: float = 20.0, fmax: float | None = None, scale: str = "htk",
                 norm: str | None = "slaney", top_db: float = 80.0, utterance_norm: str = "max"):
        super().__init__()
        if utterance_norm not in UTTERANCE_NORMS:
            raise ConfigError(f"`utterance_norm` must be one of {', '.join(UTTERANCE_NORMS)}; got {utterance_norm!r}")
        self.utterance_norm = utterance_norm
        self.sample_rate, self.n_fft, self.hop_length = int(sample_rate), int(n_fft), int(hop_length)
        self.win_length = int(win_length or n_fft)
        if not 0 < self.win_length <= self.n_fft or self.hop_length <= 0:
            raise ConfigError(f"need 0 < win_length ≤ n_fft and hop_length > 0; got win_length={self.win_length}, "
                              f"n_fft={self.n_fft}, hop_length={self.hop_length}")
        self.n_mels, self.top_db = int(n_mels), float(top_db)
        self.register_buffer("window", torch.hann_window(self.win_length, periodic=True, dtype=torch.float32),
                             persistent=False)
        fb = mel_filterbank(self.n_fft, self.sample_rate, self.n_mels, fmin, fmax, scale=scale, norm=norm)
        self.register_buffer("fbank", fb.to(torch.float32), persistent=False)  # (M, K)

    def frames(self, length: int) -> int:
        """Number of frames T for a waveform of ``length`` samples."""
        return 1 + length // self.hop_length

    def power(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L) -> |STFT|² (N, n_fft // 2 + 1, T)."""
        if x.dim() != 2:
            raise ShapeError(f"the log-mel front end takes waveforms (N, samples); got shape {tuple(x.shape)}")
        spec = torch.stft(x.float(), self.n_fft, self.hop_length, self.win_length, self.window, center=True,
                          pad_mode="constant", return_complex=True)
        return spec.real.square() + spec.imag.square()

    def mel(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L) -> mel power (N, n_mels, T)."""
        return torch.matmul(self.fbank, self.power(x))  # (M, K) @ (N, K, T) -> (N, M, T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.from_power(self.power(x))

    def from_power(self, power: torch.Tensor) -> torch.Tensor:
        """|STFT|² (N, n_fft // 2 + 1, T) -> the log-mel output (the rest of :meth:`forward`; augmentation
        that warps the spectrum enters here)."""
        db = 10.0 * torch.log10(torch.matmul(self.fbank, power).clamp_min(1e-10))  # (N, M, T)
        db = db - db.amax(dim=(1, 2), keepdim=True)
        db = db.clamp_min(-self.top_db)
        if self.utterance_norm == "mvn":
            return (db - db.mean(dim=(1, 2), keepdim=True)) / db.std(dim=(1, 2), keepdim=True).clamp_min(1e-3)
        if self.utterance_norm == "cmvn":
            return (db - db.mean(dim=2, keepdim=True)) / db.std(dim=2, keepdim=True).clamp_min(1e-3)
        half = self.top_db / 2.0
        return (db + half) / half

    def extra_repr(self) -> str:
        return (f"sample_rate={self.sample_rate}, n_fft={self.n_fft}, hop_length={self.hop_length}, "
                f"win_length={self.win_length}, n_mels={self.n_mels}, top_db={self.top_db:g}, "
                f"utterance_norm={self.utterance_norm}")
