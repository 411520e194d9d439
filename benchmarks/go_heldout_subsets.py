"""Top-1/top-5 of `cnnlab go train` runs on their held-out games, split into games from the empty board and
games with random opening stones (`cnnlab go selfplay --opening N`), with and without the 8-symmetry average.

    python benchmarks/go_heldout_subsets.py RUN [RUN ...]    # one JSON line per run and symmetry count

Assumes the runs used the default --val 0.05 --test 0.1 (the split is recomputed from the config's split seed
and checked against the stored test positions).
"""
import json, sys
from pathlib import Path
import numpy as np
from cnnlab.apps.go import positions, train, sgf
from cnnlab.bundle import resolve

runs = sys.argv[1:]
cfg = json.loads((Path(runs[0]) / "config.json").read_text())
extra = cfg.get("extra", cfg)
files = extra["test_files"]
setup = {f: bool(sgf.read(f).setup_black or sgf.read(f).setup_white) for f in files}
for run in runs:
    te = positions.load(Path(run) / train.TEST_FILE)
    # te.game indexes the full kept list; the test files are in split order; map game ids by order of first appearance
    _, _, test_ids = positions.split_games(extra["games"], val=0.05, test=0.1, seed=extra["split_seed"])
    assert sorted(test_ids) == sorted(set(te.game.tolist())), "split does not match"
    ids, files_by_id = test_ids, files
    model = resolve(run).model.eval()
    for sym in (1, 8):
        logits = train.predict_logits(model, te.x, symmetries=sym)
        top5 = logits.topk(5, 1).indices.numpy()
        y = te.y
        hit1 = top5[:, 0] == y
        hit5 = (top5 == y[:, None]).any(1)
        out = {"run": run, "symmetries": sym, "all": [float(hit1.mean()), float(hit5.mean()), len(y)]}
        for name, want in (("empty board", False), ("random stones", True)):
            keep_games = {g for g, f in zip(ids, files_by_id) if setup[f] == want}
            keep = np.isin(te.game, list(keep_games))
            out[name] = [float(hit1[keep].mean()), float(hit5[keep].mean()), int(keep.sum()), len(keep_games)]
        print(json.dumps(out))
