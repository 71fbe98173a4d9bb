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
# This chapter reproduces the paper's **Figure 2** and the compute bookkeeping of **Section 3.2**:
# bigger image classifiers are more accurate, and an Asymmetric Duo is a way to buy a *fraction*
# of a model's compute in extra accuracy and uncertainty quality, rather than doubling it as a
# two-model ensemble does.
#
# We use the ImageNet top-1 accuracy, compute and size that torchvision publishes for every one of
# its classifiers. These numbers ship inside the torchvision package, so this chapter needs no
# download and no training, and shows the same published numbers on every profile.

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
# The paper then uses this correlation as the reason to pair models of *very* different size: a
# Duo adds the sidekick's compute, a small fraction of $f_\text{large}$'s, and moves up the curve
# by a correspondingly small step.

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

# %% tags=["remove-input"]
say(
    r"""
    Across the {{n_models}} classifiers of {{n_families}} families, spanning a
    {{flops_span:.0f}}-fold range of compute, ImageNet top-1 rises with compute (Spearman
    $\rho$ = {{rho_flops:.2f}}) and with parameter count ($\rho$ = {{rho_params:.2f}}). A
    log-linear fit explains $R^2$ = {{r2_flops:.2f}} of the variance in accuracy from GFLOPs,
    about {{slope_flops:.1f}} points of top-1 per tenfold compute, and $R^2$ =
    {{r2_params:.2f}} from parameters. The trend is clear but loose: at equal compute,
    families differ by several points (VGG, AlexNet and SqueezeNet lie below the trend line;
    EfficientNet, RegNet and ConvNeXt above it). FLOPs are a measure of cost, not a promise
    of accuracy, which is also why the paper reports Duos against FLOPs *balance* rather
    than absolute FLOPs.
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
# in distribution (val, test) and out of distribution (ood).*

# %% tags=["remove-input"]
# Rank correlation within one dataset: the profile's first.
first = profile_zoo["dataset"] == profile_zoo["dataset"].iloc[0]
id_accuracy = profile_zoo[first & (profile_zoo["split"] == "test")]
rho_zoo = stats.spearmanr(
    id_accuracy["gflops"], id_accuracy["accuracy"]
).statistic
say(
    r"""
    Across the {{n_profile_zoo}} models of this profile, the rank correlation between
    compute and in-distribution test accuracy is Spearman $\rho$ = {{rho_zoo:.2f}} (on
    `smoke`, where the models see a few hundred images for one epoch, expect no trend).
    """,
    n_profile_zoo=len(id_accuracy),
    rho_zoo=rho_zoo,
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

# %% tags=["remove-input"]
say(
    """
    With ResNet-50 at {{b.mnasnet0_75:.3f}}, {{b.shufflenet_v2_x2_0:.3f}} and
    {{b.efficientnet_b2:.3f}}, our balances round to the paper's 0.05, 0.14 and 0.27.
    """,
    b=dict(
        zip(table1["sidekick"], table1["FLOPs balance (ours)"], strict=True)
    ),
)

# %% [markdown]
# ## Why a Duo moves along the curve in small steps
#
# A Duo costs $\text{FLOPs}(f_\text{large}) \times (1 + \text{balance})$. For each of the paper's
# four $f_\text{large}$, the sidekicks of its zoo offer a ladder of balances, from a few percent
# (an MNASNet beside an EfficientNet-V2-L) up to a second model of similar size. A deep ensemble
# offers only the rungs 1, 2, 3 … times the base cost.

# %%
ladder = dl.zoo.balance_ladder()
figure(dl.plots.balance_ladder(ladder, palette))

# %% [markdown]
# *Figure: FLOPs balance of every Duo the paper's zoo allows (sidekick cheaper than
# $f_\text{large}$). Dotted lines: the paper's "10–20% more compute".*

# %% tags=["remove-input"]
say(
    r"""
    The paper's zoo gives {{n_duos}} Duos with a sidekick cheaper than its
    $f_\text{large}$; {{n_cheap}} of them add at most 20% compute, the cheapest only
    {{min_balance:.3f}}. The next chapters ask whether such small steps also buy accuracy
    and, above all, better uncertainty.
    """,
    n_duos=len(ladder),
    n_cheap=int((ladder["FLOPs balance"] <= 0.2).sum()),
    min_balance=ladder["FLOPs balance"].min(),
)

# %% [markdown]
# ## Summary
#
# - Published torchvision numbers reproduce the paper's Figure 2 trend: accuracy grows roughly
#   log-linearly with compute and with size, with family-to-family spread at equal compute.
# - The FLOPs balances of the paper's Table 1 Duos, recomputed from torchvision metadata, round to
#   the paper's 0.05 / 0.14 / 0.27.
# - Pairing models of very different size gives a fine ladder of extra cost, which is what lets a
#   Duo trade 10–20% more compute for gains the following chapters measure.
