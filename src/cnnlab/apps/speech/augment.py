"""Speech augmentation, batched, drawn afresh every epoch inside :func:`cnnlab.fit` (training batches only).

:class:`SpeechAugment` follows the core's augmentation protocol (:mod:`cnnlab.data.augment`): ``sample``
draws every random number of a batch from the run's augmentation generator (checkpointed, so a resumed run
draws the same augmentations) and ``apply`` is a deterministic function of the batch and those numbers.
It takes waveforms (N, L) and, bound to a model's front end (:meth:`SpeechAugment.bind`), returns the
log-mel features the model's body trains on. In order:

1. **speed** (factor ``r``, tempo and pitch together, like ``sox speed``): ``y[n] = x(c + (n − c)·r)`` with
   ``c = L/2`` (the clip stays centred) and linear interpolation; a tone at ``f`` Hz comes out at ``r·f``;
2. **time shift** by ``s`` samples (``y[n] = x[n − s]``, zeros moved in), drawn from ±``shift`` of the window;
3. **noise** at a signal-to-noise ratio drawn from ``snr`` dB (with probability ``noise_prob``):
   ``10·log10(Σ y² / Σ noise²) = SNR`` over the whole window; the noise is Gaussian, coloured with a power
   spectrum ∝ ``f^−β`` (β drawn from ``color``: 0 white, 1 pink, 2 brown);
4. **frequency warp** of the power spectrum by ``a`` (``P'(f) = P(f / a)``: formants and pitch move by
   ``a``, the timing does not — a pitch/vocal-tract-length change without a tempo change);
5. the front end's mel filterbank, dB and per-utterance normalisation (:meth:`.frontend.LogMel.from_power`);
6. **SpecAugment masks** (Park et al. 2019): ``freq_masks`` bands of up to ``freq_width`` mel bins and
   ``time_masks`` spans of up to ``time_width`` frames set to ``mask_value``.

Every step is one tensor operation over the batch; only the noise is drawn inside ``apply``, from a
generator seeded by the batch's first random number (so it too is fixed by ``sample``).

Example:
    >>> aug = SpeechAugment().bind(model.frontend)  # doctest: +SKIP
    >>> fit(model, waveform_dataset, augment=aug)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnlab.errors import ConfigError, ShapeError

__all__ = ["SpeechAugment", "speed_shift", "add_noise", "warp_frequency", "mask"]


def speed_shift(x: torch.Tensor, speed: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Resample every waveform about its centre by ``speed`` and delay it by ``shift`` samples.

    Args:
        x: (N, L) waveforms.
        speed: (N,) factors (> 1: faster and higher).
        shift: (N,) delays in samples (may be fractional or negative).

    Returns:
        (N, L): ``y[n] = x(c + (n − c)·speed − shift)``, ``c = (L − 1) / 2``, linear interpolation, zero
        outside the clip.
    """
    n, length = x.shape
    c = (length - 1) / 2.0
    t = torch.arange(length, dtype=torch.float64, device=x.device)
    pos = c + (t[None] - c) * speed[:, None].to(torch.float64) - shift[:, None].to(torch.float64)  # (N, L)
    lo = pos.floor()
    frac = (pos - lo).to(x.dtype)
    lo = lo.long()
    hi = lo + 1

    def take(i):
        ok = (i >= 0) & (i < length)
        return torch.gather(x, 1, i.clamp(0, length - 1)) * ok.to(x.dtype)

    return take(lo) * (1 - frac) + take(hi) * frac


def add_noise(x: torch.Tensor, snr_db: torch.Tensor, color: torch.Tensor, generator: torch.Generator,
              active: torch.Tensor | None = None) -> torch.Tensor:
    """``x`` plus Gaussian noise of power spectrum ∝ ``f^−color`` at ``snr_db`` (per row, over the window).

    Args:
        x: (N, L) waveforms.
        snr_db: (N,) signal-to-noise ratios in dB: ``10·log10(Σ x² / Σ noise²)``.
        color: (N,) spectral exponents β (0 white, 1 pink, 2 brown); the DC bin gets no noise.
        generator: the source of the Gaussian samples.
        active: (N,) bools, rows that get noise (default: all).
    """
    n, length = x.shape
    white = torch.randn(n, length, generator=generator, dtype=torch.float32).to(x.device, x.dtype)
    spec = torch.fft.rfft(white, dim=1)  # (N, L // 2 + 1)
    f = torch.arange(spec.shape[1], dtype=x.dtype, device=x.device).clamp_min(1.0)
    gain = f[None] ** (-color[:, None].to(x.dtype) / 2.0)
    gain[:, 0] = 0.0
    noise = torch.fft.irfft(spec * gain, n=length, dim=1)
    p_signal = x.square().sum(1, keepdim=True)
    p_noise = noise.square().sum(1, keepdim=True).clamp_min(1e-20)
    scale = torch.sqrt(p_signal / p_noise / 10.0 ** (snr_db[:, None].to(x.dtype) / 10.0))
    if active is not None:
        scale = scale * active[:, None].to(x.dtype)
    return x + noise * scale


def warp_frequency(power: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Stretch every spectrum along frequency: ``P'[k] = P[k / factor]`` (linear interpolation, zero above).

    Args:
        power: (N, K, T) STFT power.
        factor: (N,) warp factors (> 1: everything moves up).
    """
    n, k, _ = power.shape
    src = torch.arange(k, dtype=torch.float64, device=power.device)[None] / factor[:, None].to(torch.float64)  # (N, K)
    lo = src.floor()
    frac = (src - lo).to(power.dtype)[:, :, None]
    lo = lo.long()

    def take(i):
        ok = ((i >= 0) & (i < k)).to(power.dtype)[:, :, None]
        idx = i.clamp(0, k - 1)[:, :, None].expand(-1, -1, power.shape[2])
        return torch.gather(power, 1, idx) * ok

    return take(lo) * (1 - frac) + take(lo + 1) * frac


def mask(features: torch.Tensor, start: torch.Tensor, width: torch.Tensor, dim: int, value: float = 0.0) -> torch.Tensor:
    """Set ``[start, start + width)`` along ``dim`` (1: frequency, 2: time) of every row to ``value``.

    Args:
        features: (N, M, T).
        start, width: (N, K) integers, K masks per row (width 0: no mask).
    """
    size = features.shape[dim]
    pos = torch.arange(size, device=features.device)[None, None]  # (1, 1, S)
    hit = ((pos >= start[:, :, None]) & (pos < (start + width)[:, :, None])).any(1)  # (N, S)
    hit = hit[:, :, None] if dim == 1 else hit[:, None, :]
    return features.masked_fill(hit, value)


def _range(value, name: str, low: float, high: float):
    if value is None:
        return None
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"`{name}` must be a (low, high) pair or None; got {value!r}") from None
    if not low <= a <= b <= high:
        raise ConfigError(f"`{name}` must satisfy {low:g} ≤ low ≤ high ≤ {high:g}; got {value!r}")
    return (a, b)


@dataclass
class SpeechAugment:
    """Random speed, shift, noise, frequency warp and SpecAugment masks (module docstring).

    Args:
        speed: range of speed factors, e.g. ``(0.9, 1.1)`` (``None``: off).
        shift: largest time shift as a fraction of the window (0: off).
        snr: range of SNRs in dB (``None``: no noise).
        noise_prob: probability that a clip gets noise.
        color: range of the noise's spectral exponent β.
        warp: range of frequency-warp factors (``None``: off).
        freq_masks, freq_width: number of frequency masks and their largest width in mel bins.
        time_masks, time_width: number of time masks and their largest width in frames.
        mask_value: what masked bins become (0 is the mean of normalised features).

    Shape:
        waveforms (N, L) -> features (N, n_mels, T) when bound to a front end, else waveforms (N, L)
        (then warp and masks must be off).
    """

    speed: tuple | None = (0.9, 1.1)
    shift: float = 0.1
    snr: tuple | None = (5.0, 30.0)
    noise_prob: float = 0.8
    color: tuple = (0.0, 2.0)
    warp: tuple | None = (0.9, 1.1)
    freq_masks: int = 2
    freq_width: int = 5
    time_masks: int = 2
    time_width: int = 8
    mask_value: float = 0.0

    images_only = False  # class attribute, not a field

    def __post_init__(self):
        self.speed = _range(self.speed, "speed", 0.25, 4.0)
        self.snr = _range(self.snr, "snr", -30.0, 120.0)
        self.color = _range(self.color, "color", -2.0, 4.0)
        self.warp = _range(self.warp, "warp", 0.25, 4.0)
        if not 0.0 <= float(self.shift) < 1.0:
            raise ConfigError(f"`shift` must be a fraction of the window in [0, 1); got {self.shift!r}")
        if not 0.0 <= float(self.noise_prob) <= 1.0:
            raise ConfigError(f"`noise_prob` must be in [0, 1]; got {self.noise_prob!r}")
        for name in ("freq_masks", "freq_width", "time_masks", "time_width"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"`{name}` must be an integer ≥ 0; got {v!r}")
        self.shift, self.noise_prob, self.mask_value = float(self.shift), float(self.noise_prob), float(self.mask_value)
        self._frontend = None

    def bind(self, frontend) -> "SpeechAugment":
        """This augmenter, returning features through ``frontend`` (a :class:`~.frontend.LogMel`)."""
        self._frontend = frontend
        return self

    @property
    def _columns(self) -> int:
        return 7 + 2 * (self.freq_masks + self.time_masks)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, 7 + 2·(freq_masks + time_masks)) uniforms in [0, 1) on the CPU."""
        return torch.rand(n, self._columns, generator=generator)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.apply(x, self.sample(x.shape[0], generator))

    def apply(self, x: torch.Tensor, rand: torch.Tensor) -> torch.Tensor:
        """Augment waveforms ``x`` (N, L) with the numbers of :meth:`sample` (module docstring for the order)."""
        if x.dim() != 2:
            raise ShapeError(f"SpeechAugment takes waveforms (N, samples); got shape {tuple(x.shape)}")
        if rand.shape != (x.shape[0], self._columns):
            raise ShapeError(f"`rand` must have shape ({x.shape[0]}, {self._columns}) (from sample); "
                             f"got {tuple(rand.shape)}")
        fe = self._frontend
        if fe is None and (self.warp is not None or self.freq_masks or self.time_masks):
            raise ConfigError("frequency warp and masks need the front end: use SpeechAugment(...).bind(model.frontend)")
        r = rand.to(device=x.device, dtype=torch.float64)
        lerp = (lambda u, ab: ab[0] + u * (ab[1] - ab[0]))
        n, length = x.shape
        speed = lerp(r[:, 1], self.speed) if self.speed else torch.ones(n, dtype=torch.float64, device=x.device)
        shift = (2 * r[:, 2] - 1) * self.shift * length
        y = speed_shift(x, speed, shift) if (self.speed or self.shift) else x
        if self.snr is not None and self.noise_prob > 0:
            gen = torch.Generator().manual_seed(int(rand[0, 0].item() * 2 ** 62))
            y = add_noise(y, lerp(r[:, 4], self.snr), lerp(r[:, 5], self.color), gen,
                          active=r[:, 3] < self.noise_prob)
        if fe is None:
            return y
        power = fe.power(y)
        if self.warp is not None:
            power = warp_frequency(power, lerp(r[:, 6], self.warp))
        z = fe.from_power(power)
        col = 7
        for count, width, dim in ((self.freq_masks, self.freq_width, 1), (self.time_masks, self.time_width, 2)):
            if count and width:
                size = z.shape[dim]
                w = (r[:, col:col + count] * (width + 1)).floor().clamp(max=min(width, size))  # 0..width
                s = (r[:, col + count:col + 2 * count] * (size - w + 1)).floor()
                z = mask(z, s.long(), w.long(), dim, self.mask_value)
            col += 2 * count
        return z

    def describe(self) -> str:
        parts = []
        if self.speed:
            parts.append(f"speed {self.speed[0]:g}–{self.speed[1]:g}")
        if self.shift:
            parts.append(f"shift ±{100 * self.shift:g}%")
        if self.snr and self.noise_prob:
            parts.append(f"noise {self.snr[0]:g}–{self.snr[1]:g} dB SNR (p={self.noise_prob:g}, "
                         f"β {self.color[0]:g}–{self.color[1]:g})")
        if self.warp:
            parts.append(f"warp {self.warp[0]:g}–{self.warp[1]:g}")
        if self.freq_masks and self.freq_width:
            parts.append(f"{self.freq_masks}×≤{self.freq_width} mel masks")
        if self.time_masks and self.time_width:
            parts.append(f"{self.time_masks}×≤{self.time_width} frame masks")
        return ", ".join(parts) or "none"
