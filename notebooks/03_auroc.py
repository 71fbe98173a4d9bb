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
    noise after Holm's correction over the Duos for {{w.significant_test:.0%}}[[ and
    {{w.significant_ood:.0%}}]] (significantly worse: {{w.worse_test:.0%}}[[ and
    {{w.worse_ood:.0%}}]]).
    """,
    w=weighted,
)

# %% tags=["remove-cell"]
# "Comparable": UQ-only and full Duo's 95% intervals overlap (per Duo and split).
match = claims.ablation_match(gains, "auroc")

# %% tags=["remove-input"]
uq_only = claims.numbers(gains, "auroc", "uq_only")
say(
    r"""
    UQ-only Duos, whose predictions are $f_\text{large}$'s own, improve AUROC for
    {{u.improved_test:.0%}} (test)[[ and {{u.improved_ood:.0%}} (OOD)]] of Duos, significantly
    for {{u.significant_test:.0%}}[[ and {{u.significant_ood:.0%}}]], with a median change of
    {{u.median_test:+.4f}}[[ and {{u.median_ood:+.4f}}]]. The paper's claim that Duos separate
    right from wrong better than $f_\text{large}$ **{{w.verdict}}** for the full Duos on this
    profile, and **{{u.verdict}}** for the UQ-only ablation.
    """,
    w=weighted,
    u=uq_only,
)

# %% tags=["remove-input"]
say(
    r"""
    The paper's claim that the ablation's AUROC increase is comparable to the full Duo's
    **{{verdict}}** here: the two gains' 95% bootstrap intervals overlap in {{k}} of {{n}}
    comparisons (one per Duo and split), and the UQ-only gain minus the full Duo's has a
    median of {{ahead:+.4f}}.
    """,
    match,
)

# %% tags=["remove-cell"]
# Where does the full Duo gain less AUROC than its UQ-only ablation?
auroc = gains[gains["metric"] == "auroc"].pivot_table(
    index=["dataset", "split", "f_large", "f_small"],
    columns="mode",
    values="difference",
)
behind = auroc.index[auroc["weighted"] < auroc["uq_only"]]

# %% tags=["remove-cell"]
# The UQ-only uncertainty on f_large's errors that the Duo fixes, and on
# those it keeps (mean per Duo and split).
import pandas as pd

flagged = []
for dataset, split, large, small in behind:
    systems, labels = experiments.selective_systems(
        large, small, split, dataset, profile
    )
    wrong = systems["f_large"][0] != labels
    fixed = wrong & (systems["Duo (ours)"][0] == labels)
    unc = pd.Series(systems["Duo: UQ only"][1])
    flagged.append((unc[fixed].mean(), unc[wrong & ~fixed].mean()))
flagged = pd.DataFrame(flagged, columns=["fixed", "kept"], dtype=float)

# %% tags=["remove-cell"]
k = int((flagged["fixed"] > flagged["kept"]).sum())
reading = {
    "n": len(auroc), "n_behind": len(behind), "k": k,
    "fixed": flagged["fixed"].median(), "kept": flagged["kept"].median(),
    "fits": "fits" if k > len(behind) / 2 else "does not fit",
}  # fmt: skip
none_behind = (
    "For every Duo and split, the full Duo gains at least as much AUROC as "
    "its UQ-only ablation."
)

# %% tags=["remove-input"]
say(
    r"""
    In {{n_behind}} of {{n}} comparisons (one per Duo and split), the full Duo gains less
    AUROC than its UQ-only ablation. One possible reason (ours, not the paper's): AUROC is
    measured against each system's own correctness. An error of $f_\text{large}$ that the
    Duo fixes stays an error for the ablation, an easy one to rank if its uncertainty
    already flags it; fixed, it becomes a doubtful correct prediction. The errors these
    Duos fix carry more UQ-only uncertainty than the errors they keep in {{k}} of
    {{n_behind}} comparisons (medians {{fixed:.3f}} and {{kept:.3f}}), which {{fits}} this
    reading.
    """
    if len(behind)
    else none_behind,
    reading,
)

# %% [markdown]
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
ece = claims.numbers(gains, "ece", "weighted")
say(
    r"""
    After temperature scaling, single models have a median ECE of {{single.median:.3f}} (at
    most {{single.max:.3f}}). Weighted Duos change it by a median of {{e.median_test:+.4f}}
    (test)[[ and {{e.median_ood:+.4f}} (OOD)]]; the change is beyond bootstrap noise after
    Holm's correction for {{e.significant_test:.0%}}[[ / {{e.significant_ood:.0%}}]] of
    Duos in the better direction and {{e.worse_test:.0%}}[[ / {{e.worse_ood:.0%}}]] in the
    worse one.
    """,
    single=single,
    e=ece,
)

# %% tags=["remove-cell"]
# The same single models' ECE before temperature scaling.
settings = dl.profiles.get(profile)
raw_ece = [
    dl.metrics.summarise(
        dl.metrics.sample_statistics(*dl.bank.logits(d, m, s, settings))
    )["ece"]
    for d, s, m in singles[["dataset", "split", "f_large"]].itertuples(
        index=False
    )
]
single["raw"] = float(pd.Series(raw_ece).median())
single["word"] = (
    "lowered" if single["raw"] > single["median"] else "did not lower"
)

# %% tags=["remove-input"]
say(
    r"""
    The paper argues that Duos' small ECE improvement is "not a failure of Duos but rather a
    success of temperature scaling", the models being "largely calibrated to begin with". Here
    temperature scaling {{single.word}} the single models' median ECE, from
    {{single.raw:.3f}} to {{single.median:.3f}}, while the claim that Duos raise AUROC
    **{{w.verdict}}** for the full Duos and **{{u.verdict}}** for the UQ-only ablation.
    """,
    single=single,
    w=weighted,
    u=uq_only,
)

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
say(
    r"""
    - With $f_\text{large}$'s accuracy, the UQ-only ablation raises its AUROC for
      {{u.improved_test:.0%}} of Duos (test)[[ and {{u.improved_ood:.0%}} (OOD)]]: the claim
      that Duos raise AUROC **{{u.verdict}}** for the ablation and **{{w.verdict}}** for
      the full Duos; that the two increases are comparable **{{m.verdict}}**. In the
      paper's reading, the sidekick re-ranks $f_\text{large}$'s uncertainties.
    - Weighted Duos change ECE by a median of {{e.median_test:+.4f}} (test), beyond
      bootstrap noise for {{e.significant_test:.0%}} (better) and {{e.worse_test:.0%}}
      (worse) of Duos; the paper expects little change, temperature-scaled models being
      largely calibrated already.
    """,
    {"w": weighted, "u": uq_only, "e": ece, "m": match},
)

# %% [markdown]
# ## Exercises
#
# The exercises read the logit bank of the profile this chapter ran on (named at its top) and
# the variables the chapter built (`settings`, `table`, `singles`, its rows of single models),
# and use the profile's first $f_\text{large}$ on its first dataset's test split. In the book
# each solution is collapsed under "Show solution"; the student notebooks (see the Instructors
# page) have them removed.

# %% [markdown]
# **Exercise 3.1** *(compute; about 10 minutes).* Correctness AUROC by hand. Take the
# temperature-scaled $f_\text{large}$'s predictions and uncertainties on the test split
# (`dl.metrics.sample_statistics` of the logits divided by the fitted temperature), and compute
# the probability that a wrong prediction is more uncertain than a right one, ties counting one
# half. Hint: rank all the uncertainties (ties get their mean rank); the sum of the wrong
# predictions' ranks minus $n_\text{wrong}(n_\text{wrong} + 1)/2$ counts the (wrong, right) pairs
# in which the wrong one is more uncertain (Mann–Whitney's $U$). Compare with
# `dl.metrics.correctness_auroc` and with the chapter's results table.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
home, big = settings.datasets[0], settings.large_models[0]
t_big = experiments.fitted_temperature(big, home, profile)
big_test, truth = dl.bank.logits(home, big, "test", profile)
per_image = dl.metrics.sample_statistics(big_test / t_big, truth)
right, doubt = per_image["prediction"] == truth, per_image["uncertainty"]
n_wrong, rank = (~right).sum(), pd.Series(doubt).rank()  # ties: mean rank
u = rank[~right].sum() - n_wrong * (n_wrong + 1) / 2
print(f"by hand: {u / (n_wrong * right.sum()):.4f}")
print(f"duolib:  {dl.metrics.correctness_auroc(right, doubt):.4f}")
row = singles.query("f_large == @big and split == 'test'").iloc[0]
print(f"chapter: {row['auroc']:.4f} ({row['dataset']})")
### END SOLUTION

# %% [markdown]
# **Exercise 3.2** *(interpret; about 15 minutes).* Why does the UQ-only Duo raise AUROC though
# its predictions, and so its errors, are $f_\text{large}$'s own? Pair $f_\text{large}$ with its
# dearest sidekick (the last of `dl.zoo.sidekicks(f_large, settings.zoo)`), take the three
# systems of `experiments.selective_systems`, and count which share of $f_\text{large}$'s errors
# lands among the 10% most uncertain predictions, by $f_\text{large}$'s own uncertainty and by
# the UQ-only Duo's.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
home, big = settings.datasets[0], settings.large_models[0]
side = dl.zoo.sidekicks(big, settings.zoo)[-1]  # the dearest sidekick
uq, truth = experiments.selective_systems(big, side, "test", home, profile)
errors = uq["f_large"][0] != truth  # the UQ-only Duo's errors too
own = pd.Series(uq["f_large"][1]).rank(pct=True)[errors].mean()
duo = pd.Series(uq["Duo: UQ only"][1]).rank(pct=True)[errors].mean()
say(
    r"$f_\text{large}$'s errors sit, on average, {{own:.1%}} of the way up "
    r"its own uncertainty ranking and {{duo:.1%}} up the UQ-only Duo's: "
    r"the Duo ranks them as {{word}} uncertain. AUROC measures just that.",
    {"own": own, "duo": duo, "word": "more" if duo > own else "no more"},
)
### END SOLUTION

# %% [markdown]
# **Exercise 3.3** *(predict, then compute; about 10 minutes).* Dividing the logits by a
# temperature $T$ leaves every prediction, and so the accuracy, unchanged. Predict: does it leave
# the correctness AUROC of the softmax response unchanged too? Compute $f_\text{large}$'s AUROC
# on the test split for temperatures from 0.25 to 16 and plot it against $T$.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
home, big = settings.datasets[0], settings.large_models[0]
big_test, truth = dl.bank.logits(home, big, "test", profile)
by_t = pd.Series(
    {t: dl.evaluate(big_test / t, truth)["auroc"] for t in (0.25, 1, 4, 16)}
)
ax = by_t.plot(logx=True, marker="o", xlabel="T", ylabel="AUROC")
figure(ax.figure)
say(
    r"Every $T$ keeps each prediction[[, yet the AUROC runs from "
    r"{{low:.4f}} to {{high:.4f}}: $T$ re-orders the uncertainties]].",
    {"low": by_t.min(), "high": by_t.max()},
)
### END SOLUTION

# %% [markdown]
# **Exercise 3.4** *(compute; about 15 minutes).* ECE by hand. Bin the temperature-scaled
# $f_\text{large}$'s confidences on the test split into 15 equal-width bins $(l, u]$, compute
# each bin's mean confidence and accuracy, and the ECE: the bins' absolute gaps averaged with
# weights proportional to their sizes. Compare with `dl.metrics.ece`, and draw the reliability
# diagram (accuracy against confidence per bin).

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
home, big = settings.datasets[0], settings.large_models[0]
big_test, truth = dl.bank.logits(home, big, "test", profile)
scaled = big_test / experiments.fitted_temperature(big, home, profile)
per_image = dl.metrics.sample_statistics(scaled, truth)
conf, right = per_image["confidence"], per_image["prediction"] == truth
scored = pd.DataFrame({"confidence": conf, "accuracy": right})
edges = pd.cut(conf, [k / 15 for k in range(16)])  # bins (lower, upper]
per_bin = scored.groupby(edges, observed=True).transform("mean")
by_hand = (per_bin["accuracy"] - per_bin["confidence"]).abs().mean()
print(f"by hand {by_hand:.4f}, duolib {dl.metrics.ece(right, conf):.4f}")
ax = per_bin.drop_duplicates().plot.scatter(x="confidence", y="accuracy")
ax.axline((0, 0), slope=1, color="k", ls=":")
figure(ax.figure)
### END SOLUTION
