"""The study's plots as PNG files beside it, drawn with Optuna's matplotlib visualisation (works offline).

Optimisation history, intermediate values (pruned trials included: their curves stop early), parallel
coordinates, parameter importance (fANOVA) and slice plots. A plot that cannot be drawn yet (importance needs
two completed trials with varying parameters) is listed with the reason instead.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from cnnlab.apps.tune import storage

PLOTS = {
    "history": ("plot_optimization_history", "optimisation history: each trial's value and the best so far"),
    "intermediate": ("plot_intermediate_values", "validation metric per epoch of every trial (pruned ones stop early)"),
    "parallel": ("plot_parallel_coordinate", "parallel coordinates: parameters of the completed trials, coloured by value"),
    "importance": ("plot_param_importances", "parameter importance (fANOVA) over the completed trials only"),
    "slice": ("plot_slice", "slice plots: the value of each completed trial against each parameter"),
}


def _figure(axes):
    import numpy as np

    first = np.ravel(np.asarray(axes, dtype=object))[0]
    return first.figure


def write_plots(study, out, metric: str) -> dict:
    """Write ``out/plots/<name>.png``; returns ``{name: {"path", "caption"} or {"skipped": reason}}``."""
    from cnnlab.io import atomic_write
    from cnnlab.pictures import figure_png, pyplot

    opt = storage.optuna()
    plt = pyplot()
    vis = opt.visualization.matplotlib
    folder = Path(out) / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    done = {}
    for name, (fn_name, caption) in PLOTS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kw = {"target_name": metric} if name in ("history", "parallel", "slice", "importance") else {}
                axes = getattr(vis, fn_name)(study, **kw)
                fig = _figure(axes)
                if name == "intermediate":
                    ax = fig.axes[0]
                    ax.set_xlabel("epoch")
                    ax.set_ylabel(metric)
                    if ax.get_legend() is not None and len(study.trials) > 12:  # 40 names say nothing
                        ax.get_legend().remove()
                if name == "slice":
                    from matplotlib.ticker import LogFormatterSciNotation, LogLocator, NullFormatter

                    for ax in fig.axes[:-1]:  # the last axes is the colour bar
                        if ax.get_xscale() == "log":  # label 1, 2, 5 per decade instead of crowded minor ticks
                            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                            ax.xaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
                            ax.xaxis.set_minor_formatter(NullFormatter())
                        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
                if name == "slice":
                    fig.set_size_inches(max(4.0, 3.2 * len(fig.axes)), 3.6)
                elif name == "parallel":
                    fig.set_size_inches(9, 4.5)
                else:
                    fig.set_size_inches(7.5, 4.5)
                png = figure_png(fig, dpi=96)
        except (ValueError, RuntimeError, IndexError, ZeroDivisionError) as exc:
            plt.close("all")
            done[name] = {"skipped": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
            continue
        path = folder / f"{name}.png"
        with atomic_write(path) as f:
            f.write(png)
        done[name] = {"path": str(path), "caption": caption}
    return done
