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
# # Duos against deep ensembles
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/07_ensembles.ipynb)
#
# This chapter re-derives the paper's **Section 5.6** (Table 1) and **Appendix E** (Table 2),
# with the setup of Appendix A.5. A deep ensemble {cite}`lakshminarayanan2017ensembles` of $m$
# independently trained copies of one architecture costs $m$ times the compute of one; its
# members' logits are averaged and then calibrated with one temperature fitted on the pooled
# validation logits ("pool-then-calibrate", {cite}`rahaman2021pool`), which makes NLL, Brier
# and ECE comparable with Duos, whose weights calibrate by construction.
#
# The paper draws ten ResNet-50 checkpoints from timm and torchvision and evaluates on
# ImageNet; ensembles of size $m$ are 32 random subsets of them. On `demo` the members are
# independently trained replicas of the base model (each pretrained and fine-tuned with its
# own seed); with fewer members there are fewer distinct subsets, and we use all of them.
#
# - **Table 1 (base-model controlled):** the base model, Duos with the base model as
#   $f_\text{large}$ (one row per sidekick, mean ± std over the members used as $f_\text{large}$),
#   and ensembles of the base model.
# - **Table 2 (FLOPs controlled):** Duos binned by total test-time compute in multiples of the
#   base model, $\text{AD}[k, k{+}1)$, against the ensemble of the same cost.

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
from duolib import bank, experiments, tables, zoo
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")
settings = dl.profiles.get(profile)
b = settings.baselines
dataset = settings.ensemble_dataset
members = b.ensemble_members
base = members[0]
base_gflops = zoo.get(base).gflops

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "07_ensembles")

# %% tags=["hide-output"]
# Trains (or loads) every member and stores its logits in the bank.
test_meta = {m: bank.meta(dataset, m, "test", settings) for m in members}
member_meta = pd.DataFrame(
    {
        "test accuracy": {m: test_meta[m]["accuracy"] for m in members},
        "training (s)": {
            m: round(bank.train_seconds(dataset, m, settings), 1)
            for m in members
        },
    }
).rename_axis("member")
num_classes = bank.meta(dataset, base, "test", settings)["num_classes"]

# %% [markdown]
# ## The members

# %% tags=["remove-cell"]
replicas = len({dl.members.parse(m).architecture for m in members}) == 1
published = pd.Series({m: zoo.get(m).imagenet_top1 for m in members})
kind = "independently trained copies of " + zoo.get(base).name
if replicas and not settings.pretrain_dataset:
    kind = f"fine-tunes of the same published {zoo.get(base).name} weights"
if not replicas:
    kind = (
        "published ResNet-50 checkpoints (the paper does not name its ten)"
    )
top1 = {"mean": None, "std": None}
if published.notna().any() and not replicas:
    member_meta["published top-1 (%)"] = published
    top1 = {"mean": published.mean(), "std": published.std()}

# %% tags=["remove-input"]
say(
    """
    {{members}} {{kind}}; ensembles of sizes {{sizes}} over (up to) {{subsets}} subsets
    each.[[ Their published ImageNet top-1 averages {{top1.mean:.2f}}% ± {{top1.std:.2f}}
    (timm's and torchvision's published figures, partly at 288 px; the paper's ten average
    79.82% ± 0.51 in its evaluation).]]
    """,
    members=len(members),
    kind=kind,
    sizes=", ".join(str(m) for m in b.ensemble_sizes),
    subsets=b.ensemble_subsets,
    top1=top1,
)

# %%
member_meta

# %% [markdown]
# ## Table 1: the same base model

# %% tags=["remove-cell"]
which = (
    "the three of the paper's Table 1: " + ", ".join(b.ensemble_sidekicks)
    if b.ensemble_sidekicks
    else "every zoo model cheaper than the base model"
)

# %% tags=["remove-input"]
say(
    """
    Rows: the temperature-scaled base model (mean ± std over the members), Duos of each
    member with each sidekick ({{which}}), and pool-then-calibrate ensembles. Metrics in
    the paper's units (percent; NLL × 100; Brier × 10⁴ averaged over classes), with each
    method's test-time GFLOPs per image and its training time.
    """,
    which=which,
)

# %%
base_label = f"{zoo.get(base).name} (temp. scaled)"
sidekicks = b.ensemble_sidekicks or dl.zoo.sidekicks(base, settings.zoo)
labels = {
    small: f"[AD] + {small} (FB {zoo.flops_balance(base, small):.2f})"
    for small in sidekicks
}

# %%
singles = [
    tables.single_row(m, "test", dataset, settings, method=base_label)
    for m in members
]
duos = [
    tables.duo_row(
        m, small, "test", dataset, settings, method=labels[small]
    )
    for small in sidekicks
    for m in members
]

# %%
ensembles = tables.ensemble_rows(settings, "test")
table1_rows = (
    singles
    + duos
    + [{**r, "method": f"[DE] {r['method']}"} for r in ensembles]
)
tables.paper_table(table1_rows, num_classes)

# %%
frame1 = pd.DataFrame(table1_rows)
short = frame1.assign(
    method=frame1["method"].str.replace(r" \(FB .*\)", "", regex=True)
)
figure(dl.plots.metric_vs_cost(short, ("accuracy", "nll", "auroc", "aurc")))

# %% [markdown]
# *Figure: Table 1 as a picture: each method's test metric against its test-time compute (log
# scale). Duos cost between one and two times the base model (their sidekicks are cheaper than
# it); ensembles 2, 3, ... times its compute.*

# %%
largest = max(b.ensemble_sizes)
means = tables.method_means(
    table1_rows, ("accuracy", "nll", "auroc", "aurc", "gflops")
)
best_duo = means.loc[list(labels.values()), "accuracy"].idxmax()
de2, delargest = "[DE] DE (m=2)", f"[DE] DE (m={largest})"
methods = {
    "single": base_label,
    "de2": de2,
    "delargest": delargest,
    "duo": best_duo,
}

# %%
t1 = {k: means.loc[method].to_dict() for k, method in methods.items()}
reaches = (
    means.loc[best_duo, "accuracy"] + 1e-12 > means.loc[de2, "accuracy"]
)
t1 |= {
    "largest": largest,
    "best_duo": best_duo,
    "cost": means.loc[best_duo, "gflops"] / base_gflops,
    "reaches": "reaches" if reaches else "does not reach",
}

# %% [markdown]
# The paper reports that Duos of a ResNet-50 with a sidekick of 5–27% of its FLOPs approach a
# five-member ensemble (79.82 → 81.87 top-1 with EfficientNet-B2 against 81.97 for $m = 5$)
# at a quarter of its compute.

# %% tags=["remove-input"]
say(
    r"""
    Here, the Duo with the highest accuracy ({{best_duo}}, {{cost:.2f}} times the base
    compute) reaches accuracy {{duo.accuracy:.4f}} and NLL {{duo.nll:.4f}}, from
    {{single.accuracy:.4f}} and {{single.nll:.4f}} for the base model; the ensemble of
    two reaches {{de2.accuracy:.4f}} / {{de2.nll:.4f}} and the ensemble of {{largest}}
    {{delargest.accuracy:.4f}} / {{delargest.nll:.4f}}. Correctness AUROC: base
    {{single.auroc:.4f}}, Duo {{duo.auroc:.4f}}, ensembles {{de2.auroc:.4f}} ($m = 2$)
    and {{delargest.auroc:.4f}} ($m =$ {{largest}}). On this profile the best Duo
    **{{reaches}}** the accuracy of the two-member ensemble.
    """,
    t1,
)

# %% tags=["remove-cell"]
predicted = pd.DataFrame(
    {
        m: bank.logits(dataset, m, "test", settings)[0].argmax(1)
        for m in (*members, *sidekicks)
    }
)
best_small = {label: small for small, label in labels.items()}[best_duo]

# %% tags=["remove-cell"]
apart = [
    (predicted[a] != predicted[c]).mean()
    for i, a in enumerate(members)
    for c in members[i + 1 :]
]
duo_apart = predicted[list(members)].ne(predicted[best_small], axis=0)
disagree = {
    "members": sum(apart) / len(apart),
    "duo": duo_apart.mean().mean(),
}

# %% tags=["remove-cell"]
origin = (
    "One possible reason is the replicas: each replica here is pretrained and "
    "fine-tuned from its own random seed, so the ensemble is one of models trained "
    "from scratch (the regime in which the paper's introduction expects ensembles "
    "to do best), while the paper ensembles published ResNet-50 checkpoints. "
    if settings.pretrain_dataset
    else ""
)

# %% tags=["remove-input"]
why = r"""
    {{origin}}An average can only change a prediction where its members disagree: two
    ensemble members predict different classes on {{disagree.members:.1%}} of test
    examples on average, the best Duo's two models on {{disagree.duo:.1%}} (averaged
    over the members, each paired with that sidekick); how much of this disagreement
    turns into gains is not measured here.
    """
say(why if not reaches else "", origin=origin, disagree=disagree)

# %% [markdown]
# ## Table 2: the same compute
#
# Duos are free to use a larger $f_\text{large}$ than the ensemble's base model; grouping all
# Duos of the profile by their total compute in multiples of the base model compares them with
# the ensemble that costs the same. "base AD[1,2)" are the Duos of Table 1 (base model as
# $f_\text{large}$).

# %%
pairs = set(experiments.duo_pairs(settings))
pairs |= {
    (m, small)
    for m in members
    for small in dl.zoo.sidekicks(m, settings.zoo)
}

# %%
table2_rows = list(singles)
for large, small in sorted(pairs):
    row = tables.duo_row(large, small, "test", dataset, settings)
    k = tables.compute_bin(row["gflops"], base_gflops)
    prefix = "base " if large in members else ""
    table2_rows.append(
        {**row, "method": f"{prefix}AD[{k},{k + 1})", "bin": k}
    )
table2_rows += [
    {**r, "method": f"DE (m={r['size']})", "bin": r["size"]}
    for r in ensembles
]

# %%
table2_rows.sort(
    key=lambda r: (
        r.get("bin", 0),
        r["method"].startswith("DE"),
        r["method"],
    )
)
tables.paper_table(
    table2_rows, num_classes, metrics=tables.TABLE_METRICS[:-1]
)

# %%
matched = tables.matched_compute(table2_rows, b.ensemble_sizes)
matched.round(4)

# %% [markdown]
# ## What we see
#
# The paper's Table 2 shows the ensembles saturating as $m$ grows while Duos keep improving
# with a stronger $f_\text{large}$ (AD[4,5) at 84.8% top-1 against 81.95% for the five-member
# ensemble of equal compute).

# %% tags=["remove-input"]
duo_more_accurate = (
    matched["Duo accuracy"] > matched["DE accuracy"] if len(matched) else []
)
say(
    """
    On this profile there are {{bins}} compute bins where both a Duo and an ensemble of
    that cost exist, and in {{wins}} of them the Duos are the more accurate.
    """,
    bins=len(matched),
    wins=int(sum(duo_more_accurate)),
)

# %% tags=["remove-input"]
say(
    r"""
    How much this reproduces depends on the zoo, which sets the strongest
    $f_\text{large}$ a budget can buy: on this profile the largest model costs
    {{ratio:.1f}} times the base model's compute, the largest ensemble {{largest}} times.
    """,
    ratio=max(zoo.get(m).gflops for m in settings.zoo) / base_gflops,
    largest=largest,
)

# %% tags=["remove-cell"]
trained = (
    "pretraining and fine-tuning" if settings.pretrain_dataset
    else "fine-tuning from published weights"
)  # fmt: skip
costs = (
    f"every ensemble member is its own training run ({trained}), so an "
    "ensemble of $m$ costs the training time of its $m$ members, while a Duo "
    "adds one small model's training; the table's \"train (min)\" column shows both"
    if dataset not in bank.PUBLISHED_HEADS
    else f"on {dataset} every member and sidekick is a published checkpoint "
    "evaluated with its published head, so nothing is trained here and the "
    "table's \"train (min)\" column does not show what the checkpoints cost"
)  # fmt: skip

# %% tags=["remove-input"]
say("Costs: {{costs}}.", costs=costs)

# %% [markdown]
# ## Summary

# %% tags=["remove-cell"]
gain = {m: t1["duo"][m] - t1["single"][m] for m in ("accuracy", "nll")}
gain_de2 = {m: t1["de2"][m] - t1["single"][m] for m in ("accuracy", "nll")}
helps = {"accuracy": gain_de2["accuracy"] > 0, "nll": gain_de2["nll"] < 0}
share = {m: gain[m] / gain_de2[m] if helps[m] else None for m in gain}
part = (
    "none" if not helps["accuracy"] or not share["accuracy"] > 0
    else "part" if share["accuracy"] < 1
    else "all"
)  # fmt: skip
same = (
    f"Duos are the more accurate in {int(sum(duo_more_accurate))} of "
    f"{len(matched)} compute bins shared with an ensemble"
    if len(matched)
    else "this profile has no compute bin with both a Duo and an ensemble"
)

# %% tags=["remove-cell"]
shares = """
    - At the same base model, the most accurate Duo buys {{part}} of the
      two-member ensemble's accuracy gain over the base model ({{gain:+.4f}}):
      {{share.accuracy:.0%}} of it[[ (of the NLL gain: {{share.nll:.0%}})]], for
      {{cost:.0%}} of the ensemble's test-time compute.
    """
no_gain = """
    - At the same base model, the two-member ensemble does not improve on the base
      model's accuracy ({{gain:+.4f}}), so there is no ensemble gain for a Duo to
      share; the most accurate Duo changes accuracy by {{duo_gain:+.4f}}, for
      {{cost:.0%}} of the ensemble's test-time compute.
    """

# %% tags=["remove-input"]
say(
    shares if helps["accuracy"] else no_gain,
    part=part,
    share=share,
    gain=gain_de2["accuracy"],
    duo_gain=gain["accuracy"],
    cost=t1["duo"]["gflops"] / t1["de2"]["gflops"],
)

# %% tags=["remove-input"]
say(
    r"""
    - At the same compute, where Duos may use a stronger $f_\text{large}$: {{same}}.
    """,
    same=same,
)

# %% [markdown]
# ## Exercises
#
# The exercises use the logit bank of the profile this chapter ran on and the variables the
# chapter built: `dataset`, `members` and `base` (the ensemble's members and its first one),
# set at the top of the chapter, then `ensembles`, `table2_rows`, ... In the book each solution
# is collapsed under "Show solution"; the student notebooks (see the Instructors page) have them
# removed.

# %% [markdown]
# **Exercise 7.1** *(predict, then compute; about 15 minutes).* A Duo of equals. Take the two
# members of the first two-member ensemble in `ensembles` and fit a Duo with the second as the
# first's "sidekick" (a FLOPs balance of 1). The ensemble's logits are
# $(z_1 + z_2) / (2T)$, with $T$ its temperature (`ensembles` rows hold it): predict the Duo's
# two weights from $T$ before fitting. Then fit, and compare the Duo's test NLL and accuracy with
# the ensemble's. Why can the Duo's *validation* NLL never be worse than the ensemble's?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
two = next(row for row in ensembles if row["size"] == 2)
pair = two["members"].split("+")
equal_duo = experiments.fitted_duo(*pair, dataset, settings)
duo_of_two = tables.duo_row(*pair, "test", dataset, settings)
say(r"""
    The Duo of {{a}} and {{b}} gives them weights {{w1:.3f}} and
    {{w2:.3f}}; the ensemble of the same two gives each $1/(2T)$ =
    {{half:.3f}}. Test NLL: Duo {{duo.nll:.4f}}, ensemble {{de.nll:.4f}};
    accuracy {{duo.accuracy:.4f}} and {{de.accuracy:.4f}}. On validation the
    Duo cannot do worse: the ensemble's weights are among its choices.""",
    a=pair[0], b=pair[1], w1=equal_duo.w_large, w2=equal_duo.w_small,
    half=1 / (2 * two["temperature"]), duo=duo_of_two, de=two)  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 7.2** *(compute; about 10 minutes).* From `table2_rows` (every Duo of the profile
# with its test accuracy and GFLOPs, and every ensemble), find the Duos at least as accurate as
# the average two-member ensemble, and the cheapest of them at test time. How does its compute
# compare with the ensemble's?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
all_rows = pd.DataFrame(table2_rows).eval("cost = gflops / @base_gflops")
de2 = all_rows.query("method == 'DE (m=2)'").mean(numeric_only=True)
every_duo = all_rows[all_rows["method"].str.contains("AD[", regex=False)]
as_good = every_duo[every_duo["accuracy"] >= de2["accuracy"]]
cheapest = as_good.nsmallest(1, "gflops").to_dict("records")
cheapest = (cheapest or [dict.fromkeys(as_good)])[0]  # None: no such Duo
than = "less" if (cheapest["cost"] or 0) < de2["cost"] else "more"
say(r"""
    {{k}} of {{n}} Duos are at least as accurate as the average two-member
    ensemble ({{de.accuracy:.4f}}, {{de.cost:.2f}} times the base model's
    compute).[[ The cheapest, {{c.f_large}} + {{c.f_small}}, costs
    {{c.cost:.2f}} times: {{than}} than the ensemble.]]""", k=len(as_good),
    n=len(every_duo), de=dict(de2), c=cheapest, than=than)  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 7.3** *(interpret; about 15 minutes).* Room to improve. A combination of two models
# can hardly be right where both are wrong. With `predicted` (each model's test predictions,
# one column per model) and `best_small` (the sidekick of the most accurate Duo of Table 1),
# compute how often the first member is right, how often the sidekick is, and how often at
# least one of two models is right: two members, or the first member and the sidekick. Which
# pair leaves a combination more room to improve on the first member? Is that what the two
# partners' own accuracies suggest, and what does it say about their errors?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
test_truth = bank.logits(dataset, base, "test", settings)[1]
right = predicted.eq(test_truth, axis=0)  # is each model right?
solo, paired = right.mean(), right.apply(lambda r: r | right[base]).mean()
rates = dict(alone=solo[base], sidekick=solo[best_small])
rates |= dict(members=paired[members[1]], duo=paired[best_small])
gap = rates["duo"] - rates["members"]
rates["than"] = "more room than" if gap > 0 else "less room than"
rates["than"] = "as much room as" if gap == 0 else rates["than"]
say(r"""
    Right on the test split: the first member {{alone:.1%}}, the sidekick
    {{sidekick:.1%}}; either of two members {{members:.1%}}, either of the
    member and the sidekick {{duo:.1%}}. The sidekick leaves a combination
    {{than}} a second member does.""", rates)  # fmt: skip
### END SOLUTION
