# The two commands of the README: `make book` and `make test`. Both install first if needed.
PROFILE ?= demo
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
LINTED  := duolib tests benchmarks scripts notebooks/*.py

.PHONY: install book test lint clean bench

install: $(STAMP)

# torch/torchvision are pinned by constraints.txt only here, because only those wheels lie on
# this machine's disk; pyproject.toml declares a range so Colab keeps its own torch.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e ".[book,test]"
	touch $@

book: $(STAMP)
	$(PY) scripts/build_book.py --profile $(PROFILE)

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/lint-imports

# Every chapter runs twice: on smoke (the generated benchmark) and on paper-rehearsal (the paper
# profile's code path on tiny generated folders in the datasets' real formats, random weights).
test: lint
	DUOLIB_PROFILE=smoke $(PY) -m pytest --nbmake --nbmake-timeout=900 tests notebooks
	DUOLIB_PROFILE=paper-rehearsal $(PY) -m pytest --nbmake --nbmake-timeout=900 notebooks

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_laplace.py

clean:
	rm -rf _build
