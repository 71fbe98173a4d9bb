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
