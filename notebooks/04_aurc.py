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
import pandas as pd
import seaborn as sns

import duolib as dl
from duolib import claims, experiments
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "04_aurc")

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
figure(dl.plots.metric_vs_balance(table, "aurc"))

# %% [markdown]
# *Figure: AURC of every Duo against its FLOPs balance (lower is better). Dashed: the temperature-
# scaled $f_\text{large}$. Compare with the paper's Figure 5.*

# %%
claims.summary(gains, metrics=("aurc", "eaurc", "augrc"), by="panel").round(
    4
)

# %% [markdown]
# ## What we see

# %% tags=["remove-cell"]
# What the text quotes: each measure for weighted (w) and UQ-only (u) Duos.
quoted = {
    f"{metric}_{mode[0]}": claims.numbers(gains, metric, mode)
    for metric in ("aurc", "eaurc", "augrc")
    for mode in ("weighted", "uq_only")
}

# %% tags=["remove-input"]
say(
    r"""
    Weighted Duos lower the AURC of their $f_\text{large}$ for {{w.improved_test:.0%}}
    of Duos on the test split[[ and {{w.improved_ood:.0%}} on the OOD split]] (beyond
    bootstrap noise after Holm's correction over the Duos: {{w.significant_test:.0%}}[[
    and {{w.significant_ood:.0%}}]]; significantly worse: {{w.worse_test:.0%}}[[ and
    {{w.worse_ood:.0%}}]]). UQ-only Duos, with $f_\text{large}$'s accuracy, lower it for
    {{u.improved_test:.0%}}[[ and {{u.improved_ood:.0%}}]] (significantly:
    {{u.significant_test:.0%}}[[ and {{u.significant_ood:.0%}}]]). The claim
    **{{w.verdict}}** for the full Duos and **{{u.verdict}}** for the UQ-only ablation on
    this profile.
    """,
    w=quoted["aurc_w"],
    u=quoted["aurc_u"],
)

# %% tags=["remove-cell"]
# Do E-AURC and AUGRC reach AURC's verdicts, for both kinds of Duo?
agree = {
    metric: all(
        quoted[f"{metric}_{m}"]["verdict"] == quoted[f"aurc_{m}"]["verdict"]
        for m in "wu"
    )
    for metric in ("eaurc", "augrc")
}
quoted["agreement"] = {
    (True, True): "Both thus reach AURC's verdicts.",
    (True, False): "E-AURC thus reaches AURC's verdicts; AUGRC does not.",
    (False, True): "AUGRC thus reaches AURC's verdicts; E-AURC does not.",
    (False, False): "Neither reaches AURC's verdicts.",
}[agree["eaurc"], agree["augrc"]]

# %% tags=["remove-input"]
say(
    r"""
    E-AURC subtracts the AURC of an oracle ranking at the same accuracy. Weighted Duos
    lower it for {{eaurc_w.improved_test:.0%}} of Duos (test)[[ and
    {{eaurc_w.improved_ood:.0%}} (OOD)]] (claim: **{{eaurc_w.verdict}}**); for UQ-only
    Duos, which keep $f_\text{large}$'s predictions and so its oracle, it changes exactly
    as AURC does (**{{eaurc_u.verdict}}**). AUGRC, a variant of AURC that weighs every
    error once, falls for {{augrc_w.improved_test:.0%}}[[ and {{augrc_w.improved_ood:.0%}}]]
    of weighted Duos (**{{augrc_w.verdict}}**) and {{augrc_u.improved_test:.0%}}[[ and
    {{augrc_u.improved_ood:.0%}}]] of UQ-only Duos (**{{augrc_u.verdict}}**).
    {{agreement}}
    """,
    quoted,
)

# %% [markdown]
# ## Risk–coverage curves
#
# The curves behind the numbers, for the first $f_\text{large}$ of the profile and its Duo with
# the largest FLOPs balance up to 0.3 (the paper's "10–20% more compute" regime, widened to have a
# Duo on every profile), on the OOD split of the first dataset that has one, else on the first
# dataset's test split (the caption names it).

# %%
settings = dl.profiles.get(profile)
large = settings.large_models[0]
affordable = dl.zoo.sidekicks(large, settings.zoo, balance=(0, 0.3))
small = max(
    affordable or dl.zoo.sidekicks(large, settings.zoo),
    key=lambda s: dl.zoo.flops_balance(large, s),
)
balance = dl.zoo.flops_balance(large, small)

# %%
# The first dataset with an OOD split (ImageNet-V2 on `paper`), else
# the first dataset's test split (Caltech 256 on `colab`).
with_ood = [
    d for d in settings.datasets if "ood" in dl.data.evaluation_splits(d)
]
dataset, split = (
    (with_ood[0], "ood") if with_ood else (settings.datasets[0], "test")
)
panel = dl.data.panel_name(dataset, split)
where = panel if panel != split else f"the {split} split of {dataset}"

# %%
systems, labels = experiments.selective_systems(
    large, small, split, dataset, settings
)
figure(
    dl.plots.risk_coverage_curves(
        systems,
        labels,
        f"{large} + {small} (balance {balance:.3f}), {panel}",
    ),
    r"Selective risk against coverage for $f_\text{large}$ alone, its Duo "
    f"with {small} (FLOPs balance {balance:.3f}) and the UQ-only Duo, "
    f"on {where}. AURC is the area under each curve.",
)

# %%
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
# At full coverage the UQ-only curve ends where $f_\text{large}$'s does (same predictions); below
# it, it runs lower wherever the Duo's uncertainty moves $f_\text{large}$'s errors later in the
# ranking.
#
# ## Summary

# %% tags=["remove-cell"]
ranking = quoted["aurc_u"]["verdict"] in ("holds", "holds only in part")
quoted["ranking"] = (
    "at least part of the gain lies in the ranking of uncertainties"
    if ranking
    else "this profile does not show a gain from the ranking alone"
)

# %% tags=["remove-input"]
say(
    r"""
    - The claim that Duos lower AURC **{{aurc_w.verdict}}** for weighted Duos (median
      change {{aurc_w.median_test:+.4f}} on the test split) and **{{aurc_u.verdict}}** for
      UQ-only Duos ({{aurc_u.median_test:+.4f}}): with $f_\text{large}$'s accuracy,
      {{ranking}}.
    - For weighted Duos, the same claim **{{eaurc_w.verdict}}** for E-AURC and
      **{{augrc_w.verdict}}** for AUGRC.
    """,
    quoted,
)

# %% [markdown]
# ## Exercises
#
# The exercises use the logit bank of the profile this chapter ran on and the variables the
# chapter built (`systems`, `labels`, `gains`, `large`, ...). In the book each solution is
# collapsed under "Show solution"; the student notebooks (see the Instructors page) have them
# removed.

# %% [markdown]
# **Exercise 4.1** *(compute; about 10 minutes).* AURC by hand. For each system of the
# risk–coverage figure (`systems` maps its name to its predictions and uncertainties; `labels`
# holds the true classes), sort the predictions from most to least certain, compute the error
# rate $r_k$ of the $k$ most certain ones for every $k$, and average over $k$: that is AURC. Do
# the same for the oracle order (every correct prediction first) and subtract it to get E-AURC.
# Compare both with `dl.metrics.aurc` and `dl.metrics.eaurc`. (Where uncertainties tie, duolib
# averages over every order of the tied predictions; your sort picks one of them.)

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
by_hand = {}
for name, (prediction, uncertainty) in systems.items():
    wrong = prediction != labels
    k = range(1, wrong.size + 1)  # how many predictions are accepted
    aurc_mine = (wrong[uncertainty.argsort()].cumsum() / k).mean()
    oracle_mine = (wrong[wrong.argsort()].cumsum() / k).mean()  # oracle
    by_hand[name] = {"AURC": aurc_mine, "E-AURC": aurc_mine - oracle_mine}
    by_hand[f"{name} (duolib)"] = {
        "AURC": dl.metrics.aurc(~wrong, uncertainty),
        "E-AURC": dl.metrics.eaurc(~wrong, uncertainty),
    }
pd.DataFrame(by_hand).T.round(5)
### END SOLUTION

# %% [markdown]
# **Exercise 4.2** *(predict, then compute; about 15 minutes).* Two rankings bound every AURC
# of $f_\text{large}$'s predictions. Predict, in terms of $f_\text{large}$'s accuracy, the AURC
# of a blind ranking (every prediction equally uncertain) and of the oracle ranking. Then compute
# both, and the share of the gap between them that $f_\text{large}$'s own uncertainties close,
# and that the UQ-only Duo's uncertainties close (same predictions, the Duo's ranking).

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
large_correct = systems["f_large"][0] == labels
order = dict(large=systems["f_large"][1], uq=systems["Duo: UQ only"][1])
# Blind: every prediction tied. Oracle: every correct prediction first.
order |= {"blind": 0.0 * labels, "oracle": ~large_correct}
aurcs = {k: dl.metrics.aurc(large_correct, u) for k, u in order.items()}
gap = (aurcs["blind"] - aurcs["oracle"]) or float("nan")  # NaN: no gap
closed = {k: (aurcs["blind"] - v) / gap for k, v in aurcs.items()}
word = "better" if closed["uq"] > closed["large"] else "no better"
say(r"""
    Blind ranking: AURC {{blind:.4f}}; oracle {{oracle:.4f}}.[[ Of the gap,
    $f_\text{large}$'s uncertainties close {{c.large:.0%}}, the UQ-only
    Duo's {{c.uq:.0%}}: the sidekick ranks the predictions {{word}}.]]""",
    aurcs, c=closed, word=word)  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 4.3** *(interpret; about 15 minutes).* On the split of the risk–coverage figure
# (`panel`), find the cheapest sidekick whose weighted Duo with `large` lowers AURC beyond
# bootstrap noise (its 95% interval in `gains` lies wholly below zero). Is it also the sidekick
# with the largest gain? Which would you pick under a tight compute budget, and why?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
in_panel = gains.query("panel == @panel and f_large == @large")
aurc_gains = in_panel.query("metric == 'aurc' and mode == 'weighted'")
beyond = aurc_gains[aurc_gains["ci_high"] < 0].sort_values("flops_balance")
best = aurc_gains.loc[aurc_gains["difference"].idxmin(), "f_small"]
cheapest = dict(beyond.iloc[0]) if len(beyond) else dict.fromkeys(beyond)
same = "the" if cheapest["f_small"] == best else "not the"
say(r"""
    {{k}} of {{n}} sidekicks lower the AURC of {{large}} beyond bootstrap
    noise (a 95% interval below 0) on {{where}}; the largest gain comes from
    {{best}}.[[ The cheapest of them, {{c.f_small}} (FLOPs balance
    {{c.flops_balance:.3f}}), is {{same}} one with the largest gain.]]""",
    k=len(beyond), n=len(aurc_gains), large=large, where=where, best=best,
    c=cheapest, same=same)  # fmt: skip
### END SOLUTION
