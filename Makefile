# Steward: `make dev` runs the whole stack locally, `make test` runs every test.
# Both work on a fresh machine with Rust and Python: they install what they need into ./.venv.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# CI may point these at a cache outside the clone (see .ci/run).
VENV ?= $(CURDIR)/.venv
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR
export STEWARD_PYTHON := $(VENV)/bin/python
PYTHON3 ?= python3

.PHONY: admin bench package setup setup-iam setup-sam setup-e2e setup-schemathesis setup-fuzz build dev test load load-burst fuzz fuzz-in-test lint unit blackbox template-lint clean

$(VENV)/.installed: infra/requirements.txt
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

# Browser tests: playwright-core and axe-core from npm (pinned by e2e/package-lock.json) drive
# Debian's chromium; no browser is downloaded.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

e2e/node_modules/.installed: e2e/package.json e2e/package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
	  || { echo "the browser tests need Node.js 20 or later (playwright-core)"; exit 1; }
	cd e2e && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The local stack's IAM evaluator: @cloud-copilot/iam-simulate from npm (pinned by
# infra/local/iam/package-lock.json), run by infra/local/steward_local/iam.py. Only ever local:
# never shipped.
infra/local/iam/node_modules/.installed: infra/local/iam/package.json infra/local/iam/package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
	  || { echo "the local stack's IAM evaluator needs Node.js 20 or later"; exit 1; }
	cd infra/local/iam && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## setup-iam: the local stack's IAM policy evaluator (npm, in infra/local/iam)
setup-iam: infra/local/iam/node_modules/.installed

$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium

$(VENV)/checkov/.installed: infra/requirements-checkov.txt
	$(PYTHON3) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-checkov.txt
	touch $@

# The SAM CLI in its own virtualenv (its boto3 pin conflicts with checkov's): `sam validate` here,
# `sam build` and `sam deploy` from docs/deploying.md.
$(VENV)/sam/.installed: infra/requirements-sam.txt
	$(PYTHON3) -m venv $(VENV)/sam
	$(VENV)/sam/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-sam.txt
	mkdir -p $(VENV)/sam/home
	touch $@

## setup-sam: the AWS SAM CLI, pinned in infra/requirements-sam.txt, as .venv/sam/bin/sam
setup-sam: $(VENV)/sam/.installed

# schemathesis (tests/schemathesis.rs) in its own virtualenv: its pins do not constrain moto's.
$(VENV)/schemathesis/.installed: infra/requirements-schemathesis.txt
	$(PYTHON3) -m venv $(VENV)/schemathesis
	$(VENV)/schemathesis/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-schemathesis.txt
	touch $@
export STEWARD_SCHEMATHESIS := $(VENV)/schemathesis/bin/st

# cargo-fuzz, built once into the virtualenv's directory (CI caches it with the rest).
CARGO_FUZZ_VERSION := 0.13.1
CARGO_FUZZ := $(VENV)/cargo/bin/cargo-fuzz
$(CARGO_FUZZ):
	cargo install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION) --root $(VENV)/cargo

## setup: the project-local virtualenv (moto, cargo-lambda, cfn-lint), pinned in infra/requirements.txt
setup: $(VENV)/.installed

## setup-schemathesis: schemathesis, pinned in infra/requirements-schemathesis.txt
setup-schemathesis: $(VENV)/schemathesis/.installed

## setup-fuzz: cargo-fuzz
setup-fuzz: $(CARGO_FUZZ)

## setup-e2e: the browser tests' npm packages, and Debian's chromium
setup-e2e: e2e/node_modules/.installed $(CHROMIUM)

## build: every function binary, as the local stack runs them
build:
	cargo build --workspace --bins

## package: every function's Lambda zip, release-built by cargo-lambda (zig links for Lambda's
## glibc), in $(CARGO_TARGET_DIR)/lambda/<function>/bootstrap.zip. ARCH=arm64 for Graviton, where
## the toolchain has the aarch64-unknown-linux-gnu target (this machine has x86_64 only).
ARCH ?= x86_64
FUNCTIONS := $(shell sed -n 's/^ *Binary: *//p' template.yaml)
package: setup
	PATH=$(VENV)/bin:$$PATH cargo-lambda lambda build --release --output-format zip \
	  $(if $(filter arm64,$(ARCH)),--arm64,--x86-64) $(addprefix -p ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do ls -l $(CARGO_TARGET_DIR)/lambda/$$f/bootstrap.zip; done

## dev: moto + every resource and route of template.yaml, and the reference site, on http://127.0.0.1:3000 (Ctrl-C stops)
dev: setup setup-iam build
	$(STEWARD_PYTHON) infra/local/stack.py --bin-dir $(CARGO_TARGET_DIR)/debug --log-dir $(CARGO_TARGET_DIR)/dev-logs

## admin: steward-admin against the stack `make dev` runs (in another terminal), as an operator runs
## it against a deployed one: make admin ARGS='find --email zoe@example.com'
admin:
	cargo build --quiet -p steward-admin
	set -a; . infra/local.env; set +a; \
	AWS_ACCESS_KEY_ID=$$OPERATOR_AWS_ACCESS_KEY_ID \
	AWS_ENDPOINT_URL=http://127.0.0.1:$$MOTO_PORT STRIPE_API_BASE=http://127.0.0.1:$$STRIPE_EMULATOR_PORT \
	PUBLIC_API_URL=$$PublicApiUrl $(CARGO_TARGET_DIR)/debug/steward-admin --stack $$STACK_NAME $(ARGS)

## test: format, lints, template checks, unit tests, black-box tests against the local stack and
## browser tests of the pages (screenshots in $(CARGO_TARGET_DIR)/e2e-artifacts)
test: setup setup-iam setup-e2e setup-schemathesis lint template-lint build
	@status=0; \
	cargo test --workspace --no-fail-fast 2>&1 | tee $(CARGO_TARGET_DIR)/test-output.log || status=1; \
	$(MAKE) --no-print-directory fuzz-in-test 2>&1 | tee -a $(CARGO_TARGET_DIR)/test-output.log || status=1; \
	awk '/^test result:/ { passed += $$4; failed += $$6 } END { printf "all tests: %d passed, %d failed\n", passed, failed }' $(CARGO_TARGET_DIR)/test-output.log; \
	exit $$status

## load: the bounded load tests at full size (2000 submissions at 5/s), then the burst of a registration
## opening (make test runs the first at 600 and leaves the burst out); figures in $(CARGO_TARGET_DIR)/load-report.json
load: setup setup-iam build
	LOAD_REQUESTS=2000 LOAD_RATE=5 cargo test -p steward-blackbox --test load -- --nocapture --include-ignored

## load-burst: the burst alone (LOAD_BURST_REQUESTS, LOAD_BURST_PEAK_RATE: 200 at 10/s at the top)
load-burst: setup setup-iam build
	cargo test -p steward-blackbox --test load -- --nocapture --ignored registration_opening

## bench: the burst of a registration opening (tests/load.rs, about a minute and a half), then
## release zips of every function and of an empty lambda_http one (cargo lambda), then their
## sizes, cold starts against the local Runtime API, warm latency, CPU time, peak memory, DynamoDB
## units and cost per million operations, and each function's memory size modelled for AWS, each
## figure beside the previous run's (bench/last-run.json, which it then replaces) with regressions
## flagged, written into BENCHMARKS.md (and $(CARGO_TARGET_DIR)/bench/report.json; make load's burst
## beside the model, from $(CARGO_TARGET_DIR)/load-report.json); then how the local stack ages
## (bench/aged_stack.py: moto with and without its patches)
bench: setup setup-iam build
	cargo test -q -p steward-blackbox --test load -- --ignored registration_opening
	PATH=$(VENV)/bin:$$PATH $(STEWARD_PYTHON) bench/bench.py --build \
	  --lambda-dir $(CARGO_TARGET_DIR)/lambda --work-dir $(CARGO_TARGET_DIR)/bench
	$(STEWARD_PYTHON) bench/aged_stack.py

## fuzz: every cargo-fuzz target in fuzz/ for FUZZ_SECONDS each, growing the corpora in
## $(CARGO_TARGET_DIR)/fuzz-corpus. A crash is written to fuzz/regressions/<target>/, where
## tests/fuzz_regressions.rs replays it as an ordinary test: commit it with the fix.
## make test runs each target briefly from the seeds alone, a fixed number of inputs with a fixed
## seed, so that its verdict depends on the change under test, not on earlier runs or the load.
FUZZ_SECONDS ?= 120
FUZZ_RUNS_IN_TEST ?= 50000
FUZZ_TARGETS := body base64_event form token stripe_signature event
FUZZ_CORPUS ?= $(CARGO_TARGET_DIR)/fuzz-corpus
FUZZ_FLAGS ?=
# Only a stable toolchain is installed: RUSTC_BOOTSTRAP lets it take libFuzzer's -Z flags. Our code
# is safe Rust, so no sanitizer (half the build); debug assertions catch overflow.
CARGO_FUZZ_RUN = RUSTC_BOOTSTRAP=1 $(CARGO_FUZZ)
fuzz: setup-fuzz
	$(CARGO_FUZZ_RUN) build --sanitizer none --debug-assertions
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_CORPUS)/$$target fuzz/regressions/$$target; \
	  log=$(CARGO_TARGET_DIR)/fuzz-$$target.log; \
	  echo "fuzz: $$target (at most $(FUZZ_SECONDS) s) $(FUZZ_FLAGS)"; \
	  $(CARGO_FUZZ_RUN) run --sanitizer none --debug-assertions $$target \
	    $(FUZZ_CORPUS)/$$target fuzz/seeds/$$target -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=1024 $(FUZZ_FLAGS) \
	    -artifact_prefix=fuzz/regressions/$$target/ -print_final_stats=1 > $$log 2>&1 \
	    || { tail -40 $$log; echo "fuzz: $$target crashed; the input is in fuzz/regressions/$$target/"; exit 1; }; \
	  grep -E "^stat::(number_of_executed_units|new_units_added)" $$log | tr '\n' ' ' || true; echo; \
	done

fuzz-in-test:
	rm -rf $(CARGO_TARGET_DIR)/fuzz-corpus-test
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=600 \
	  FUZZ_CORPUS=$(CARGO_TARGET_DIR)/fuzz-corpus-test FUZZ_FLAGS="-seed=1 -runs=$(FUZZ_RUNS_IN_TEST)"

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## template-lint: cfn-lint, `sam validate --lint` (SAM's own transform, offline) and checkov (each
## skipped check carries its reason in the template)
template-lint: setup $(VENV)/checkov/.installed $(VENV)/sam/.installed
	$(VENV)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline \
	  HOME=$(VENV)/sam/home $(VENV)/sam/bin/sam validate --lint --template-file template.yaml
	@# SAM's own transform, as `sam build` and `sam deploy` run it (the Fn::ForEach loops need the
	@# SAM CLI's --language-extensions, docs/deploying.md).
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline \
	  HOME=$(VENV)/sam/home $(VENV)/sam/bin/sam validate --language-extensions --template-file template.yaml
	@# checkov knows no AWS::LanguageExtensions (it would skip the Fn::ForEach loops' resources and
	@# the functions' Globals): it reads the template with its loops written out.
	mkdir -p $(CARGO_TARGET_DIR)
	$(VENV)/bin/python infra/local/language_extensions.py --out $(CARGO_TARGET_DIR)/template.expanded.json
	$(VENV)/checkov/bin/checkov -f $(CARGO_TARGET_DIR)/template.expanded.json --framework cloudformation --compact --quiet --skip-download

clean:
	rm -rf $(VENV) $(CARGO_TARGET_DIR) e2e/node_modules
