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
# # Appendix: entropy as the uncertainty
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/09_entropy.ipynb)
#
# The paper measures uncertainty by the softmax response $1 - \max_c p_c$. **Appendix C**
# (Figure 9) repeats the uncertainty results with the predictive entropy
# $-\sum_c p_c \log p_c$ instead and finds "no meaningful difference". This chapter does the same
# for correctness AUROC, AURC and SAC@98, with its own bootstrap intervals.

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
dl.chapter.profile_note(profile, "09_entropy")

# %% tags=["hide-output"]
entropy_table = experiments.results(profile, uncertainty="entropy")
gains = {
    "softmax": claims.duo_gains(profile),
    "entropy": claims.duo_gains(profile, uncertainty="entropy"),
}

# %%
figure(dl.plots.metric_vs_balance(entropy_table, "auroc"))

# %% [markdown]
# *Figure: Correctness AUROC with entropy as the uncertainty, against FLOPs balance. Compare with
# the softmax-response version in the AUROC chapter and with the paper's Figure 9.*

# %%
metrics, modes = ("auroc", "aurc", "sac_98"), ("weighted", "uq_only")
comparison = pd.concat(
    [
        claims.summary(g, metrics, modes, by="panel").assign(
            uncertainty=name
        )
        for name, g in gains.items()
    ]
)
comparison.pivot_table(
    index=["split", "mode", "metric"],
    columns="uncertainty",
    values=["improved", "significant"],
).round(3)

# %% [markdown]
# ## What we see

# %% tags=["remove-cell"]
weighted = {
    k: {m: claims.numbers(g, m) for m in metrics} for k, g in gains.items()
}

# %% tags=["remove-input"]
say(
    r"""
    With entropy, weighted Duos improve AUROC over $f_\text{large}$ for
    {{e.auroc.improved_test:.0%}} (test)[[ and {{e.auroc.improved_ood:.0%}} (OOD)]] of
    Duos, against {{s.auroc.improved_test:.0%}}[[ and {{s.auroc.improved_ood:.0%}}]]
    with the softmax response; AURC for {{e.aurc.improved_test:.0%}}[[ and
    {{e.aurc.improved_ood:.0%}}]] (softmax: {{s.aurc.improved_test:.0%}}[[ and
    {{s.aurc.improved_ood:.0%}}]]); SAC@98 for {{e.sac_98.improved_test:.0%}}[[ and
    {{e.sac_98.improved_ood:.0%}}]] (softmax: {{s.sac_98.improved_test:.0%}}[[ and
    {{s.sac_98.improved_ood:.0%}}]]).
    """,
    e=weighted["entropy"],
    s=weighted["softmax"],
)

# %% [markdown]
# The verdict of the claim "Duos improve on $f_\text{large}$" for each metric and mode, pooled
# over splits, with each uncertainty score:

# %%
verdicts = pd.DataFrame(
    [
        {"mode": mode, "metric": m}
        | {
            k: claims.numbers(g, m, mode)["verdict"]
            for k, g in gains.items()
        }
        for mode in modes
        for m in metrics
    ]
).set_index(["mode", "metric"])
verdicts

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
same = int((verdicts["entropy"] == verdicts["softmax"]).sum())
say(
    r"""
    - The verdict is the same with entropy as with the softmax response for {{same}} of
      {{count}} metric and mode pairs: on this profile the Duo's benefit to uncertainty
      **{{word}}** the choice of uncertainty score.
    """,
    same=same,
    count=len(verdicts),
    word="does not hinge on"
    if same == len(verdicts)
    else "depends in part on"
    if 2 * same >= len(verdicts)
    else "depends on",
)

# %% [markdown]
# ## Exercises
#
# The exercises read the logit bank of the profile this chapter ran on (named at its top), so
# their answers depend on that profile. In the book each solution is collapsed under "Show
# solution"; the student notebooks (see the Instructors page) have them removed.

# %% [markdown]
# **Exercise 9.1** *(predict, then compute; about 10 minutes).* The softmax response
# $1 - \max_c p_c$ looks at the top class only, the entropy at every class. For the profile's
# first Duo (the first pair of `experiments.duo_pairs`), predict how similarly the two scores
# order the test examples. Then compute both with `dl.predict(..., uncertainty=...)`, plot one
# against the other and compute their Spearman rank correlation. Why can a ranking metric
# (AUROC, AURC, SAC) differ between the two scores only where their orders differ?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
dataset = dl.profiles.get(profile).datasets[0]
pair = experiments.duo_pairs(profile)[0]  # (f_large, sidekick)
duo = experiments.fitted_duo(*pair, dataset, profile)
logits = [dl.bank.logits(dataset, m, "test", profile)[0] for m in pair]
scores = pd.DataFrame()
for kind in ("softmax", "entropy"):
    scores[kind] = dl.predict(*logits, duo, uncertainty=kind)[1]
figure(sns.relplot(scores, x="softmax", y="entropy", s=10).figure)
say("Spearman's rank correlation of the two scores: **{{rho:.3f}}**. "
    "AUROC, AURC and SAC read the uncertainties only through the order "
    "they put the examples in, so they can differ only where it does.",
    rho=scores.corr(method="spearman").iloc[0, 1])  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 9.2** *(predict, then compute; about 15 minutes).* Dividing the logits by a
# temperature $T$ changes no predicted class. Does it change the correctness AUROC? Predict it
# for the softmax response and for the entropy, then compute the AUROC of the first Duo's
# $f_\text{large}$ alone at $T$ = 0.25, 0.5, 1, 2 and 4 with each score
# (`dl.evaluate(..., uncertainty_kind=...)`) and plot it against $T$. Which score is the more
# sensitive, and why can neither order of the examples stay fixed in general?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
dataset, large = gains["softmax"].iloc[0][["dataset", "f_large"]]
logits, labels = dl.bank.logits(dataset, large, "test", profile)
sweep = pd.DataFrame(index=[0.25, 0.5, 1, 2, 4])  # temperatures
for kind in ("softmax", "entropy"):
    sweep[kind] = [
        dl.evaluate(logits / t, labels, uncertainty_kind=kind)["auroc"]
        for t in sweep.index
    ]
figure(sweep.plot(marker="o", logx=True, xlabel="T", ylabel="AUROC").figure)
say("AUROC spread (max minus min) over these temperatures: softmax "
    "response {{softmax:.4f}}, entropy {{entropy:.4f}}. Dividing by $T$ "
    "reweighs each example's gaps to its top class: that can reorder them.",
    **(sweep.max() - sweep.min()))  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 9.3** *(interpret; about 10 minutes).* A verdict comes from thresholds
# (`claims.verdict`: "holds" needs at least 75% of Duos improved and none significantly worse,
# "holds only in part" at least 50%). In the chapter's `comparison` table, take the rows pooled
# over splits (`split == "all"`): by how much does switching to the entropy change the fraction
# of Duos that improve, for each metric and mode? Where a verdict changes, how many Duos moved:
# is it a broad shift, or a few Duos crossing a threshold?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
improved = comparison[comparison["split"] == "all"].pivot_table(
    index=["mode", "metric"], columns="uncertainty", values="improved"
)
change = (improved["entropy"] - improved["softmax"]).abs()
differ = verdicts["entropy"] != verdicts["softmax"]
moved = change[differ].max()  # NaN when no verdict changes
word = ("significance alone" if moved == 0 else "a broad shift"
        if moved > 0.15 else "a few crossing a threshold")  # fmt: skip
say("With the entropy the verdict changes for {{k}} of {{n}} metric and "
    "mode pairs[[; there the fraction of Duos improved moves by at most "
    "{{moved:.0%}} of {{duos}} comparisons (Duo, split): **{{word}}**]].",
    k=int(differ.sum()), n=len(differ), moved=moved,
    duos=comparison["duos"].max(), word=word)  # fmt: skip
### END SOLUTION
