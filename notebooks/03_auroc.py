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
