"""``cnnlab text train|predict|explain|benchmark``: Kim's sentence CNN (see :mod:`cnnlab.apps.text`)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cnnlab.cli.app import app

text_app = typer.Typer(help="CNNs for text: Kim (2014)'s sentence CNN; train, predict, explain, benchmark.",
                       no_args_is_help=True)
app.add_typer(text_app, name="text")


def _check_format(format: str) -> None:
    from cnnlab.errors import ConfigError

    if format not in ("text", "json"):
        raise ConfigError(f"`--format` must be text or json; got {format!r}")


@text_app.command("train")
def train_command(
    data: str = typer.Option("mr", "--data", "-d", help="mr | rt | FILE.csv/.tsv"),
    variant: str = typer.Option("rand", "--variant", help="rand | static | nonstatic | multichannel"),
    vectors: str = typer.Option("glove50", "--vectors", help="glove50 or a word2vec/GloVe file (not used by rand)"),
    out: Path = typer.Option(..., "--out", "-o", help="run folder (a CV folder with fold01/... when --folds)"),
    folds: Optional[int] = typer.Option(None, "--folds", help="K-fold cross-validation (Kim: 10)"),
    embed_dim: Optional[int] = typer.Option(None, "--embed-dim", help="embedding size [the vectors', 50 for rand]"),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="epochs [25]"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="batch size [50]"),
    patience: Optional[int] = typer.Option(None, "--patience", help="early stopping on val accuracy [5, rand 0; 0 off]"),
    optimizer: Optional[str] = typer.Option(None, "--optimizer", help="adadelta | adam | adamw | sgd [adadelta]"),
    lr: Optional[float] = typer.Option(None, "--lr", help="learning rate [1.0 for Adadelta]"),
    precision: Optional[str] = typer.Option(None, "--precision", help="fp32 | bf16 | auto [see docs/text.md]"),
    maps: Optional[int] = typer.Option(None, "--maps", help="feature maps per window [100]"),
    embed_dropout: Optional[float] = typer.Option(None, "--embed-dropout",
                                                  help="dropout on the embedded vectors in training [see docs/text.md]"),
    word_dropout: Optional[float] = typer.Option(None, "--word-dropout", help="words read as <unk> in training [0]"),
    seed: int = typer.Option(0, "--seed", help="seed of the splits, initialisation and data order"),
    text_column: str = typer.Option("text", "--text-column", help="sentence column of a CSV/TSV"),
    label_column: str = typer.Option("label", "--label-column", help="label column of a CSV/TSV"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted run in --out"),
    rescale: bool = typer.Option(True, "--rescale/--no-rescale",
                                 help="scale pretrained vectors to Kim's init spread (std 0.25/√3)"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or epoch lines"),
) -> None:
    """Train a TextCNN with Kim's recipe (Adadelta, batch 50, dropout 0.5, max-norm 3); --folds K cross-validates."""
    import json

    from cnnlab.apps.text.train import train

    _check_format(format)
    options = {k: v for k, v in dict(epochs=epochs, batch_size=batch_size, patience=patience, optimizer=optimizer,
                                     lr=lr, precision=precision).items() if v is not None}
    model_options = {k: v for k, v in dict(maps=maps, embed_dropout=embed_dropout, word_dropout=word_dropout).items()
                     if v is not None}
    result = train(data, variant=variant, vectors=vectors, out=out, folds=folds, embed_dim=embed_dim, seed=seed,
                   text_column=text_column, label_column=label_column, progress=not quiet, resume=resume, rescale=rescale,
                   log=None if format == "json" else typer.echo, model_options=model_options, **options)
    if format == "json":
        typer.echo(json.dumps(result))
    elif folds:
        typer.echo(f"{variant} on {data}, {result['k']}-fold CV: {100 * result['mean']:.2f} ± {100 * result['std']:.2f}% "
                   f"({result['seconds']:.0f} s)  -> {out / 'cv.json'}")
    else:
        typer.echo(f"{variant} on {data}: test accuracy {100 * result['accuracy']:.2f}% "
                   f"(best val {100 * result['val_accuracy']:.2f}% at epoch {result['best_epoch']}, "
                   f"{result['seconds']:.0f} s)  -> {out}")


@text_app.command("predict")
def predict_command(
    run: Path = typer.Argument(..., help="a text run folder (or one fold of a CV folder)"),
    sentences: List[str] = typer.Argument(..., help="one or more sentences"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """Label and class probabilities of each sentence (unknown words read as <unk>)."""
    import json

    from cnnlab.apps.text.use import load_text_run

    _check_format(format)
    rows = load_text_run(run).predict(sentences)
    if format == "json":
        typer.echo(json.dumps([{k: r[k] for k in ("text", "label", "probabilities", "unknown")} for r in rows]))
        return
    for r in rows:
        probs = "  ".join(f"{c} {p:.3f}" for c, p in r["probabilities"].items())
        unk = f"  (unknown: {', '.join(r['unknown'])})" if r["unknown"] else ""
        typer.echo(f"{r['label']:<10} {probs}  {r['text']}{unk}")


@text_app.command("explain")
def explain_command(
    run: Path = typer.Argument(..., help="a text run folder (or one fold of a CV folder)"),
    sentence: str = typer.Argument(..., help="the sentence to explain"),
    top: int = typer.Option(3, "--top", help="feature maps shown per window size"),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """The n-gram each top feature map picked per window size, its contribution, and per-word scores."""
    import json

    from cnnlab.apps.text.report import render_explanation
    from cnnlab.apps.text.use import load_text_run

    _check_format(format)
    tm = load_text_run(run)
    e = tm.explain(sentence, top=top)
    if format == "json":
        typer.echo(json.dumps({"label": tm.classes[e.target], "against": tm.classes[e.other], **e.to_dict()}))
        return
    typer.echo(render_explanation(e, tm.classes))


@text_app.command("benchmark")
def benchmark_command(
    folds: int = typer.Option(10, "--folds", help="K of the cross-validation (Kim: 10)"),
    variants: str = typer.Option("rand,static,nonstatic,multichannel", "--variants", help="comma-separated"),
    vectors: str = typer.Option("glove50", "--vectors", help="glove50 or a word2vec/GloVe file"),
    out: Path = typer.Option(Path("runs/text-benchmark"), "--out", "-o", help="folder of the CV runs"),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="epochs [25]"),
    patience: Optional[int] = typer.Option(None, "--patience", help="early stopping on val accuracy [5, rand 0]"),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch threads [torch's default]"),
    embed_dim: Optional[int] = typer.Option(None, "--embed-dim", help="embedding size [the vectors', 50 for rand]"),
    rand_dim: Optional[int] = typer.Option(None, "--rand-dim", help="embedding size of CNN-rand only [--embed-dim]"),
    precision: Optional[str] = typer.Option(None, "--precision", help="fp32 | bf16 | auto [see docs/text.md]"),
    embed_dropout: Optional[float] = typer.Option(None, "--embed-dropout",
                                                  help="dropout on the embedded vectors, every variant [see docs/text.md]"),
    seed: int = typer.Option(0, "--seed", help="seed"),
    table_only: bool = typer.Option(False, "--table-only", help="train nothing: the table of the folds in --out"),
    format: str = typer.Option("text", "--format", "-f", help="text or json (markdown table in text)"),
) -> None:
    """Kim's MR table: the four variants with K-fold CV, ours (mean ± std) beside the paper's, time per variant."""
    import json

    from cnnlab.apps.text.benchmark import render_table, run_benchmark

    _check_format(format)
    options = {k: v for k, v in dict(epochs=epochs, patience=patience, precision=precision).items() if v is not None}
    result = run_benchmark(variants=[v.strip() for v in variants.split(",") if v.strip()], folds=folds,
                           vectors=vectors, out=out, threads=threads, seed=seed, embed_dim=embed_dim, rand_dim=rand_dim,
                           train_missing=not table_only,
                           model_options=None if embed_dropout is None else {"embed_dropout": embed_dropout},
                           log=None if format == "json" else typer.echo, **options)
    typer.echo(json.dumps(result) if format == "json" else render_table(result))
