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
# # Appendix: compute as time — throughput against FLOPs
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/duos-book/duos/blob/main/notebooks/10_throughput.ipynb)
#
# The book measures a Duo's extra cost by its FLOPs balance. **Appendix B** (Figure 8) checks
# that FLOPs translate into wall-clock time: on a V100 GPU, throughput and FLOPs correlate with a
# coefficient of determination of 0.938 for single models and 0.795 for ConvNeXt-Large Duos.
# Here we measure the throughput of every model of the active profile's zoo and of every Duo
# (both members run on the same batch, one after the other) on the machine running this
# notebook: on its GPU with mixed precision when it has one, else on its CPU.

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
import math

import seaborn as sns
import torch

import duolib as dl
from duolib import throughput
from duolib.chapter import figure, say

profile = dl.profiles.choose(profile)
sns.set_theme(style="whitegrid", context="notebook")

# %% tags=["remove-input"]
dl.chapter.profile_note(profile, "10_throughput")

# %%
measured = throughput.measure_profile(profile)
on_gpu = torch.cuda.is_available()
cpu = f"CPU, {torch.get_num_threads()} threads"
device = torch.cuda.get_device_name() if on_gpu else cpu
# A Duo against its f_large alone (a single model: against itself)
alone = measured.set_index("system")
large = measured["system"].str.split(" + ", regex=False).str[0]
measured["FLOPs ratio"] = (
    measured["gflops"] / alone.loc[large, "gflops"].values
)
measured["slowdown"] = (
    alone.loc[large, "images/s"].values / measured["images/s"]
)
measured.round(4)

# %%
fig, fits = dl.plots.throughput_vs_flops(measured)
figure(fig)

# %% [markdown]
# *Figure: Measured throughput against compute for single models (left) and Duos (right), log–log,
# with the coefficient of determination of a straight-line fit. Compare with the paper's Figure 8.*

# %%
r2 = {
    kind: fit.rvalue**2 if fit else math.nan for kind, fit in fits.items()
}
slope = {kind: fit.slope if fit else math.nan for kind, fit in fits.items()}

# %% [markdown]
# ## What we see

# %% tags=["remove-cell"]
paper_r2 = (
    "0.938 and 0.795" if fits.get("Duo") else "0.938"
)  # no Duo fit: fewer than 3

# %% tags=["remove-input"]
say(
    r"""
    On this machine ({{device}}), log throughput is explained by log FLOPs with $R^2$ =
    {{r2.single:.2f}} for single models (slope {{slope.single:.2f}}; $-1$ would mean time
    exactly proportional to FLOPs)[[ and $R^2$ = {{r2.Duo:.2f}} for Duos (slope
    {{slope.Duo:.2f}})]], against the paper's {{paper_r2}} on a V100 (the paper does not
    say whether its fit is linear or log–log; ours is log–log because the zoo spans orders
    of magnitude).
    """,
    device=device,
    r2=r2,
    slope=slope,
    paper_r2=paper_r2,
)

# %% tags=["remove-cell"]
duos = measured[measured["kind"] == "Duo"]
extra = (duos["slowdown"] - 1) / (duos["FLOPs ratio"] - 1)
share = {
    "median": extra.median(),
    "over": (extra > 1).mean(),
    "duos": len(duos),
    "faster": int((duos["slowdown"] < 1).sum()) or None,
}

# %% tags=["remove-cell"]
share["word"] = (
    "understates" if share["median"] > 1
    else "overstates" if share["median"] < 1
    else "cannot be compared with"
)  # fmt: skip
reason = (
    " One possible reason, not measured here: tiny models on a CPU are far from "
    "compute-bound, and fixed per-layer costs and memory traffic weigh more than FLOPs "
    "(depthwise and channel-shuffle layers especially)."
)

# %% tags=["remove-input"]
say(
    r"""
    The table's "slowdown" is a system's time per image over its $f_\text{large}$'s
    alone, beside its "FLOPs ratio" $1 + \text{FB}$. Over the {{duos}} Duos, the
    measured extra time is a median {{median:.1f}} times the FLOPs balance (more than
    the balance for {{over:.0%}} of Duos): on this machine the FLOPs balance
    **{{word}}** a sidekick's share of wall-clock time.{{reason}}[[ {{faster}} of the {{duos}}
    Duos ran faster than their $f_\text{large}$ alone, which a Duo running $f_\text{large}$
    and then its sidekick cannot do: timing noise, which these numbers carry too.]]
    """,
    share,
    reason=reason if share["word"] == "understates" and not on_gpu else "",
)

# %% [markdown]
# `benchmarks/bench_throughput.py` measures the same for the command line.
#
# ## Summary

# %% tags=["remove-cell"]
proxy = {
    kind: "a good" if value >= 0.8
    else "a rough" if value >= 0.5
    else "a poor" if value >= 0
    else None
    for kind, value in r2.items()
}  # fmt: skip
slowdown = duos["slowdown"]
slow = {
    "low": slowdown.min(),
    "median": slowdown.median(),
    "high": slowdown.max(),
}

# %% tags=["remove-input"]
say(
    r"""
    - On this machine log FLOPs explain {{r2.single:.0%}} of the variance of log
      throughput across single models[[ (**{{proxy.single}}** proxy for time)]][[ and
      {{r2.Duo:.0%}} across Duos (**{{proxy.Duo}}** one)]]; we call $R^2 \ge 0.8$ a
      good proxy, $R^2 \ge 0.5$ a rough one, less a poor one.
    - A Duo's measured slowdown over its $f_\text{large}$ ranges from {{slow.low:.2f}}
      to {{slow.high:.2f}} (median {{slow.median:.2f}}); the table gives each one beside
      its FLOPs ratio.
    """,
    r2=r2,
    proxy=proxy,
    slow=slow,
)

# %% [markdown]
# ## Exercises
#
# The exercises read the measurements this chapter made on the profile it ran on (named at its
# top) and on this machine, so their answers depend on both. In the book each solution is
# collapsed under "Show solution"; the student notebooks (see the Instructors page) have them
# removed.

# %% [markdown]
# **Exercise 10.1** *(predict, then compute; about 10 minutes).* A Duo runs its two members one
# after the other on the same batch. Predict each Duo's throughput from its members' measured
# throughputs in the chapter's table `measured`, assuming that times per image add up:
# $1 / (1/r_\text{large} + 1/r_\text{small})$ for throughputs $r$. Then compare with the Duo's
# measured throughput. Does the assumption hold on this machine?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
seconds = 1 / measured.set_index("system")["images/s"]  # per image
pairs = measured.loc[measured["kind"] == "Duo", ["system", "images/s"]]
members = pairs["system"].str.split(" + ", regex=False)
pairs["predicted"] = [1 / seconds[names].sum() for names in members]
ratio = pairs["images/s"] / pairs["predicted"]
grid = sns.catplot(x=ratio.to_numpy(), y=pairs["system"], kind="bar")
figure(grid.refline(x=1).set(xlabel="measured / predicted images/s").figure)
word = "close to" if abs(ratio.median() - 1) <= 0.1 else "more than"
if ratio.median() > 1.1:  # members run in turn should not beat their sum
    word = "less than (unexpected for members run in turn: timing noise?)"
say("Median of measured over predicted throughput: {{median:.2f}}. On "
    "this machine a Duo's time per image is **{{word}}** the sum of its "
    "members' times.", median=ratio.median(), word=word)  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 10.2** *(compute; about 10 minutes).* The chapter measured every system at one
# batch size. Measure the throughput of the profile's first $f_\text{large}$ with
# `throughput.images_per_second` at batch size 1, at an eighth of the profile's batch size and
# at the full one (3 timed repeats each, mixed precision where the chapter used it), and plot
# images/s against batch size. How many times more images per second does batching buy, and
# why?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
large = dl.profiles.get(profile).large_models[0]
batch = dl.profiles.get(profile).throughput[0]  # the chapter's batch size
sizes = sorted({1, max(2, batch // 8), batch})
rates = [throughput.images_per_second(large, size, repeats=3, amp=on_gpu)
         for size in sizes]  # fmt: skip
grid = sns.relplot(x=sizes, y=rates, kind="line", marker="o")
grid.set(xscale="log", yscale="log", xlabel="batch size", ylabel="images/s")
figure(grid.figure)
say("From batch size 1 to {{batch}}, {{model}} processes **{{gain:.1f}} "
    "times** as many images per second. Each call's fixed costs (Python, "
    "kernel launches) are shared by the batch's images, and larger matrix "
    "products keep the hardware busier.",
    batch=batch, model=large, gain=rates[-1] / rates[0])  # fmt: skip
### END SOLUTION

# %% [markdown]
# **Exercise 10.3** *(interpret; about 10 minutes).* Suppose a deployment allows at most 1.5
# times the time per image of $f_\text{large}$ alone. Which Duos fit this budget if you judge
# by FLOPs (the table's FLOPs ratio, $1 + \text{FB}$), and which by measured time (its
# slowdown)? Do the two choices agree, and which would you trust when picking a sidekick for
# this machine?

# %% tags=["solution", "hide-cell"]
### BEGIN SOLUTION
duo_rows = measured[measured["kind"] == "Duo"].set_index("system")
by_flops = set(duo_rows.index[duo_rows["FLOPs ratio"] <= 1.5])  # budget
by_time = set(duo_rows.index[duo_rows["slowdown"] <= 1.5])
faster = int((duo_rows["slowdown"] < 1).sum()) or None  # timing noise
say("Within budget: {{flops}} of {{n}} Duos by FLOPs, {{time}} by time"
    "[[; by FLOPs only: {{slow}}]][[; by time only: {{fast}}]]. FLOPs and "
    "the clock **{{agree}}**[[; {{faster}} Duos were timed faster than "
    "their $f_\\text{large}$ alone, which is noise]]. A budget is in time: "
    "judge by the clock, on the target machine, with enough repeats.",
    n=len(duo_rows), flops=len(by_flops), time=len(by_time),
    slow=", ".join(sorted(by_flops - by_time)) or None,
    fast=", ".join(sorted(by_time - by_flops)) or None, faster=faster,
    agree="agree" if by_flops == by_time else "disagree")  # fmt: skip
### END SOLUTION
