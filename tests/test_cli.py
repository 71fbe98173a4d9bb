"""The command line that runs one model-dataset fit (what a Slurm array or Ray calls)."""

from __future__ import annotations

import pytest

from duolib import cli


def test_tasks_cover_every_dataset_and_baseline_once():
    grid = cli.tasks("paper-rehearsal")
    assert len(grid) == len(set(grid))
    assert ("imagenet", "resnet50") in grid and ("iwildcam", "efficientnet_b2") in grid
    assert ("imagenet", "resnet50.am_in1k") in grid  # an ensemble member
    assert ("caltech256", "resnet50:greedy_soup") in grid
    assert ("caltech256", "resnet50:ivon") in grid


def test_tasks_are_printed_one_per_line(capsys):
    assert cli.main(["tasks", "--profile", "paper-rehearsal"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{d} {m}" for d, m in cli.tasks("paper-rehearsal")]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "--profile", "smoke"], "give --dataset and --model, or --task"),
        (["fit", "--profile", "smoke", "--task", "99"], "--task must be in 0.."),
        (["fit", "--profile", "smoke", "--task", "0", "--model", "lenet"], "either --task"),
    ],
)
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert message in capsys.readouterr().err


def test_fit_fills_the_bank_and_a_second_call_reads_it(smoke_cache, capsys):
    assert cli.main(["fit", "--profile", "smoke", "--dataset", "glyphs", "--model", "lenet"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("lenet on glyphs (smoke): ood accuracy")
    assert cli.main(["fit", "--profile", "smoke", "--task", "1"]) == 0  # the grid's lenet
    assert capsys.readouterr().out == first
