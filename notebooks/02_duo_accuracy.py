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
# metrics are measured on the in-distribution test split and, where the dataset has one, the
# out-of-distribution split.
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
import pandas as pd
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
# *Figure: Accuracy of every Duo against its FLOPs balance, for each $f_\text{large}$ (rows) on
# each evaluation set (columns: the in-distribution test split and, where there is one, the
# out-of-distribution split). Dashed: the temperature-scaled $f_\text{large}$ alone. Compare with
# the paper's Figure 3.*

# %% [markdown]
# How many Duos beat their $f_\text{large}$, and how many do so beyond bootstrap noise
# (`significant`: better, `worse`: worse, each after Holm's correction over the Duos of the
# row, so that one chance result among many Duos does not decide a verdict):

# %%
# Macro-F1 is the paper's headline on the imbalanced iWildCam; on balanced
# data it tracks accuracy.
summary[summary["metric"].isin(["accuracy", "macro_f1"])].round(3)

# %% [markdown]
# The paper's second claim is about a trend: gains appear once the balance passes about 10%.
# We test it directly with the rank correlation (Spearman's $\rho$) between each Duo's
# accuracy gain and its FLOPs balance, with a 95% interval from resampling the Duos.

# %% tags=["remove-cell"]
acc = claims.numbers(gains, "accuracy")
big = claims.numbers(gains, "accuracy", balance=(0.1, np.inf))
trend = {
    split: claims.trend(gains, "accuracy", split=split)
    for split in ("test", "ood")
}
trend_words = {
    "grow": "grow with the balance",
    "shrink": "shrink as the balance grows",
    "show no trend beyond noise": "show no trend with the balance beyond noise",
    "cannot be tested": "cannot be tested for a trend (too few Duos)",
}
for found in trend.values():
    found["words"] = trend_words[found["verdict"]]

# %% [markdown]
# ## What we see

# %% tags=["remove-input"]
say(
    r"""
    Of the {{acc.duos}} weighted Duos, {{acc.improved_test:.0%}} are more accurate than their
    $f_\text{large}$ on the test split ({{acc.significant_test:.0%}} significantly,
    {{acc.worse_test:.0%}} significantly worse)[[ and {{acc.improved_ood:.0%}} on the OOD
    split ({{acc.significant_ood:.0%}} significantly, {{acc.worse_ood:.0%}} significantly
    worse)]]: the claim that Duos almost always increase accuracy **{{acc.verdict}}** on this
    profile.
    """,
    acc=acc,
)

# %% tags=["remove-input"]
say(
    r"""
    [[Among the {{big.duos}} Duos with a FLOPs balance of at least 0.1,
    {{big.improved_test:.0%}} improve on the test split, by a median of
    {{big.median_test:.4f}} accuracy.]][[ On the OOD split {{big.improved_ood:.0%}} do (median
    {{big.median_ood:.4f}}).]] The claim of consistent gains from a balance of 10%
    **{{big.verdict}}**.
    """,
    big=big,
)

# %% tags=["remove-input"]
say(
    r"""
    On the test split the accuracy gains of the {{trend.test.duos}} Duos
    **{{trend.test.words}}**[[ (Spearman $\rho$ = {{trend.test.rho:.2f}}, 95% interval
    {{trend.test.ci_low:.2f}} to {{trend.test.ci_high:.2f}})]][[; on the OOD split they
    **{{trend.ood.words}}** ($\rho$ = {{trend.ood.rho:.2f}}, {{trend.ood.ci_low:.2f}} to
    {{trend.ood.ci_high:.2f}})]].
    """,
    trend=trend,
)

# %% tags=["remove-cell"]
unw = claims.numbers(gains, "accuracy", "unweighted", balance=(0, 0.1))
low = claims.numbers(gains, "accuracy", "weighted", balance=(0, 0.1))
unweighted_hurts = unw["median_test"] < 0 and unw["worse_test"] > 0
paper_word = (
    "cannot be tested (no Duo below a balance of 0.1)" if unw["duos"] == 0
    else "holds" if unweighted_hurts else "does not hold"
)  # fmt: skip

# %% tags=["remove-input"]
say(
    r"""
    The paper's claim that the unweighted ablation significantly underperforms
    $f_\text{large}$ near a balance of zero **{{paper_word}}** here[[: below a balance of 0.1
    ({{unw.duos}} Duos) its median change in accuracy on the test split is
    {{unw.median_test:.4f}}, and {{unw.worse_test:.0%}} of those Duos are significantly
    worse than $f_\text{large}$ alone, against {{low.worse_test:.0%}} of the weighted Duos
    with the same sidekicks]][[ (OOD split: median {{unw.median_ood:.4f}}, significantly
    worse {{unw.worse_ood:.0%}} against {{low.worse_ood:.0%}})]].
    """,
    unw=unw,
    low=low,
    paper_word=paper_word,
)

# %% [markdown]
# ## The learned weights (Appendix D)
#
# How much does the Duo trust each member? Written on the temperature-scaled logits
# $z/T$ of each member (the form in which the paper's code fits Duos), a Duo is
# $(w_\text{large} T_\text{large})\, z_\text{large}/T_\text{large} + (w_\text{small}
# T_\text{small})\, z_\text{small}/T_\text{small}$, and the paper's Figure 10 plots the ratio
# of these two weights, $w_\text{large} T_\text{large} / (w_\text{small} T_\text{small})$,
# with $T$ each model's own fitted temperature. The paper finds $f_\text{large}$ weighted up
# to 7x more at small balances, and more even weights as the balance grows (Caltech 256).

# %%
weights = experiments.weight_ratios(table)
figure(dl.plots.weight_ratios(weights))

# %% [markdown]
# *Figure: Ratio of the weights on the temperature-scaled logits against FLOPs balance, one
# point per Duo (log–log). Compare with the paper's Figure 10.*

# %%
weights[
    ["f_large", "f_small", "flops_balance", "raw_ratio", "ratio"]
].round(3)

# %% tags=["remove-cell"]
finite = weights[np.isfinite(weights["ratio"])]
rho, rho_p = stats.spearmanr(finite["flops_balance"], finite["ratio"])
leans = (
    "no significant trend with the balance, unlike the paper's Figure 10"
)
if rho < 0 and rho_p < 0.05:
    leans = "the cheaper the sidekick, the more the Duo leans on $f_\\text{large}$"
    leans += ", as the paper finds"
if not np.isfinite(rho_p):
    leans = "too few Duos to test a trend"
ratio = {"rho": rho, "p": rho_p, "n": len(finite)}
ratio |= {"max": finite["ratio"].max(), "min": finite["ratio"].min()}

# %% tags=["remove-input"]
say(
    r"""
    The ratio ranges from {{ratio.max:.1f}} down to {{ratio.min:.2f}} (the paper: up to 7),
    and its rank correlation with the FLOPs balance over {{ratio.n}} Duos is Spearman
    $\rho$ = {{ratio.rho:.2f}}[[ (p = {{ratio.p:.3f}})]]: {{leans}}. {{n_zero_sidekick}}
    Duos set the sidekick's weight to exactly zero.
    """,
    ratio=ratio,
    leans=leans,
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
say(
    r"""
    Weighted Duos lower the NLL of $f_\text{large}$ for {{nll.improved_test:.0%}} of Duos on
    the test split[[ and {{nll.improved_ood:.0%}} on the OOD split]], and the Brier score for
    {{brier.improved_test:.0%}}[[ and {{brier.improved_ood:.0%}}]]. Only the validation NLL
    is guaranteed not to rise (the weights minimise it, and the temperature-scaled
    $f_\text{large}$ is one of the Duos they can choose); every number here is measured on
    held-out splits.
    """,
    nll=claims.numbers(gains, "nll"),
    brier=claims.numbers(gains, "brier"),
)

# %% [markdown]
# ## Overview across metrics (the paper's Figure 1)
#
# The paper's Figure 1 (right) summarises six metrics at once for Duos "where the sidekick
# adds only 10%–20% more FLOPs": each Duo's change as a share of the distance from
# $f_\text{large}$ to a perfect score, $100\,(\text{Duo} - f_\text{large}) / (\text{perfect} -
# f_\text{large})$, with 1 perfect for accuracy, F1 and AUROC and 0 for Brier, NLL and AURC,
# averaged over Duos with a FLOPs balance from 0.1 to 0.2 (its released plotting code). The
# paper reports "up to 10–15% improvements". The same computation on this profile, beside the
# same average over Duos of every balance (the book's introduction shows this figure):

# %%
in_window = claims.relative_improvement(gains, table)
every = claims.relative_improvement(gains, table, balance=(0, np.inf))
overview = pd.concat([
    in_window.assign(Duos="balance 0.1-0.2"),
    every.assign(Duos="every balance"),
])  # fmt: skip
fig = dl.plots.relative_improvement(overview, claims.FIGURE1_METRICS)
figure(fig, glue_as="fig_overview")

# %% [markdown]
# *Figure: Mean improvement toward a perfect score (%) of weighted Duos over their
# temperature-scaled $f_\text{large}$, per metric and evaluation set; error bars: standard
# deviation over Duos. Left: the paper's window of FLOPs balance (Figure 1, right); right:
# every Duo.*

# %%
means = overview.groupby(["Duos", "panel", "metric"])[
    "relative_improvement"
].mean()
means.unstack("metric").round(1)

# %% tags=["remove-cell"]
duo_keys = ["dataset", "f_large", "f_small"]
fig1 = {"duos": len(in_window.drop_duplicates(duo_keys))}
fig1["every"] = len(every.drop_duplicates(duo_keys))
fig1 |= {"best": np.nan, "worst": np.nan, "where": None}
if fig1["duos"]:
    window = means.loc["balance 0.1-0.2"]
    fig1 |= {"best": window.max(), "worst": window.min()}
    fig1["where"] = "{1} on {0}".format(*window.idxmax())

# %% tags=["remove-input"]
say(
    r"""
    [[In the paper's window, {{fig1.duos}} Duos here, the mean improvement toward a perfect
    score runs from {{fig1.worst:.1f}}% to {{fig1.best:.1f}}% ({{fig1.where}}), against the
    paper's "up to 10–15%".]] The panel on the right gives the same average over all
    {{fig1.every}} Duos of the profile.
    """,
    fig1=fig1,
)

# %% tags=["remove-cell"]
ratio_word = "shows no significant trend"
if rho_p < 0.05:
    ratio_word = (
        "falls" if rho < 0 else "rises (unlike the paper's Figure 10)"
    )
if not np.isfinite(rho_p):
    ratio_word = "cannot be tested for a trend (too few Duos)"
summary_values = {"acc": acc, "big": big, "trend": trend["test"]}
summary_values |= {"unw": paper_word, "ratio_word": ratio_word, "rho": rho}

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
say(
    r"""
    - Weighted Duos improve on their $f_\text{large}$ in accuracy for
      {{acc.improved_test:.0%}} of Duos on the test split, with {{acc.worse_test:.0%}}
      significantly worse: the paper's "almost always" **{{acc.verdict}}** here; from a
      balance of 0.1 it **{{big.verdict}}**.
    - Accuracy gains **{{trend.words}}**[[ (Spearman $\rho$ =
      {{trend.rho:.2f}}, test)]].
    - The paper's claim that equal weights hurt with a much weaker sidekick
      **{{unw}}**.
    - The weight ratio {{ratio_word}} with the balance (Spearman $\rho$ = {{rho:.2f}}).
    """,
    summary_values,
)

# %% [markdown]
# ## Exercises
#
# The exercises read the logit bank of the profile this chapter ran on (named at its top) and
# the variables the chapter built (`settings`, `table`, `gains`, `weights`), so their answers
# depend on that profile. In the book each solution is collapsed under "Show solution"; the
# student notebooks (see the Instructors page) have them removed.

# %% [markdown]
# **Exercise 2.1** *(predict, then compute; about 15 minutes).* Every Duo above has one of the
# profile's $f_\text{large}$. Build one that is not there: the two cheapest models of the zoo,
# the dearer one as $f_\text{large}$. From its FLOPs balance and the weight-ratio figure, predict
# the ratio of its weights on the temperature-scaled logits; then fit it on the validation split
# of the profile's first dataset (`experiments.fitted_duo`, `experiments.fitted_temperature`) and
# compare with the chapter's Duos of the nearest balances. Does the balance alone set the ratio?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
by_cost = sorted(settings.zoo, key=lambda model: dl.zoo.get(model).gflops)
small, large, home = by_cost[0], by_cost[1], settings.datasets[0]
pair = dict(dataset=home, f_large=large, f_small=small, mode="weighted")
pair |= vars(experiments.fitted_duo(large, small, home, profile))
pair["flops_balance"] = dl.zoo.flops_balance(large, small)
# weight_ratios reads each member's temperature from the table's single rows
with_pair = pd.concat([table, pd.DataFrame([pair])], ignore_index=True)
shown = ["dataset", "f_large", "f_small", "flops_balance", "ratio"]
experiments.weight_ratios(with_pair).sort_values("flops_balance")[shown]
### END SOLUTION

# %% [markdown]
# **Exercise 2.2** *(interpret; about 15 minutes).* Break the Duo: give the profile's first
# $f_\text{large}$ a sidekick of pure noise, random normal logits as spread out as its own, on
# the validation split of the first dataset. Fit the Duo's weights (`dl.fit_duo`) and explain
# them. Then compare, on the same split, the accuracy of this Duo with that of the unweighted
# Duo (the mean of the two members' logits).

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
home, large = settings.datasets[0], settings.large_models[0]
large_val, labels = dl.bank.logits(home, large, "val", profile)
noise = np.random.default_rng(0).normal(0, large_val.std(), large_val.shape)
noise_duo = dl.fit_duo(large_val, noise, labels)
fitted = noise_duo.combine(large_val, noise).argmax(1).numpy() == labels
equal = (large_val + noise).argmax(1) == labels  # the unweighted Duo
say(
    r"Noise gets weight {{w_small:.4f}}, $f_\text{large}$ {{w_large:.4f}}: "
    r"noise lowers the validation NLL the weights minimise only by chance. "
    r"Accuracy {{fitted:.3f}} so weighted, {{equal:.3f}} unweighted.",
    vars(noise_duo) | {"fitted": fitted.mean(), "equal": equal.mean()},
)
### END SOLUTION

# %% [markdown]
# **Exercise 2.3** *(explore; about 10 minutes).* Find, for each $f_\text{large}$ and evaluation
# split, the cheapest sidekick whose weighted Duo is more accurate than $f_\text{large}$ beyond
# bootstrap noise: the 95% interval of its accuracy gain (`gains`, columns `ci_low` and
# `ci_high`) lies above zero. Why is this lenient, compared with the chapter's Holm-corrected
# counts?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
accuracy_gains = gains[
    (gains["metric"] == "accuracy") & (gains["mode"] == "weighted")
]
rows = ["dataset", "split", "f_large"]
beyond = accuracy_gains[accuracy_gains["ci_low"] > 0]
cheapest = beyond.sort_values("flops_balance").groupby(rows).head(1)
n_rows = len(accuracy_gains.drop_duplicates(rows))
print(f"{len(cheapest)} of {n_rows} (f_large, split) have such a sidekick")
# Each interval is read on its own: among many Duos, one clears 0 by chance.
cheapest[rows + ["f_small", "flops_balance", "difference", "ci_low"]]
### END SOLUTION
