"""Figures shared by several chapters, in one style (seaborn, white grid)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from matplotlib.ticker import NullFormatter
from scipy import stats

from .metrics import METRICS, risk_coverage


def sample_grid(dataset, per_class: int = 1, max_classes: int = 48, title=None, ax=None):
    """A grid of example images, ``per_class`` per class, labelled by class name."""
    labels = np.asarray(dataset.labels)
    picks = []
    for c in range(min(len(dataset.classes), max_classes)):
        picks.extend(np.flatnonzero(labels == c)[:per_class].tolist())
    columns = 16
    rows = int(np.ceil(len(picks) / columns))
    if ax is None:
        _, ax = plt.subplots(figsize=(columns * 0.6, rows * 0.7))
    canvas = np.ones((rows * 34, columns * 34, 3))
    for k, i in enumerate(picks):
        image, label = dataset[i]
        r, c = divmod(k, columns)
        pixels = np.asarray(image.permute(1, 2, 0), dtype=np.float64) / 255
        if pixels.shape[0] != 32:  # paper datasets: show a 32 px thumbnail
            pixels = F.interpolate(torch.as_tensor(pixels).permute(2, 0, 1)[None], size=32)[0]
            pixels = pixels.permute(1, 2, 0).numpy()
        canvas[r * 34 + 1 : r * 34 + 33, c * 34 + 1 : c * 34 + 33] = pixels
        ax.text(
            c * 34 + 16,
            r * 34 + 33.5,
            str(dataset.classes[label])[:6],
            ha="center",
            va="top",
            fontsize=6,
        )
    ax.imshow(canvas, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def _panel(table) -> str:
    """The column naming a (dataset, split) panel: ``panel`` where the table has it."""
    return "panel" if "panel" in table else "split"


def size_accuracy(table, x="gflops", ax=None, title=None):
    """Accuracy against compute (log x) for each evaluation set of a zoo table, one line each.

    ``table`` has columns model, family, ``x``, panel (or split) and accuracy
    (``bank.zoo_summary``).
    """
    panel = _panel(table)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    sns.lineplot(
        data=table.sort_values(x),
        x=x,
        y="accuracy",
        hue=panel,
        style=panel,
        markers=False,
        dashes=True,
        ax=ax,
        legend=False,
        lw=0.8,
        alpha=0.5,
    )
    sns.scatterplot(data=table, x=x, y="accuracy", hue=panel, style="family", s=70, ax=ax)
    for _, row in table[table[panel] == table[panel].iloc[0]].iterrows():
        ax.annotate(
            row["model"],
            (row[x], row["accuracy"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_xlabel("GFLOPs per image (log scale)" if x == "gflops" else x)
    ax.set_ylabel("top-1 accuracy")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


MODE_STYLE = {
    "weighted": ("Duo (ours)", "tab:blue", "o"),
    "unweighted": ("Duo: unweighted", "tab:orange", "s"),
    "uq_only": ("Duo: UQ only", "tab:green", "^"),
}


def metric_label(name: str) -> str:
    """The registry's axis label of a metric (the name itself for anything else)."""
    return METRICS[name].label if name in METRICS else name


def metric_vs_balance(table, metric: str, modes=("weighted", "unweighted", "uq_only"), log_x=True):
    """The paper's Figures 3-6: a metric against FLOPs balance, one panel per f_large and
    evaluation set (the paper's ImageNet, ImageNet-V2, Caltech 256, iWildCam ID/OOD columns).

    One point per Duo coloured by mode; the temperature-scaled f_large as a dashed line.
    ``table`` is ``experiments.results(...)``.
    """
    panel = _panel(table)
    larges = list(dict.fromkeys(table.loc[table["mode"] != "single", "f_large"]))
    splits = list(dict.fromkeys(table[panel]))
    fig, axes = plt.subplots(
        len(larges),
        len(splits),
        figsize=(4.6 * len(splits), 3.2 * len(larges)),
        squeeze=False,
        sharex=True,
    )
    for i, large in enumerate(larges):
        for j, split in enumerate(splits):
            ax = axes[i, j]
            here = table[(table["f_large"] == large) & (table[panel] == split)]
            single = here.loc[here["mode"] == "single", metric].iloc[0]
            ax.axhline(single, color="grey", ls="--", lw=1.2, label="f_large (temp. scaled)")
            for mode in modes:
                label, colour, marker = MODE_STYLE[mode]
                rows = here[here["mode"] == mode].sort_values("flops_balance")
                ax.plot(
                    rows["flops_balance"],
                    rows[metric],
                    marker=marker,
                    color=colour,
                    lw=0.8,
                    alpha=0.9,
                    label=label,
                )
            if log_x:
                ax.set_xscale("log")
                # Within a decade matplotlib labels minor ticks too, which collide on
                # narrow panels; the decades are enough.
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_title(f"{large} · {split}", fontsize=10)
            if i == len(larges) - 1:
                ax.set_xlabel("FLOPs balance")
            if j == 0:
                ax.set_ylabel(metric_label(metric))
    axes[0, -1].legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def relative_improvement(frame, metrics=None, by="Duos"):
    """The paper's Figure 1 (right) as bars: mean improvement toward a perfect score (in %) per
    metric, one colour per panel, error bars the standard deviation over Duos (as the paper's
    shading). ``frame`` is ``claims.relative_improvement(...)``, optionally concatenated over
    windows of FLOPs balance with a column ``by`` naming each window (one panel per window).
    """
    panel = _panel(frame)
    metrics = list(dict.fromkeys(frame["metric"])) if metrics is None else list(metrics)
    windows = list(dict.fromkeys(frame[by])) if by in frame else [None]
    fig, axes = plt.subplots(
        1, len(windows), figsize=(4.6 * len(windows) + 1.4, 3.6), squeeze=False, sharey=True
    )
    for ax, window in zip(axes[0], windows, strict=True):
        here = frame if window is None else frame[frame[by] == window]
        sns.barplot(
            data=here, x="metric", y="relative_improvement", hue=panel, errorbar="sd",
            order=metrics, ax=ax, legend=ax is axes[0, -1],
        )  # fmt: skip
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("")
        ax.set_ylabel("improvement toward perfect (%)")
        ax.tick_params(axis="x", rotation=30)
        if window is not None:
            duos = len(here[["f_large", "f_small"]].drop_duplicates())
            ax.set_title(f"{window}: {duos} Duos")
    if axes[0, -1].get_legend() is not None:
        sns.move_legend(
            axes[0, -1], "upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title=""
        )
    fig.tight_layout()
    return fig


def metric_vs_cost(rows, metrics, x="gflops", lines=(), log_x=True, x_label=None):
    """Each method's metric against its cost, one panel per metric (the baseline chapters).

    ``rows``: ``duolib.tables`` rows (a DataFrame or list of dicts). A method whose rows
    span several costs is drawn as a line through them (e.g. Duos over sidekicks); other methods
    as their mean ± std (over subsets or repeated draws) at their cost. Methods named in
    ``lines`` are drawn as horizontal reference lines instead (e.g. the single model).
    """
    frame = pd.DataFrame(rows)
    methods = list(dict.fromkeys(frame["method"]))
    palette = dict(zip(methods, sns.color_palette("tab10", len(methods)), strict=True))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for method in methods:
            group = frame[frame["method"] == method]
            colour = palette[method]
            if method in lines:
                ax.axhline(group[metric].mean(), color=colour, ls="--", lw=1.4, label=method)
            elif group[x].nunique() > 1:
                ordered = group.sort_values(x)
                ax.plot(ordered[x], ordered[metric], "o-", color=colour, lw=1, ms=5, label=method)
            else:
                std = group[metric].std(ddof=1) if len(group) > 1 else 0.0
                ax.errorbar(
                    group[x].mean(),
                    group[metric].mean(),
                    yerr=std,
                    fmt="s",
                    color=colour,
                    ms=6,
                    capsize=3,
                    label=method,
                )
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(x_label or {"gflops": "test-time GFLOPs per image"}.get(x, x))
        ax.set_ylabel(metric_label(metric))
    axes[0, -1].legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def family_palette(families) -> dict:
    """One colour per architecture family (sorted), shared by a chapter's figures."""
    names = sorted(set(families))
    return dict(zip(names, sns.color_palette("husl", len(names)), strict=True))


def catalog_size_accuracy(catalog, fits: dict, palette: dict):
    """The paper's Figure 2 on published numbers: top-1 against GFLOPs and parameters.

    ``catalog``: ``zoo.torchvision_catalog()`` with a ``zoo`` column (in the paper's zoo or not);
    ``fits``: for ``"gflops"`` and ``"params"``, a ``scipy.stats.linregress`` of top-1 on log10.
    """
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), sharey=True)
    labels = {"gflops": "GFLOPs per image (log scale)", "params": "parameters (log scale)"}
    for ax, column in zip(axes, ("gflops", "params"), strict=True):
        sns.scatterplot(
            data=catalog,
            x=column,
            y="imagenet_top1",
            hue="family",
            palette=palette,
            style="zoo",
            markers={"in the paper's zoo": "o", "not in the zoo": "X"},
            s=60,
            ax=ax,
            legend=ax is axes[1],
        )
        fit = fits[column]
        grid = np.logspace(np.log10(catalog[column].min()), np.log10(catalog[column].max()), 50)
        ax.plot(grid, fit.intercept + fit.slope * np.log10(grid), "k--", lw=1, label="log-linear")
        ax.set_xscale("log")
        ax.set_xlabel(labels[column])
        ax.set_title(f"R² = {fit.rvalue**2:.2f}")
    axes[0].set_ylabel("ImageNet top-1 (%)")
    axes[1].legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8)
    fig.suptitle(f"{len(catalog)} torchvision ImageNet classifiers (published numbers)")
    fig.tight_layout()
    return fig


def balance_ladder(ladder, palette: dict, marks=(0.1, 0.2)):
    """FLOPs balance of every Duo of a zoo, one row per f_large (``zoo.balance_ladder``)."""
    fig, ax = plt.subplots(figsize=(10, 3.8))
    sns.stripplot(
        data=ladder,
        x="FLOPs balance",
        y="f_large",
        hue="sidekick family",
        palette=palette,
        size=7,
        jitter=0.15,
        ax=ax,
    )
    ax.set_xscale("log")
    for mark in marks:
        ax.axvline(mark, color="grey", ls=":", lw=1)
    ax.set_xlabel("FLOPs balance = FLOPs(sidekick) / FLOPs(f_large) (log scale)")
    ax.set_ylabel("")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8, title="sidekick family")
    fig.tight_layout()
    return fig


def weight_ratios(weights, ax=None, y="ratio"):
    """The paper's Figure 10: the weight ratio against FLOPs balance, one point per Duo.

    ``weights`` is ``experiments.weight_ratios(...)``; ``y="ratio"`` is the paper's quantity
    (weights on the temperature-scaled logits), ``y="raw_ratio"`` the ratio on raw logits."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    finite = weights[np.isfinite(weights[y])]
    sns.scatterplot(data=finite, x="flops_balance", y=y, hue="f_large", s=70, ax=ax)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axhline(1, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("FLOPs balance")
    ax.set_ylabel("w_large T_large / (w_small T_small)" if y == "ratio" else "w_large / w_small")
    ax.figure.tight_layout()
    return ax.figure


def risk_coverage_curves(systems: dict, labels, title=None):
    """Selective risk against coverage, one step curve per ``{name: (prediction, uncertainty)}``."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, (prediction, uncertainty) in systems.items():
        curve = risk_coverage(np.asarray(prediction) == np.asarray(labels), uncertainty)
        ax.step(curve.coverage, curve.risk, where="post", label=name)
    ax.set_xlabel("coverage")
    ax.set_ylabel("selective risk (error rate)")
    if title:
        ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def sac_profile(table, large: str):
    """Coverage at every SAC target from 90% to 99% for ``large`` alone and its weighted Duos,
    one panel per evaluation set (``table`` is ``experiments.results(...)``)."""
    panel = _panel(table)
    levels = [name for name, m in METRICS.items() if m.sac_level is not None]
    rows = table[(table["f_large"] == large) & table["mode"].isin(["single", "weighted"])]
    long = rows.melt(
        id_vars=[panel, "f_small", "mode", "flops_balance"],
        value_vars=levels,
        var_name="target",
        value_name="coverage",
    )
    long["target accuracy"] = long["target"].map(lambda name: METRICS[name].sac_level)
    long["system"] = long["f_small"].where(long["mode"] != "single", f"{large} alone")
    grid = sns.relplot(
        data=long,
        x="target accuracy",
        y="coverage",
        hue="system",
        col=panel,
        col_wrap=min(3, table[panel].nunique()),
        kind="line",
        marker="o",
        height=3.6,
        aspect=1.2,
    )
    return grid.figure


def throughput_vs_flops(measured):
    """The paper's Figure 8: measured images/s against GFLOPs, singles and Duos side by side.

    ``measured`` is ``throughput.measure_profile(...)``. Returns the figure and, per kind with at
    least 3 systems, the log-log least-squares fit (``scipy.stats.linregress``; None otherwise).
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    fits = {}
    for ax, kind in zip(axes, ("single", "Duo"), strict=True):
        rows = measured[measured["kind"] == kind]
        ax.scatter(rows["gflops"], rows["images/s"], s=50)
        for _, row in rows.iterrows():
            ax.annotate(
                row["system"],
                (row["gflops"], row["images/s"]),
                fontsize=6,
                textcoords="offset points",
                xytext=(3, 3),
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("GFLOPs per image (log)")
        ax.set_ylabel("images per second (log)")
        fit = None
        if len(rows) >= 3:
            fit = stats.linregress(np.log(rows["gflops"]), np.log(rows["images/s"]))
        fits[kind] = fit
        ax.set_title(f"{kind}s" + (f": R² = {fit.rvalue**2:.2f} (log-log)" if fit else ""))
    fig.tight_layout()
    return fig, fits


def effects(measured, label="what"):
    """The fidelity appendix's forest plot: each row's effect with its interval, one panel per
    metric (their units differ). ``measured`` is ``fidelity.effects(...)`` with a ``label``
    column naming the rows."""
    metrics = list(dict.fromkeys(measured["metric"]))
    heights = [max(1, (measured["metric"] == m).sum()) for m in metrics]
    fig, axes = plt.subplots(
        len(metrics), 1, figsize=(7.5, 0.55 * sum(heights) + 0.7 * len(metrics)),
        gridspec_kw={"height_ratios": heights}, squeeze=False,
    )  # fmt: skip
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        rows = measured[measured["metric"] == metric].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        error = [rows["effect"] - rows["ci_low"], rows["ci_high"] - rows["effect"]]
        ax.errorbar(rows["effect"], y, xerr=np.abs(np.array(error)), fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8, ls=":")
        ax.set_yticks(y, rows[label])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.locator_params(axis="x", nbins=4)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3), useMathText=True)
        ax.set_title(metric, fontsize="medium", loc="left")
    axes[-1, 0].set_xlabel("released minus duolib")
    fig.tight_layout()
    return fig


def pair_statistic(pool, y="error_inconsistency", x="flops_balance"):
    """ "Which sidekick?": one validation statistic of every candidate Duo against the FLOPs
    balance, one panel per f_large; colour is how the sidekick was trained, marker its family.
    ``pool`` is ``sidekick.pool(...)``."""
    larges = list(dict.fromkeys(pool["f_large"]))
    fig, axes = plt.subplots(
        1, len(larges), figsize=(4.6 * len(larges) + 1.6, 4), squeeze=False, sharey=True
    )
    for index, (ax, large) in enumerate(zip(axes[0], larges, strict=True)):
        rows = pool[pool["f_large"] == large]
        sns.scatterplot(
            data=rows, x=x, y=y, hue="variant", style="family", s=80, ax=ax,
            hue_order=sorted(pool["variant"].unique()), style_order=sorted(pool["family"].unique()),
            legend=index == len(larges) - 1,
        )  # fmt: skip
        if x == "flops_balance":
            ax.set_xscale("log")
        ax.set_title(f"f_large = {large}", fontsize="medium")
        ax.set_xlabel("FLOPs balance" if x == "flops_balance" else x.replace("_", " "))
        ax.set_ylabel(y.replace("_", " "))
    legend = axes[0, -1].get_legend()
    if legend is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    fig.tight_layout()
    return fig


def score_correlations(correlations):
    """Each validation score's Spearman correlation with each test gain, with its interval:
    one panel per gain. ``correlations`` is ``sidekick.correlations(...)``."""
    targets = list(dict.fromkeys(correlations["target"]))
    scores = list(dict.fromkeys(correlations["score"]))
    fig, axes = plt.subplots(
        1, len(targets), figsize=(3.3 * len(targets) + 2, 0.45 * len(scores) + 1.4),
        squeeze=False, sharey=True,
    )  # fmt: skip
    y = np.arange(len(scores))[::-1]
    for ax, target in zip(axes[0], targets, strict=True):
        rows = correlations[correlations["target"] == target].set_index("score").loc[scores]
        error = np.abs(np.array([rows["rho"] - rows["ci_low"], rows["ci_high"] - rows["rho"]]))
        ax.errorbar(rows["rho"], y, xerr=np.nan_to_num(error), fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8, ls=":")
        ax.set_xlim(-1.05, 1.05)
        ax.set_title(f"gain in test {METRICS[target].label.rstrip(' ↑↓')}", fontsize="medium")
        ax.set_xlabel("Spearman rho")
    axes[0, 0].set_yticks(y, [s.replace("_", " ") for s in scores])
    fig.tight_layout()
    return fig


def budget_picks(picks, metric="aurc"):
    """The recommended, best and median sidekick's Duo at each budget: test ``metric`` with its
    95% interval, one panel per f_large. ``picks`` is ``sidekick.at_budgets(...)``."""
    larges = list(dict.fromkeys(picks["f_large"]))
    fig, axes = plt.subplots(1, len(larges), figsize=(4.6 * len(larges) + 1.6, 3.8), squeeze=False)
    kinds = ("recommended", "best", "median")
    for ax, large in zip(axes[0], larges, strict=True):
        rows = picks[picks["f_large"] == large]
        budgets = list(dict.fromkeys(rows["budget"]))
        for offset, kind in zip((-0.15, 0.0, 0.15), kinds, strict=True):
            part = rows[rows["which"] == kind].set_index("budget").loc[budgets]
            x = np.arange(len(budgets)) + offset
            error = np.abs(
                [part[metric] - part[f"{metric}_low"], part[f"{metric}_high"] - part[metric]]
            )
            ax.errorbar(x, part[metric], yerr=error, fmt="o", capsize=3, label=kind)
        ax.set_xticks(np.arange(len(budgets)), [f"<= {b:g}" for b in budgets])
        ax.set_xlabel("budget (FLOPs balance)")
        ax.set_ylabel(f"Duo's test {METRICS[metric].label}")
        ax.set_title(f"f_large = {large}", fontsize="medium")
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    fig.tight_layout()
    return fig
