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
#
# *Expected runtime: under a minute on `smoke` and `demo`.*

# %% tags=["parameters"]
import os

profile = os.environ.get("DUOLIB_PROFILE", "smoke")

# %% tags=["hide-output"]
# Setup that also works on Colab: install duolib from the repository if it is not importable.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("duolib") is None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/duos-book/duos"],
        check=True,
    )

# %%
import math

import seaborn as sns
import torch

import duolib as dl
from duolib import throughput
from duolib.chapter import glue_figure, glue_numbers

sns.set_theme(style="whitegrid", context="notebook")


# %%
dl.chapter.profile_note(profile)

# %%
measured = throughput.measure_profile(profile)
on_gpu = torch.cuda.is_available()
device = torch.cuda.get_device_name() if on_gpu else f"CPU, {torch.get_num_threads()} threads"
glue_numbers("", {"device": device})
measured.round(4)

# %%
fig, fits = dl.plots.throughput_vs_flops(measured)
glue_figure("fig_throughput", fig)
for kind, fit in fits.items():
    glue_numbers("r2", {kind: fit.rvalue**2 if fit else math.nan})
    glue_numbers("slope", {kind: fit.slope if fit else math.nan})

# %% [markdown]
# ```{glue:figure} fig_throughput
# :name: fig-throughput
#
# Measured throughput against compute for single models (left) and Duos (right), log–log, with
# the coefficient of determination of a straight-line fit. Compare with the paper's Figure 8.
# ```
#
# ## What we see
#
# On this machine ({glue:text}`device`), log throughput is explained by log FLOPs with
# $R^2$ = {glue:text}`r2_single:.2f` for single models (slope {glue:text}`slope_single:.2f`;
# $-1$ would mean time exactly proportional to FLOPs) and $R^2$ = {glue:text}`r2_Duo:.2f` for
# Duos (slope {glue:text}`slope_Duo:.2f`), against the paper's 0.938 and 0.795 on a V100
# (the paper does not say whether its fit is linear or log–log; ours is log–log because the zoo
# spans orders of magnitude). Tiny CPU models are far from compute-bound: fixed per-layer costs
# and memory traffic weigh more than FLOPs (depthwise and channel-shuffle layers especially), so
# on `demo` the FLOPs balance understates a small sidekick's share of wall-clock time.
#
# `benchmarks/bench_throughput.py` measures the same for the command line.
#
# ## Summary
#
# - FLOPs are a usable but imperfect proxy for time; a Duo's measured slowdown over its
#   $f_\text{large}$ is in the table above, beside its FLOPs.
