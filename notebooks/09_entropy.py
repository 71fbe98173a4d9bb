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
