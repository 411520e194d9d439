"""FSDD splits, training through fit on front-end features, and predict through the same front end.

The recordings here are stand-ins written on the fly: digit d is a tone at 300 + 300·d Hz (speakers differ in
level and length), so a few epochs separate them and the checks run in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnlab.apps.speech import audio
from cnnlab.apps.speech.data import Clip, fsdd_root, list_fsdd, split_clips
from cnnlab.apps.speech.training import features_dataset, predict_files, train
from cnnlab.cli.app import main
from cnnlab.errors import ConfigError, DataError

sf = pytest.importorskip("soundfile", reason="pip install soundfile")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """``$CNNLAB_DATA`` with fsdd/recordings of 2 speakers × 10 digits × 14 takes of tones."""
    root = tmp_path_factory.mktemp("data")
    rec = root / "fsdd" / "recordings"
    rec.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for s, speaker in enumerate(("ann", "bob")):
        for d in range(10):
            for take in range(14):
                n = int(8000 * (0.3 + 0.05 * take % 0.4 + 0.1 * s))
                x = (0.2 + 0.3 * s) * np.sin(2 * np.pi * (300 + 300 * d) * np.arange(n) / 8000)
                x = np.concatenate([np.zeros(400), x + 0.01 * rng.standard_normal(n), np.zeros(300)])
                sf.write(rec / f"{d}_{speaker}_{take}.wav", x.astype(np.float32), 8000, subtype="PCM_16")
    return root


def test_splits_of_the_fsdd_layout():
    clips = [Clip(Path(f"{d}_{s}_{t}.wav"), d, s, t) for s in ("a", "b", "c", "d", "e", "f") for d in range(10)
             for t in range(50)]
    official = split_clips(clips, "official")
    assert [len(official[k]) for k in ("train", "val", "test")] == [2400, 300, 300]
    assert {c.take for c in official["test"]} == set(range(5))
    loso = split_clips(clips, "speaker:c")
    assert [len(loso[k]) for k in ("train", "val", "test")] == [2250, 250, 500]
    assert {c.speaker for c in loso["test"]} == {"c"} and "c" not in {c.speaker for c in loso["train"] + loso["val"]}
    with pytest.raises(ConfigError, match="one of the speakers a, b, c, d, e, f; got 'zed'"):
        split_clips(clips, "speaker:zed")
    with pytest.raises(ConfigError, match="'official' or 'speaker:NAME'; got 'random'"):
        split_clips(clips, "random")


def test_the_store_folder_is_named_when_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    with pytest.raises(DataError, match=f"dataset `fsdd` not found in {tmp_path}/fsdd; get it with: cnnlab data fetch fsdd"):
        fsdd_root()


def test_train_predict_and_identical_features(store, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA", str(store))
    assert len(list_fsdd()) == 280
    out = tmp_path / "run"
    result = train("dnn", split="official", out=out, epochs=10, batch_size=8, progress=False, allison=False)
    assert result.test_accuracy >= 0.9 and set(result.per_speaker) == {"ann", "bob"}
    saved = json.loads((out / "speech.json").read_text())
    assert saved["test_accuracy"] == result.test_accuracy and saved["params"] == 31978

    # the training features are the model's own front end applied to the prepared clip ...
    from cnnlab.train import load_run

    model = load_run(out).model
    ds, clips = features_dataset(model, "official")
    i = 7
    wav = clips["test"][i].path
    raw = torch.from_numpy(audio.load_clip(wav))[None]
    torch.testing.assert_close(model.features(raw), ds.x_test[i:i + 1], rtol=0, atol=0)
    # ... and predict (waveform in) gives exactly the probabilities of the body on those features
    pred = predict_files(out, [wav], top_k=10)[0]
    with torch.no_grad():
        probs = model(ds.x_test[i:i + 1]).softmax(1)[0]
    assert pred["top"][0]["digit"] == str(int(probs.argmax()))
    got = {t["digit"]: t["probability"] for t in pred["top"]}
    assert got == pytest.approx({str(k): float(p) for k, p in enumerate(probs)}, abs=1e-7)


def test_cli_train_and_predict(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_DATA", str(store))
    run = tmp_path / "cli-run"
    assert main(["speech", "train", "--data", "fsdd", "--model", "dnn", "--split", "speaker:bob", "--epochs", "3",
                 "--out", str(run), "--no-progress"]) == 0
    assert "speech_dnn (31,978 params) on speaker:bob: test accuracy" in capsys.readouterr().out
    wavs = [store / "fsdd" / "recordings" / f"{d}_bob_0.wav" for d in (2, 5)]
    assert main(["speech", "predict", str(run), *map(str, wavs), "--format", "json", "-k", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [Path(d["file"]).name for d in doc] == ["2_bob_0.wav", "5_bob_0.wav"]
    assert all(len(d["top"]) == 2 and 0 <= d["probability"] <= 1 for d in doc)

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    assert main(["speech", "predict", str(run), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `") and "is not a readable audio file" in err and err.count("\n") == 1
    assert main(["speech", "train", "--model", "lstm", "--out", str(tmp_path / "x")]) == 2
    assert "`--model` must be one of freq, cnn2d, dnn; got 'lstm'" in capsys.readouterr().err
    assert main(["speech", "predict", str(run), str(wavs[0]), "--format", "yaml"]) == 2


def test_extra_training_folders_join_the_training_split_only(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_DATA", str(store))
    extra = tmp_path / "synth"
    extra.mkdir()
    for d in range(10):
        x = 0.5 * np.sin(2 * np.pi * (300 + 300 * d) * np.arange(3000) / 8000)
        sf.write(extra / f"{d}_espeak-en-us_0.wav", x.astype(np.float32), 16000)  # another rate: resampled
    run = tmp_path / "run"
    assert main(["speech", "train", "--data", f"fsdd+{extra}", "--model", "dnn", "--epochs", "1", "--out", str(run),
                 "--no-progress"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert (config["data"]["n_train"], config["data"]["n_val"], config["data"]["n_test"]) == (80 + 10, 100, 100)
    assert config["extra"]["extra_train"] == [str(extra)] and config["extra"]["app"] == "speech"
    capsys.readouterr()
    assert main(["speech", "train", "--data", "fsdd+/no/such/dir", "--out", str(tmp_path / "r2")]) == 2
    assert "`/no/such/dir` is not a folder" in capsys.readouterr().err


def test_the_report_of_a_speech_run(store, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA", str(store))
    from cnnlab.apps.speech.report import report_sections
    from cnnlab.report import write_report
    from cnnlab.train import load_run

    out = tmp_path / "run"
    result = train("freq", split="speaker:bob", out=out, epochs=1, progress=False, allison=False)
    subtitle, secs = report_sections(load_run(out))
    assert subtitle == "spoken digits, FSDD split speaker:bob"
    assert secs[0].title == f"Test accuracy (speaker:bob): {100 * result.test_accuracy:.2f}% on 140 clips"
    assert "<td>bob</td><td>140</td>" in secs[0].blocks[0]
    assert [s.id for s in secs[:3]] == ["speech-test", "speech-spectrograms", "speech-filters"]
    assert "8×1 (mel bins × frames) footprint at the loudest bin" in secs[1].blocks[0]
    assert "32 kernels of 8×1" in secs[2].blocks[0]
    page = write_report(out).read_text()
    assert "Learned first-layer filters" in page and "data:image/png;base64," in page


def test_benchmark_on_one_fold_and_its_table(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_DATA", str(store))
    out = tmp_path / "bench.json"
    assert main(["speech", "benchmark", "--models", "dnn", "--folds", "speakers", "--speakers", "ann", "--epochs", "1",
                 "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [(r["model"], r["split"], r["params"]) for r in doc["runs"]] == [("dnn", "speaker:ann", 31978)]
    table = capsys.readouterr().out
    acc = 100 * doc["runs"][0]["test_accuracy"]
    assert f"| speech_dnn | 31,978 | 0.03 M | — | {acc:.1f}% | ann {acc:.0f} |" in table
    assert main(["speech", "benchmark", "--speakers", "zed", "--folds", "speakers"]) == 2
    assert "`speakers` must be among ann, bob; got zed" in capsys.readouterr().err


def test_benchmark_table_and_paired_differences_from_hand_made_runs():
    from cnnlab.apps.speech.benchmark import paired, render_paired, render_table

    def run(model, split, acc, seed=0):
        return {"model": model, "split": split, "seed": seed, "params": 100, "test_accuracy": acc,
                "train_seconds": 10.0, "cpu_seconds": 5.0, "allison": {"correct": 7, "total": 10}}

    runs = [run("freq", "official", 0.97), run("freq", "official", 0.99, seed=1),
            run("freq", "speaker:a", 0.80), run("freq", "speaker:a", 0.90, seed=1), run("freq", "speaker:b", 0.70),
            run("cnn2d", "official", 0.90), run("cnn2d", "speaker:a", 0.60), run("cnn2d", "speaker:b", 0.75)]
    doc = {"epochs": 1, "macs": {"freq": 2e6, "cnn2d": 3e6}, "runs": runs}
    table = render_table(doc)
    # freq: folds a = (80 + 90) / 2 = 85, b = 70 -> mean 77.5, sample std of (85, 70) = 10.61
    assert "| speech_freq | 100 | 2.00 M | 98.0 ± 1.4% | 77.5 ± 10.6% | a 85 b 70 | 7/7 of 10 |" in table
    assert "| speech_cnn2d | 100 | 3.00 M | 90.0% | 67.5 ± 10.6% | a 60 b 75 | 7 of 10 |" in table
    # paired: a 85 − 60 = +25, b 70 − 75 = −5 -> mean +10, std of (25, −5) = 21.2, better on 1 of 2
    p = paired(doc, "freq", "cnn2d")
    assert p["mean"] == pytest.approx(10.0) and p["std"] == pytest.approx(21.2132, abs=1e-3)
    assert (p["better"], p["folds"]) == (1, 2)
    assert render_paired(doc) == "freq − cnn2d on unseen speakers: +10.0 ± 21.2 points (better on 1 of 2 folds)"


def test_cli_train_with_augmentation_normalisation_exclusion_and_resume(store, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_DATA", str(store))
    run = tmp_path / "aug-run"
    assert main(["speech", "train", "--model", "dnn", "--epochs", "2", "--batch-size", "16", "--augment",
                 "--norm", "mvn", "--exclude", "bob", "--out", str(run), "--no-progress"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["fit"]["augment"]["speed"] == [0.9, 1.1] and config["extra"]["exclude"] == ["bob"]
    assert (config["data"]["n_train"], config["data"]["n_val"], config["data"]["n_test"]) == (40, 50, 50)
    assert config["data"]["input_shape"] == [8000]  # waveforms: features are computed per batch after augmenting
    saved = json.loads((run / "speech.json").read_text())
    assert saved["utterance_norm"] == "mvn" and saved["augment"].startswith("speed 0.9–1.1")
    from cnnlab.train import load_run

    assert load_run(run).model.frontend.utterance_norm == "mvn"  # predict rebuilds the same front end
    capsys.readouterr()
    assert main(["speech", "train", "--exclude", "zed", "--out", str(tmp_path / "x")]) == 2
    assert "`exclude` must name speakers of the data; got zed" in capsys.readouterr().err
    assert main(["speech", "train", "--resume"]) == 2
    assert "`--resume` needs `--out RUN`" in capsys.readouterr().err
