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
# # Appendix: where the paper, its code and this book differ
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/11_fidelity.ipynb)
#
# The paper's text, its released code (github.com/timgzhou/asymmetric-duos, commit d0f2efa)
# and this book do not always compute the same thing. This appendix lists every difference we
# know of, one row each: what the paper says, what the released code does (file and line), what
# duolib does, and what the difference does to the numbers of the active profile, measured on
# its logit bank. Each released variant is a tested function of `duolib.reference` (or an
# option of duolib's own functions), so the measurement below is a call, not a
# re-implementation.
#
# The effect is the released variant's value minus duolib's, averaged over the systems a row
# concerns (every weighted Duo of the profile, one ensemble, one soup or one model), with a 95%
# interval from resampling the test examples: the same rows for every system and both variants.

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

import duolib as dl
from duolib import fidelity
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")
pd.set_option("display.max_colwidth", 80)

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "11_fidelity")

# %% tags=["hide-output"]
measured = fidelity.effects(profile)
comparison = fidelity.table(measured)
titles = {k: d.title for k, d in fidelity.DIFFERENCES.items()}
measured["what"] = measured["difference"].map(titles)

# %% [markdown]
# ## The differences

# %%
comparison[
    ["what", "the paper", "released code", "duolib"]
].drop_duplicates()

# %% [markdown]
# ## What each one does to the numbers

# %%
effects = comparison[
    ["what", "metric", "systems", "released", "duolib value", "effect"]
    + ["ci_low", "ci_high"]
]
effects.round(4)

# %% tags=["remove-cell"]
beyond_noise = (measured["ci_low"] > 0) | (measured["ci_high"] < 0)
exact_zero = (measured["effect"] == 0) & (measured["ci_low"] == 0)
exact_zero &= measured["ci_high"] == 0
counts = {"rows": len(measured), "beyond": int(beyond_noise.sum())}
counts |= {"zero": int(exact_zero.sum())}
named = measured[beyond_noise]
labels = named["what"] + " (" + named["metric"] + ")"
counts["which"] = ", ".join(labels) or None

# %% tags=["remove-input"]
say(
    r"""
    Of the {{rows}} measured rows, {{beyond}} change the number beyond bootstrap noise (the
    95% interval excludes 0)[[: {{which}}]]; {{zero}} give exactly the same value on this
    profile.
    """,
    counts,
)

# %%
shown = measured[measured["metric"] != "brier"]
figure(dl.plots.effects(shown))

# %% [markdown]
# *Figure: Each difference's effect (released minus duolib) with its 95% bootstrap interval,
# in the metric's own units. The Brier row is left out: it is a change of scale (below).*

# %% tags=["remove-cell"]
brier = measured.set_index("difference").loc["brier_scale"]
num_classes = dl.bank.meta(
    dl.profiles.get(profile).datasets[0],
    dl.profiles.get(profile).large_models[0],
    "test",
    profile,
)["num_classes"]

# %% tags=["remove-input"]
say(
    r"""
    The released Brier score is duolib's divided by the number of classes: here
    {{released:.5f}} against {{duolib:.4f}}, a ratio of 1 / {{ratio:.1f}} with
    {{classes}} classes. Tables in the paper's units (× 10⁴ of the released scale) use
    `dl.to_paper_scale`.
    """,
    released=brier["released"],
    duolib=brier["duolib"],
    ratio=brier["duolib"] / brier["released"],
    classes=num_classes,
)

# %% [markdown]
# ## Fitting a Duo: exact optimum or grid + L-BFGS
#
# The released code fits a Duo's two temperatures on a grid, then refines them with L-BFGS;
# duolib solves the same convex problem for the two weights exactly. Both, on every Duo of the
# profile (validation split):

# %%
fits = fidelity.fit_comparison(profile)
fits.round(4)

# %% tags=["remove-cell"]
gap = fits["released_val_nll"] - fits["exact_val_nll"]
fit = {"gap_max": gap.max(), "gap_median": gap.median()}
fit |= {"below": int((gap < -1e-9).sum()), "duos": len(fits)}
fit |= {
    "speed": (fits["released_seconds"] / fits["exact_seconds"]).median()
}
largest = float(dl.reference.DUO_GRID[-1])  # the grid's largest temperature
at_edge = np.isclose(fits["released_w_small"], 1 / (2 * largest), rtol=1e-3)
fit["edge"] = 1 / (2 * largest)
fit["at_edge"] = int(at_edge.sum()) or None  # None drops the clause

# %% tags=["remove-input"]
say(
    r"""
    The released fit ends {{gap_median:.5f}} nats of validation NLL above the exact optimum
    at the median (at most {{gap_max:.5f}}), and below it for {{below}} of {{duos}} Duos. It
    takes {{speed:.0f}} times as long at the median.[[ For {{at_edge}} Duos its sidekick
    weight is $1/(2 T)$ at the grid's largest temperature, {{edge:.4f}}: L-BFGS did not move
    it from where the grid stopped.]]
    """,
    fit,
)

# %% [markdown]
# A sidekick that knows nothing should get no weight. The profile's first $f_\text{large}$
# with a sidekick of pure noise (standard normal logits), fitted both ways:

# %%
useless = fidelity.useless_sidekick(profile)
useless.round(4)

# %% tags=["remove-cell"]
w = dict(zip(useless["fit"], useless["w_small"], strict=True))
noise = {
    "exact": w["exact (duolib)"],
    "released": w["released grid + L-BFGS"],
}

# %% tags=["remove-input"]
say(
    r"""
    The exact fit gives the noise sidekick a weight of {{exact:.4f}}, the released fit
    {{released:.4f}} (its grid of temperatures ends at 4.85, a weight of
    $1/(2 \cdot 4.85) \approx 0.10$, and L-BFGS refines from there).
    """,
    noise,
)

# %% [markdown]
# ## Three differences the bank cannot measure
#
# - **Figure 1's baseline rows.** The released radar plot (plot_notebooks/plot_3_%duos.ipynb)
#   merges each Duo with its $f_\text{large}$ rows without filtering the wrapper, and the
#   evaluation files it reads hold both the raw and the temperature-scaled $f_\text{large}$,
#   so each Duo may be counted twice, against both. The Duo accuracy chapter compares each
#   Duo with the temperature-scaled $f_\text{large}$ only.
# - **The ten ResNet-50 checkpoints** of Tables 1–2 are not named in the paper or the
#   released code (its configuration folder is not published). The `paper` profile's ten
#   are listed with their published top-1 in the deep-ensembles chapter.
# - **IVON's settings** for Table 3 are not stated; the `paper` profile uses the released
#   train/ivon_train.py's (learning rate 1e-3, ivon-opt's defaults, 36 epochs from the
#   fine-tuned checkpoint), and says so in the Bayesian chapter.

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
say(
    r"""
    - {{beyond}} of {{rows}} measured differences change this profile's numbers beyond
      bootstrap noise; each row above says by how much, in the metric's units.
    - The released Duo fit stays within {{fit.gap_max:.5f}} nats of the exact optimum on
      validation here; it gives a sidekick of pure noise a weight of {{noise.released:.4f}},
      where the exact fit gives {{noise.exact:.4f}}.
    """,
    counts,
    fit=fit,
    noise=noise,
)

# %% [markdown]
# ## Exercises
#
# The exercises read the logit bank of the profile this chapter ran on (named at its top), so
# their answers depend on that profile. In the book each solution is collapsed under "Show
# solution"; the student notebooks (see the Instructors page) have them removed.

# %% [markdown]
# **Exercise 11.1** *(predict, then compute; about 10 minutes).* A hundred predictions, ranked
# by uncertainty, of which only the two most uncertain are wrong. Predict SAC@98 (the largest
# coverage whose selective accuracy is at least 98%) as duolib computes it and as the released
# code does, then compute both with `dl.metrics.sac` and `dl.reference.sac` (with and without
# its `threshold_bug`). Then read the chapter's `sac_threshold` row of `measured`: does the bug
# change SAC@98 for this profile's Duos?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
toy = (np.arange(100) < 98, np.arange(100) / 100, 0.98)  # see the statement
sac_row = measured.set_index("difference").loc["sac_threshold"]
verdict = "it never bites" if sac_row["effect"] == 0 else "it bites"
say("SAC@98 of the toy: duolib {{duolib:.2f}}, released {{released:.2f}}, "
    "released without the float bug {{fixed:.2f}}. At full coverage the "
    "accuracy is exactly 98%, which the released target 0.9800000000000001 "
    "refuses. For this profile's {{systems}} the bug changes SAC@98 by "
    "{{effect:+.5f}} on average: **{{verdict}}**.",
    duolib=dl.metrics.sac(*toy), released=dl.reference.sac(*toy),
    fixed=dl.reference.sac(*toy, threshold_bug=False),
    systems=sac_row["systems"], effect=sac_row["effect"],
    verdict=verdict)  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 11.2** *(interpret; about 15 minutes).* Break the Duo: give the profile's first
# $f_\text{large}$ itself as its sidekick. Before fitting, predict $w_\text{large} +
# w_\text{small}$, and whether the fit can tell the two weights apart. Fit it with `dl.fit_duo`
# on the validation split, compare the sum with $1/T$ of the temperature-scaled model
# (`dl.fit_temperature`), and compute the validation NLL with the two weights swapped. What do
# a Duo's weights mean when its members agree?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
twin_data = dl.profiles.get(profile).datasets[0]
val = dl.bank.logits(twin_data, useless["f_large"][0], "val", profile)
twin = dl.fit_duo(val[0], *val)  # f_large twice, then the labels
twin_t = dl.fit_temperature(*val)
say("Fitted weights {{w_large:.4f}} + {{w_small:.4f}} = {{total:.4f}}, "
    "against $1/T$ = {{inverse_t:.4f}}; validation NLL {{val_nll:.6f}}, "
    "temperature-scaled model {{t_nll:.6f}}. With identical members the "
    "Duo's logits are $(w_\\text{large} + w_\\text{small}) "
    "f_\\text{large}$: the NLL sees only the sum, whose best value is "
    "$1/T$; the split is wherever the solver stops (it starts from "
    "$f_\\text{large}$ alone), so it means nothing.", vars(twin),
    total=twin.w_large + twin.w_small, inverse_t=1 / twin_t,
    t_nll=dl.evaluate(val[0] / twin_t, val[1])["nll"])  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 11.3** *(explore; about 10 minutes).* Ties in uncertainty make the released AURC
# depend on the order of the test examples. Round the softmax response of the profile's first
# $f_\text{large}$ (its raw test logits) to two decimals, as a coarse output format would, then
# compute the released AURC (`dl.reference.aurc`) on 20 random orders of the test examples and
# duolib's (`dl.metrics.aurc`) once. How large is the spread due to the order alone, and where
# does duolib's value fall?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
tie_data = dl.profiles.get(profile).datasets[0]
tie_test = dl.bank.logits(tie_data, useless["f_large"][0], "test", profile)
tie_stats = dl.metrics.sample_statistics(*tie_test)  # softmax response
correct = tie_stats["prediction"] == tie_stats["labels"]
coarse = np.round(tie_stats["uncertainty"], 2)  # two decimals: ties
orders = np.random.default_rng(0).random((20, len(coarse))).argsort(1)
released = [dl.reference.aurc(correct[o], coarse[o]) for o in orders]
say("Over 20 orders of the test examples (whose uncertainties take "
    "{{distinct}} values) the released AURC runs from {{min:.5f}} to "
    "{{max:.5f}}; duolib's, the expectation over all orders of each block "
    "of ties, is {{ours:.5f}} whatever the order.",
    pd.Series(released).describe().to_dict(), distinct=len(set(coarse)),
    ours=dl.metrics.aurc(correct, coarse))  # fmt: skip
### END SOLUTION
