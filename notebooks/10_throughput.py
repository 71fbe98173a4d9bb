# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Appendix: compute as time — throughput against FLOPs
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/10_throughput.ipynb)
#
# The book measures a Duo's extra cost by its FLOPs balance. **Appendix B** (Figure 8) checks
# that FLOPs translate into wall-clock time: on a V100 GPU, throughput and FLOPs correlate with a
# coefficient of determination of 0.938 for single models and 0.795 for ConvNeXt-Large Duos.
# Here we measure the throughput of every model of the active profile's zoo and of every Duo
# (both members run on the same batch, one after the other) on the machine running this
# notebook: the CPU for `smoke` and `demo`, the GPU (with mixed precision) for `paper`.

# %% tags=["parameters", "remove-cell"]
# None: $DUOLIB_PROFILE, else "colab" on a GPU and "demo" on a CPU
profile = None

# %% tags=["remove-cell"]
# Set-up for Colab (or wherever duolib is missing): install duolib and what the chapters import
# from the book's repository, keeping the torch and torchvision already installed.
import importlib.metadata
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("duolib") is None:
    keep = []
    for package in ("torch", "torchvision"):
        try:
            keep.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    requirement = "duolib[book] @ git+https://github.com/duos-book/duos"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", requirement, *keep],
        check=True,
    )

# %% tags=["remove-cell"]
import math

import seaborn as sns
import torch

import duolib as dl
from duolib import throughput
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "10_throughput")

# %%
measured = throughput.measure_profile(profile)
on_gpu = torch.cuda.is_available()
cpu = f"CPU, {torch.get_num_threads()} threads"
device = torch.cuda.get_device_name() if on_gpu else cpu
measured.round(4)

# %%
fig, fits = dl.plots.throughput_vs_flops(measured)
figure(fig)

# %% [markdown]
# *Figure: Measured throughput against compute for single models (left) and Duos (right), log–log,
# with the coefficient of determination of a straight-line fit. Compare with the paper's Figure 8.*

# %%
r2 = {
    kind: fit.rvalue**2 if fit else math.nan for kind, fit in fits.items()
}
slope = {kind: fit.slope if fit else math.nan for kind, fit in fits.items()}

# %% [markdown]
# ## What we see

# %% tags=["remove-cell"]
paper_r2 = (
    "0.938 and 0.795" if fits.get("Duo") else "0.938"
)  # no Duo fit: fewer than 3

# %% tags=["remove-input"]
say(
    r"""
    On this machine ({{device}}), log throughput is explained by log FLOPs with $R^2$ =
    {{r2.single:.2f}} for single models (slope {{slope.single:.2f}}; $-1$ would mean time
    exactly proportional to FLOPs)[[ and $R^2$ = {{r2.Duo:.2f}} for Duos (slope
    {{slope.Duo:.2f}})]], against the paper's {{paper_r2}} on a V100 (the paper does not
    say whether its fit is linear or log–log; ours is log–log because the zoo spans orders
    of magnitude).
    """,
    device=device,
    r2=r2,
    slope=slope,
    paper_r2=paper_r2,
)

# %% [markdown]
# Tiny CPU models are far from compute-bound: fixed per-layer costs and memory traffic weigh more
# than FLOPs (depthwise and channel-shuffle layers especially), so on `demo` the FLOPs balance
# understates a small sidekick's share of wall-clock time.
#
# `benchmarks/bench_throughput.py` measures the same for the command line.
#
# ## Summary
#
# - FLOPs are a usable but imperfect proxy for time; a Duo's measured slowdown over its
#   $f_\text{large}$ is in the table above, beside its FLOPs.
