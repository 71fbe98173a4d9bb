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
# # Appendix: entropy as the uncertainty
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/09_entropy.ipynb)
#
# The paper measures uncertainty by the softmax response $1 - \max_c p_c$. **Appendix C**
# (Figure 9) repeats the uncertainty results with the predictive entropy
# $-\sum_c p_c \log p_c$ instead and finds "no meaningful difference". This chapter does the same
# for correctness AUROC, AURC and SAC@98, with its own bootstrap intervals.
#
# *Expected runtime: seconds on `smoke`, about a minute on `demo` the first time.*

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
import itertools

import pandas as pd
import seaborn as sns

import duolib as dl
from duolib import claims, experiments
from duolib.chapter import glue_figure, glue_numbers

sns.set_theme(style="whitegrid", context="notebook")


# %%
dl.chapter.profile_note(profile)

# %% tags=["hide-output"]
entropy_table = experiments.results(profile, uncertainty="entropy")
gains = {
    "softmax": claims.duo_gains(profile),
    "entropy": claims.duo_gains(profile, uncertainty="entropy"),
}

# %%
glue_figure("fig_entropy_auroc", dl.plots.metric_vs_balance(entropy_table, "auroc"))
metrics, modes = ("auroc", "aurc", "sac_98"), ("weighted", "uq_only")
for (name, by_kind), metric, mode in itertools.product(gains.items(), metrics, modes):
    glue_numbers(f"{name}_{metric}_{mode}", claims.numbers(by_kind, metric, mode))
comparison = pd.concat(
    [
        claims.summary(g, metrics, modes, by="panel").assign(uncertainty=name)
        for name, g in gains.items()
    ]
)
comparison.pivot_table(
    index=["split", "mode", "metric"], columns="uncertainty", values=["improved", "significant"]
).round(3)

# %% [markdown]
# ```{glue:figure} fig_entropy_auroc
# :name: fig-entropy-auroc
#
# Correctness AUROC with entropy as the uncertainty, against FLOPs balance. Compare with the
# softmax-response version in the AUROC chapter and with the paper's Figure 9.
# ```
#
# ## What we see
#
# With entropy, weighted Duos improve AUROC over $f_\text{large}$ for
# {glue:text}`entropy_auroc_weighted_improved_test:.0%` (test) and
# {glue:text}`entropy_auroc_weighted_improved_ood:.0%` (OOD) of Duos, against
# {glue:text}`softmax_auroc_weighted_improved_test:.0%` and
# {glue:text}`softmax_auroc_weighted_improved_ood:.0%` with the softmax response; AURC for
# {glue:text}`entropy_aurc_weighted_improved_test:.0%` and
# {glue:text}`entropy_aurc_weighted_improved_ood:.0%` (softmax:
# {glue:text}`softmax_aurc_weighted_improved_test:.0%` and
# {glue:text}`softmax_aurc_weighted_improved_ood:.0%`); SAC@98 for
# {glue:text}`entropy_sac_98_weighted_improved_test:.0%` and
# {glue:text}`entropy_sac_98_weighted_improved_ood:.0%` (softmax:
# {glue:text}`softmax_sac_98_weighted_improved_test:.0%` and
# {glue:text}`softmax_sac_98_weighted_improved_ood:.0%`). The table above gives the UQ-only
# ablation and the fractions that are significant. Read the two columns side by side to judge
# the paper's "no meaningful difference" on this profile.
#
# ## Summary
#
# - The Duo's benefit to uncertainty does not hinge on the choice of uncertainty score: the
#   same comparison with entropy is shown beside the softmax response.
