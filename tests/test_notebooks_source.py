"""The notebook sources follow the book's conventions (the notebooks themselves run via nbmake)."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
PARAMETERS = '# None: $DUOLIB_PROFILE, else "colab" on a GPU and "demo" on a CPU\nprofile = None'


def test_there_are_chapters():
    assert SOURCES, "no notebooks/NN_topic.py found"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_paired_ipynb_is_in_sync_and_has_no_outputs(source):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{paired.name} missing: run `jupytext --sync {source}`"
    committed = json.loads(paired.read_text())
    for cell in committed["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{paired.name} holds outputs: strip them"
            assert cell.get("execution_count") is None, f"{paired.name} holds execution counts"
    from_source = jupytext.read(source)
    committed_cells = [(c["cell_type"], "".join(c["source"])) for c in committed["cells"]]
    source_cells = [(c.cell_type, c.source) for c in from_source.cells]
    assert committed_cells == source_cells, (
        f"{paired.name} is out of sync with {source.name}: run `jupytext --sync {source}`"
    )


def _repository() -> tuple[str, str]:
    """(``https://github.com/owner/name``, branch) from ``_config.yml``, the one place they are."""
    url = CONFIG["repository"]["url"].rstrip("/")
    assert url.startswith("https://github.com/") and url.count("/") == 4, url
    return url, CONFIG["repository"].get("branch", "main")


def test_the_book_makes_colab_launch_buttons_from_the_repository():
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"].get("path_to_book", "") == ""


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_badge_and_setup_cell_point_at_the_configured_repository(source):
    url, branch = _repository()
    cells = jupytext.read(source).cells
    owner_name = url.removeprefix("https://github.com/")
    badge = (
        f"(https://colab.research.google.com/github/{owner_name}/blob/{branch}/notebooks/"
        f"{source.stem}.ipynb)"
    )
    assert badge in cells[0].source, f"{source.name}: the Colab badge must link {badge}"
    setup = [c for c in cells if c.cell_type == "code"][1]
    assert f'"duolib[book] @ git+{url}"' in setup.source, f"{source.name}: set-up installs {url}"
    for cell in cells:
        for other in re_urls(cell.source):
            assert other.startswith(url) or "github.com" not in other, (
                f"{source.name} names another repository: {other}"
            )


def test_every_chapter_has_the_same_set_up_cell():
    """The set-up cell runs before duolib exists, so it cannot call shared code: each chapter
    carries a copy, and the copies must not drift apart."""
    setups = {
        source.stem: [c for c in jupytext.read(source).cells if c.cell_type == "code"][1].source
        for source in SOURCES
    }
    assert len(set(setups.values())) == 1, sorted(setups)


def re_urls(text: str) -> list[str]:
    import re

    return re.findall(r"https?://[^\s)\"']+", text)


def test_readme_names_the_configured_repository():
    url, branch = _repository()
    colab = f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}"
    readme = (ROOT / "README.md").read_text()
    for other in re_urls(readme):
        if other.startswith("https://colab.research.google.com/github/"):
            assert other.startswith(f"{colab}/blob/{branch}/notebooks/"), other
        else:
            assert other.startswith(url) or "github.com" not in other, other
    assert url in readme


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapter_skeleton(source):
    """Title and badge, then the plumbing the book removes: parameters, Colab set-up, imports
    that choose the profile; then the profile note (its input removed in the book)."""
    cells = jupytext.read(source).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "title first"
    assert "colab.research.google.com" in cells[0].source, "Colab badge in the title cell"
    code = [c for c in cells if c.cell_type == "code"]
    tags = [c.metadata.get("tags", []) for c in code]
    assert "parameters" in tags[0], "first code cell tagged parameters"
    assert code[0].source == PARAMETERS
    assert "remove-cell" in tags[0] and "remove-cell" in tags[1], "plumbing stays out of the book"
    assert "dl.profiles.choose(profile)" in code[2].source, "the imports cell chooses the profile"
    note = f'dl.chapter.profile_note(profile, "{source.stem}")'
    notes = [i for i, c in enumerate(code) if note in c.source]
    assert notes and "remove-input" in tags[notes[0]], f"{source.name}: {note} (remove-input)"


MAX_CELL_LINES = 15
# Code the book shows must fit its page (and a Colab cell) without scrolling sideways.
MAX_SHOWN_CODE_COLUMNS = 76


def _hidden(cell) -> bool:
    tags = cell.metadata.get("tags", [])
    return "remove-input" in tags or "remove-cell" in tags


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_code_cells_are_short(source):
    """One idea per cell: no code cell over 15 lines, the parameters and set-up cells aside."""
    code = [c for c in jupytext.read(source).cells if c.cell_type == "code"]
    for index, cell in enumerate(code[2:], start=2):
        lines = cell.source.rstrip().splitlines()
        assert len(lines) <= MAX_CELL_LINES, (
            f"code cell {index} of {source.name} has {len(lines)} lines: {lines[0]!r}"
        )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_shown_code_fits_the_page(source):
    for cell in jupytext.read(source).cells:
        if cell.cell_type == "code" and not _hidden(cell):
            for line in cell.source.splitlines():
                assert len(line) <= MAX_SHOWN_CODE_COLUMNS, (
                    f"{source.name}: a line the book shows is {len(line)} columns: {line!r}"
                )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapters_glue_through_duolib(source):
    """Glue goes through duolib.chapter, so no chapter re-implements it."""
    text = source.read_text()
    assert "from myst_nb import glue" not in text
    assert "def " not in text, "a chapter defines a function: move it into duolib"
