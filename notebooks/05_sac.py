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
dl.chapter.profile_note(profile, "05_sac")

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
figure(dl.plots.metric_vs_balance(table, "sac_98"))

# %% [markdown]
# *Figure: SAC@98 of every Duo against its FLOPs balance (higher is better). Dashed: the
# temperature-scaled $f_\text{large}$. Compare with the paper's Figure 6.*

# %%
sac = {  # what the text quotes: weighted, UQ-only and unweighted Duos
    "w": claims.numbers(gains, "sac_98", "weighted"),
    "u": claims.numbers(gains, "sac_98", "uq_only"),
    "n": claims.numbers(gains, "sac_98", "unweighted"),
}
claims.summary(gains, metrics=("sac_98",), by="panel").round(4)

# %% [markdown]
# ## What we see

# %% tags=["remove-cell"]
# "Match": UQ-only and full Duo's 95% intervals overlap (per Duo and split).
match = claims.ablation_match(gains, "sac_98")

# %% tags=["remove-input"]
say(
    r"""
    Weighted Duos cover more of the test set at 98% selective accuracy than their
    $f_\text{large}$ for {{w.improved_test:.0%}} of Duos (test)[[ and
    {{w.improved_ood:.0%}} (OOD)]], with a median change in coverage of
    {{w.median_test:+.4f}}[[ and {{w.median_ood:+.4f}}]] (beyond bootstrap noise after Holm's
    correction over the Duos: {{w.significant_test:.0%}}[[ and {{w.significant_ood:.0%}}]]).
    UQ-only Duos do so for {{u.improved_test:.0%}}[[ and {{u.improved_ood:.0%}}]] (median
    {{u.median_test:+.4f}}[[ and {{u.median_ood:+.4f}}]]), unweighted Duos for
    {{n.improved_test:.0%}}[[ and {{n.improved_ood:.0%}}]]. The paper's claim that Duos
    achieve higher coverage **{{w.verdict}}** on this profile for the weighted Duos
    (**{{u.verdict}}** for UQ-only Duos).
    """,
    sac,
)

# %% tags=["remove-input"]
say(
    r"""
    The paper's claim that the UQ-only ablation almost always matches the full Duo
    **{{verdict}}** here: the two SAC@98 gains' 95% bootstrap intervals overlap in {{k}}
    of {{n}} comparisons (one per Duo and split), and the UQ-only gain minus the full
    Duo's has a median of {{ahead:+.4f}}.
    """,
    match,
)

# %% tags=["remove-cell"]
# Interval width against the size of the gain, for SAC@98 and AURC.
weighted = gains[gains["mode"] == "weighted"]
noise = {
    metric: {
        "width": (rows["ci_high"] - rows["ci_low"]).median(),
        # NaN where the median gain is 0: no ratio to compare
        "ratio": (rows["ci_high"] - rows["ci_low"]).median()
        / (rows["difference"].abs().median() or float("nan")),
    }
    for metric, rows in weighted.groupby("metric")
    if metric in ("sac_98", "aurc")
}

# %% tags=["remove-cell"]
noisier = noise["sac_98"]["ratio"] > noise["aurc"]["ratio"]
noise["word"] = "wider" if noisier else "no wider"
noise["reason"] = (
    "One possible reason (not measured here): SAC@98 hinges on where the few "
    "most confident errors fall in the ranking." if noisier else ""
)  # fmt: skip

# %% tags=["remove-input"]
say(
    r"""
    A weighted Duo's SAC@98 gain has a bootstrap interval a median {{sac_98.width:.3f}}
    of coverage wide.[[ That is {{sac_98.ratio:.1f}} times the median size of the gain,
    against {{aurc.ratio:.1f}} times for AURC: relative to the gains they bound, SAC@98's
    intervals are {{word}} than AURC's. {{reason}}]]
    """,
    noise,
)

# %% tags=["remove-cell"]
# f_large alone: the most coverage any ranking reaches at 98% accuracy
# (accuracy / 0.98), and how much of it f_large leaves unused.
settings = dl.profiles.get(profile)
alone = table[
    (table["mode"] == "single")
    & table["f_large"].isin(settings.large_models)
].copy()
alone["room"] = (alone["accuracy"] / 0.98).clip(upper=1) - alone["sac_98"]
room = (
    alone.groupby("split")[["accuracy", "sac_98", "room"]]
    .median()
    .reindex(["test", "ood"])
)

# %% tags=["remove-input"]
say(
    r"""
    At 98% selective accuracy no ranking can answer more than accuracy / 0.98 of the
    inputs. $f_\text{large}$'s test accuracy is a median {{test.accuracy:.3f}}[[
    ({{ood.accuracy:.3f}} on OOD)]] and its SAC@98 {{test.sac_98:.3f}}[[
    ({{ood.sac_98:.3f}})]], so a UQ-only Duo, which keeps its predictions, can add at most
    {{test.room:.3f}}[[ ({{ood.room:.3f}})]] of coverage (medians over the
    $f_\text{large}$): the further an $f_\text{large}$ falls below 98% accuracy, the lower
    that ceiling.
    """,
    room.T.to_dict(),
)

# %% [markdown]
# ## From SAC@90 to SAC@99
#
# The same comparison at every accuracy target, for the first $f_\text{large}$ and each of its
# Duos (weighted), on each evaluation set: the test split and, where the dataset has one, the
# OOD split.

# %%
large = dl.profiles.get(profile).large_models[0]
figure(dl.plots.sac_profile(table, large))

# %% [markdown]
# *Figure: Coverage at each target selective accuracy from 90% to 99%, for the first
# $f_\text{large}$ alone and its weighted Duo with each sidekick.*

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
say(
    r"""
    - At 98% selective accuracy, weighted Duos change the share of the test set
      $f_\text{large}$ answers by a median of {{w.median_test:+.4f}}[[
      ({{w.median_ood:+.4f}} on OOD)]]: the paper's claim **{{w.verdict}}** on this
      profile. UQ-only Duos, which only re-rank $f_\text{large}$'s uncertainties, change
      it by {{u.median_test:+.4f}}[[ ({{u.median_ood:+.4f}})]]: the claim that Duos cover
      more **{{u.verdict}}** for them, and the claim that they almost always match the
      full Duo **{{m.verdict}}** (intervals overlapping in {{m.k}} of {{m.n}}
      comparisons).
    """,
    sac | {"m": match},
)

# %% [markdown]
# ## Exercises
#
# The exercises use the logit bank of the profile this chapter ran on and the variables the
# chapter built (`table`, `gains`, `large`, `settings`, ...). In the book each solution is
# collapsed under "Show solution"; the student notebooks (see the Instructors page) have them
# removed.

# %% [markdown]
# **Exercise 5.1** *(compute; about 10 minutes).* SAC@98 by hand. Take `large` and one of its
# sidekicks on the test split of the profile's first dataset
# (`experiments.selective_systems` gives each system's predictions and uncertainties). From the
# risk–coverage curve (`dl.metrics.risk_coverage`: coverage, accepted and errors at each
# threshold), find the largest coverage whose selective risk is at most 2%, and compare it with
# `dl.metrics.sac`. Why compare counts (`errors`, `accepted`) rather than `1 - risk >= 0.98`?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
sidekick = dl.zoo.sidekicks(large, settings.zoo)[-1]  # any one will do
chosen, test_labels = experiments.selective_systems(
    large, sidekick, "test", settings.datasets[0], settings
)
for name, (prediction, uncertainty) in chosen.items():
    correct = prediction == test_labels
    curve = dl.metrics.risk_coverage(correct, uncertainty)
    # Risk <= 1/50 in integers: 1 - 0.98 is not exactly 0.02 in floats.
    meets = 50 * curve.errors <= curve.accepted
    by_hand = curve.coverage[meets].max(initial=0.0)
    duolib_sac = dl.metrics.sac(correct, uncertainty, accuracy=0.98)
    print(f"{name:13} by hand {by_hand:.4f}, duolib {duolib_sac:.4f}")
### END SOLUTION

# %% [markdown]
# **Exercise 5.2** *(predict, then compute; about 15 minutes).* Predict: as the target
# selective accuracy rises from 90% to 99%, does a weighted Duo add more or less coverage over
# its $f_\text{large}$? Then compute, from `table`, the median over all weighted Duos of "Duo's
# SAC minus its $f_\text{large}$'s SAC" at each target (columns `sac_90` to `sac_99`), per
# split, and plot it against the target.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
levels = {dl.metrics.sac_key(a): f"{a:.0%}" for a in dl.metrics.SAC_LEVELS}
key = ["dataset", "split", "f_large"]
single_sac = table[table["mode"] == "single"].set_index(key)[list(levels)]
duo_sac = table[table["mode"] == "weighted"].set_index(key)[list(levels)]
sac_gain = duo_sac - single_sac.reindex(duo_sac.index)
median_gain = sac_gain.groupby("split").median().rename(columns=levels)
axes = median_gain.T.plot(marker="o", xlabel="target selective accuracy")
axes.set_ylabel("median coverage gain of a Duo")
figure(axes.figure)
peak = median_gain.loc["test"]
say("On the test split, the median gain {{verdict}}.", verdict=(
    f"peaks at a target of {peak.idxmax()} ({peak.max():+.4f} coverage)"
    if peak.max() > 0 else "is not positive at any target"))  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 5.3** *(interpret; about 15 minutes).* For every weighted Duo in `gains`, does AURC
# say it improves on its $f_\text{large}$ (lower AURC), and does SAC@98 (higher coverage)? Count
# the Duos on which the two metrics agree, and those whose SAC@98 does not move at all. Why can
# a Duo lower AURC without raising SAC@98?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
duo_key = ["dataset", "split", "f_large", "f_small", "metric"]
weighted_gains = gains.query("mode == 'weighted'").set_index(duo_key)
per_duo = weighted_gains["difference"].unstack()  # one row per Duo, split
aurc_says, sac_says = per_duo["aurc"] < 0, per_duo["sac_98"] > 0
agree = int((aurc_says == sac_says).sum())
aurc_only = int((aurc_says & ~sac_says).sum())
flat = int((aurc_says & (per_duo["sac_98"] == 0)).sum())
say(r"""
    AURC and SAC@98 agree on whether a weighted Duo improves on its
    $f_\text{large}$ for {{agree}} of {{n}} Duos (one per split). For
    {{aurc_only}}, only AURC sees an improvement; SAC@98 does not move at
    all for {{flat}} of these.""", agree=agree, n=len(per_duo),
    aurc_only=aurc_only, flat=flat)  # fmt: skip
### END SOLUTION
