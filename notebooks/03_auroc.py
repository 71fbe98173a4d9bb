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
# # Separating right from wrong: correctness AUROC
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/03_auroc.ipynb)
#
# This chapter re-derives the paper's **Section 5.2** (Figure 4): does a Duo's uncertainty tell
# correct from incorrect predictions better than $f_\text{large}$'s own? Correctness AUROC is the
# probability that a randomly chosen correct prediction is less uncertain than a randomly chosen
# wrong one (0.5 = chance, 1 = perfect separation). The **UQ-only** ablation keeps
# $f_\text{large}$'s predicted class and only borrows the Duo's uncertainty, so its accuracy is
# exactly $f_\text{large}$'s: any AUROC gain it shows is better uncertainty, not better accuracy.
# We also look at calibration (ECE), where the paper expects little change.

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
import seaborn as sns

import duolib as dl
from duolib import claims, experiments
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "03_auroc")

# %% tags=["hide-output"]
table = experiments.results(profile)
gains = claims.duo_gains(profile)

# %% [markdown]
# ## The claim
#
# > "In almost all cases, Asymmetric Duos achieve higher AUROC than corresponding
# > $f_\text{large}$ models in isolation, even when using a negligible amount of additional
# > computation. [...] our ablation (Duo: UQ only) [...] produces a comparable AUROC increase."
# > (Section 5.2, Figure 4)
#
# > "Because we apply temperature scaling throughout our experiments, the $f_\text{large}$
# > models are largely calibrated to begin with, and so Asymmetric Duos provide little
# > improvement [in ECE]."

# %%
figure(dl.plots.metric_vs_balance(table, "auroc"))

# %% [markdown]
# *Figure: Correctness AUROC of every Duo against its FLOPs balance (higher is better). Dashed: the
# temperature-scaled $f_\text{large}$. Compare with the paper's Figure 4.*

# %%
claims.summary(gains, metrics=("auroc",), by="panel").round(4)

# %% [markdown]
# ## What we see

# %% tags=["remove-input"]
weighted = claims.numbers(gains, "auroc", "weighted")
say(
    r"""
    Weighted Duos raise the AUROC of their $f_\text{large}$ for {{w.improved_test:.0%}} of
    Duos on the test split[[ and {{w.improved_ood:.0%}} on the OOD split]]; beyond bootstrap
    noise for {{w.significant_test:.0%}}[[ and {{w.significant_ood:.0%}}]] (significantly
    worse: {{w.worse_test:.0%}}[[ and {{w.worse_ood:.0%}}]]).
    """,
    w=weighted,
)

# %% tags=["remove-input"]
uq_only = claims.numbers(gains, "auroc", "uq_only")
say(
    r"""
    UQ-only Duos, whose predictions are $f_\text{large}$'s own, improve AUROC for
    {{u.improved_test:.0%}} (test)[[ and {{u.improved_ood:.0%}} (OOD)]] of Duos, significantly
    for {{u.significant_test:.0%}}[[ and {{u.significant_ood:.0%}}]], with median gains of
    {{u.median_test:.4f}}[[ and {{u.median_ood:.4f}}]]. The paper's claim that Duos separate
    right from wrong better **{{w.verdict}}** for the full Duos on this profile, and
    **{{u.verdict}}** for the UQ-only ablation.
    """,
    w=weighted,
    u=uq_only,
)

# %% [markdown]
# Where the full Duo gains less AUROC than its UQ-only ablation, the reason is that AUROC is
# measured against the Duo's own correctness: a Duo that fixes some of $f_\text{large}$'s
# *easy* errors is left with harder errors to rank, so part of its improvement shows up in
# accuracy instead (previous chapter). UQ-only isolates the re-ranking of uncertainties, which
# is the paper's point.
#
# ## Calibration: ECE

# %%
figure(dl.plots.metric_vs_balance(table, "ece"))

# %% [markdown]
# *Figure: Expected calibration error (15 bins) of every Duo against its FLOPs balance (lower is
# better).*

# %%
claims.summary(gains, metrics=("ece",), by="panel").round(4)

# %% tags=["remove-input"]
singles = table[table["mode"] == "single"]
single = {"median": singles["ece"].median(), "max": singles["ece"].max()}
say(
    r"""
    After temperature scaling, single models already have a median ECE of
    {{single.median:.3f}} (at most {{single.max:.3f}}). Weighted Duos change it by a median of
    {{e.median_test:.4f}} (test)[[ and {{e.median_ood:.4f}} (OOD)]]; the change is significant
    in either direction for few Duos (better: {{e.significant_test:.0%}}[[ /
    {{e.significant_ood:.0%}}]], worse: {{e.worse_test:.0%}}[[ / {{e.worse_ood:.0%}}]]).
    """,
    single=single,
    e=claims.numbers(gains, "ece", "weighted"),
)

# %% [markdown]
# As the paper argues, this is temperature scaling's success rather than the Duo's failure:
# there is little miscalibration left to remove, whereas the ranking of uncertainties (AUROC)
# still improves.
#
# ## Summary
#
# - A sidekick re-ranks $f_\text{large}$'s uncertainties: the UQ-only ablation, with
#   $f_\text{large}$'s accuracy, separates its correct from its wrong predictions better.
# - ECE barely moves because temperature-scaled models are already calibrated.
