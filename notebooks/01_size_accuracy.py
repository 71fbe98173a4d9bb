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
# # Model size and accuracy
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/01_size_accuracy.ipynb)
#
# This chapter tests the paper's **Figure 2** claim that bigger image classifiers are more
# accurate, and redoes the compute bookkeeping of **Section 3.2**: in the paper's framing, an
# Asymmetric Duo spends a *fraction* of a model's compute more, rather than doubling it as a
# two-model ensemble does, to buy extra accuracy and uncertainty quality (which the later
# chapters test).
#
# We use the ImageNet top-1 accuracy, compute and size that torchvision publishes for every one of
# its classifiers. These numbers ship inside the torchvision package, so the sections on them need
# no download and no training, and show the same published numbers on every profile. Only the
# section on this profile's zoo reads the logit bank (and fills it, training the zoo, if the
# chapter "Building the model zoo" has not run).

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from scipy import stats

import duolib as dl
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
print(f"profile: {profile} ({dl.profiles.get(profile).description})")
sns.set_theme(style="whitegrid", context="notebook")

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "01_size_accuracy")

# %% [markdown]
# ## The claim
#
# > "Consistent with prior work, we find a strong correlation between model size (as measured by
# > FLOPs/parameter counts) and in-distribution (InD) and out-of-distribution (OOD) accuracy."
# > (Section 4, Figure 2)
#
# The paper's Figure 2 then presents Duos as a way to move along this curve: "combining a bigger
# $f_\text{large}$ with a littler $f_\text{small}$ adds just a little computation, or more, as we
# choose."

# %% [markdown]
# ## Every torchvision classifier
#
# `dl.zoo.torchvision_catalog()` reads each model's default ImageNet weights' metadata: GFLOPs
# (multiply-accumulates per 224-ish pixel image, torchvision's convention), parameters and top-1.

# %%
catalog = dl.zoo.torchvision_catalog()
catalog["log10_gflops"] = np.log10(catalog["gflops"])
catalog["log10_params"] = np.log10(catalog["params"])
catalog["zoo"] = np.where(
    catalog["in_paper_zoo"], "in the paper's zoo", "not in the zoo"
)
catalog.sort_values("gflops").head()

# %%
fits = {
    x: stats.linregress(np.log10(catalog[x]), catalog["imagenet_top1"])
    for x in ("gflops", "params")
}
rhos = {
    x: stats.spearmanr(catalog[x], catalog["imagenet_top1"]).statistic
    for x in fits
}

# %%
pd.DataFrame(
    {
        "Spearman rho": rhos,
        "R^2 of top-1 ~ log10(x)": {
            x: fit.rvalue**2 for x, fit in fits.items()
        },
        "top-1 points per 10x": {x: fit.slope for x, fit in fits.items()},
    }
).rename(index={"gflops": "GFLOPs", "params": "parameters"}).round(3)

# %%
numbers = {
    "n_models": len(catalog),
    "n_families": int(catalog["family"].nunique()),
    "flops_span": float(catalog["gflops"].max() / catalog["gflops"].min()),
    "rho_flops": float(rhos["gflops"]),
    "rho_params": float(rhos["params"]),
    "r2_flops": float(fits["gflops"].rvalue ** 2),
    "r2_params": float(fits["params"].rvalue ** 2),
    "slope_flops": float(fits["gflops"].slope),
}

# %%
palette = dl.plots.family_palette(catalog["family"])
figure(dl.plots.catalog_size_accuracy(catalog, fits, palette))

# %% [markdown]
# *Figure: ImageNet top-1 against compute (left) and size (right) for every torchvision classifier,
# coloured by family; circles are architectures the paper draws on. Dashed: least-squares fit of
# top-1 on log10 of the x-axis. Compare with the paper's Figure 2.*

# %% [markdown]
# ## What we see

# %% tags=["remove-cell"]
# A word for each rank correlation: a trend only where p < 0.05.
words = {
    x: "shows no monotone trend with"
    if not stats.spearmanr(catalog[x], catalog["imagenet_top1"]).pvalue < 0.05
    else "rises with" if rhos[x] > 0 else "falls with"
    for x in fits
}  # fmt: skip
numbers |= {"flops_word": words["gflops"], "params_word": words["params"]}

# %% tags=["remove-input"]
say(
    r"""
    Across the {{n_models}} classifiers of {{n_families}} families, spanning a
    {{flops_span:.0f}}-fold range of compute, ImageNet top-1 {{flops_word}} compute
    (Spearman $\rho$ = {{rho_flops:.2f}}) and {{params_word}} parameter count ($\rho$ =
    {{rho_params:.2f}}). A log-linear fit explains $R^2$ = {{r2_flops:.2f}} of the variance
    in accuracy from GFLOPs, about {{slope_flops:.1f}} points of top-1 per tenfold compute,
    and $R^2$ = {{r2_params:.2f}} from parameters.
    """,
    numbers,
)

# %% tags=["remove-cell"]
# Each family's mean distance (points of top-1) from the fit on GFLOPs.
fit = fits["gflops"]
offset = catalog["imagenet_top1"] - (
    fit.intercept + fit.slope * catalog["log10_gflops"]
)
by_family = offset.groupby(catalog["family"]).mean().sort_values()
below, above = by_family[by_family < 0], by_family[by_family > 0][::-1]
numbers |= {
    "below": ", ".join(f"{f} ({r:+.1f})" for f, r in below.head(3).items()),
    "above": ", ".join(f"{f} ({r:+.1f})" for f, r in above.head(3).items()),
    "offset_low": by_family.iloc[0],
    "offset_high": by_family.iloc[-1],
    "unexplained": 1 - numbers["r2_flops"],
}

# %% tags=["remove-input"]
say(
    r"""
    The fit on GFLOPs leaves {{unexplained:.0%}} of the variance unexplained, and families
    sit at different heights at equal compute: their mean distance from the fit ranges
    from {{offset_low:+.1f}} to {{offset_high:+.1f}} points of top-1, furthest below for
    {{below}} and furthest above for {{above}}. FLOPs measure cost, not accuracy; the paper
    reports Duos against FLOPs *balance* rather than absolute FLOPs.
    """,
    numbers,
)

# %% [markdown]
# ## The zoo of this profile
#
# The same plot for the models this book fine-tunes on the active profile's data (built by the
# chapter "Building the model zoo"; on `paper` these are the paper's models on ImageNet with
# their published heads and fine-tuned on Caltech 256 and iWildCam; the rank correlation below is
# computed within the profile's first dataset):

# %%
profile_zoo = dl.bank.zoo_summary(profile)
fig, ax = plt.subplots(figsize=(8, 4.8))
dl.plots.size_accuracy(
    profile_zoo, ax=ax, title=f"{profile} zoo, fine-tuned"
)
fig.tight_layout()
figure(fig)

# %% [markdown]
# *Figure: Accuracy against compute for the fine-tuned zoo of the profile this book was built with,
# in distribution (val, test) and, where the dataset has one, out of distribution (ood).*

# %% tags=["remove-cell"]
# Rank correlation within one dataset: the profile's first.
first = profile_zoo["dataset"] == profile_zoo["dataset"].iloc[0]
id_accuracy = profile_zoo[first & (profile_zoo["split"] == "test")]
rank = stats.spearmanr(id_accuracy["gflops"], id_accuracy["accuracy"])
zoo_numbers = {
    "n": len(id_accuracy),
    "rho": rank.statistic,
    "p": "< 0.001" if rank.pvalue < 0.001 else f"= {rank.pvalue:.3f}",
    "word": "shows no trend beyond chance" if not rank.pvalue < 0.05
    else "grows" if rank.statistic > 0 else "falls",
}  # fmt: skip

# %% tags=["remove-cell"]
# On smoke only: how little its models train.
settings = dl.profiles.get(profile)
smoke = settings.name == "smoke"
epochs = settings.recipe.ft_epochs
zoo_numbers["images"] = (
    settings.glyph_split_sizes.get("train") if smoke else None
)
zoo_numbers["epochs"] = f"{epochs} epoch{'s' if epochs != 1 else ''}"

# %% tags=["remove-input"]
say(
    r"""
    Across the {{n}} models of this profile, the rank correlation between compute and
    in-distribution test accuracy is Spearman $\rho$ = {{rho:.2f}} (p {{p}}): accuracy
    {{word}} with compute here.[[ On `smoke` the models fine-tune on only {{images:,}}
    images for {{epochs}}, so this says little about the paper's claim.]]
    """,
    zoo_numbers,
)

# %% [markdown]
# ## The paper's zoo and its FLOPs balances
#
# The paper's four $f_\text{large}$ are ConvNeXt-B and Swin-V2-B (torchvision, ImageNet-1k),
# EfficientNet-V2-L (timm, ImageNet-21k) and a CLIP ViT-B/16 (timm, LAION-2B). timm ships no FLOPs
# metadata, so `scripts/measure_timm_flops.py` counted them once with `torch.utils.flop_counter`
# (the same counter reproduces torchvision's published GFLOPs, which the tests check).

# %%
zoo_table = pd.DataFrame(
    [vars(dl.zoo.get(name)) for name in dl.zoo.names()]
)
zoo_table[zoo_table["role"] == "large"][
    [
        "name",
        "source",
        "weights",
        "gflops",
        "params",
        "input_size",
        "imagenet_top1",
    ]
]

# %% [markdown]
# Section 5.6 pairs a ResNet-50 with three torchvision sidekicks and quotes their FLOPs balances.
# We recompute them from torchvision's metadata (the paper's values are typed in, labelled as
# the paper's, for comparison):

# %%
paper_balance = dict(
    mnasnet0_75=0.05, shufflenet_v2_x2_0=0.14, efficientnet_b2=0.27
)
table1 = pd.DataFrame(
    {
        "sidekick": list(paper_balance),
        "sidekick GFLOPs": [dl.zoo.get(s).gflops for s in paper_balance],
        "FLOPs balance (ours)": [
            dl.zoo.flops_balance("resnet50", s) for s in paper_balance
        ],
        "FLOPs balance (paper, Table 1)": list(paper_balance.values()),
    }
)
table1.round(3)

# %% tags=["remove-cell"]
ours = table1["FLOPs balance (ours)"].round(2)
paper = table1["FLOPs balance (paper, Table 1)"]
matches = int(((ours - paper).abs() < 1e-9).sum())
numbers["balance_words"] = (
    f"all {matches} round to the paper's" if matches == len(table1)
    else f"{matches} of {len(table1)} round to the paper's"
)  # fmt: skip
b = dict(
    zip(table1["sidekick"], table1["FLOPs balance (ours)"], strict=True)
)

# %% tags=["remove-input"]
say(
    """
    With ResNet-50, our balances are {{b.mnasnet0_75:.3f}}, {{b.shufflenet_v2_x2_0:.3f}}
    and {{b.efficientnet_b2:.3f}}: {{balance_words}} {{p.mnasnet0_75}},
    {{p.shufflenet_v2_x2_0}} and {{p.efficientnet_b2}} (Table 1).
    """,
    numbers,
    b=b,
    p=paper_balance,
)

# %% [markdown]
# ## Why a Duo adds compute in small steps
#
# A Duo costs $\text{FLOPs}(f_\text{large}) \times (1 + \text{balance})$. For each of the paper's
# four $f_\text{large}$, the cheaper models of its zoo offer a ladder of balances (below); a deep
# ensemble offers only the rungs 1, 2, 3 … times the base cost.

# %%
ladder = dl.zoo.balance_ladder()
figure(dl.plots.balance_ladder(ladder, palette))

# %% [markdown]
# *Figure: FLOPs balance of every Duo the paper's zoo allows (sidekick cheaper than
# $f_\text{large}$). Dotted lines: the paper's "10–20% more compute".*

# %% tags=["remove-cell"]
rungs = ladder.rename(columns={"FLOPs balance": "balance"})
numbers |= {
    "n_duos": len(rungs),
    "n_cheap": int((rungs["balance"] <= 0.2).sum()),
    "cheapest": rungs.loc[rungs["balance"].idxmin()].to_dict(),
    "dearest": rungs.loc[rungs["balance"].idxmax()].to_dict(),
}

# %% tags=["remove-input"]
say(
    r"""
    The paper's zoo gives {{n_duos}} Duos with a sidekick cheaper than its
    $f_\text{large}$; {{n_cheap}} of them add at most 20% compute. Balances run from
    {{cheapest.balance:.3f}} ({{cheapest.sidekick}} beside {{cheapest.f_large}}) to
    {{dearest.balance:.3f}} ({{dearest.sidekick}} beside {{dearest.f_large}}). The
    next chapters ask whether such small steps also buy accuracy and, above all, better
    uncertainty.
    """,
    numbers,
)

# %% [markdown]
# ## Summary

# %% tags=["remove-cell"]
rising = [numbers["flops_word"], numbers["params_word"]].count("rises with")
numbers["agree"] = ["do not reproduce", "reproduce in part", "reproduce"][
    rising
]

# %% tags=["remove-input"]
say(
    r"""
    - Published torchvision numbers {{agree}} the in-distribution (ImageNet) part of the
      paper's Figure 2 trend: ImageNet top-1 {{flops_word}} compute ($\rho$ =
      {{rho_flops:.2f}}) and {{params_word}} size ($\rho$ = {{rho_params:.2f}}); families
      sit between {{offset_low:+.1f}} and {{offset_high:+.1f}} points from the log-linear
      fit on average.
    - The FLOPs balances of the paper's Table 1 Duos, recomputed from torchvision metadata:
      {{balance_words}} values.
    - {{n_cheap}} of the {{n_duos}} Duos of the paper's zoo add at most 20% compute, a finer
      ladder of extra cost than a deep ensemble's; the following chapters measure what
      such Duos gain.
    """,
    numbers,
)

# %% [markdown]
# ## Exercises
#
# The exercises use torchvision's published numbers, the same on every profile, and the zoo of
# the profile this chapter ran on, through the variables the chapter built (`catalog`, `fits`,
# `table1`, `settings`, ...). In the book each solution is collapsed under "Show solution"; the
# student notebooks (see the Instructors page) have them removed.

# %% [markdown]
# **Exercise 1.1** *(compute; about 10 minutes).* Which Duos does this profile build? List every
# pair of one of its $f_\text{large}$ (`settings.large_models`) with a cheaper model of its zoo
# (`settings.zoo`), with the pair's FLOPs balance (`dl.zoo.balance_ladder` does it for any list
# of models), draw them as on the ladder above, and count those that add 10–20% compute.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
own_ladder = dl.zoo.balance_ladder(settings.large_models, settings.zoo)
own_palette = dl.plots.family_palette(own_ladder["sidekick family"])
figure(dl.plots.balance_ladder(own_ladder, own_palette))
in_window = own_ladder["FLOPs balance"].between(0.1, 0.2)
print(f"{in_window.sum()} of {len(own_ladder)} Duos add 10-20% compute")
own_ladder.assign(in_window=in_window).sort_values("FLOPs balance")
### END SOLUTION

# %% [markdown]
# **Exercise 1.2** *(predict, then interpret; about 10 minutes).* What would a Duo's extra
# compute buy if it went into a bigger model instead? Predict from the fit of top-1 on
# $\log_{10}$ GFLOPs above how many points of ImageNet top-1 10% more compute buys. Then compute
# it for the balances of Table 1's three Duos, and for doubling the compute (a two-model deep
# ensemble's cost). What does this mean for the gains the next chapters measure?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
slope = fits["gflops"].slope  # points of top-1 per tenfold compute
trend = {
    "low": slope * np.log10(1 + table1["FLOPs balance (ours)"].min()),
    "high": slope * np.log10(1 + table1["FLOPs balance (ours)"].max()),
    "double": slope * np.log10(2),
}
say(
    "Spent on a bigger model, the extra compute of Table 1's Duos would "
    "buy {{low:.2f}} to {{high:.2f}} points of ImageNet top-1 along the "
    "fit, and doubling the compute (a two-model ensemble) {{double:.2f}}: "
    "the bar a Duo's gain must clear to beat scaling the model up.",
    trend,
)
### END SOLUTION

# %% [markdown]
# **Exercise 1.3** *(compute; about 10 minutes).* Does the fit's slope hold within a family? For
# every family of the catalog with models of different compute, fit top-1 on $\log_{10}$ GFLOPs
# (`stats.linregress`) and compare its slope, in points of top-1 per tenfold compute, with the
# slope of the whole catalog.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
per_family = {}
for family, rows in catalog.groupby("family"):
    if rows["gflops"].nunique() > 1:  # a slope needs two costs
        log_cost = np.log10(rows["gflops"])
        fit_family = stats.linregress(log_cost, rows["imagenet_top1"])
        per_family[family] = fit_family.slope
per_family = pd.Series(per_family, name="top-1 points per tenfold GFLOPs")
print(
    f"whole catalog: {fits['gflops'].slope:.1f} points per tenfold GFLOPs"
)
per_family.sort_values().round(1).to_frame()
### END SOLUTION

# %% [markdown]
# **Exercise 1.4** *(explore; about 15 minutes).* The efficient front: which classifiers does no
# cheaper classifier match in top-1? Sort the catalog by GFLOPs, keep each model more accurate
# than every cheaper one, draw this front over the whole catalog, and list its families. Are the
# models of the paper's zoo on it?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
by_cost = catalog.sort_values(["gflops", "imagenet_top1"], ascending=[1, 0])
best_cheaper = by_cost["imagenet_top1"].cummax().shift(fill_value=0)
front = by_cost[by_cost["imagenet_top1"] > best_cheaper]
fig, ax = plt.subplots(figsize=(8, 4.8))
sns.scatterplot(by_cost, x="gflops", y="imagenet_top1", color="0.7", ax=ax)
ax.step(front["gflops"], front["imagenet_top1"], "o-", where="post")
ax.set(xscale="log", xlabel="GFLOPs (log scale)", ylabel="top-1 (%)")
figure(fig)
print(
    f"{len(front)} of {len(catalog)} on the front, of which "
    f"{front['in_paper_zoo'].sum()} in the paper's zoo"
)
front[["name", "family", "gflops", "imagenet_top1", "in_paper_zoo"]]
### END SOLUTION
