# Hotline: the two commands are `make demo` and `make test`; both install what is missing first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_ARGS ?=

.PHONY: install demo test unit integration system chaos bench lint proto up down reset clean

$(STAMP): requirements.lock pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/hotline demo $(DEMO_ARGS)

test: install lint
	$(PY) -m pytest -q tests

unit: install
	$(PY) -m pytest -q tests/unit

integration: install
	$(PY) -m pytest -q tests/integration

system: install
	$(PY) -m pytest -q tests/system

# Every fault of the demo (SIGKILL of ingress-sip, broker, ClickHouse, analytics sink, router)
# with longer runs than `make test` uses (90 s of calls each, about 20 minutes in all).
chaos: install
	HOTLINE_CHAOS_DURATION=$${HOTLINE_CHAOS_DURATION:-90} $(PY) -m pytest -q tests/system/test_demo.py

bench: install
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy platform services cli bench

proto: install
	$(PY) scripts/gen_proto.py

up: install
	$(VENV)/bin/hotline up

down:
	$(VENV)/bin/hotline down

reset:
	$(VENV)/bin/hotline reset

clean:
	-$(VENV)/bin/hotline down
	rm -rf $(VENV) .hotline build
