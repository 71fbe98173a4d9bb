"""The paper-layout tables: compute bins, mean ± std in paper units, wins, Table 2."""

from __future__ import annotations

import numpy as np
import pytest

from duolib import tables


def test_compute_bins_are_half_open():
    assert tables.compute_bin(4.1, 4.1) == 1
    assert tables.compute_bin(8.19, 4.1) == 1
    assert tables.compute_bin(8.2, 4.1) == 2


def test_paper_table_is_mean_and_sample_std_in_paper_units():
    rows = [
        {"method": "A", "gflops": 1.0, "train_seconds": 60, "accuracy": 0.5, "brier": 0.2},
        {"method": "A", "gflops": 1.0, "train_seconds": 60, "accuracy": 0.7, "brier": 0.4},
        {"method": "B", "gflops": 2.0, "train_seconds": 120, "accuracy": 0.9, "brier": 0.1},
    ]
    table = tables.paper_table(rows, num_classes=10, metrics=("accuracy", "brier"))
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "Acc ↑"] == f"60.00\u00a0±\u00a0{np.std([50, 70], ddof=1):.2f}"
    assert table.loc["B", "Acc ↑"] == "90.00"
    assert table.loc["A", "Brier ↓"].startswith("300.00")  # mean 0.3 / 10 classes * 1e4
    assert table.loc["B", "train (min)"] == "2.0"
    with pytest.raises(ValueError, match="lack columns"):
        tables.paper_table(rows, num_classes=10, metrics=("nll",))


def test_count_wins_compares_method_means_in_each_metrics_direction():
    rows = [
        {"method": "duo", "accuracy": 0.80, "nll": 0.50},
        {"method": "duo", "accuracy": 0.90, "nll": 0.70},  # means 0.85, 0.60
        {"method": "ivon", "accuracy": 0.84, "nll": 0.55},
    ]
    assert tables.count_wins(rows, "duo", "ivon", ("accuracy",)) == 1
    assert tables.count_wins(rows, "duo", "ivon", ("nll",)) == 0  # lower NLL is better
    assert tables.count_wins(rows, "ivon", "duo", ("accuracy", "nll")) == 1
    assert type(tables.count_wins(rows, "duo", "ivon", ("accuracy",))) is int  # glue shows it


def test_method_means_and_matched_compute_by_hand():
    rows = [
        {"method": "AD[2,3)", "accuracy": 0.80, "nll": 0.50, "aurc": 0.05},
        {"method": "AD[2,3)", "accuracy": 0.90, "nll": 0.30, "aurc": 0.03},
        {"method": "DE (m=2)", "accuracy": 0.84, "nll": 0.35, "aurc": 0.05},
        {"method": "DE (m=3)", "accuracy": 0.86, "nll": 0.33, "aurc": 0.04},
    ]
    assert tables.method_mean(rows, "AD[2,3)", "accuracy") == pytest.approx(0.85)
    with pytest.raises(ValueError, match="no rows of method"):
        tables.method_mean(rows, "AD[9,10)", "accuracy")
    matched = tables.matched_compute(rows, sizes=(2, 3))
    assert len(matched) == 1  # no Duos cost [3, 4) x base
    row = matched.iloc[0]
    assert row["compute (x base)"] == "[2, 3)" and row["Duos"] == 2
    assert row["Duo accuracy"] == pytest.approx(0.85) and row["DE nll"] == pytest.approx(0.35)
    # Duos: accuracy 0.85 > 0.84 (better), NLL 0.40 > 0.35 (worse), AURC 0.04 < 0.05 (better)
    assert row["Duos better on"] == 2
