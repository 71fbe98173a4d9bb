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
# # Soup with a (side)kick: model soups as $f_\text{large}$
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/06_soups.ipynb)
#
# This chapter re-derives the paper's **Section 5.5** (Figure 7, setup in Appendix A.4). A model
# soup {cite}`wortsman2022soups` averages the *weights* of several fine-tunes of one pretrained
# model, so it costs one model at test time. The paper fine-tunes sixteen ConvNeXt-Base on
# Caltech 256 from the same pretrained weights with different hyperparameters, mixes a greedy
# soup, and uses it as $f_\text{large}$ of Duos: the sidekick should improve on the soup the way
# it improves on a single model.
#
# Here every ingredient is one trial of the same LP-FT search the zoo uses (the first trials
# *are* the zoo's), all from one linear-probed start; the greedy soup adds ingredients in order
# of validation accuracy and keeps one only if validation accuracy does not drop. We also show
# the uniform soup (all ingredients averaged), which Wortsman et al. found can be worse than its
# best ingredient.

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
from duolib import bank, tables
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")
settings = dl.profiles.get(profile)
dataset = settings.baseline_dataset
base = settings.baselines.soup_model
greedy, uniform = f"{base}:greedy_soup", f"{base}:uniform_soup"

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "06_soups")

# %% tags=["hide-output"]
# Fine-tunes the ingredients (cached), mixes both soups and stores their
# logits in the bank.
soup_meta = bank.meta(dataset, greedy, "test", settings)
uniform_meta = bank.meta(dataset, uniform, "test", settings)

# %% [markdown]
# ## The ingredients

# %% tags=["remove-input"]
say(
    """
    Each row is one fine-tune of the same linear-probed {{base}} with its learning rate
    and weight decay, its validation accuracy, its fine-tuning time, and whether the
    greedy soup kept it.
    """,
    base=base,
)

# %%
ingredients = tables.soup_ingredients(soup_meta)
ingredients

# %% [markdown]
# ## Single model, soups and soup-Duos

# %% tags=["remove-input"]
say(
    """
    The single model is the zoo's {{base}} (the best ingredient of the zoo's own
    search), temperature-scaled; both soups are temperature-scaled the same way.
    """,
    base=base,
)

# %% [markdown]
# Duos pair either the single model or the greedy soup with every cheaper model of the zoo.

# %%
singles = {
    "single model": base,
    "uniform soup": uniform,
    "greedy soup": greedy,
}
duos = {"Duo: single + sidekick": base, "Duo: soup + sidekick": greedy}

# %%
rows = []
for split in dl.data.evaluation_splits(dataset):
    rows += [
        tables.single_row(m, split, dataset, settings, method=k)
        for k, m in singles.items()
    ]
    rows += [
        tables.duo_row(large, small, split, dataset, settings, method=label)
        for label, large in duos.items()
        for small in dl.zoo.sidekicks(base, settings.zoo)
    ]

# %%
frame = pd.DataFrame(rows)
test = frame[frame["split"] == "test"]
num_classes = bank.meta(dataset, base, "test", settings)["num_classes"]
tables.paper_table(test, num_classes)

# %%
metrics = ("accuracy", "auroc", "sac_98")
figure(
    dl.plots.metric_vs_cost(
        test,
        metrics,
        x="flops_balance",
        lines=tuple(singles),
        log_x=False,
        x_label="FLOPs balance of the Duo",
    )
)

# %% [markdown]
# *Figure: Accuracy, correctness AUROC and SAC@98 on the test split against the FLOPs balance of the
# Duo. Dashed lines: the single model and the two soups (one model's cost). Lines with markers: Duos
# of the single model and of the greedy soup with each sidekick. Compare with the paper's Figure 7.*

# %% [markdown]
# ## What we see

# %% tags=["remove-cell"]
means = tables.method_means(test, metrics)
soups = {
    "single": "single model",
    "greedy": "greedy soup",
    "uniform": "uniform soup",
}
values = {k: means.loc[method].to_dict() for k, method in soups.items()}

# %% tags=["remove-input"]
say(
    r"""
    The greedy soup kept {{kept}} of {{count}} ingredients. Test accuracy: single model
    {{single.accuracy:.4f}}, greedy soup {{greedy.accuracy:.4f}}, uniform soup
    {{uniform.accuracy:.4f}}; correctness AUROC {{single.auroc:.4f}} /
    {{greedy.auroc:.4f}} / {{uniform.auroc:.4f}}; SAC@98 {{single.sac_98:.4f}} /
    {{greedy.sac_98:.4f}} / {{uniform.sac_98:.4f}}.
    """,
    values,
    kept=int(ingredients["in greedy soup"].sum()),
    count=len(ingredients),
)

# %% tags=["remove-cell"]
soup_duo = "Duo: soup + sidekick"
better = {
    m: tables.fraction_better(test, soup_duo, "greedy soup", m)
    for m in metrics
}

# %% tags=["remove-input"]
say(
    r"""
    Adding a sidekick to the greedy soup improves on the soup alone for
    {{better.accuracy:.0%}} of sidekicks in accuracy (best {{best.accuracy:.4f}}),
    {{better.auroc:.0%}} in AUROC (best {{best.auroc:.4f}}) and {{better.sac_98:.0%}} in
    SAC@98 (best {{best.sac_98:.4f}}). The paper's claim is that Duos compound with
    soups: the soup beats the single model and the soup-Duo beats the soup. Here the
    greedy soup beats the single model on {{wins}} of these 3 metrics.
    """,
    better=better,
    best=test[test["method"] == soup_duo][list(metrics)].max().to_dict(),
    wins=tables.count_wins(test, "greedy soup", "single model", metrics),
)

# %% [markdown]
# A greedy soup that keeps a single ingredient *is* that ingredient (the rule refuses every
# average that lowers validation accuracy); the uniform soup shows what averaging everything
# would cost or gain.

# %% tags=["remove-cell"]
soup_duo_rows = test[test["method"] == soup_duo]
balance = {
    "low": soup_duo_rows["flops_balance"].min(),
    "high": soup_duo_rows["flops_balance"].max(),
}

# %% tags=["remove-input"]
say(
    r"""
    The cost column of the table is the point of the comparison: the soup's training
    time includes every ingredient's fine-tuning ({{tuning:.1f}} of its {{minutes:.1f}}
    minutes), while at test time it costs one model; the soup-Duo adds the sidekick's
    compute, here a FLOPs balance of {{low:.1%}} to {{high:.1%}}.
    """,
    balance,
    tuning=ingredients["fine-tuning (s)"].sum() / 60,
    minutes=soup_meta["train_seconds"] / 60,
)

# %% [markdown]
# ## Summary

# %% tags=["remove-cell"]
val = {
    k: bank.meta(dataset, m, "val", settings)["accuracy"]
    for k, m in (("single", base), ("greedy", greedy))
}
over = {
    "soup": tables.count_wins(test, soup_duo, "greedy soup", metrics),
    "duo": tables.count_wins(
        test, soup_duo, "Duo: single + sidekick", metrics
    ),
    "single": tables.count_wins(
        test, "greedy soup", "single model", metrics
    ),
}

# %% tags=["remove-cell"]
both, n = over["single"] + over["soup"], len(metrics)
words = {
    "val": "is at least as good as" if val["greedy"] >= val["single"]
    else "is worse than",
    "claim": "holds" if both == 2 * n
    else "does not hold" if both == 0
    else "holds only in part",
}  # fmt: skip

# %% tags=["remove-input"]
say(
    r"""
    - On validation accuracy, which the greedy rule never lets drop, the greedy soup
      {{words.val}} the single model ({{val.greedy:.4f}} against {{val.single:.4f}});
      on test it beats the single model on {{over.single}} of {{n}} metrics (accuracy,
      AUROC, SAC@98), at one model's inference cost.
    """,
    val=val,
    over=over,
    words=words,
    n=n,
)

# %% tags=["remove-input"]
say(
    r"""
    - A Duo is a different axis (a second, small model). The soup-Duos' mean beats the
      soup alone on {{over.soup}} of {{n}} metrics (and the single model's Duos on
      {{over.duo}} of {{n}}). The paper's Figure 7 claim, that the soup beats the single
      model and the soup-Duo beats the soup on all three metrics, therefore
      **{{words.claim}}** on this profile.
    """,
    over=over,
    words=words,
    n=n,
)

# %% [markdown]
# ## Exercises
#
# The exercises use the logit bank of the profile this chapter ran on and the variables the
# chapter built: `dataset`, `base` (the single model) and `greedy` (its greedy soup's bank
# name), set at the top of the chapter, then `duos`, `test`, ... In the book each solution is
# collapsed under "Show solution"; the student notebooks (see the Instructors page) have them
# removed.

# %% [markdown]
# **Exercise 6.1** *(predict, then compute; about 10 minutes).* A Duo's sidekick gets the
# weight $w_\text{small}$ on its logits; the sidekick's logits are the same whether its
# $f_\text{large}$ is the single model or the greedy soup, so the two weights compare directly.
# Predict: next to the soup, does a sidekick get more or less weight than next to the single
# model? Fit both Duos for every sidekick of `base` (`dl.experiments.fitted_duo`), plot both
# weights per sidekick and count. Why would a better $f_\text{large}$ change the weight?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
sidekick_weight = pd.DataFrame(columns=list(duos), dtype=float)
for small in dl.zoo.sidekicks(base, settings.zoo):
    for label, large in duos.items():
        fitted = dl.experiments.fitted_duo(large, small, dataset, settings)
        sidekick_weight.loc[small, label] = fitted.w_small
axes = sidekick_weight.plot.barh(xlabel="weight of the sidekick")
figure(axes.figure)
next_to_single, next_to_soup = sidekick_weight.T.to_numpy()
say("""
    Next to the greedy soup, {{less}} of {{n}} sidekicks get a smaller
    weight than next to the single model, {{more}} a larger one.""",
    n=len(sidekick_weight), less=int((next_to_soup < next_to_single).sum()),
    more=int((next_to_soup > next_to_single).sum()))  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 6.2** *(interpret; about 15 minutes).* Is the greedy soup better than the single
# model beyond bootstrap noise? Score both (temperature-scaled) on the same resampled test
# examples with `dl.claims.paired_bootstrap` and read the 95% intervals of the differences in
# accuracy, correctness AUROC and SAC@98. What would you conclude from the point estimates alone?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
soup_stats = {}  # per-example statistics of each temperature-scaled model
for model in (greedy, base):
    t = dl.experiments.fitted_temperature(model, dataset, settings)
    logits_test, truth = bank.logits(dataset, model, "test", settings)
    soup_stats[model] = dl.metrics.sample_statistics(logits_test / t, truth)
soup_gain = dl.claims.paired_bootstrap(*soup_stats.values(), samples=200)
side = soup_gain["ci_low"].gt(0).astype(int) - soup_gain["ci_high"].lt(0)
soup_gain["is"] = side.map({1: "better", 0: "within noise", -1: "worse"})
say(r"""
    Greedy soup minus single model: accuracy {{accuracy.difference:+.4f}}
    ({{accuracy.is}}),[[ AUROC {{auroc.difference:+.4f}} ({{auroc.is}}),]]
    SAC@98 {{sac_98.difference:+.4f}} ({{sac_98.is}}).""",
    soup_gain.set_index("metric").T.to_dict())  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 6.3** *(interpret; about 10 minutes).* Soup or sidekick? The soup buys accuracy
# with training time (every ingredient is a fine-tuning run) at no test-time cost; a Duo of the
# single model buys it with a sidekick's training and test-time compute. From `test`, find how
# many of the single model's Duos are at least as accurate as the greedy soup, and the cheapest
# of them at test time. Which would you deploy on a phone, and which with a tight training
# budget?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
numbers = test.set_index("method").select_dtypes("number")
soup = numbers.loc["greedy soup"] - numbers.loc["single model"]
single_duos = test[test["method"] == "Duo: single + sidekick"]
soup_accuracy = numbers.loc["greedy soup", "accuracy"]
reach = single_duos[single_duos["accuracy"] >= soup_accuracy]
cheapest = reach.nsmallest(1, "gflops").to_dict("records")
cheapest = (cheapest or [dict.fromkeys(reach)])[0]  # None: no such Duo
say(r"""
    The greedy soup changes accuracy by {{soup.accuracy:+.4f}} for {{took}}
    more training, at no test-time cost. {{k}} of {{n}} Duos of the single
    model are at least as accurate[[; the cheapest adds {{c.f_small}}]].""",
    k=len(reach), n=len(single_duos), c=cheapest, soup=dict(soup),
    took=dl.chapter.duration(soup["train_seconds"]))  # fmt: skip
### END SOLUTION
