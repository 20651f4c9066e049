# snapkit.cloud development harness. `make help` lists the targets; docs/development.md
# explains how it works. All state lives under .build/ (git-ignored).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT        := $(CURDIR)
BUILD       := $(ROOT)/.build
VENV        := $(BUILD)/venv
BIN         := $(VENV)/bin
PY          := $(BIN)/python
STAMP       := $(VENV)/.installed
COLLECTIONS := $(BUILD)/collections
COLL        := $(COLLECTIONS)/ansible_collections/snapkit/cloud
WHEELS      := $(BUILD)/wheels
DIST        := $(BUILD)/dist
LOGS        := $(BUILD)/logs

# Requirements that define the venv; requirements.txt (module runtime deps) is optional
# so the harness also works before it exists.
REQ_FILES   := constraints.txt requirements-test.txt $(wildcard requirements.txt)
PIP_REQS    := -c constraints.txt $(addprefix -r ,$(filter-out constraints.txt,$(REQ_FILES)))

# Python version of the venv (X.Y), for ansible-test --python. Evaluated lazily.
PYVER        = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYTEST_WORKERS ?= 2
OPENSTACK_BACKENDS ?= sim
CLOUDSIM_ENDPOINTS ?= $(BUILD)/cloudsim-endpoints.json
OPENSTACK_REAL ?= $(BUILD)/openstack-real

# ansible-test --venv builds one venv per sanity test (and one for the controller) and
# installs ansible-test's pinned requirements into them; this isolates the tests from our
# own venv. Override with SANITY_MODE=--local to run the controller from our venv instead.
SANITY_MODE ?= --venv
SANITY_ARGS ?=
UNITS_ARGS  ?=

# Our venv's bin first: ansible-test, ansible-playbook, molecule, ansible-config ...
export PATH := $(BIN):$(PATH)
# Keep ansible-test and ansible quiet and deterministic in logs
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export NO_COLOR := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv collections get-pip-standin sanity units integration molecule lint \
        build build-check docs ee test demo cloudsim openstack-real integration-real bench clean constraints

help: ## Show this help
	@echo "snapkit.cloud make targets (state under .build/, see docs/development.md):"
	@awk -F':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .build/venv (Python >= 3.12) and install constraints.txt pins

$(STAMP): $(REQ_FILES) tools/find-python.sh
	@if [ ! -x "$(PY)" ] || ! "$(PY)" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then \
	    py="$${PYTHON:-$$(tools/find-python.sh)}"; \
	    echo "creating $(VENV) with $$py ($$("$$py" -V))"; \
	    rm -rf "$(VENV)"; "$$py" -m venv "$(VENV)"; \
	fi
	$(PY) -m pip install --progress-bar off --quiet $(PIP_REQS)
	$(PY) -m pip check
	@touch $@

collections: venv ## Copy the repo into .build/collections/ansible_collections/snapkit/cloud (+ dependency collections)
	@tools/build-collections.sh "$(PY)" "$(COLLECTIONS)"

get-pip-standin: venv ## Install the offline pip bootstrap stand-in where ansible-test looks for it
	@tools/install-get-pip-standin.sh "$(PY)" "$(WHEELS)"

# validate-modules on a .ps1 module needs pwsh (it asks PowerShell for the argument spec) and
# aborts without it; pwsh is on neither Debian nor PyPI. An ignore entry
# (`validate-modules!skip`) would make ansible-lint's production profile fail
# (sanity[cannot-ignore]), and `--exclude` would drop the .ps1 files from EVERY sanity test.
# So: run all tests except validate-modules on everything, then validate-modules alone with
# the .ps1 modules excluded (only when pwsh is missing). The .ps1 files are parsed with
# tree-sitter-powershell by our own tests instead.
sanity: collections get-pip-standin ## ansible-test sanity (all tests, offline) on the copied tree
	@cd "$(COLL)" && rc=0; \
	excludes=(); \
	if ! command -v pwsh >/dev/null 2>&1; then \
	    for f in plugins/modules/*.ps1; do if [ -e "$$f" ]; then excludes+=(--exclude "$$f"); fi; done; \
	fi; \
	set -x; \
	ansible-test sanity --color no $(SANITY_MODE) --python $(PYVER) --skip-test validate-modules $(SANITY_ARGS) || rc=1; \
	ansible-test sanity --color no $(SANITY_MODE) --python $(PYVER) --test validate-modules "$${excludes[@]}" $(SANITY_ARGS) || rc=1; \
	exit $$rc

# --local runs pytest from our venv, which already has ansible-test's unit requirements
# (mock, pytest, pytest-mock, pytest-xdist, pyyaml: pinned in constraints.txt) plus boto3,
# moto, openstacksdk; nothing is installed at test time. pytest-ansible must never be
# installed in this venv (it hijacks collection loading, see docs/development.md).
units: collections ## ansible-test units on the copied tree
	@cd "$(COLL)" && set -x; \
	ansible-test units --color no --local --python $(PYVER) $(UNITS_ARGS)

# One pytest session per directory: each has its own conftest.py, and pytest's default
# ("prepend") import mode imports both as the top-level module `conftest`, so one session
# over both dirs would hand one directory's tests the other's conftest.
integration: collections ## pytest tests/integration + tests/cloudsim/tests against cloudsim
	@rc=0; for d in tests/integration tests/cloudsim/tests; do \
	    ( set -x; PYTHONPATH="$(ROOT)/tests$${PYTHONPATH:+:$$PYTHONPATH}" \
	      ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" \
	      "$(PY)" -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --durations=30 $(PYTEST_ARGS) "$$d" ) || rc=1; \
	done; exit $$rc

molecule: collections ## molecule test --all (collection mode, extensions/molecule) on the copied tree
	@cd "$(COLL)" && set -x; \
	ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" molecule test --all $(MOLECULE_ARGS)

# antsibull-docs: ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false limits "all collections" to
# .build/collections (ours + declared deps). Otherwise it also dumps the docs of the ~100
# collections of the `ansible` package in the venv (4 minutes instead of 20 seconds), and a
# reference to an undeclared collection would pass.
lint: collections ## ansible-lint (production), antsibull-docs lint, antsibull-changelog lint
	@rc=0; set -x; \
	ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" ansible-lint --offline --nocolor || rc=1; \
	( cd "$(COLL)" && ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	    antsibull-docs lint-collection-docs --plugin-docs \
	    --skip-rstcheck --validate-collection-refs=all --disallow-unknown-collection-refs . ) || rc=1; \
	antsibull-changelog lint || rc=1; \
	exit $$rc

build: collections ## ansible-galaxy collection build into .build/dist
	@rm -rf "$(DIST)"; set -x; \
	cd "$(COLL)" && ansible-galaxy collection build --force --output-path "$(DIST)"

build-check: build ## Install the built tarball offline into a temp path and render a module's docs
	@tools/build-check.sh "$(DIST)" "$(BUILD)/install-check"

docs: collections ## Docs site (antsibull-docs + Sphinx) in .build/docs/html, then every page opened in headless Chromium
	@tools/docs/ensure-chromium.sh
	@tools/docs/build.sh "$(PY)" "$(COLLECTIONS)" "$(BUILD)/docs"
	SNAPKIT_DOCS_HTML="$(BUILD)/docs/html" "$(PY)" -m pytest -p no:cacheprovider -q tests/docsite

ee: build ## Render the execution environment's build context (ansible-builder create) into .build/ee
	@rm -rf "$(BUILD)/ee" "$(BUILD)/ee-files"; mkdir -p "$(BUILD)/ee-files"; \
	cp "$(DIST)"/snapkit-cloud-*.tar.gz "$(BUILD)/ee-files/snapkit-cloud.tar.gz"; set -x; \
	ansible-builder create --file execution-environment.yml --context "$(BUILD)/ee" --output-filename Containerfile

test: ## Everything CI runs (all stages, summary, logs in .build/logs/)
	@tools/run-tests.sh

constraints: ## Regenerate constraints.txt from the requirements files (needs network)
	@tools/update-constraints.sh

demo: collections ## Run the demo chapters against cloudsim (tools/demo.py; CHAPTERS="ebs" for some; OPENSTACK_BACKENDS="sim real")
	PYTHONPATH="$(ROOT)/tests" ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" CHAPTERS="$(CHAPTERS)" OPENSTACK_BACKENDS="$(OPENSTACK_BACKENDS)" \
	    SNAPKIT_OPENSTACK_REAL_STATE="$(OPENSTACK_REAL)" "$(PY)" tools/demo.py

cloudsim: venv ## Run the local test clouds in the foreground (SPEED=60: simulated seconds per second); endpoints, vars in .build/
	PYTHONPATH="$(ROOT)/tests" "$(PY)" -m cloudsim --endpoints "$(CLOUDSIM_ENDPOINTS)" --speed "$(or $(SPEED),1)"

# The real OpenStack services (tests/openstack_real): the launcher runs in our venv (its openstacksdk seeds the cloud),
# the services in their own venv under .build/openstack-real/ (first run: MariaDB and RabbitMQ from Debian, the venv,
# the database syncs; later runs reuse them). clouds.yaml (clouds devstack and devstack-admin) is in $(OPENSTACK_REAL)/.
openstack-real: venv ## Run the real OpenStack services (keystone, nova, cinder, glance, neutron, placement) in the foreground; prints the clouds.yaml path
	SNAPKIT_OPENSTACK_REAL_STATE="$(OPENSTACK_REAL)" PYTHONPATH="$(ROOT)/tests" "$(PY)" -m openstack_real serve

integration-real: collections ## Start the real OpenStack services, run the tests marked openstack_real against them, stop them
	@SNAPKIT_OPENSTACK_REAL_STATE="$(OPENSTACK_REAL)" tests/openstack_real/run-stage.sh "$(PY)" "$(COLLECTIONS)" $(PYTEST_ARGS)

bench: collections ## Benchmarks against the anchor collections (benchmarks/run.py; BENCH_ARGS=--quick for a smoke run)
	PYTHONPATH="$(ROOT)/tests" ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" "$(PY)" benchmarks/run.py $(BENCH_ARGS)

clean: ## Remove .build/ and tests/output/
	rm -rf "$(BUILD)" tests/output
