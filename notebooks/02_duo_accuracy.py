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
# # Duos as classifiers
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/02_duo_accuracy.ipynb)
#
# This chapter re-derives the paper's **Section 5.1** (Figure 3): does adding a small sidekick
# change the *accuracy* of a large model? It also shows the weights the Duos learn against their
# FLOPs balance (**Appendix D**, Figure 10) and the probabilistic scores NLL and Brier
# (**Appendix G**).
#
# Everything is computed from the logit bank of the active profile (filled by the chapter
# "Building the model zoo"): temperatures and Duo weights are fitted on the validation split,
# metrics are measured on the in-distribution test split and the out-of-distribution split.
# Every "Duo minus $f_\text{large}$" difference has a 95% paired-bootstrap interval (test
# examples resampled, the same resample for both), which the paper does not report.

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
import numpy as np
import seaborn as sns
from scipy import stats

import duolib as dl
from duolib import claims, experiments
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")
settings = dl.profiles.get(profile)

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "02_duo_accuracy")

# %% tags=["hide-output"]
table = experiments.results(profile)
gains = claims.duo_gains(profile)
summary = claims.summary(
    gains, metrics=("accuracy", "macro_f1", "nll", "brier"), by="panel"
)
duos = table[table["mode"] == "weighted"]
count = len(duos.drop_duplicates(["dataset", "f_large", "f_small"]))
print(f"{count} Duos", f"from f_large {settings.large_models}")
print(f"on {settings.datasets}")

# %% [markdown]
# ## The claim
#
# > "Asymmetric Duos almost always increase accuracy over a single $f_\text{large}$, even for
# > Duos that combine $f_\text{large}$ with a $f_\text{small}$ that is 1/10th the size. [...]
# > after the FLOPs balance reaches 10% [...] Duos provide consistent accuracy improvements
# > across all datasets." (Section 5.1)
#
# > "Duos that equally average the $f_\text{large}$ and $f_\text{small}$ predictions (Duo:
# > Unweighted) significantly underperform $f_\text{large}$ when the balance is near zero."
#
# The paper shows these claims as scatter plots (Figure 3) without a table of numbers, so there
# are no paper values to put beside ours here; its Table 1 (ImageNet, ResNet-50 Duos) belongs
# to the comparison with deep ensembles in the Baselines part.

# %%
figure(dl.plots.metric_vs_balance(table, "accuracy"))

# %% [markdown]
# *Figure: Accuracy of every Duo against its FLOPs balance, for each $f_\text{large}$ (rows) on the
# in-distribution test and out-of-distribution splits (columns). Dashed: the temperature-scaled
# $f_\text{large}$ alone. Compare with the paper's Figure 3.*

# %% [markdown]
# How many Duos beat their $f_\text{large}$, and how many do so beyond bootstrap noise
# (`significant`: the 95% interval of the difference excludes 0; `worse`: it excludes 0 on the
# losing side):

# %%
# Macro-F1 is the paper's headline on the imbalanced iWildCam; on balanced
# data it tracks accuracy.
summary[summary["metric"].isin(["accuracy", "macro_f1"])].round(3)

# %% [markdown]
# ## What we see

# %% tags=["remove-input"]
say(
    r"""
    Of the {{acc.duos}} weighted Duos, {{acc.improved_test:.0%}} are more accurate than their
    $f_\text{large}$ on the test split ({{acc.significant_test:.0%}} beyond bootstrap noise,
    {{acc.worse_test:.0%}} significantly worse)[[ and {{acc.improved_ood:.0%}} on the OOD
    split ({{acc.significant_ood:.0%}} significantly, {{acc.worse_ood:.0%}} significantly
    worse)]]. Among the {{big.duos}} Duos with a FLOPs balance of at least 0.1,
    {{big.improved_test:.0%}} (test)[[ and {{big.improved_ood:.0%}} (OOD)]] improve, by a
    median of {{big.median_test:.4f}}[[ and {{big.median_ood:.4f}}]] accuracy. On this
    profile, the paper's claim that weighted Duos rarely lose and gain from a balance of
    about 10% **{{acc.verdict}}**.
    """,
    acc=claims.numbers(gains, "accuracy"),
    big=claims.numbers(gains, "accuracy", balance=(0.1, np.inf)),
)

# %% tags=["remove-input"]
say(
    r"""
    The unweighted ablation behaves as the paper says: with a sidekick below a balance of
    0.1 its median change in accuracy is {{unw.median_test:.4f}} (test)[[ and
    {{unw.median_ood:.4f}} (OOD)]], and {{unw.worse_test:.0%}}[[ / {{unw.worse_ood:.0%}}]]
    of those Duos are significantly worse than $f_\text{large}$ alone. Equal weights let a
    weak sidekick override a strong model; the fitted weights do not.
    """,
    unw=claims.numbers(gains, "accuracy", "unweighted", balance=(0, 0.1)),
)

# %% [markdown]
# ## The learned weights (Appendix D)
#
# The ratio $w_\text{large} / w_\text{small}$ says how much the Duo trusts each member. The paper
# finds $f_\text{large}$ weighted up to 7x more at small balances, and more even weights as the
# balance grows (Figure 10, Caltech 256).

# %%
weights = duos.drop_duplicates(["f_large", "f_small"]).copy()
weights["ratio"] = weights["w_large"] / weights["w_small"].replace(
    0, np.nan
)
figure(dl.plots.weight_ratios(weights))

# %% [markdown]
# *Figure: Ratio of the fitted weights against FLOPs balance, one point per Duo (log–log). Compare
# with the paper's Figure 10.*

# %%
weights[
    ["f_large", "f_small", "flops_balance", "w_large", "w_small", "ratio"]
].round(3)

# %% tags=["remove-cell"]
rho = stats.spearmanr(
    weights["flops_balance"], weights["ratio"], nan_policy="omit"
)[0]

# %% tags=["remove-input"]
say(
    r"""
    The ratio ranges from {{ratio.max:.1f}} down to {{ratio.min:.2f}}, and its rank
    correlation with the FLOPs balance is Spearman $\rho$ = {{ratio.rho:.2f}}: the cheaper
    the sidekick, the more the Duo leans on $f_\text{large}$, as in the paper.
    {{n_zero_sidekick}} Duos set the sidekick's weight to exactly zero.
    """,
    ratio={
        "rho": rho,
        "max": weights["ratio"].max(),
        "min": weights["ratio"].min(),
    },
    n_zero_sidekick=int((weights["w_small"] == 0).sum()),
)

# %% [markdown]
# ## NLL and Brier (Appendix G)

# %%
figure(dl.plots.metric_vs_balance(table, "nll"))

# %% [markdown]
# *Figure: Negative log-likelihood of every Duo against its FLOPs balance (lower is better).*

# %%
summary[summary["metric"].isin(["nll", "brier"])].round(3)

# %% tags=["remove-input"]
found_on = "test and OOD" if "ood" in set(gains["split"]) else "test"
say(
    r"""
    Weighted Duos lower the NLL of $f_\text{large}$ for {{nll.improved_test:.0%}} of Duos on
    the test split[[ and {{nll.improved_ood:.0%}} on the OOD split]], and the Brier score for
    {{brier.improved_test:.0%}}[[ and {{brier.improved_ood:.0%}}]]. On the validation split
    this is guaranteed (the weights minimise validation NLL and include the
    temperature-scaled $f_\text{large}$ as a special case); on {{found_on}} it is a
    finding.
    """,
    nll=claims.numbers(gains, "nll"),
    brier=claims.numbers(gains, "brier"),
    found_on=found_on,
)

# %% [markdown]
# ## Overview across metrics (the paper's Figure 1)
#
# The paper's Figure 1 summarises every metric at once as the *relative improvement toward a
# perfect score*, $(\text{Duo} - f_\text{large}) / (\text{perfect} - f_\text{large})$, averaged
# over Duos (perfect AURC is the oracle AURC of $f_\text{large}$'s own predictions). The same
# computation on this profile, weighted Duos only (the book's introduction shows this figure):

# %%
singles = table[table["mode"] == "single"].set_index(["panel", "f_large"])
overview_metrics = ("accuracy", "nll", "brier", "auroc", "aurc", "sac_98")
fig, overview = dl.plots.relative_improvement(
    gains, singles, metrics=overview_metrics
)
figure(fig, glue_as="fig_overview")

# %% [markdown]
# *Figure: Mean relative improvement toward a perfect score of weighted Duos over their
# $f_\text{large}$ for each metric, in distribution (test) and out of distribution (ood); error
# bars: standard deviation over Duos. Compare with the paper's Figure 1 (right).*

# %%
means = overview.groupby(["split", "metric"])["relative improvement"].mean()
means.unstack("split").round(3)

# %% [markdown]
# ## Summary
#
# - Fitted weights make a Duo at least as accurate as its $f_\text{large}$ in almost every case
#   here, with gains growing with the sidekick's share of compute.
# - Equal weights (the deep-ensemble rule) lose accuracy when the sidekick is much weaker.
# - The weights themselves tell the story: the weaker the sidekick, the smaller its weight.
