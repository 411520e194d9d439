"""The self-contained HTML tuning report beside the study (``DIR/report.html``): the numbers, the best trial's
configuration and the command that retrains it, every trial in a table, and the PNG plots inline.

Built from :mod:`cnnlab.htmlparts` (the report floor sits above the applications, so the page is assembled
here; the plots are small PNG data URIs, no scripts).
"""

from __future__ import annotations

import json
from pathlib import Path

from cnnlab.apps.tune.final import trial_epochs
from cnnlab.htmlparts import Figure, esc, figure_html, table_html

CSS = ("body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}"
       "header{background:#263238;color:#fff;padding:14px 28px}header h1{margin:0;font-size:22px}"
       "header p{margin:4px 0 0;color:#cfd8dc;font-size:13px}main{padding:8px 28px 40px}"
       "section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;margin:16px 0;padding:10px 18px}"
       "h2{font-size:18px;margin:6px 0 10px}figure{display:inline-block;margin:6px 10px 6px 0;vertical-align:top}"
       "figcaption{font-size:12px;color:#546e7a;max-width:520px}img{max-width:100%}"
       "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
       "th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}"
       "pre{background:#f5f5f5;padding:8px;white-space:pre-wrap;font-size:12px}")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _overview(summary: dict) -> str:
    rows = [["study", f"{summary['study']} in {summary['storage']}"],
            ["model / data", f"{summary['model']} on {summary['data']} (selection: validation split)"],
            ["metric", f"{summary['metric']} ({summary['direction']})"],
            ["pruner / max epochs", f"{summary['pruner']} / {summary['epochs']}"],
            ["trials", f"{summary['trials']} in the study ({', '.join(f'{k} {v}' for k, v in summary['states'].items())})"],
            ["this command", f"{summary['trials_this_command']} trials, {summary['workers']} worker(s), "
                             f"{summary['wall_s']:.0f} s"],
            ["trial-epochs", f"{summary['trial_epochs_run']} run of {summary['trial_epochs_planned']} planned: "
                             f"pruning saved {100 * summary['pruned_epoch_fraction']:.1f}%"],
            ["search space", " ".join(summary["space"])]]
    return table_html(["", ""], rows)


def _best(summary: dict) -> str:
    best = summary.get("best")
    if not best:
        return "<p>No trial has completed yet.</p>"
    test = best.get("test", {})
    if "accuracy_mean" in test:
        shown = f"{100 * test['accuracy_mean']:.2f}% ± {100 * test['accuracy_std']:.2f} over {test['seeds']} retrained seed(s)"
    else:
        shown = f"{100 * test.get('accuracy', float('nan')):.2f}% (the trial's own weights, evaluated once)"
    parts = [table_html(["", ""], [["trial", best["trial"]], [f"validation {summary['metric']}", _fmt(best["val"])],
                                   ["test accuracy", shown]])]
    parts.append("<h3>configuration</h3><pre>" + esc(json.dumps({"fit": best["fit"], "model": best["model_kwargs"]},
                                                                 indent=2)) + "</pre>")
    if best.get("command"):
        parts.append("<h3>retrain it</h3><pre>" + esc(best["command"]) + "</pre>")
    return "".join(parts)


def _trials(study, metric: str) -> str:
    trials = study.get_trials(deepcopy=False)
    names = sorted({k for t in trials for k in t.params})
    rows = []
    for t in trials:
        run, planned = trial_epochs(t)
        last = t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else None
        rows.append([t.number, t.state.name.lower(), _fmt(t.value), _fmt(last), f"{run}/{planned}",
                     *(_fmt(t.params.get(n)) for n in names)])
    return table_html(["trial", "state", "value", f"last {metric}", "epochs"] + names, rows)


def write_report(study, settings, summary: dict, out) -> Path:
    """Write ``out/report.html``; returns its path."""
    from cnnlab.io import write_text

    figs = []
    for name, info in (summary.get("plots") or {}).items():
        if "path" in info:
            figs.append(figure_html(Figure(Path(info["path"]).read_bytes(), info["caption"])))
        else:
            figs.append(f"<p>{esc(name)}: not drawn ({esc(info['skipped'])})</p>")
    sections = [("Study", _overview(summary)), ("Best trial", _best(summary)), ("Plots", "".join(figs)),
                ("Trials", _trials(study, settings.metric))]
    body = "".join(f"<section><h2>{esc(t)}</h2>{b}</section>" for t, b in sections)
    title = f"cnnlab tune: {settings.model} on {settings.data}"
    html = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body><header><h1>{esc(title)}</h1><p>study {esc(settings.study)}</p>"
            f"</header><main>{body}</main></body></html>\n")
    return write_text(Path(out) / "report.html", html)
