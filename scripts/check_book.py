"""Open every page of the built book in headless Chromium with the network off, and check it.

    .venv/bin/python scripts/check_book.py _build/html [--screenshot PAGE.html OUT.png]

Checks, per page, on the DOM after its scripts ran (Chromium's ``--dump-dom``):

* every equation is typeset: the page's math elements hold MathJax output and no TeX
  delimiters (``\\[``, ``\\(``, ``$$``) are left as text; MathJax must come from the site itself,
  since every outside host is unreachable;
* no plumbing is shown: no parameters, injected-parameters or set-up cell;
* every chapter has a Colab launch button for its notebook in the configured repository.

Needs Debian's ``chromium`` (``apt-get install chromium``). Exits non-zero listing failures.
"""

from __future__ import annotations

import argparse
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


def check_page(page: Path, html: Path, colab_prefix: str) -> list[str]:
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
    print(f"{str(name):<40} {len(math):>4} equations  {'ok' if not problems else 'FAILED'}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("--screenshot", nargs=2, metavar=("PAGE", "PNG"))
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
    problems = [problem for page in pages for problem in check_page(page, args.html, colab_prefix)]
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
    print(f"check_book: {len(pages)} pages, all equations typeset offline, no plumbing shown")


if __name__ == "__main__":
    main()
