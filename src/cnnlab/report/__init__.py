"""The self-contained HTML report of a trained model: summary, curves, diagnostics, what the CNN learned.

``write_report(run_dir)`` loads a run folder (:func:`cnnlab.train.runs.load_run`) and its dataset's test
split, and writes ``report.html`` with every image embedded as a data URI. ``build_report`` does the
same from plain objects (any model, any labelled tensors). matplotlib is imported only when figures
are drawn.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_report", "build_report"]


def build_report(model, x, y, *, classes=None, mean=None, std=None, history=None, title="cnnlab report",
                 subtitle="", summary_html=None, n_examples: int = 4, steps: int | None = None, seed: int = 0,
                 sections=None, preprocess=None) -> str:
    """Render the report page for ``model`` on raw test images ``x`` (N×C×H×W in [0, 1]) and labels ``y``.

    Args:
        classes: class names (default "0".."K-1"); mean, std: per-channel normalisation of the model input
            (or ``preprocess``: the model's :class:`cnnlab.preprocess.Normalize`).
        history: training history rows (dicts) for the curves.
        n_examples: test images explained with saliency / Grad-CAM / occlusion.
        steps: activation-maximisation steps (default: the preset's).
        sections: subset of ``summary, training, evaluation, mistakes, filters, featuremaps, maximize,
            attribution`` (default all).

    Returns:
        The HTML text.
    """
    import torch

    from cnnlab.errors import ConfigError, ShapeError
    from cnnlab.report import html, sections as S

    all_secs = ["summary", "training", "evaluation", "mistakes", "filters", "featuremaps", "maximize", "attribution"]
    wanted = list(all_secs if sections is None else sections)
    bad = [s for s in wanted if s not in all_secs]
    if bad:
        raise ConfigError(f"`sections` must be among {', '.join(all_secs)}; got {', '.join(bad)}")
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.long)
    if x.dim() != 4 or y.shape != (x.shape[0],):
        raise ShapeError(f"`x` must be N×C×H×W and `y` N labels; got {tuple(x.shape)} and {tuple(y.shape)}")
    from cnnlab.preprocess import for_stats

    pre = preprocess if preprocess is not None else for_stats(mean, std)
    ctx = S.Context(model=model, x=x, y=y, classes=[str(c) for c in (classes or [])], preprocess=pre)
    out: dict[str, html.Section] = {}
    if "summary" in wanted:
        out["summary"] = S.summary_section(model, ctx.input_shape, summary_html)
    if "training" in wanted:
        out["training"] = S.training_section(list(history or []))
    pred = None
    if "evaluation" in wanted or "mistakes" in wanted:
        (ev, mis), pred = S.evaluation_sections(ctx)
        out["evaluation"], out["mistakes"] = ev, mis
    if "filters" in wanted:
        out["filters"] = S.filters_section(ctx)
    if "featuremaps" in wanted:
        out["featuremaps"] = S.featuremaps_section(ctx)
    if "maximize" in wanted:
        out["maximize"] = S.maximize_section(ctx, steps=steps, seed=seed)
    if "attribution" in wanted:
        if pred is None:
            pred = _predictions(model, ctx)
        out["attribution"] = S.attribution_section(ctx, _examples(y, pred, n_examples))
    return html.page(title, subtitle, [out[k] for k in all_secs if k in out])


def _predictions(model, ctx):
    from cnnlab import explain

    return explain.predict_proba(model, ctx.norm(ctx.x)).argmax(1)


def _examples(y, pred, n: int) -> list[int]:
    """A few test images: first correct ones of different classes, then one mistake if there is one."""
    chosen, seen = [], set()
    for i in range(len(y)):
        if len(chosen) >= max(0, n - 1):
            break
        if int(pred[i]) == int(y[i]) and int(y[i]) not in seen:
            chosen.append(i)
            seen.add(int(y[i]))
    wrong = [i for i in range(len(y)) if int(pred[i]) != int(y[i])]
    if wrong and n > 0:
        chosen.append(wrong[0])
    i = 0
    while len(chosen) < min(n, len(y)):
        if i not in chosen:
            chosen.append(i)
        i += 1
    return chosen[:n]


def write_report(run_dir, *, out=None, data=None, n_test: int | None = 2000, n_examples: int = 4,
                 steps: int | None = None, seed: int = 0, sections=None) -> Path:
    """Write ``report.html`` for a run folder and return its path.

    Args:
        run_dir: a folder written by ``cnnlab train`` (see :func:`cnnlab.train.runs.load_run`).
        out: output file (default ``<run_dir>/report.html``).
        data: a :class:`cnnlab.data.Dataset` to evaluate on instead of loading the run's dataset.
        n_test: evaluate on the first ``n_test`` test images (``None`` = all).
        n_examples, steps, seed, sections: see :func:`build_report`.

    A classification run gets the full explanation report; a regression or embedding run its task's metrics
    (PSNR, SSIM / verification accuracy, ROC AUC) and, for image targets, input/output/target examples; an
    application's run (``config.json`` ``extra.app``) the sections of ``cnnlab.apps.<app>.report``.

    Raises:
        DataError: not a run folder, or its dataset cannot be loaded.
    """
    from cnnlab.errors import DataError
    from cnnlab.io import write_text
    from cnnlab.train.runs import load_run

    run = load_run(run_dir)
    name = run.desc.get("zoo") if isinstance(run.desc, dict) and "zoo" in run.desc else type(run.model).__name__
    title = f"cnnlab report: {Path(run_dir).name}"
    app = run.extra.get("app") if isinstance(run.extra, dict) else None
    if app:  # an application's run: its own sections (it knows how to load its data)
        text = _app_report(run, app, name, title, data=data, n_test=n_test, n_examples=n_examples)
    else:
        if data is None:
            if not run.dataset:
                raise DataError(f"run `{run_dir}` does not name its dataset; pass `data=` to write_report")
            from cnnlab import data as data_mod

            data = data_mod.load(run.dataset)
        x, y = data.x_test, data.y_test
        if n_test is not None:
            x, y = x[:n_test], y[:n_test]
        subtitle = f"model {name} · task {run.task.name} · data {run.dataset or getattr(data, 'name', '?')} · " \
                   f"{len(y)} test examples"
        if run.task.name == "classification":
            text = build_report(run.model, x, y, classes=run.classes or list(getattr(data, "classes", []) or []),
                                preprocess=run.preprocess, history=run.history, title=title, subtitle=subtitle,
                                n_examples=n_examples, steps=steps, seed=seed, sections=sections)
        else:
            text = _task_report(run, x, y, title, subtitle, n_examples)
    path = Path(out) if out is not None else Path(run_dir) / "report.html"
    write_text(path, text)
    return path


def _task_report(run, x, y, title: str, subtitle: str, n_examples: int) -> str:
    """Summary, curves, the task's test metrics and (image targets) input/output/target examples."""
    from cnnlab.report import html, sections as S, tasks as T
    from cnnlab.train.evaluation import evaluate_split

    secs = [S.summary_section(run.model, tuple(x.shape[1:])), S.training_section(list(run.history))]
    metrics = evaluate_split(run.model, x, y, run.task, run.preprocess)
    secs.append(T.metrics_section(run.task, {k: v for k, v in metrics.items() if k != "n"}, len(y)))
    if run.task.name == "regression" and y.dim() == 4 and x.dim() == 4:
        secs.append(T.image_examples_section(run.model, run.preprocess, x, y, run.task, n_examples))
    return html.page(title, subtitle, secs)


def _app_report(run, app: str, name: str, title: str, **options) -> str:
    """``cnnlab.apps.<app>.report.report_sections(run, **options) -> (subtitle, [Section, ...])``."""
    import importlib

    from cnnlab.errors import ConfigError
    from cnnlab.report import html, sections as S

    try:
        hook = importlib.import_module(f"cnnlab.apps.{app}.report")
    except ModuleNotFoundError:
        raise ConfigError(f"run `{run.path}` was written by application {app!r}, which has no report module "
                          f"(cnnlab.apps.{app}.report)") from None
    subtitle, secs = hook.report_sections(run, **options)
    shape = tuple(run.input_shape)
    return html.page(title, f"model {name} · {subtitle}",
                     [S.summary_section(run.model, shape), S.training_section(list(run.history)), *secs])
