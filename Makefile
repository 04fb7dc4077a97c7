# funnel-personio. `make` alone lists the targets (make help); `make test`
# is what CI runs (.ci/run) and installs what the tests need by itself.

SHELL       := /bin/bash
.DEFAULT_GOAL := help
GO          ?= go
# Build with the toolchain go.mod names (fetched once through the module
# proxy), whatever GOTOOLCHAIN this machine's go env sets.
export GOTOOLCHAIN := auto
TOOLS       := $(CURDIR)/.tools/bin
STATICCHECK := $(TOOLS)/staticcheck
STATICCHECK_VERSION := v0.8.2
# govulncheck, and the Go vulnerability database it reads: the OSV entries
# of one golang.org/x/vulndb version (from the module proxy), laid out in
# .tools/vulndb by dev/vulndb, so `make lint` needs no other network.
GOVULNCHECK_VERSION := v1.10.0
GOVULNCHECK := $(TOOLS)/govulncheck-$(GOVULNCHECK_VERSION)/govulncheck
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB      := $(CURDIR)/.tools/vulndb
FUZZTIME    ?= 10s
ATTACKTIME  ?= 60s
COLDSTART_RUNS ?= 20
PKGS        := ./...
LOCAL_BIN   ?= bin/local

.PHONY: help test lint fuzz attack sandbox sim bench coldstart run reset build-local build-ops build synth deploy diff load perf-report faults web-test screenshots

## help: this list (what `make` alone prints).
help:
	@echo "make targets (docs/contributing.md says more):"
	@awk '/^## [a-z][a-z, -]*:/ { sub(/^## /, ""); i = index($$0, ":"); name = substr($$0, 1, i - 1); text = substr($$0, i + 2); \
	  while ((getline line) > 0 && line ~ /^## /) { sub(/^## /, "", line); text = text " " line } \
	  n = split(text, w, " "); out = ""; len = 0; \
	  for (k = 1; k <= n; k++) { if (len + length(w[k]) > 74 && len > 0) { out = out "\n" sprintf("%16s", ""); len = 0 } \
	    out = out (len ? " " : "") w[k]; len += length(w[k]) + 1 } \
	  printf "  %-13s %s\n", name, out }' $(MAKEFILE_LIST)

## test: every test of every package, with the race detector.
test:
	scripts/test.sh $(PKGS)

## lint: gofmt, go vet, staticcheck, a tidy go.mod, and govulncheck
## against a local copy of the Go vulnerability database (VULNDB_VERSION).
lint: $(STATICCHECK) $(GOVULNCHECK) $(VULNDB)/$(VULNDB_VERSION)
	@out=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' $(PKGS))); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(STATICCHECK) $(PKGS)
	$(GO) mod tidy -diff
	$(GOVULNCHECK) -db file://$(VULNDB) $(PKGS)

$(STATICCHECK):
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(GOVULNCHECK):
	GOBIN=$(dir $@) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

# The database of one vulndb version; the stamp names it, so a new
# VULNDB_VERSION rebuilds it.
$(VULNDB)/$(VULNDB_VERSION):
	$(GO) run ./dev/vulndb/cmd/vulndb -module golang.org/x/vulndb@$(VULNDB_VERSION) -out $(VULNDB)
	rm -f $(VULNDB)/v0.*
	touch $@

## fuzz: run every fuzz test for FUZZTIME each (default 10s).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME); \
	  done; done

## attack: the attack campaign. Every fuzzer of outside input (ingest body
## and headers, signatures, events, every editor API body and path,
## mapping documents, Personio's answers) for ATTACKTIME each (default
## 60s; no panic, no 5xx), then TestAttacks against the running local
## stack (other workspaces' JWTs, forged tokens, replayed, re-signed,
## stale and oversize webhooks, SSRF file URLs).
ATTACK_FUZZERS := ./pkg/ingest:FuzzHandle ./pkg/webhook:FuzzVerify ./pkg/application:FuzzParse \
	./pkg/editor:FuzzServe ./pkg/mapping:FuzzValidate ./pkg/mapping:FuzzApply \
	./pkg/personio:FuzzParseErrorBody ./pkg/personio:FuzzParseFeed
attack:
	@set -e; for pf in $(ATTACK_FUZZERS); do pkg=$${pf%%:*}; f=$${pf##*:}; \
	  echo "== $$pkg $$f for $(ATTACKTIME)"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f\$$" -fuzztime $(ATTACKTIME); done
	set -o pipefail; $(GO) test -count=1 -v -run '^TestAttacks$$' ./dev/localstack/ | grep -v '^{'

## sandbox: the Personio sandbox alone on 127.0.0.1:8090.
sandbox:
	$(GO) run ./functions/local sandbox -addr 127.0.0.1:8090

## sim: the deterministic simulator of the delivery's lifecycle, seeds 1 to
## SEEDS (default 1000), one run a core; its last line says seeds, steps and
## violations, and a failing seed prints the command that replays it
## (docs/simulator.md).
SEEDS ?= 1000
sim:
	$(GO) run ./dev/sim/cmd/sim -seeds $(SEEDS)

## bench: every benchmark, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## coldstart: each function's cold start on this machine (process start to
## its first request for an event, median and max of COLDSTART_RUNS starts
## against a Runtime API played in-process; the first event of api and
## ingest), package init from GODEBUG=inittrace=1, and the stripped arm64
## binaries' sizes against their targets. Table and JSON in .data/coldstart/.
coldstart: build-local
	$(LOCAL_BIN) coldstart -runs $(COLDSTART_RUNS)

## build-local: the local runner binary (bin/local; LOCAL_BIN names another path).
build-local:
	$(GO) build -o $(LOCAL_BIN) ./functions/local

## build-ops: the platform team's operator command (bin/ops): dead letters,
## replay, parked connections, budgets (docs/operations.md).
build-ops:
	$(GO) build -o bin/ops ./functions/ops

## run: the whole pipeline on this machine, no AWS account: the API,
## ingest, queue poller, worker and Personio sandbox, and the AWS emulator
## (kumo) as a child process with its state in .data/kumo. Ctrl-C, or a
## signal to make, serve or the emulator, stops them all.
run:
	@echo "make run: compiling the local runner ($(LOCAL_BIN)); on a fresh clone this takes a few minutes, later runs seconds…"
	@$(MAKE) --no-print-directory build-local >/dev/null
	@exec $(LOCAL_BIN) serve -stop-with-parent

## reset: start over with a clean state: deletes .data/kumo (every
## connection, integration and delivery record, the stored tokens, the
## queued messages); stop make run first. The Personio sandbox starts
## from its seed with every make run anyway.
reset: build-local
	@$(LOCAL_BIN) reset

LAMBDAS := api ingest worker notifier watch
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

## build: the Lambda binaries, bin/lambda/<function>/bootstrap: linux/arm64,
## static (CGO_ENABLED=0), -tags lambda.norpc, -trimpath, stripped.
build:
	@for f in $(LAMBDAS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bin/lambda/$$f/bootstrap ./functions/$$f || exit 1; \
	  echo "bin/lambda/$$f/bootstrap $$(du -h bin/lambda/$$f/bootstrap | cut -f1)"; \
	done

## synth: the CloudFormation template and assets in infra/cdk.out, offline (the Go app's own synth).
synth: build
	cd infra && $(GO) run .
	@echo "synth: the template and its assets are in infra/cdk.out ($$(ls infra/cdk.out/*.template.json | tr '\n' ' '))"

## deploy, diff: the aws-cdk@2 CLI from npm on the synthesised app (needs AWS credentials).
deploy: synth
	cd infra && npx --yes aws-cdk@2 deploy --app cdk.out $(CDK_ARGS)
diff: synth
	cd infra && npx --yes aws-cdk@2 diff --app cdk.out $(CDK_ARGS)

## load: the load scenarios, reports in .data/load/<scenario>.{json,html}:
## (1) under the budget; (2) a backlog of 1,000 for one company; (3) the
## quiet workspaces alone, then beside a noisy workspace's 5,000-event
## backlog (the ratio of their p99s); (4) 150 companies with backlogs
## sharing the global budget; (5) ingest alone. Backlogs run with a 6 s
## rate window (Personio's 20 requests per 60 s, ten times faster; the
## noisy one 2 s, thirty times); LOAD_ARGS adds flags (e.g. -window 60s
## for Personio's own pace).
load: build-local
	$(LOCAL_BIN) load -scenario under-budget $(LOAD_ARGS)
	$(LOCAL_BIN) load -scenario backlog -events 1000 -window 6s $(LOAD_ARGS)
	$(LOCAL_BIN) load -scenario noisy -events 5000 -window 2s $(LOAD_ARGS)
	$(LOCAL_BIN) load -scenario shared -companies 150 -events 3600 -window 6s $(LOAD_ARGS)
	$(LOCAL_BIN) load -scenario ingest -events 5000 $(LOAD_ARGS)

## perf-report: run the scenarios docs/performance.md quotes (under the
## budget, paced, the backlog, ingest alone; one after another, on an
## otherwise idle machine), keep their reports in docs/perf/ and rewrite
## the page's tables from them (PERF_ARGS: -only under-budget,quiet to run
## some; -render to run none and only rewrite the tables).
perf-report: build-local
	$(LOCAL_BIN) perf-report $(PERF_ARGS)

## faults: the full fault campaign, 10,000 events.
faults: build-local
	$(LOCAL_BIN) load -scenario faults -events 10000 -window 6s $(LOAD_ARGS)

## web-test: the setup page's tests alone: the article end to end in
## headless Chromium, axe-core, keyboard, page weight, first render
## (installs chromium and axe-core when missing). Screenshots of every step
## at 1280 and 390 px go to .data/web/<width>/, figures to .data/web/figures.json.
web-test:
	@command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }
	@[ -f web/node_modules/axe-core/axe.min.js ] || npm ci --prefix web --no-audit --no-fund
	set -o pipefail; WEB_BROWSER_REQUIRED=1 $(GO) test -count=1 -v ./web/ | grep -v '^        '

## screenshots: the browser tests again, refreshing the few screenshots the
## README and docs/setup-page.md show (docs/img/).
screenshots:
	@$(MAKE) --no-print-directory web-test WEB_README_SHOTS=$(CURDIR)/docs/img
