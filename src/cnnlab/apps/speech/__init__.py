"""Speech: spoken digits from log-mel spectrograms, with CNNs whose filters slide along frequency only.

- :mod:`.audio` — WAV loading, mono, resampling, silence trimming, fixed-length windows;
- :mod:`.frontend` — the log-mel front end (a torch module inside every speech model);
- :mod:`.models` — ``speech_freq``, ``speech_cnn2d``, ``speech_dnn`` in the zoo (≈ equal parameter counts);
- :mod:`.data` — the Free Spoken Digit Dataset under ``$CNNLAB_DATA/fsdd`` and its splits;
- :mod:`.train` — training through :func:`cnnlab.fit` on features computed once with the model's front end,
  and ``predict`` on WAV files through that same front end.
"""
