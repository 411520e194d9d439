"""Spoken-digit models of about equal size (≈ 30k parameters each), registered in the zoo.

Each is a :class:`SpeechNet`: the log-mel front end (:class:`~.frontend.LogMel`, no trainable weights)
followed by a body, so a model takes raw audio (N, L) and training and ``predict`` share the features.

- ``speech_freq`` — frequency-only CNN, the lecture's speech CNN (Abdel-Hamid et al. 2014: convolution and
  max-pooling along frequency only; Sainath & Parada 2015 "cnn-trad-fpool3": pooling 3 along frequency).
  Kernels span a few mel bins × 1 frame, pooling runs along frequency only (3 then 2), and a small
  bidirectional LSTM over the frames does what the filters do not: integrate time.
- ``speech_cnn2d`` — the same log-mel image through 3×3 filters and 2×2 pooling (time and frequency),
  global average pooling, a linear classifier.
- ``speech_dnn`` — fully connected: the log-mel image averaged over 3 frames (fixed, no weights), two
  hidden layers.

Shape:
    input (N, length) waveforms at ``sample_rate``, or (N, n_mels, T) log-mel features already computed
    with the model's own ``frontend`` (how ``cnnlab speech train`` trains: features once, then the body);
    output (N, num_classes) scores.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.errors import ShapeError
from cnnlab.zoo import register

from cnnlab.apps.speech.frontend import LogMel

__all__ = ["SpeechNet", "FreqBody", "CNN2DBody", "DNNBody", "MODELS"]

#: the CLI's short names -> zoo names
MODELS = {"freq": "speech_freq", "cnn2d": "speech_cnn2d", "dnn": "speech_dnn"}


class SpeechNet(nn.Module):
    """``frontend`` (waveform -> log-mel) then ``body`` (log-mel -> scores); see the module docstring."""

    def __init__(self, body: nn.Module, *, sample_rate: int = 8000, length: int = 8000, n_mels: int = 40,
                 utterance_norm: str = "max"):
        super().__init__()
        self.frontend = LogMel(sample_rate=sample_rate, n_mels=n_mels, utterance_norm=utterance_norm)
        self.body = body
        self.sample_rate, self.length = int(sample_rate), int(length)
        self.feature_shape = (int(n_mels), self.frontend.frames(self.length))
        self.input_shape = (self.length,)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Waveforms (N, length) -> log-mel features (N, n_mels, T) with the model's own front end."""
        if x.dim() != 2 or x.shape[1] != self.length:
            raise ShapeError(f"the model takes waveforms (N, {self.length}) at {self.sample_rate} Hz; got shape "
                             f"{tuple(x.shape)} (load files with cnnlab.apps.speech.audio.load_clip)")
        return self.frontend(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            if tuple(x.shape[1:]) != self.feature_shape:
                raise ShapeError(f"log-mel features must have shape (N, {self.feature_shape[0]}, "
                                 f"{self.feature_shape[1]}); got {tuple(x.shape)}")
            return self.body(x)
        return self.body(self.features(x))


class FreqBody(nn.Module):
    """Convolution and max-pooling along frequency only, then a bidirectional LSTM over the frames.

    Shape: (N, M, T) -> (N, num_classes); the conv stack maps each frame's M mel bins to ``channels[-1]``
    maps of ``F'`` bins, i.e. one ``channels[-1]·F'`` vector per frame for the LSTM.
    """

    def __init__(self, n_mels: int = 40, num_classes: int = 10, channels=(32, 32), kernels=(8, 4), pools=(3, 2),
                 hidden: int = 22):
        super().__init__()
        layers, c_in, f = [], 1, n_mels
        for c_out, k, p in zip(channels, kernels, pools):
            layers += [nn.Conv2d(c_in, c_out, kernel_size=(k, 1)), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
                       nn.MaxPool2d(kernel_size=(p, 1))]
            c_in, f = c_out, (f - k + 1) // p
        if f < 1:
            raise ShapeError(f"{n_mels} mel bins are too few for frequency kernels {kernels} and pools {pools}")
        self.features = nn.Sequential(*layers)
        self.temporal = nn.LSTM(c_in * f, hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.features(x.unsqueeze(1))  # (N, 1, M, T) -> (N, C, F', T)
        z = z.flatten(1, 2).transpose(1, 2)  # (N, C·F', T) -> (N, T, C·F')
        _, (h, _) = self.temporal(z)  # h: (2, N, hidden), the last state of each direction
        return self.classifier(torch.cat([h[0], h[1]], dim=1))


class CNN2DBody(nn.Module):
    """3×3 convolutions with 2×2 max-pooling over time and frequency, global average pooling, linear."""

    def __init__(self, n_mels: int = 40, num_classes: int = 10, channels=(16, 32, 88)):
        super().__init__()
        layers, c_in = [], 1
        for i, c_out in enumerate(channels):
            layers += [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.pool(self.features(x.unsqueeze(1)))  # (N, 1, M, T) -> (N, C, 1, 1)
        return self.classifier(z.flatten(1))


class DNNBody(nn.Module):
    """Average 3 frames (fixed), flatten, two hidden ReLU layers, linear."""

    def __init__(self, n_mels: int = 40, frames: int = 63, num_classes: int = 10, hidden=(36, 36), pool: int = 3):
        super().__init__()
        self.pool = nn.AvgPool1d(pool)
        layers, n_in = [nn.Flatten()], n_mels * (frames // pool)
        for n_out in hidden:
            layers += [nn.Linear(n_in, n_out), nn.ReLU(inplace=True)]
            n_in = n_out
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(n_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(self.pool(x)))  # (N, M, T) -> (N, M, T // 3) -> (N, classes)


_SHAPE = (8000,)


@register("speech_freq", _SHAPE, "Spoken digits: log-mel front end, frequency-only conv+pool (8×1, 4×1), BiLSTM "
          "over time (~32k params)")
def speech_freq(num_classes: int = 10, sample_rate: int = 8000, length: int = 8000, n_mels: int = 40,
                utterance_norm: str = "max", channels=(32, 32), hidden: int = 22) -> SpeechNet:
    return SpeechNet(FreqBody(n_mels, num_classes, channels=tuple(channels), hidden=hidden), sample_rate=sample_rate,
                     length=length, n_mels=n_mels, utterance_norm=utterance_norm)


@register("speech_cnn2d", _SHAPE, "Spoken digits: log-mel front end, 3×3 conv + 2×2 pool over time and "
          "frequency (~32k params)")
def speech_cnn2d(num_classes: int = 10, sample_rate: int = 8000, length: int = 8000, n_mels: int = 40,
                 utterance_norm: str = "max", channels=(16, 32, 88)) -> SpeechNet:
    return SpeechNet(CNN2DBody(n_mels, num_classes, channels=tuple(channels)), sample_rate=sample_rate, length=length,
                     n_mels=n_mels, utterance_norm=utterance_norm)


@register("speech_dnn", _SHAPE, "Spoken digits: log-mel front end, 3-frame average, two hidden layers of 36 "
          "(~32k params)")
def speech_dnn(num_classes: int = 10, sample_rate: int = 8000, length: int = 8000, n_mels: int = 40,
               utterance_norm: str = "max", hidden=(36, 36)) -> SpeechNet:
    net = SpeechNet(nn.Identity(), sample_rate=sample_rate, length=length, n_mels=n_mels, utterance_norm=utterance_norm)
    net.body = DNNBody(n_mels, net.feature_shape[1], num_classes, hidden=tuple(hidden))
    return net
