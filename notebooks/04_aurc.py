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
# # Duos as selective classifiers: AURC
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/04_aurc.ipynb)
#
# This chapter re-derives the paper's **Section 5.3** (Figure 5). A selective classifier
# abstains on its most uncertain inputs; accepting a fraction (the *coverage*) of the test set,
# its error rate on what it accepts is the *selective risk*. AURC averages that risk over all
# coverages: it rewards both accuracy and a good ranking of uncertainties (lower is better).
# Beside the paper's AURC we report E-AURC (the excess over an oracle that ranks every correct
# prediction first) and AUGRC (Traub et al. 2024), which weighs every error once instead of
# over-weighting errors made at low coverage.
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
import pandas as pd
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
# > "Duos provide substantial boost to AURC at all computation levels, even when the FLOPs
# > balance is fractional. [...] UQ Only Duos also achieve improved AURC scores at low FLOPs
# > balance, demonstrating that these improvements cannot be attributed to accuracy alone."
# > (Section 5.3, Figure 5)

# %%
glue_figure("fig_aurc", dl.plots.metric_vs_balance(table, "aurc"))
for metric in ("aurc", "eaurc", "augrc"):
    for mode in ("weighted", "uq_only"):
        glue_numbers(f"{metric}_{mode}", claims.numbers(gains, metric, mode))
claims.summary(gains, metrics=("aurc", "eaurc", "augrc"), by="panel").round(4)

# %% [markdown]
# ```{glue:figure} fig_aurc
# :name: fig-duo-aurc
#
# AURC of every Duo against its FLOPs balance (lower is better). Dashed: the temperature-scaled
# $f_\text{large}$. Compare with the paper's Figure 5.
# ```
#
# ## What we see
#
# Weighted Duos lower the AURC of their $f_\text{large}$ for
# {glue:text}`aurc_weighted_improved_test:.0%` of Duos on the test split and
# {glue:text}`aurc_weighted_improved_ood:.0%` on the OOD split (beyond bootstrap noise:
# {glue:text}`aurc_weighted_significant_test:.0%` and
# {glue:text}`aurc_weighted_significant_ood:.0%`; significantly worse:
# {glue:text}`aurc_weighted_worse_test:.0%` and {glue:text}`aurc_weighted_worse_ood:.0%`).
# UQ-only Duos, with $f_\text{large}$'s accuracy, lower it for
# {glue:text}`aurc_uq_only_improved_test:.0%` and {glue:text}`aurc_uq_only_improved_ood:.0%`
# (significantly: {glue:text}`aurc_uq_only_significant_test:.0%` and
# {glue:text}`aurc_uq_only_significant_ood:.0%`). The claim
# **{glue:text}`aurc_weighted_verdict`** for the full Duos and
# **{glue:text}`aurc_uq_only_verdict`** for the UQ-only ablation on this profile. The two
# measures that separate ranking from accuracy agree: E-AURC improves for
# {glue:text}`eaurc_uq_only_improved_test:.0%` (test) of UQ-only Duos, and AUGRC for
# {glue:text}`augrc_weighted_improved_test:.0%` (test) and
# {glue:text}`augrc_weighted_improved_ood:.0%` (OOD) of weighted Duos.
#
# ## Risk–coverage curves
#
# The curves behind the numbers, for the first $f_\text{large}$ of the profile and its Duo with
# the largest FLOPs balance up to 0.3 (the paper's "10–20% more compute" regime, widened to have a
# Duo on every profile), on the OOD split.

# %%
settings = dl.profiles.get(profile)
large = settings.large_models[0]
affordable = dl.zoo.sidekicks(large, settings.zoo, balance=(0, 0.3))
small = max(
    affordable or dl.zoo.sidekicks(large, settings.zoo),
    key=lambda s: dl.zoo.flops_balance(large, s),
)
# The first dataset with an OOD split (ImageNet-V2 on the paper's profiles), else a test split.
with_ood = [d for d in settings.datasets if "ood" in dl.data.evaluation_splits(d)]
dataset, split = (with_ood[0], "ood") if with_ood else (settings.datasets[0], "test")
glue_numbers("rc", {"small": small, "balance": dl.zoo.flops_balance(large, small)})

# %%
systems, labels = experiments.selective_systems(large, small, split, dataset, settings)
panel = dl.data.panel_name(dataset, split)
title = f"{large} + {small} (balance {dl.zoo.flops_balance(large, small):.3f}), {panel}"
glue_figure("fig_risk_coverage", dl.plots.risk_coverage_curves(systems, labels, title))
pd.DataFrame(
    {
        name: {
            "accuracy": float((p == labels).mean()),
            "AURC": dl.metrics.aurc(p == labels, u),
            "E-AURC": dl.metrics.eaurc(p == labels, u),
            "AUGRC": dl.metrics.augrc(p == labels, u),
        }
        for name, (p, u) in systems.items()
    }
).round(4)


# %% [markdown]
# ```{glue:figure} fig_risk_coverage
# :name: fig-risk-coverage
#
# Selective risk against coverage for $f_\text{large}$ alone, its Duo with
# {glue:text}`rc_small` (FLOPs balance {glue:text}`rc_balance:.3f`) and the UQ-only Duo. AURC
# is the area under each curve.
# ```
#
# At full coverage the UQ-only curve ends where $f_\text{large}$'s does (same predictions); below
# it, it runs lower wherever the Duo's uncertainty moves $f_\text{large}$'s errors later in the
# ranking.
#
# ## Summary
#
# - Duos lower AURC, E-AURC and AUGRC; the UQ-only ablation shows that the gain is in the
#   ranking of uncertainties, not only in accuracy.
