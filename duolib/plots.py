"""Figures shared by several chapters, in one style (seaborn, white grid)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns


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
            import torch
            import torch.nn.functional as F

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


def size_accuracy(table, x="gflops", ax=None, title=None):
    """Accuracy against compute (log x) for each split of a zoo table, one line per split.

    ``table`` has columns model, family, ``x``, split and accuracy (from ``bank.zoo_summary``).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    sns.lineplot(
        data=table.sort_values(x),
        x=x,
        y="accuracy",
        hue="split",
        style="split",
        markers=False,
        dashes=True,
        ax=ax,
        legend=False,
        lw=0.8,
        alpha=0.5,
    )
    sns.scatterplot(data=table, x=x, y="accuracy", hue="split", style="family", s=70, ax=ax)
    for _, row in table[table["split"] == table["split"].iloc[0]].iterrows():
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
