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
# # Duos as selective classifiers: coverage at 98% accuracy
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/05_sac.ipynb)
#
# This chapter re-derives the paper's **Section 5.4** (Figure 6). The selective accuracy
# constraint SAC@98 is the largest fraction of the test set a classifier can answer while
# keeping 98% accuracy on what it answers, abstaining on the rest: the number a deployment with
# an accuracy guarantee cares about (higher is better). We also show the whole profile from
# SAC@90 to SAC@99.
#
# *Expected runtime: seconds (bootstrap cached by chapter 02).*

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
import seaborn as sns

import duolib as dl
from duolib import claims, experiments
from duolib.chapter import glue_figure, glue_numbers

sns.set_theme(style="whitegrid", context="notebook")


# %%
dl.chapter.profile_note(profile)

# %% tags=["hide-output"]
table = experiments.results(profile)
gains = claims.duo_gains(profile)

# %% [markdown]
# ## The claim
#
# > "Duos achieve significantly higher coverages at all levels of computation. [...] the UQ Only
# > ablation almost always match[es] our proposed method, further implying that the improvements
# > in coverage at high accuracy levels stems from re-ranked uncertainties rather than accuracy
# > increases." (Section 5.4, Figure 6)

# %%
glue_figure("fig_sac", dl.plots.metric_vs_balance(table, "sac_98"))
for mode in ("weighted", "uq_only", "unweighted"):
    glue_numbers(f"sac_{mode}", claims.numbers(gains, "sac_98", mode))
claims.summary(gains, metrics=("sac_98",), by="panel").round(4)

# %% [markdown]
# ```{glue:figure} fig_sac
# :name: fig-duo-sac
#
# SAC@98 of every Duo against its FLOPs balance (higher is better). Dashed: the
# temperature-scaled $f_\text{large}$. Compare with the paper's Figure 6.
# ```
#
# ## What we see
#
# Weighted Duos cover more of the test set at 98% selective accuracy than their
# $f_\text{large}$ for {glue:text}`sac_weighted_improved_test:.0%` of Duos (test) and
# {glue:text}`sac_weighted_improved_ood:.0%` (OOD), by a median of
# {glue:text}`sac_weighted_median_test:.4f` and {glue:text}`sac_weighted_median_ood:.4f` of
# coverage (beyond bootstrap noise: {glue:text}`sac_weighted_significant_test:.0%` and
# {glue:text}`sac_weighted_significant_ood:.0%`). UQ-only Duos do so for
# {glue:text}`sac_uq_only_improved_test:.0%` and {glue:text}`sac_uq_only_improved_ood:.0%`
# (medians {glue:text}`sac_uq_only_median_test:.4f` and {glue:text}`sac_uq_only_median_ood:.4f`),
# unweighted Duos for {glue:text}`sac_unweighted_improved_test:.0%` and
# {glue:text}`sac_unweighted_improved_ood:.0%`. The paper's claim
# **{glue:text}`sac_weighted_verdict`** on this profile for the weighted Duos
# (**{glue:text}`sac_uq_only_verdict`** for UQ-only). SAC@98 is a noisy metric: it is decided by
# the few most confident errors, so its bootstrap intervals are wide; a test set where
# $f_\text{large}$ is far below 98% accurate leaves little coverage to gain.
#
# ## From SAC@90 to SAC@99
#
# The same comparison at every accuracy target, for the first $f_\text{large}$ and each of its
# Duos (weighted), on the test and OOD splits.

# %%
large = dl.profiles.get(profile).large_models[0]
glue_figure("fig_sac_profile", dl.plots.sac_profile(table, large))

# %% [markdown]
# ```{glue:figure} fig_sac_profile
# :name: fig-sac-profile
#
# Coverage at each target selective accuracy from 90% to 99%, for the first $f_\text{large}$
# alone and its weighted Duo with each sidekick.
# ```
#
# ## Summary
#
# - At a fixed accuracy guarantee, Duos let a system answer a larger share of its inputs; the
#   UQ-only ablation shows how much of that comes from re-ranked uncertainties alone.
