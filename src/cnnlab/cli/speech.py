"""``cnnlab speech train|predict|benchmark``: spoken digits with frequency-only CNNs, 2-D CNNs and DNNs."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cnnlab.cli.app import app

speech_app = typer.Typer(help="Spoken digits (FSDD): train, predict WAV files, benchmark frequency-only vs 2-D CNNs.",
                         no_args_is_help=True)
app.add_typer(speech_app, name="speech")


def _data(data: str):
    """``--data`` -> ``(root, extra_train)``: ``fsdd`` (the dataset store), ``DIR`` (a folder of
    {digit}_{speaker}_{take}.wav files, split like FSDD) or ``fsdd+DIR`` (DIR's clips join FSDD's training split)."""
    from cnnlab.errors import DataError

    first, _, extra = data.partition("+") if data.startswith("fsdd+") else (data, "", "")
    for folder in [f for f in (first, extra) if f and f != "fsdd"]:
        if not Path(folder).is_dir():
            raise DataError(f"`--data` must be fsdd, DIR or fsdd+DIR with DIR a folder of "
                            f"{{digit}}_{{speaker}}_{{take}}.wav files; `{folder}` is not a folder")
    return (None if first == "fsdd" else Path(first)), ((Path(extra),) if extra else ())


@speech_app.command("train")
def train_command(
    data: str = typer.Option("fsdd", "--data", help="fsdd | DIR (a folder of {digit}_{speaker}_{take}.wav) | "
                             "fsdd+DIR (DIR, e.g. from `cnnlab speech synth`, joins the training split)"),
    model: str = typer.Option("freq", "--model", "-m", help="freq | cnn2d | dnn"),
    split: str = typer.Option("official", "--split", help="official | speaker:NAME (leave that speaker out)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="run folder (default runs/speech_<model>-<split>-<time>)"),
    epochs: int = typer.Option(20, "--epochs", "-e"),
    batch_size: int = typer.Option(64, "--batch-size", "-b"),
    lr: float = typer.Option(3e-3, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    threads: int = typer.Option(0, "--threads", help="torch threads (0: torch's default)"),
    augment: bool = typer.Option(False, "--augment/--no-augment", help="speed 0.9–1.1, shift ±10%, noise 5–30 dB "
                                 "SNR, frequency warp 0.9–1.1, SpecAugment masks; drawn afresh every epoch"),
    norm: str = typer.Option("max", "--norm", help="per-utterance normalisation of the log-mel: max | mvn | cmvn"),
    exclude: str = typer.Option("", "--exclude", help="speakers left out of every split, comma-separated"),
    resume: bool = typer.Option(False, "--resume", help="continue the interrupted run in --out"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Train a spoken-digit model through cnnlab's fit; prints the test accuracy per speaker."""
    from cnnlab.apps.speech.training import train
    from cnnlab.errors import ConfigError
    from cnnlab.train import default_run_dir

    if threads:
        import torch

        torch.set_num_threads(threads)
    if resume and out is None:
        raise ConfigError("`--resume` needs `--out RUN` (the interrupted run folder)")
    run_dir = out or default_run_dir(f"speech_{model}", f"fsdd-{split.replace(':', '-')}")
    root, extra = _data(data)
    r = train(model, split=split, out=run_dir, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
              root=root, extra_train=extra, progress=progress, augment=augment, utterance_norm=norm,
              exclude=[v.strip() for v in exclude.split(",") if v.strip()], resume=resume)
    typer.echo(f"{r.model} ({r.params:,} params) on {split}: test accuracy {100 * r.test_accuracy:.2f}%")
    typer.echo("per speaker: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in r.per_speaker.items()))
    if r.allison:
        typer.echo(f"Allison digits: {r.allison['correct']}/10 (predicted {' '.join(r.allison['predicted'])})")
    typer.echo(f"trained in {r.train_seconds:.1f} s wall, {r.cpu_seconds:.1f} s CPU -> {run_dir}")


@speech_app.command("predict")
def predict_command(
    run: Path = typer.Argument(..., help="run folder of cnnlab speech train"),
    files: List[Path] = typer.Argument(..., help="WAV files (any rate, mono or stereo)"),
    top_k: int = typer.Option(3, "--top-k", "-k"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """Which digit each WAV file says; --format json prints [{file, digit, probability, top}]."""
    import json

    from cnnlab.apps.speech.training import predict_files
    from cnnlab.errors import ConfigError

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")
    result = predict_files(run, list(files), top_k=top_k)
    if format == "json":
        typer.echo(json.dumps(result))
        return
    for item in result:
        tops = ", ".join(f"{t['digit']} {100 * t['probability']:.1f}%" for t in item["top"])
        typer.echo(f"{item['file']}: {tops}")


@speech_app.command("benchmark")
def benchmark_command(
    models: str = typer.Option("freq,cnn2d,dnn", "--models", help="comma-separated: freq, cnn2d, dnn"),
    folds: str = typer.Option("all", "--folds", help="all | official | speakers"),
    speakers: str = typer.Option("", "--speakers", help="held-out speakers of the folds, comma-separated (default all)"),
    epochs: int = typer.Option(20, "--epochs", "-e"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="JSON file of every run (written as it goes)"),
    data: str = typer.Option("fsdd", "--data", help="fsdd, DIR, or fsdd+DIR (DIR's clips, e.g. "
                             "synthesised, join every training split)"),
    augment: bool = typer.Option(False, "--augment/--no-augment", help="on-the-fly augmentation (see train)"),
    norm: str = typer.Option("max", "--norm", help="max | mvn | cmvn"),
    seeds: str = typer.Option("0", "--seeds", help="comma-separated seeds (each run once per seed)"),
    threads: int = typer.Option(1, "--threads", help="torch threads"),
) -> None:
    """The three models on the official split and leave-one-speaker-out; prints the markdown table.

    With --out an existing file is resumed: the runs it holds are not trained again."""
    import torch

    from cnnlab.apps.speech.benchmark import render_paired, render_table, run_benchmark
    from cnnlab.errors import ConfigError

    if folds not in ("all", "official", "speakers"):
        raise ConfigError(f"`--folds` must be all, official or speakers; got {folds!r}")
    try:
        seed_list = [int(v) for v in seeds.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"`--seeds` must be comma-separated integers; got {seeds!r}") from None
    torch.set_num_threads(threads)
    root, extra = _data(data)
    doc = run_benchmark(tuple(m.strip() for m in models.split(",") if m.strip()), folds=folds, epochs=epochs,
                        speakers=[v.strip() for v in speakers.split(",") if v.strip()], out=out, root=root,
                        seeds=seed_list, augment=augment or None, utterance_norm=norm, extra_train=extra,
                        log=typer.echo)
    typer.echo(render_table(doc))
    typer.echo(render_paired(doc))


@speech_app.command("synth")
def synth_command(
    out: Path = typer.Option(..., "--out", "-o", help="folder for {digit}_{speaker}_{take}.wav (8 kHz mono)"),
    voices: Optional[str] = typer.Option(None, "--voices", help="espeak-ng voices, comma-separated (default: 8 English "
                                         "accents/variants); 'none' skips espeak-ng"),
    flite_voices: Optional[str] = typer.Option(None, "--flite-voices", help="flite voices (default kal,awb,rms,slt); "
                                               "'none' skips flite"),
    rates: str = typer.Option("130,175,220", "--rates", help="words per minute, comma-separated"),
    pitches: str = typer.Option("30,50,70", "--pitches", help="0..99, comma-separated"),
) -> None:
    """Write the ten spoken digits with espeak-ng and flite for every voice × rate × pitch."""
    import time

    from cnnlab.apps.speech import synth
    from cnnlab.errors import ConfigError

    def names(text, default):
        if text is None:
            return default
        return () if text.strip() == "none" else tuple(v.strip() for v in text.split(",") if v.strip())

    def ints(text, what):
        try:
            return [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise ConfigError(f"`--{what}` must be comma-separated integers; got {text!r}") from None

    start = time.perf_counter()
    files = synth.synthesize(out, espeak_voices=names(voices, synth.ESPEAK_VOICES),
                             flite_voices=names(flite_voices, synth.FLITE_VOICES), rates=ints(rates, "rates"),
                             pitches=ints(pitches, "pitches"))
    seconds = time.perf_counter() - start
    typer.echo(f"wrote {len(files)} WAV files to {out} in {seconds:.1f} s ({len(files) / max(seconds, 1e-9):.0f}/s)")
