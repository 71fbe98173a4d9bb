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
# # Building the model zoo
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/00_zoo.ipynb)
#
# Every later chapter reads the logits of fine-tuned models from the *logit bank*. This chapter
# fills it for the active profile: it loads (or generates) the data, fine-tunes every model of
# the profile's zoo with the paper's LP-FT recipe (Appendix A.2), and stores each model's logits
# on the validation and test splits and, where the dataset has one, the out-of-distribution
# split. Everything is cached: a second run reads the bank in seconds.
#
# On the `demo` and `smoke` profiles the data is the offline benchmark that `duolib` generates
# (rendered characters on natural-image backgrounds) and the zoo is torchvision's ShuffleNetV2, a
# LeNet and ResNets (four on `demo`, one on `smoke`), shrunk for 32x32 images and first
# pretrained on a separate task so that, as in the paper, fine-tuning starts from pretrained
# weights (`benchmarks/results/profile-sizes.md` records the families that were tried and could
# not learn within the CPU budget). On the `paper` profile it is ImageNet, Caltech 256 and iWildCam
# with the paper's pretrained torchvision and timm models; on `colab`, Caltech 256 with six of
# them.

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

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

import duolib as dl
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
settings = dl.profiles.get(profile)
sns.set_theme(style="whitegrid", context="notebook")
print(f"profile {profile}: {settings.datasets}, {len(settings.zoo)} models")
print(f"cache: {dl.cache.root()}  (set DUOLIB_CACHE to move it)")

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "00_zoo")

# %% [markdown]
# ## The data
#
# Every dataset has a training split, a validation split (used to pick the fine-tuning trial,
# to fit temperatures and Duo weights) and an in-distribution test split. On `demo` and `smoke`,
# the generated benchmark adds an out-of-distribution (`ood`) test split drawn in fonts never
# seen in training, with lower contrast and stronger blur and noise: the analogue of iWildCam's
# unseen camera traps. Of the paper's datasets, ImageNet (with ImageNet-V2) and iWildCam have an
# `ood` split and Caltech 256 has none, so the `colab` profile has no OOD split.

# %%
# ImageNet is evaluated with its published heads: no training set needed.
splits = {
    (name, split): dl.data.load(name, split, settings)
    for name in settings.datasets
    for split in dl.data.splits(name)
    if split != "train" or name not in dl.bank.PUBLISHED_HEADS
}

# %%
pd.DataFrame(
    {
        "images": [len(ds) for ds in splits.values()],
        "classes": [len(ds.classes) for ds in splits.values()],
    },
    index=pd.MultiIndex.from_tuples(
        list(splits), names=["dataset", "split"]
    ),
)

# %%
shown = [key for key in splits if key[1] in ("train", "ood")]
fig, axes = plt.subplots(
    len(shown), 1, figsize=(10, 2.2 * len(shown)), squeeze=False
)
for ax, (name, split) in zip(axes[:, 0], shown, strict=True):
    title = f"{name}, {split} split: one image per class"
    dl.plots.sample_grid(
        splits[name, split], per_class=1, title=title, ax=ax
    )
fig.tight_layout()
figure(fig)

# %% [markdown]
# *Figure: One image of each class, with its class name, from each dataset's training split (where
# it is loaded) and out-of-distribution split (where it has one); each panel's title names the
# dataset and split.*

# %% [markdown]
# ## Fine-tuning the zoo
#
# For each model: pretraining (`demo` and `smoke` zoos only), a linear probe of the new head on
# frozen features, then full fine-tuning with AdamW, warm-up plus cosine schedule and
# RandAugment, over the profile's learning-rate and weight-decay trials; the trial with the best
# validation score is kept (accuracy; macro-F1 on iWildCam, as the paper's released code does).
# The recipe of this profile:

# %%
pd.Series(vars(settings.recipe), name=settings.name).to_frame()

# %% [markdown]
# On a GPU profile, expect filling the bank to be the long part. Before it starts, an estimate of
# the time it takes, from each model's FLOPs and the recipe's epochs:

# %% tags=["remove-input"]
dl.chapter.Note(dl.estimate.note(settings))

# %% tags=["hide-output"]
start = time.perf_counter()
zoo = dl.bank.zoo_summary(settings)
fill_seconds = time.perf_counter() - start

# %% tags=["remove-input"]
say(
    """
    Filling (or reading) the bank took {{fill_seconds:.0f}} s in this run; the table gives
    the training time each model took when it was trained (0 for cached pretrained weights).
    """,
    fill_seconds=fill_seconds,
)

# %%
table = zoo.pivot_table(
    index=["dataset", "model", "family", "gflops", "params"],
    columns="split",
    values="accuracy",
).reset_index()
costs = zoo.drop_duplicates(["dataset", "model"]).set_index(
    ["dataset", "model"]
)

# %%
keys = pd.MultiIndex.from_frame(table[["dataset", "model"]])
table["train minutes"] = (
    costs["train_seconds"].reindex(keys).to_numpy() / 60
)
table["temperature"] = costs["temperature"].reindex(keys).to_numpy()
table["dataset"] = pd.Categorical(
    table["dataset"], settings.datasets, ordered=True
)
table = table.sort_values(["dataset", "gflops"]).reset_index(drop=True)
table["MFLOPs"] = table.pop("gflops") * 1e3
table["params (k)"] = table.pop("params") / 1e3
table.round(3)

# %%
by_model = zoo.pivot_table(
    index=["dataset", "model"], columns="split", values="accuracy"
)
several = len(settings.datasets) > 1
label = {(d, m): f"{m} on {d}" if several else m for d, m in by_model.index}
numbers = {
    "n_zoo": len(settings.zoo),
    "flops_span_zoo": float(zoo["gflops"].max() / zoo["gflops"].min()),
    "acc_min": float(by_model["test"].min()),
    "acc_max": float(by_model["test"].max()),
    "model_min": label[by_model["test"].idxmin()],
    "model_max": label[by_model["test"].idxmax()],
    "train_minutes_total": float(costs["train_seconds"].sum() / 60),
}

# %%
fig, ax = plt.subplots(figsize=(8, 4.8))
title = f"{settings.name} zoo on {', '.join(settings.datasets)}"
dl.plots.size_accuracy(zoo, ax=ax, title=title)
fig.tight_layout()
figure(fig)

# %% [markdown]
# *Figure: Accuracy of every fine-tuned model of the zoo against its compute, on the in-distribution
# splits and, where the dataset has one, the out-of-distribution split.*

# %% [markdown]
# ## What we see

# %% tags=["remove-cell"]
# Datasets without an OOD split (Caltech 256) have no drop; NaN if no dataset has one.
drop = (by_model["test"] - by_model.get("ood", float("nan"))).dropna()
n_lose, n_ood = int((drop > 0).sum()), len(drop)
numbers["ood_drop"] = float(drop.mean()) if n_ood else float("nan")
numbers["ood_words"] = (
    "every model loses accuracy" if n_lose == n_ood
    else f"{n_lose} of {n_ood} {'(model, dataset) pairs' if several else 'models'}"
    " lose accuracy"
)  # fmt: skip

# %% tags=["remove-cell"]
# Does test accuracy grow with compute? Within the profile's first dataset.
from scipy import stats

first = zoo[
    (zoo["dataset"] == settings.datasets[0]) & (zoo["split"] == "test")
]
rank = stats.spearmanr(first["gflops"], first["accuracy"])
numbers |= {"rho": rank.statistic, "n_first": len(first)}
numbers["first"] = settings.datasets[0]
numbers["p"] = "< 0.001" if rank.pvalue < 0.001 else f"= {rank.pvalue:.3f}"
numbers["trend_words"] = (
    "shows no trend with compute beyond chance" if not rank.pvalue < 0.05
    else "grows with compute" if rank.statistic > 0 else "falls with compute"
)  # fmt: skip

# %% tags=["remove-input"]
say(
    r"""
    The {{n_zoo}} models span a {{flops_span_zoo:.0f}}-fold range of compute, and their
    in-distribution test accuracy ranges from {{acc_min:.3f}} ({{model_min}}) to
    {{acc_max:.3f}} ({{model_max}}).[[ On the out-of-distribution split {{ood_words}}
    (mean drop {{ood_drop:.3f}}).]][[ On {{first}}, test accuracy {{trend_words}}
    (Spearman $\rho$ = {{rho:.2f}} over {{n_first}} models, p {{p}}).]] Training the
    whole zoo took {{train_minutes_total:.1f}} minutes of compute when it was trained.
    Chapter 01 compares this zoo with torchvision's classifiers and with the paper's
    Figure 2, where accuracy grows with compute.
    """,
    numbers,
)

# %% [markdown]
# ## Scaling out: the paper's grid on a cluster
#
# Every (dataset, model) fit is independent, and the bank is safe under concurrent writers: two
# processes that need the same entry build it once (the second waits on a lock file, then reads
# it), and an interrupted fine-tune resumes from its last finished epoch. So the paper's grid,
# hundreds of GPU-hours, runs as one job per line of this list:

# %%
grid = dl.cli.tasks(settings)
print(
    f"{len(grid)} fits, e.g. "
    f"python -m duolib fit --profile {settings.name} --task 0:"
)
pd.DataFrame(grid, columns=["dataset", "model"]).head(8)

# %% [markdown]
# On Slurm, an array job runs `python -m duolib fit --profile paper --task
# $SLURM_ARRAY_TASK_ID` with one shared `DUOLIB_CACHE` (submitit's `map_array` or Ray's
# `ray.remote` can call `duolib.cli.fit(dataset, model, "paper")` the same way). To give one fit
# several GPUs, launch it with `torchrun --nproc-per-node N -m duolib fit ...`: the training loop
# then uses DistributedDataParallel. The README estimates the GPU-hours per dataset.
#
# ## Summary
#
# - The logit bank of this profile now holds every model's validation and test logits (and OOD
#   logits where the dataset has an OOD split); later chapters read them through
#   `dl.bank.logits(dataset, model, split, profile)`.
# - Each entry is keyed by a hash of everything that determines it and verified on every read,
#   so a changed recipe or a corrupted file triggers a rebuild instead of a wrong number.

# %% [markdown]
# ## Exercises
#
# The exercises read the logit bank of the profile this chapter ran on (named at its top) and the
# tables the chapter built (`settings`, `zoo`, `by_model`, `costs`), so their answers depend on
# that profile. In the book each solution is collapsed under "Show solution"; the student
# notebooks (see the Instructors page) have them removed.

# %% [markdown]
# **Exercise 0.1** *(compute; about 10 minutes).* Open the bank by hand. Load the validation
# logits and labels of this profile's most expensive model on its first dataset with
# `dl.bank.logits`: what is their shape, and what do rows and columns stand for? Recompute the
# model's validation accuracy from the argmax of the logits, and its temperature with
# `dl.fit_temperature`, and check both against the table above. Predict first: does dividing the
# logits by the temperature change any prediction?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
stored = zoo.loc[zoo["gflops"].idxmax()]  # first dataset, val split
logits, labels = dl.bank.logits(
    stored["dataset"], stored["model"], "val", profile
)
own_t = dl.fit_temperature(logits, labels)
# In float64, dividing cannot round two different logits into a tie.
moved = (logits.astype(float) / own_t).argmax(1) != logits.argmax(1)
print(f"{stored['model']}: logits {logits.shape}, labels {labels.shape}")
print(f"dividing by T changes {moved.sum()} of {len(labels)} predictions")
recomputed = [(logits.argmax(1) == labels).mean(), own_t]
stored[["accuracy", "temperature"]].to_frame("table").assign(
    recomputed=recomputed
)
### END SOLUTION

# %% [markdown]
# **Exercise 0.2** *(predict, then compute; about 15 minutes).* Predict: can temperature scaling
# raise a model's NLL on the validation split its temperature was fitted on? Its ECE? Then, for
# every model of the zoo, compute the validation NLL and ECE (`dl.evaluate`) from the raw logits
# and from the logits divided by the table's temperature, and count the models where each fell.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
raw, scaled = {}, {}
for _, row in zoo[zoo["split"] == "val"].iterrows():
    logits, labels = dl.bank.logits(row.dataset, row.model, "val", profile)
    raw[row.name] = dl.evaluate(logits, labels)
    scaled[row.name] = dl.evaluate(logits / row.temperature, labels)
fell = (pd.DataFrame(scaled) <= pd.DataFrame(raw)).sum(axis=1)
fell["n"] = len(raw)
say(
    "Dividing by $T$ lowered (or kept) the validation NLL in {{nll}} of "
    "{{n}} cases and the ECE in {{ece}}: $T$ minimises the validation NLL "
    "($T = 1$ is a candidate), not the ECE.",
    fell.to_dict(),
)
### END SOLUTION

# %% [markdown]
# **Exercise 0.3** *(interpret; about 10 minutes).* Out of distribution, does a bigger model keep
# more of its accuracy? For every model with an OOD split, compute the share of its test
# accuracy that it keeps on the OOD split, and the Spearman rank correlation of that share with
# GFLOPs.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
kept = (by_model.get("ood", float("nan")) / by_model["test"]).dropna()
kept_rank = stats.spearmanr(costs["gflops"][kept.index], kept)
kept_word = "neither more nor less (beyond chance)"
if kept_rank.pvalue < 0.05:
    kept_word = "more" if kept_rank.statistic > 0 else "less"
say(
    r"""
    {{n}} (dataset, model) pairs have an OOD split[[; bigger models keep
    {{word}} of their test accuracy there (Spearman $\rho$ of GFLOPs and
    share kept {{r.statistic:.2f}}, p = {{r.pvalue:.3f}})]].
    """,
    {"word": kept_word, "n": len(kept), "r": kept_rank._asdict()},
)
### END SOLUTION
