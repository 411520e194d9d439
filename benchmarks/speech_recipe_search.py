"""Choose the speech recipe on a *validation* speaker, with the test speaker out of sight.

Each experiment trains the frequency-only CNN on four FSDD speakers, scores the fifth (the validation
speaker, never heard in training) and leaves the sixth out of every split (``exclude``), so no choice made
here looks at a held-out test speaker's accuracy in that fold. Results go to a JSON-lines file, one line per
run, so an interrupted search keeps what it measured.

    python benchmarks/speech_recipe_search.py --val george --exclude theo --out runs/search-george.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from cnnlab.apps.speech.augment import SpeechAugment
from cnnlab.apps.speech.training import train

RECIPES = {
    "base": dict(),
    "cmvn": dict(utterance_norm="cmvn"),
    "aug": dict(augment=SpeechAugment()),
    "cmvn+aug": dict(utterance_norm="cmvn", augment=SpeechAugment()),
    "cmvn+aug+synth": dict(utterance_norm="cmvn", augment=SpeechAugment(), synth=True),
    "mvn+aug": dict(utterance_norm="mvn", augment=SpeechAugment()),
    "cmvn+aug-nowarp": dict(utterance_norm="cmvn", augment=SpeechAugment(warp=None)),
    "cmvn+aug+wide": dict(utterance_norm="cmvn", augment=SpeechAugment(),
                          model_options={"channels": [48, 48], "hidden": 16}),
    # second round, after noise hurt on the (clean) validation speakers
    "cmvn+aug-nonoise": dict(utterance_norm="cmvn", augment=SpeechAugment(snr=None)),
    "cmvn+synth": dict(utterance_norm="cmvn", synth=True),
    "cmvn+light": dict(utterance_norm="cmvn", augment=SpeechAugment(speed=(0.95, 1.05), shift=0.05, snr=None,
                                                                   warp=(0.95, 1.05), freq_masks=1, time_masks=1)),
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--val", required=True, help="validation speaker (scored, never trained on)")
    p.add_argument("--exclude", required=True, help="test speaker kept out of every split")
    p.add_argument("--recipes", default=",".join(RECIPES))
    p.add_argument("--model", default="freq")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--synth", default=os.environ.get("SPEECH_SYNTH", ""), help="folder of `cnnlab speech synth`")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    out = Path(a.out)
    done = set()
    if out.exists():
        done = {(d["recipe"], d["model"]) for d in map(json.loads, out.read_text().splitlines()) if d}
    for name in a.recipes.split(","):
        if (name, a.model) in done:
            continue
        opts = dict(RECIPES[name])
        extra = (Path(a.synth),) if opts.pop("synth", False) else ()
        r = train(a.model, split=f"speaker:{a.val}", exclude=[a.exclude], epochs=a.epochs, extra_train=extra,
                  progress=False, allison=True, **opts)
        line = {"recipe": name, "model": a.model, "val": a.val, "exclude": a.exclude, "epochs": a.epochs,
                "val_speaker_accuracy": r.test_accuracy, "params": r.params,
                "allison": r.allison["correct"] if r.allison else None, "cpu_seconds": r.cpu_seconds,
                "wall_seconds": r.train_seconds, "load": os.getloadavg()}
        print(json.dumps(line), flush=True)
        with out.open("a") as f:
            f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
