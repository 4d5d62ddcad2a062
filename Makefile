# Switchboard — the two commands: `make run` (demo on SQLite) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
APP_PORT ?= 8501
SANDBOX_PORT ?= 8765

.PHONY: setup system-packages run test lint bench migrate demo worker app sandbox rotate-key clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

system-packages:
	bash .ci/system-packages.sh

migrate: setup
	$(PY) -m core.workspace

demo: setup
	$(PY) -m core.demo

# The demo: sandbox + worker + app on SQLite; Ctrl-C stops all three.
run: setup system-packages
	@export SWITCHBOARD_ADMIN_PASSWORD="$${SWITCHBOARD_ADMIN_PASSWORD:-switchboard-admin}"; \
	export SWITCHBOARD_SANDBOX_URL="$${SWITCHBOARD_SANDBOX_URL:-http://127.0.0.1:$(SANDBOX_PORT)}"; \
	$(PY) -m core.demo || exit 1; \
	trap 'kill $$(jobs -p) 2>/dev/null; wait; echo "Switchboard stopped."' INT TERM EXIT; \
	$(PY) -m sandbox --port $(SANDBOX_PORT) & \
	$(PY) -m core.worker & \
	$(PY) -m streamlit run app.py --server.port $(APP_PORT) --server.headless true \
	  --browser.gatherUsageStats false & \
	sleep 4; \
	echo ""; \
	echo "Switchboard is running: http://localhost:$(APP_PORT)"; \
	echo "  sign in as  admin  / $$SWITCHBOARD_ADMIN_PASSWORD   (admin)"; \
	echo "              editor / switchboard-editor   (editor)"; \
	echo "              viewer / switchboard-viewer   (viewer)"; \
	echo "              lead   / switchboard-lead     (Marketing domain lead, viewer elsewhere)"; \
	echo "  sandbox APIs: $$SWITCHBOARD_SANDBOX_URL   — Ctrl-C stops everything"; \
	wait

worker: setup
	$(PY) -m core.worker

app: setup
	$(PY) -m streamlit run app.py --server.port $(APP_PORT) --server.headless true

sandbox: setup
	$(PY) -m sandbox --port $(SANDBOX_PORT)

rotate-key: setup
	$(PY) -m core.vault rotate

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: setup system-packages lint
	$(PY) -m pytest -q -p no:cacheprovider

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
