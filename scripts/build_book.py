"""Execute every chapter with papermill on one profile, then build the HTML book.

    .venv/bin/python scripts/build_book.py --profile demo

Steps:
1. Stage the book source in ``_build/src``: ``_config.yml``, ``_toc.yml``, ``book/`` and, for each
   ``notebooks/NN_topic.py`` (the source of truth), a notebook converted by jupytext. Staging keeps
   the ``.py``/``.ipynb`` pair of ``notebooks/`` away from Sphinx, which refuses two files of one
   name. The exercises' solution cells get the label "Show solution" for their collapsed toggle
   and lose nbgrader's marker lines.
2. Execute each staged notebook in place with papermill (``-p profile PROFILE``), timing it.
   A failing notebook stops the build with its name, the failing cell and the error.
3. ``jupyter-book build`` with warnings as errors into ``_build/html``.

Per-notebook wall times go to ``_build/timings.json`` and are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from duolib import profiles

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
STAGE = BUILD / "src"


def stage() -> list[Path]:
    import jupytext

    if STAGE.exists():
        shutil.rmtree(STAGE)
    (STAGE / "notebooks").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, STAGE / name)
    shutil.copytree(ROOT / "book", STAGE / "book")
    staged = []
    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        target = STAGE / "notebooks" / f"{source.stem}.ipynb"
        notebook = jupytext.read(source)
        notebook.metadata.pop("jupytext", None)
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        label_solutions(notebook)
        jupytext.write(notebook, target)
        staged.append(target)
    return staged


# The exercises' solutions (cells tagged ``solution``, and ``hide-cell``) are collapsed in the
# book under this label instead of myst-nb's "Show code cell content".
SOLUTION_PROMPTS = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
# nbgrader's markers around each solution: for scripts/make_student.py, not for the reader.
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def label_solutions(notebook) -> None:
    """Give every cell tagged ``solution`` the myst-nb cell metadata of its toggle's label, and
    drop its marker lines from what the book shows."""
    for cell in notebook.cells:
        if "solution" in cell.metadata.get("tags", []):
            cell.metadata.setdefault("mystnb", {}).update(SOLUTION_PROMPTS)
            lines = cell.source.splitlines()
            cell.source = "\n".join(x for x in lines if x.strip() not in SOLUTION_MARKERS)


def execute(notebook: Path, profile: str) -> float:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(notebook),
            parameters={"profile": profile},
            cwd=str(ROOT),
            kernel_name="python3",
            progress_bar=False,
        )
    except PapermillExecutionError as err:
        print(
            f"\nBOOK BUILD FAILED: notebook {notebook.name}, cell {err.cell_index} "
            f"(execution count {err.exec_count}):\n{err.ename}: {err.evalue}\n",
            file=sys.stderr,
        )
        print("".join(err.traceback[-3:]), file=sys.stderr)
        sys.exit(1)
    seconds = time.perf_counter() - start
    hide_injected_parameters(notebook)
    return seconds


def hide_injected_parameters(notebook: Path) -> None:
    """Tag papermill's injected-parameters cell ``remove-cell``: plumbing, not the chapter."""
    import nbformat

    executed = nbformat.read(notebook, as_version=4)
    for cell in executed.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(executed, notebook)


def record_runtimes(profile: str, cache_state: str, timings: dict) -> None:
    """Merge this build's per-chapter wall times into the table the chapters' headers read."""
    import datetime
    import os

    import torch

    from duolib import chapter

    table = json.loads(chapter.RUNTIMES.read_text()) if chapter.RUNTIMES.exists() else {}
    machine = f"{os.cpu_count()} CPU cores"
    if torch.cuda.is_available():
        machine += f", {torch.cuda.get_device_name()}"
    entry = table.setdefault(profile, {})
    entry[cache_state] = {
        "machine": machine,
        "date": datetime.date.today().isoformat(),
        "seconds": {k: v for k, v in timings.items() if k[:2].isdigit()},
    }
    chapter.RUNTIMES.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"recorded {cache_state} runtimes of {profile} in {chapter.RUNTIMES}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo", choices=sorted(profiles.PROFILES))
    parser.add_argument(
        "--record-runtimes",
        choices=("cold", "warm"),
        help="store the chapters' wall times as this profile's cold (empty cache, book order) "
        "or warm (everything cached) runtimes, which the chapters' headers state",
    )
    args = parser.parse_args()

    notebooks = stage()
    timings = {}
    for notebook in notebooks:
        print(f"executing {notebook.name} on profile {args.profile} ...", flush=True)
        timings[notebook.stem] = round(execute(notebook, args.profile), 1)
        print(f"  done in {timings[notebook.stem]} s", flush=True)

    start = time.perf_counter()
    html = BUILD / "html"
    if html.exists():
        shutil.rmtree(html)
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(STAGE),
        "--path-output",
        str(ROOT),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
    ]
    result = subprocess.run(command, cwd=ROOT)
    timings["jupyter-book build"] = round(time.perf_counter() - start, 1)
    (BUILD / "timings.json").write_text(
        json.dumps({"profile": args.profile, "seconds": timings}, indent=2)
    )
    if result.returncode != 0:
        print("\nBOOK BUILD FAILED: jupyter-book reported errors (see above).", file=sys.stderr)
        sys.exit(result.returncode)
    if args.record_runtimes:
        record_runtimes(args.profile, args.record_runtimes, timings)
    print("\nwall time per step (s):")
    for name, seconds in timings.items():
        print(f"  {name:<28} {seconds:>7}")
    print(f"\nbook: {html / 'index.html'}")


if __name__ == "__main__":
    main()
