"""Top-1/top-5 of `cnnlab go train` runs on their held-out games, split into games from the empty board and
games with random opening stones (`cnnlab go selfplay --opening N`), with and without the 8-symmetry average.

    python benchmarks/go_heldout_subsets.py RUN [RUN ...]    # one JSON line per run and symmetry count

The stored test positions name their games by index; the split is recomputed from the run's config (its split
seed and fractions; 0.05 / 0.1 for runs that predate storing them) and checked against those indices.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    import numpy as np

    from cnnlab.apps.go import positions, sgf, train
    from cnnlab.bundle import resolve

    for run in (sys.argv[1:] if argv is None else argv):
        extra = json.loads((Path(run) / "config.json").read_text())["extra"]
        te = positions.load(Path(run) / train.TEST_FILE)
        _, _, test_ids = positions.split_games(extra["games"], val=extra.get("val", 0.05),
                                               test=extra.get("test", 0.1), seed=extra["split_seed"])
        if sorted(test_ids) != sorted(set(te.game.tolist())):
            raise SystemExit(f"{run}: the recomputed split does not match the stored test positions")
        has_setup = {}
        for gid, path in zip(test_ids, extra["test_files"]):  # test_files are in split order
            game = sgf.read(path)
            has_setup[gid] = bool(game.setup_black or game.setup_white)
        model = resolve(run).model.eval()
        for sym in (1, 8):
            top5 = train.predict_logits(model, te.x, symmetries=sym).topk(5, 1).indices.numpy()
            hit1, hit5 = top5[:, 0] == te.y, (top5 == te.y[:, None]).any(1)
            out = {"run": run, "symmetries": sym, "all": [float(hit1.mean()), float(hit5.mean()), len(te.y)]}
            for name, want in (("empty board", False), ("random stones", True)):
                games = [g for g, s in has_setup.items() if s == want]
                keep = np.isin(te.game, games)
                out[name] = [float(hit1[keep].mean()), float(hit5[keep].mean()), int(keep.sum()), len(games)]
            print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
