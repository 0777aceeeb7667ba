# Bir Tereze — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := shared deploy gateway intake-service registry-service notification-service fee-service
STAMP := $(VENV)/.installed
# Time zones from the pinned tzdata package only: a host database older than 2024a would put Almaty at UTC+6
# after 2024-03-01 (btkernel.workcal.zones refuses to run on a disagreeing one).
export PYTHONTZPATH :=

.PHONY: install run test test-unit test-integration test-e2e fuzz lint format bench schemas kafka clean

$(STAMP): constraints.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt $(foreach p,$(PACKAGES),-e ./$(p)) \
	  pytest pytest-asyncio hypothesis schemathesis aiosmtpd ruff mypy types-PyYAML
	touch $(STAMP)

install: $(STAMP)

## Fetches Apache Kafka from Maven Central (cached in .cache/kafka).
kafka: install
	$(BIN)/python -m btdeploy kafka-fetch

## Brings up PostgreSQL, Kafka and all five services on 127.0.0.1; Ctrl-C stops everything.
run: install
	$(BIN)/python -m btdeploy run

## Unit, integration and end-to-end tests (real PostgreSQL and Kafka, started on free ports).
test: install kafka
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

## Regenerates the committed JSON Schemas of the event catalogue.
schemas: install
	$(BIN)/python -m btkernel.schemas write

## Throughput and latency through the gateway; prints figures, never fails on timing.
bench: install kafka
	$(BIN)/python -m btdeploy bench $(BENCH_ARGS)

## Removes what `make run` keeps, its database included (as root the cluster lives where .run/postgres/cluster points).
clean:
	if [ -L .run/postgres/cluster ]; then rm -rf -- "$$(readlink .run/postgres/cluster)"; fi
	rm -rf .run
