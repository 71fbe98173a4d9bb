"""Open every page of the built book in headless Chromium with the network off, and check it.

    .venv/bin/python scripts/check_book.py _build/html [--screenshot PAGE.html OUT.png]

Checks, per page, on the DOM after its scripts ran (Chromium's ``--dump-dom``):

* every equation is typeset: the page's math elements hold MathJax output and no TeX
  delimiters (``\\[``, ``\\(``, ``$$``) are left as text; MathJax must come from the site itself,
  since every outside host is unreachable;
* no plumbing is shown: no parameters, injected-parameters or set-up cell;
* every chapter has a Colab launch button for its notebook in the configured repository;
* every chapter shows the exercises its source (``notebooks/NN_topic.py``) has, in order, and
  each solution (a cell tagged ``solution``) is collapsed: inside a closed ``<details>`` whose
  summary says "Show solution".

Needs Debian's ``chromium`` (``apt-get install chromium``). Exits non-zero listing failures.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# Every host name resolves to nothing and every proxied request goes to a closed port: the
# page gets only what the built site holds.
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
]
PLUMBING = ("profile = None", "find_spec(", "# Parameters", "tag_injected-parameters")
MATH = re.compile(r'<(div|span) class="math[^"]*"[^>]*>(.*?)</\1>', re.DOTALL)
# An exercise's heading as myst renders it, and a solution cell with the toggle that hides it.
EXERCISE = re.compile(r"<strong>Exercise (\d+\.\d+)</strong>")
SOLUTION_CELL = re.compile(r'<div class="cell [^"]*\btag_solution\b[^"]*"')
COLLAPSED = re.compile(
    r'<div class="cell [^"]*\btag_solution\b[^"]*">\s*<details(?P<attributes>[^>]*)>\s*'
    r"<summary[^>]*>(?P<summary>.*?)</summary>",
    re.DOTALL,
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("check_book: no chromium found (Debian: apt-get install chromium)")


def rendered_dom(page: Path) -> str:
    with tempfile.TemporaryDirectory() as profile_dir:
        result = subprocess.run(
            [
                chromium(),
                *FLAGS,
                *OFFLINE,
                f"--user-data-dir={profile_dir}",
                "--virtual-time-budget=20000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if result.returncode != 0 or not result.stdout:
        raise RuntimeError(f"chromium failed on {page}: {result.stderr[-500:]}")
    return result.stdout


def exercise_problems(dom: str, name, expected: list[str]) -> list[str]:
    """What is wrong with a chapter page's exercises: ``expected`` are their numbers ("4.2") in
    the order of the chapter's source."""
    problems = []
    shown = EXERCISE.findall(dom)
    if shown != expected:
        problems.append(f"{name}: exercises {shown} shown, the chapter has {expected}")
    cells = SOLUTION_CELL.findall(dom)
    if len(cells) != len(expected):
        problems.append(f"{name}: {len(cells)} solution cells for {len(expected)} exercises")
    collapsed = [
        match
        for match in COLLAPSED.finditer(dom)
        if not re.search(r"\bopen\b", match["attributes"])
        and "Show solution" in re.sub(r"<[^>]+>", "", match["summary"])
    ]
    if len(collapsed) != len(cells):
        problems.append(
            f"{name}: {len(cells) - len(collapsed)} of {len(cells)} solutions not collapsed "
            'under "Show solution"'
        )
    return problems


def chapter_exercises(sources: Path) -> dict[str, list[str]]:
    """The exercises' numbers of every chapter source in ``sources``, read by
    scripts/exercise_table.py."""
    import jupytext

    spec = importlib.util.spec_from_file_location(
        "exercise_table", Path(__file__).with_name("exercise_table.py")
    )
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    return {
        source.stem: [e.number for e in table.exercises(jupytext.read(source), source.stem)]
        for source in sorted(sources.glob("[0-9][0-9]_*.py"))
    }


def check_page(
    page: Path, html: Path, colab_prefix: str, exercises: dict[str, list[str]]
) -> list[str]:
    problems = []
    dom = rendered_dom(page)
    name = page.relative_to(html)
    math = MATH.findall(dom)
    raw = [body[:60] for _, body in math if "mjx-container" not in body]
    if raw:
        problems.append(f"{name}: {len(raw)} of {len(math)} equations not typeset, e.g. {raw[0]!r}")
    # What a reader sees as text: typeset maths, code, scripts and the tab title aside.
    shown = re.sub(r"<(mjx-container|pre|script|style|title)\b.*?</\1>", "", dom, flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", shown)
    for delimiter in ("\\[", "\\(", "$$"):
        if delimiter in text:
            problems.append(f"{name}: TeX delimiter {delimiter} left as text")
    for plumbing in PLUMBING:
        if plumbing in dom:
            problems.append(f"{name}: plumbing shown ({plumbing!r})")
    if name.parts[0] == "notebooks":
        link = f"{colab_prefix}/notebooks/{page.stem}.ipynb"
        if link not in dom:
            problems.append(f"{name}: no Colab launch button to {link}")
        problems += exercise_problems(dom, name, exercises.get(page.stem, []))
    print(
        f"{str(name):<40} {len(math):>4} equations {len(EXERCISE.findall(dom)):>2} exercises  "
        f"{'ok' if not problems else 'FAILED'}"
    )
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("--screenshot", nargs=2, metavar=("PAGE", "PNG"))
    parser.add_argument(
        "--sources",
        type=Path,
        default=ROOT / "notebooks",
        help="where the chapters' NN_topic.py sources are, whose exercises the pages must show",
    )
    args = parser.parse_args()
    args.html = args.html.resolve()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repository = config["repository"]
    owner_name = repository["url"].removeprefix("https://github.com/")
    colab_prefix = (
        f"{config['launch_buttons']['colab_url']}/github/{owner_name}/blob/"
        f"{repository.get('branch', 'main')}"
    )
    pages = sorted(
        p
        for p in args.html.rglob("*.html")
        if not p.relative_to(args.html).parts[0].startswith("_")
        and p.name not in ("genindex.html", "search.html")
    )
    if not pages:
        sys.exit(f"check_book: no pages under {args.html}: run make book first")
    exercises = chapter_exercises(args.sources)
    problems = [
        problem
        for page in pages
        for problem in check_page(page, args.html, colab_prefix, exercises)
    ]
    if args.screenshot:
        page, png = args.screenshot
        subprocess.run(
            [
                chromium(),
                *FLAGS,
                *OFFLINE,
                "--window-size=1280,2400",
                "--virtual-time-budget=20000",
                f"--screenshot={Path(png).resolve()}",
                (args.html / page).resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        print(f"screenshot of {page}: {png}")
    if problems:
        sys.exit("check_book FAILED:\n  " + "\n  ".join(problems))
    print(
        f"check_book: {len(pages)} pages, all equations typeset offline, no plumbing shown, "
        f"{sum(map(len, exercises.values()))} exercises with their solutions collapsed"
    )


if __name__ == "__main__":
    main()
