"""duolib.chapter: the sentences, figures and notes chapters show, in every front end."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from duolib import chapter, profiles  # noqa: E402
from duolib.chapter import figure, plain, profile_note, say  # noqa: E402


def test_numpy_scalars_become_python_numbers_whose_repr_is_a_number():
    for value, expected_type in (
        (np.float64(0.25), float),
        (np.int64(3), int),
        (np.bool_(1), bool),
    ):
        converted = plain(value)
        assert type(converted) is expected_type
        assert repr(converted) in ("0.25", "3", "True")
    assert plain("holds") == "holds" and plain(2.5) == 2.5
    assert float(repr(plain(np.float32(0.5)))) == 0.5


def test_the_profile_note_renders_as_markdown_and_names_the_profile():
    note = profile_note("paper-rehearsal")
    text = note._repr_markdown_()
    assert text.startswith("**Profile `paper-rehearsal`**")
    assert "meaningless" in text and "imagenet, caltech256, iwildcam" in text
    assert repr(note) == text


# --- say: sentences stating computed values ------------------------------------------------


def test_say_formats_placeholders_like_format_and_reads_nested_values():
    note = say(
        "Duos improve {{n.improved_test:.0%}} of {{count}} Duos by {{n.median_test:.4f}}.",
        {"count": np.int64(12)},
        n={"improved_test": 0.75, "median_test": np.float64(0.01234)},
    )
    assert note._repr_markdown_() == "Duos improve 75% of 12 Duos by 0.0123."


def test_say_leaves_latex_braces_alone_and_dedents():
    text = say(
        r"""
        The $f_\text{large}$ of {{name}} has $\frac{1}{2}$.
        """,
        name="resnet50",
    ).text
    assert text == r"The $f_\text{large}$ of resnet50 has $\frac{1}{2}$."


def test_an_optional_clause_disappears_when_its_value_is_missing():
    values = {"test": 0.5, "ood": math.nan}
    assert say("{{test:.0%}} on test[[ and {{ood:.0%}} on OOD]].", values).text == "50% on test."
    values["ood"] = 0.25
    assert say("{{test:.0%}} on test[[ and {{ood:.0%}} on OOD]].", values).text == (
        "50% on test and 25% on OOD."
    )


def test_a_missing_value_outside_an_optional_clause_reads_n_a_never_nan():
    text = say("{{a:.0%}} and {{b}}", a=float("nan"), b=None).text
    assert text == "n/a and n/a" and "nan" not in text


def test_say_names_an_unknown_value_and_a_bad_format():
    with pytest.raises(KeyError, match="improved_tset"):
        say("{{n.improved_tset}}", n={"improved_test": 1.0})
    with pytest.raises(ValueError, match="cannot format verdict"):
        say("{{verdict:.2f}}", verdict="holds")


def test_figure_shows_the_figure_then_its_caption_and_closes_it(monkeypatch):
    shown = []
    monkeypatch.setattr(chapter, "_display", shown.append)
    fig = plt.figure()
    figure(fig, "Accuracy against FLOPs balance.")
    assert shown[0] is fig
    assert shown[1]._repr_markdown_() == "*Figure: Accuracy against FLOPs balance.*"
    assert not plt.fignum_exists(fig.number)


# --- which profile a chapter runs on, and how long it took -----------------------------------


def test_choose_takes_the_parameter_then_the_environment_then_the_hardware(monkeypatch):
    import torch

    monkeypatch.delenv("DUOLIB_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert profiles.choose(None) == "demo"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert profiles.choose(None) == "colab"
    monkeypatch.setenv("DUOLIB_PROFILE", "smoke")
    assert profiles.choose(None) == "smoke"
    assert profiles.choose("paper") == "paper"
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.choose("papper")


def test_durations_read_as_people_write_them():
    assert chapter.duration(14.4) == "14 s"
    assert chapter.duration(288) == "4 min 48 s"
    assert chapter.duration(3725) == "1 h 02 min"


def test_the_runtime_note_states_measured_cold_and_warm_times(monkeypatch, tmp_path):
    runtimes = tmp_path / "runtimes.json"
    runtimes.write_text(
        '{"smoke": {"cold": {"machine": "2 CPU cores", "date": "2026-11-25", '
        '"seconds": {"03_auroc": 141}}, "warm": {"machine": "2 CPU cores", '
        '"date": "2026-11-25", "seconds": {"03_auroc": 12.2}}}}'
    )
    monkeypatch.setattr(chapter, "RUNTIMES", runtimes)
    note = chapter.profile_note("smoke", "03_auroc").text
    assert "12 s with everything cached" in note
    assert "2 min 21 s in a build of the whole book from an empty cache" in note
    assert "fills the logit bank" in note
    assert "No runtime" in chapter.profile_note("demo", "03_auroc").text
