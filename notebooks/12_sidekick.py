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
# # Which sidekick?
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/12_sidekick.ipynb)
#
# *Beyond the paper.* The paper chooses a sidekick by its FLOPs balance alone and shows the
# gains as a cloud over the balance. A practitioner with a budget asks the next question:
# given my $f_\text{large}$ and the compute I can add, *which* candidate should I pair with it?
# Gontijo-Lopes et al. (2022) find that models trained differently make less correlated
# errors, that this predicts ensemble gains, and that much weaker models can still improve a
# strong one: the Duo situation. This chapter scores each candidate on the validation split
# only, asks which score predicts the Duo's *test* gains, and tests a recommender built on it.
#
# The scores, for $f_\text{large}$ and a candidate $f_\text{small}$ on validation examples:
#
# - **error inconsistency**: the fraction of examples where exactly one of the two is right;
# - **disagreement**: the fraction where their predicted classes differ;
# - **conversion rate**: of the inconsistent examples, the fraction the fitted Duo gets right;
# - **sidekick accuracy**, and the **FLOPs balance** (the paper's choice: the largest
#   sidekick that fits the budget);
# - **validation-NLL gain**: the NLL of the temperature-scaled $f_\text{large}$ minus that of
#   the fitted Duo, the objective the Duo's two weights minimise.

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
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display
from scipy import stats

import duolib as dl
from duolib import sidekick
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "12_sidekick")

# %% [markdown]
# ## The candidate pool
#
# Each profile names its candidate sidekicks. Beside the zoo's models (pretrained, then
# fine-tuned with LP-FT), the pool holds models that differ from them only in how they were
# trained, at exactly the same FLOPs: the same architecture fine-tuned from **another seed**
# (`name@1`), and trained **from scratch** on the task without pretraining (`name:scratch`);
# and models of **another family** at about the same FLOPs. Every Duo of each $f_\text{large}$
# with each cheaper candidate is fitted on validation and measured on the test split; each
# test gain (Duo minus $f_\text{large}$, positive is better) has a 95% paired-bootstrap
# interval.

# %% tags=["hide-output"]
settings = dl.profiles.get(profile)
pool = sidekick.pool(profile)
dataset = sidekick.dataset_for(profile)

# %%
statistics = ["sidekick_accuracy", "error_inconsistency", "nll_gain"]
shown = ["f_large", "f_small", "variant", "family", "flops_balance"]
pool[shown + statistics + ["gain_aurc"]].round(4)

# %% [markdown]
# ## Error inconsistency, balance and accuracy
#
# How often does each candidate get right what $f_\text{large}$ gets wrong, or the reverse?

# %%
figure(dl.plots.pair_statistic(pool, "error_inconsistency"))

# %% [markdown]
# *Figure: error inconsistency with $f_\text{large}$ on validation against FLOPs balance, one
# point per candidate; colour: how it was trained; marker: its family.*

# %%
by_accuracy = dict(x="sidekick_accuracy")
figure(dl.plots.pair_statistic(pool, "error_inconsistency", **by_accuracy))

# %% [markdown]
# *Figure: the same inconsistency against the sidekick's own validation accuracy.*

# %% tags=["remove-cell"]
variants = {
    "pretrained, fine-tuned": "tuned",
    "another seed": "seed",
    "from scratch": "scratch",
}
by_variant = (
    pool.groupby("variant")[["error_inconsistency", "sidekick_accuracy"]]
    .median()
    .reindex(list(variants))
)

# %% tags=["remove-cell"]
rho, rho_p = stats.spearmanr(
    pool["sidekick_accuracy"], pool["error_inconsistency"]
)
inconsistency = {"rho": rho, "p": rho_p, "duos": len(pool)}
inconsistency |= {
    variants[v]: r.to_dict() for v, r in by_variant.iterrows()
}

# %% tags=["remove-cell"]
inconsistency["relation"] = (
    "shows no significant relation to the sidekick's accuracy"
    if not rho_p < 0.05
    else "falls as the sidekick's accuracy rises: part of what looks like "
    "diversity is the sidekick being wrong more often, which a Duo cannot use"
    if rho < 0
    else "rises with the sidekick's accuracy"
)

# %% tags=["remove-input"]
say(
    r"""
    Over the {{duos}} Duos, the median error inconsistency is
    [[{{tuned.error_inconsistency:.1%}} for pretrained, fine-tuned sidekicks]][[,
    {{seed.error_inconsistency:.1%}} for another seed]][[ and
    {{scratch.error_inconsistency:.1%}} for sidekicks trained from scratch (median
    accuracy {{scratch.sidekick_accuracy:.1%}}, against {{tuned.sidekick_accuracy:.1%}})]].
    Inconsistency {{relation}}[[ (Spearman $\rho$ = {{rho:.2f}}, p = {{p:.2g}})]].
    """,
    inconsistency,
)

# %% [markdown]
# ## Which validation score predicts the test gains?
#
# For each score, Spearman's rank correlation with each test gain over the Duos, with a 95%
# interval from resampling the Duos. A useful score ranks the candidates as their test gains
# do ($\rho$ near 1).

# %%
correlations = sidekick.correlations(pool)
figure(dl.plots.score_correlations(correlations))

# %% [markdown]
# *Figure: rank correlation of each validation score with the Duo's test gains in AURC,
# correctness AUROC and accuracy; bars are 95% intervals over resampled Duos.*

# %% tags=["remove-cell"]
aurc_rho = correlations[correlations["target"] == "aurc"].set_index("score")
top = aurc_rho["rho"].idxmax() if aurc_rho["rho"].notna().any() else None
missing = {"rho": np.nan, "ci_low": np.nan, "ci_high": np.nan}
ranked = {
    "top": top,
    "best": aurc_rho.loc[top].to_dict() if top else missing,
}
ranked |= {"balance": aurc_rho.loc["flops_balance"].to_dict()}
ranked |= {"inconsistency": aurc_rho.loc["error_inconsistency"].to_dict()}
ranked["top_words"] = sidekick.SCORES.get(top, "no score")

# %% tags=["remove-input"]
say(
    r"""
    Over all Duos, the {{top_words}} ranks the candidates most like their test AURC gains
    [[($\rho$ = {{best.rho:.2f}}, 95% interval {{best.ci_low:.2f}} to
    {{best.ci_high:.2f}})]]. [[The FLOPs balance reaches $\rho$ = {{balance.rho:.2f}}
    ({{balance.ci_low:.2f}} to {{balance.ci_high:.2f}}), ]][[error inconsistency
    $\rho$ = {{inconsistency.rho:.2f}} ({{inconsistency.ci_low:.2f}} to
    {{inconsistency.ci_high:.2f}}).]]
    """,
    ranked,
)

# %% [markdown]
# ## Choosing the score on held-out candidates
#
# Picking the best of six scores on the same Duos that judge it flatters the winner. So the
# candidates are split at random into two halves, 200 times: the score that correlates best
# with the test AURC gain on the first half's Duos is chosen, and its correlation is measured
# on the second half's.

# %%
choice = sidekick.held_out_choice(pool, target="aurc")
choice.round(3)

# %% tags=["remove-cell"]
score = choice["score"].iloc[0]
chosen = choice.iloc[0].to_dict() | {"words": sidekick.SCORES[score]}
chosen["fallback"] = (
    ""
    if np.isfinite(chosen["chosen"])
    else " (too few candidates to split: chosen by its correlation over all Duos)"
)

# %% tags=["remove-input"]
say(
    r"""
    The {{words}} is the score chosen[[ in {{chosen:.0%}} of the splits, with a median
    correlation of {{held_out_rho:.2f}} on the held-out half]]{{fallback}}. The recommender
    below ranks candidates by it.
    """,
    chosen,
)

# %% [markdown]
# ## The recommender at each budget
#
# A budget is a FLOPs balance: the sidekick may cost at most that fraction of
# $f_\text{large}$. Within each budget, the recommender picks the candidate with the highest
# chosen score on validation. We compare its Duo on the test split with the **best**
# candidate's (the lowest test AURC, known only in hindsight), the **median** candidate's, and
# the paper's rule, the **largest** candidate that fits.

# %% tags=["hide-output"]
picks = sidekick.at_budgets(pool, score, profile=profile)
largest = sidekick.at_budgets(pool, "flops_balance", profile=profile)

# %%
figure(dl.plots.budget_picks(picks, "aurc"))

# %% [markdown]
# *Figure: test AURC (lower is better) of the Duo with the recommended, the best and the
# median candidate at each budget, with 95% bootstrap intervals.*

# %%
columns = ["f_small", "aurc", "aurc_low", "aurc_high", "accuracy"]
columns += ["accuracy_low", "accuracy_high"]
rows = ["f_large", "budget", "which"]
picks.set_index(rows)[columns].round(4)

# %% tags=["remove-cell"]
recommended = picks[picks["which"] == "recommended"].reset_index(drop=True)
best = picks[picks["which"] == "best"].reset_index(drop=True)
median = picks[picks["which"] == "median"].reset_index(drop=True)
rule = largest[largest["which"] == "recommended"].reset_index(drop=True)
within_best = (best["recommended_minus_aurc_low"] <= 0) & (
    best["recommended_minus_aurc_high"] >= 0
)

# %% tags=["remove-cell"]
budget_numbers = {
    "budgets": len(recommended),
    "is_best": int((recommended["f_small"] == best["f_small"]).sum()),
    "within_best": int(within_best.sum()),
    "beats_median": int((median["recommended_minus_aurc_high"] < 0).sum()),
    "loses_median": int((median["recommended_minus_aurc_low"] > 0).sum()),
    "beats_rule": int((recommended["aurc"] < rule["aurc"]).sum()),
    "ties_rule": int((recommended["f_small"] == rule["f_small"]).sum()),
    "rule_gap": float((rule["aurc"] - recommended["aurc"]).max()),
}

# %% tags=["remove-input"]
say(
    r"""
    Over {{budgets}} (f_large, budget) cases, the recommended sidekick is the best candidate
    in {{is_best}}, and within bootstrap noise of the best's test AURC in {{within_best}}. Its
    Duo has a lower AURC than the median candidate's beyond noise in {{beats_median}} cases
    and a higher one in {{loses_median}}. Against the paper's rule (the largest candidate
    within the budget) it picks the same sidekick in {{ties_rule}} cases and a lower test
    AURC in {{beats_rule}} (by at most {{rule_gap:.4f}}; one point estimate per case, no
    interval).
    """,
    budget_numbers,
)

# %% [markdown]
# ## Asking for a recommendation
#
# `dl.recommend_sidekick` does this for one $f_\text{large}$ and a budget in GFLOPs, from the
# validation logits in the bank (training any candidate it lacks), and says why:

# %%
large = settings.large_models[0]
budget = 0.15 * dl.zoo.get(large).gflops
advice = dl.recommend_sidekick(
    large, budget_gflops=budget, profile=profile, score=score
)
print(advice.why)
advice.table[["sidekick", "gflops", score, "nll_gain", "w_small"]].round(4)

# %% [markdown]
# ## Summary

# %% tags=["remove-cell"]
cases = budget_numbers["budgets"]
verdict = (
    "picks well: it beats the median candidate beyond noise more often than it "
    "loses, and stays within noise of the best in most cases"
    if budget_numbers["beats_median"] > budget_numbers["loses_median"]
    and budget_numbers["within_best"] > cases / 2
    else "does not reliably beat the median candidate here"
)

# %% tags=["remove-cell"]
how = "chosen on held-out candidates"
if not np.isfinite(chosen["chosen"]):
    how = "with too few candidates to hold half out, chosen on all of them"
summary_values = budget_numbers | {
    "verdict": verdict,
    "words": chosen["words"],
    "how": how,
}
summary_values |= {
    "top_words": ranked["top_words"],
    "relation": inconsistency["relation"],
}

# %% tags=["remove-input"]
say(
    r"""
    - Error inconsistency with $f_\text{large}$ {{relation}}.
    - Of the validation scores, the {{top_words}} ranks candidates most like their test AURC
      gains; {{how}}, the {{words}} is the recommender's score.
    - Ranking by it, the recommender {{verdict}} ({{beats_median}} of {{budgets}} cases
      better than the median beyond noise, {{loses_median}} worse; within noise of the best
      in {{within_best}}).
    """,
    summary_values,
)

# %% [markdown]
# ## Exercises
#
# The exercises use the candidate pool of the profile this chapter ran on. In the book each
# solution is collapsed under "Show solution"; the student notebooks (see the page *For
# instructors*) have them removed.

# %% [markdown]
# **Exercise 12.1** *(predict, then compute; about 15 minutes).* Break the recommender: add a
# candidate whose validation logits are pure noise, as cheap as the cheapest candidate within
# `budget`, to the candidates of `large`. Predict which of the six scores in `sidekick.SCORES`
# would choose it. Then rank the candidates with `sidekick.rank` and check; explain why the
# Duo's two weights protect the validation-NLL gain.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
large_val, val_labels = dl.bank.logits(dataset, large, "val", profile)
names = list(advice.table["sidekick"])
real = {n: dl.bank.logits(dataset, n, "val", profile)[0] for n in names}
costs = {n: dl.zoo.get(n).gflops for n in names}
real["noise"] = 3 * np.random.default_rng(0).normal(size=large_val.shape)
costs["noise"] = min(costs.values())
kept = dict(large_gflops=dl.zoo.get(large).gflops)
noisy = sidekick.rank(large_val, real, val_labels, costs, budget, **kept)
scores = noisy.table.set_index("sidekick")
fooled = [s for s in sidekick.SCORES if scores[s].idxmax() == "noise"]
w_noise = scores.loc["noise", "w_small"]
text = "Pure noise is chosen by {{f}}; its Duo weight is {{w:.2g}}."
say(text, f=", ".join(fooled) or "no score", w=w_noise)
### END SOLUTION

# %% [markdown]
# **Exercise 12.2** *(compute; about 10 minutes).* Compute the error inconsistency, the
# disagreement and the conversion rate of `large` and the recommended sidekick
# (`advice.choice`) by hand with NumPy from their validation logits and the Duo's weights in
# `advice.table`, and compare with duolib's values.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
large_val, val_labels = dl.bank.logits(dataset, large, "val", profile)
small_val = dl.bank.logits(dataset, advice.choice, "val", profile)[0]
large_right = large_val.argmax(1) == val_labels
one_right = large_right != (small_val.argmax(1) == val_labels)
weights = advice.table.iloc[0]
duo_val = weights["w_large"] * large_val + weights["w_small"] * small_val
by_hand = {
    "error_inconsistency": one_right.mean(),
    "disagreement": (large_val.argmax(1) != small_val.argmax(1)).mean(),
    "conversion_rate": (duo_val.argmax(1) == val_labels)[one_right].mean(),
}
pd.DataFrame({"by hand": by_hand, "duolib": weights[list(by_hand)]})
### END SOLUTION

# %% [markdown]
# **Exercise 12.3** *(interpret; about 15 minutes).* At equal FLOPs, which way of training a
# sidekick helps $f_\text{large}$ most: pretrained then fine-tuned, another seed, or from
# scratch? Compare the test AURC gains in `pool` of the variants of each architecture trained
# in more than one way, with their intervals, and explain the answer with the pair statistics.

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
arch = pool["f_small"].map(lambda n: dl.members.parse(n).architecture)
ways = pool.assign(arch=arch).groupby(["f_large", "arch"])
several = ways.filter(lambda g: g["variant"].nunique() > 1)
columns = ["sidekick_accuracy", "error_inconsistency", "gain_aurc"]
medians = several.groupby("variant")[columns].median()
top_way = medians["gain_aurc"].idxmax() if len(medians) else None
gain = medians["gain_aurc"].max() if len(medians) else None
text = "[[Over {{n}} Duos, the median test AURC gain is highest for the"
text += " '{{way}}' sidekicks ({{g:.4f}}).]]"
display(medians.round(4))
say(text, n=len(several), way=top_way, g=gain)
### END SOLUTION
