"""What chapters glue must be formattable by the book: plain Python numbers and strings."""

from __future__ import annotations

import numpy as np

from duolib.chapter import plain, profile_note


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
