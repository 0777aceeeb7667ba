# Bir Tereze — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := shared/kernel shared/workcal shared/civreg deploy gateway intake-service registry-service notification-service fee-service
STAMP := $(VENV)/.installed
# Every third-party package, transitive, pinned with its hashes: written by `make lock` from requirements.in and
# the packages' pyproject.toml files, never by hand.
LOCK := requirements.lock
# The project's own packages: installed editable, never locked.
OWN := birtereze-kernel birtereze-workcal birtereze-civreg birtereze-deploy birtereze-gateway birtereze-intake birtereze-registry \
  birtereze-notification birtereze-fee
# Time zones from the pinned tzdata package only: a host database older than 2024a would put Almaty at UTC+6
# after 2024-03-01 (workcal.zones refuses to run on a disagreeing one).
export PYTHONTZPATH :=

.PHONY: system install lock run test test-unit test-integration test-e2e fuzz lint format bench schemas kafka clean asyncapi-parser desk-assets

# Third-party packages come only from the lock, each checked against its hash (and pip refuses the install if a
# dependency is missing from it); then the project's own packages, editable, without dependencies and built with
# the locked setuptools, so nothing unpinned is downloaded. `pip check` fails when a pyproject.toml names a
# dependency the lock lacks: run `make lock`.
$(STAMP): $(LOCK) $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation $(foreach p,$(PACKAGES),-e ./$(p))
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

## Re-resolves requirements.lock, keeping every pin it has (uv prefers them). A new dependency in a pyproject.toml or
## requirements.in gets its newest version; `make lock UPGRADE="fastapi uvicorn"` moves named packages,
## `make lock UPGRADE=--all` every one. Commit the lock; `make install` then installs exactly it.
lock:
	test -x $(BIN)/uv || { test -x $(BIN)/python || $(PY) -m venv $(VENV); \
	  $(BIN)/python -m pip install -q --require-hashes -r $(LOCK); }
	$(BIN)/uv pip compile requirements.in --quiet --generate-hashes --python-version 3.11 \
	  $(foreach n,$(OWN),--no-emit-package $(n)) \
	  $(if $(filter --all,$(UPGRADE)),--upgrade,$(foreach u,$(UPGRADE),--upgrade-package $(u))) \
	  --custom-compile-command "make lock" -o $(LOCK)

## Fetches Apache Kafka from Maven Central (cached in .cache/kafka).
kafka: install
	$(BIN)/python -m btdeploy kafka-fetch

## Debian packages beyond the base image, installed only when missing (as root): kcat, the independent Kafka client
## of the ACL tests (ADR 0023); Chromium and its driver for the desk's browser tests (never a browser download:
## Playwright drives /usr/bin/chromium); DejaVu fonts, which carry the Kazakh letters, for the PDF documents.
SYSTEM_PACKAGES := kcat chromium chromium-driver fonts-dejavu-core
system:
	dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { apt-get update -q && \
	  apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES); }

## Brings up PostgreSQL, Kafka and all five services on 127.0.0.1; Ctrl-C stops everything.
run: install system desk-assets
	$(BIN)/python -m btdeploy run

## The official AsyncAPI parser, pinned in tests/asyncapi/package-lock.json (the partner document's test runs it).
ASYNCAPI_PARSER := tests/asyncapi/node_modules/.package-lock.json
$(ASYNCAPI_PARSER): tests/asyncapi/package-lock.json
	cd tests/asyncapi && npm ci --no-audit --no-fund --ignore-scripts

asyncapi-parser: $(ASYNCAPI_PARSER)

## The browser assets the gateway serves locally (Chart.js for the desk, Swagger UI for /docs) and axe-core for the
## desk's accessibility tests, pinned in gateway/assets/package-lock.json; nothing is loaded from a CDN.
DESK_ASSETS := gateway/assets/node_modules/.package-lock.json
$(DESK_ASSETS): gateway/assets/package-lock.json
	cd gateway/assets && npm ci --no-audit --no-fund --ignore-scripts

desk-assets: $(DESK_ASSETS)

## Unit, integration and end-to-end tests (real PostgreSQL and Kafka, started on free ports).
test: install system kafka asyncapi-parser desk-assets
	$(BIN)/pytest -q -p no:cacheprovider

## schemathesis over every operation of the gateway's OpenAPI as every role, far longer than in `make test`
## (BT_FUZZ_EXAMPLES examples per operation and role in its fuzzing phase; BT_FUZZ_SEED another seed).
fuzz: install kafka
	BT_FUZZ_EXAMPLES=$${BT_FUZZ_EXAMPLES:-300} $(BIN)/pytest -q -p no:cacheprovider -m fuzz tests/fuzz

test-unit: install
	$(BIN)/pytest -q -m "not integration and not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# --no-incremental: a cache written while packages were re-installed editable gave false errors; 4 s anyway.
	$(BIN)/mypy --no-incremental

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Regenerates the committed JSON Schemas of the event catalogue and the partners' AsyncAPI document.
schemas: install
	$(BIN)/python -m civreg.schemas write
	$(BIN)/python -m civreg.partners.asyncapi write

## The platform beside its bare baselines in one run (issue 13, docs/bench/): ratios, goals, verdicts; never fails on
## timing. ~10 min; BENCH_ARGS="--quick" ~3 min. Each run is appended to docs/bench/results.jsonl and README.md.
bench: install kafka
	$(BIN)/python -m btdeploy bench $(BENCH_ARGS)

## Removes what `make run` keeps, its database included (as root the cluster lives where .run/postgres/cluster points).
clean:
	if [ -L .run/postgres/cluster ]; then rm -rf -- "$$(readlink .run/postgres/cluster)"; fi
	rm -rf .run
