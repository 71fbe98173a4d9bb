# The two commands of the README: `make book` and `make test`. Both install first if needed.
PROFILE ?= demo
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
LINTED  := duolib tests benchmarks scripts notebooks/*.py

.PHONY: install book test lint clean bench lab publish check-book colab-check student

install: $(STAMP)

# torch/torchvision are pinned by constraints.txt only here, because only those wheels lie on
# this machine's disk; pyproject.toml declares a range so Colab keeps its own torch.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e ".[book,test,lab]"
	touch $@

book: $(STAMP)
	$(PY) scripts/build_book.py --profile $(PROFILE)

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/check-jsonschema -q --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/zizmor -q --offline .github/workflows

# Every chapter runs twice: on smoke as Jupyter runs it (tests/test_notebooks_run.py: nbclient,
# no papermill, no environment variable), and on paper-rehearsal (the paper profile's code path
# on tiny generated folders in the datasets' real formats, random weights) through nbmake.
test: lint
	DUOLIB_PROFILE=smoke $(PY) -m pytest tests
	DUOLIB_PROFILE=paper-rehearsal $(PY) -m pytest --nbmake --nbmake-timeout=900 notebooks

# The student notebooks: every chapter with its solutions removed by nbgrader, outputs cleared,
# in _build/student/ (book/instructors.md). STUDENT_PROFILE=smoke writes that profile into their
# parameters cell.
student: $(STAMP)
	$(PY) scripts/make_student.py $(if $(STUDENT_PROFILE),--profile $(STUDENT_PROFILE))

# Open the chapters in JupyterLab, with this venv's kernel also registered for other Jupyters.
lab: $(STAMP)
	$(PY) -m ipykernel install --user --name duos --display-name "Python (duos)"
	$(VENV)/bin/jupyter lab notebooks

# Push the built book (make book) to the gh-pages branch; the workflow in .github does the same
# on every push to main.
publish: $(STAMP)
	test -f _build/html/index.html || $(MAKE) book
	$(VENV)/bin/ghp-import --no-jekyll --push --force _build/html

# The built book in headless Chromium with the network off: maths rendered, no plumbing shown,
# Colab buttons pointing at the repository (needs Debian's chromium).
check-book: $(STAMP)
	$(PY) scripts/check_book.py _build/html

# Colab's install, simulated: a fresh venv that already has torch and torchvision, then the
# chapters' set-up cell installs this checkout with the book extra (several minutes).
colab-check: $(STAMP)
	$(PY) scripts/colab_install_check.py

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_laplace.py

clean:
	rm -rf _build
