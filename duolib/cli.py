"""The command line: one model-dataset fit per call, so a cluster can run the paper's grid.

::

    python -m duolib tasks --profile paper              # the grid, one "dataset model" per line
    python -m duolib fit --profile paper --dataset caltech256 --model convnext_base
    python -m duolib fit --profile paper --task 17      # the 18th line of ``tasks`` (0-based)

``fit`` fine-tunes the model if needed (LP-FT, every trial of the recipe; resumes from the
last finished epoch) and writes its bank entries for every split of the dataset; nothing is
done twice: a finished fit returns at once. Processes may run the grid in parallel on one shared
``$DUOLIB_CACHE`` (a Slurm array, submitit, Ray): the cache's locks make a second process that
asks for the same entry wait and read it. Use ``torchrun`` to give one fit several GPUs.
"""

from __future__ import annotations

import argparse
import sys

from . import bank, members, profiles


def tasks(profile: str | profiles.Profile | None = None) -> list[tuple[str, str]]:
    """Every (dataset, bank model) the profile's chapters read, each one independent fit.

    The zoo on every dataset, then the baselines' members: ensemble members on the ensemble
    dataset, the soups and the IVON member on the baseline dataset (a soup's fit trains its
    ingredients, each cached on its own).
    """
    settings = profiles.get(profile)
    grid = [(dataset, model) for dataset in settings.datasets for model in settings.zoo]
    b = settings.baselines
    if b is not None:
        grid += [(settings.ensemble_dataset, m) for m in b.ensemble_members]
        base = settings.baseline_dataset
        grid += [(base, f"{b.soup_model}:{method}") for method in ("greedy_soup", "uniform_soup")]
        if b.ivon_model:
            grid.append((base, members.Member(b.ivon_model, method="ivon").name))
    return list(dict.fromkeys(grid))


def fit(dataset: str, model: str, profile: str | profiles.Profile | None = None) -> dict:
    """Fine-tune (if needed) and evaluate ``model`` on ``dataset``; its bank metadata."""
    settings = profiles.get(profile)
    return bank.meta(dataset, model, bank.bank_splits(dataset)[-1], settings)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duolib", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("tasks", help="print the grid of fits, one per line")
    default = "default: $DUOLIB_PROFILE, else colab on a GPU and demo on a CPU"
    listing.add_argument("--profile", default=None, help=default)
    one = commands.add_parser("fit", help="fit one model on one dataset (or the N-th task)")
    one.add_argument("--profile", default=None, help=default)
    one.add_argument("--dataset")
    one.add_argument("--model")
    one.add_argument("--task", type=int, help="index into `tasks` (e.g. $SLURM_ARRAY_TASK_ID)")
    args = parser.parse_args(argv)
    settings = profiles.get(args.profile)
    grid = tasks(settings)
    if args.command == "tasks":
        for dataset, model in grid:
            print(dataset, model)
        return 0
    if args.task is not None:
        if args.dataset or args.model:
            parser.error("give either --task or --dataset and --model")
        if not 0 <= args.task < len(grid):
            parser.error(f"--task must be in 0..{len(grid) - 1} for profile {settings.name}")
        dataset, model = grid[args.task]
    elif args.dataset and args.model:
        dataset, model = args.dataset, args.model
    else:
        parser.error("give --dataset and --model, or --task")
    info = fit(dataset, model, settings)
    if info.get("uninformative"):
        print(
            f"WARNING: {model}'s validation logits on {dataset} carry no information about the "
            "labels (a model at chance, or labels misaligned with the model's classes)",
            file=sys.stderr,
        )
    print(
        f"{model} on {dataset} ({settings.name}): {info['split']} accuracy "
        f"{info['accuracy']:.4f}, trained in {info['train_seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
