# mathcrm — run `make` for the list of targets.
GO      ?= go
# The algorithms' kernels (algo/internal/kernel) pick AVX2 assembly or
# portable Go at run time from the CPU, so a plain go build is as fast in
# them. x86-64-v3 makes math.FMA one instruction in the Go code around them
# (without it each call also tests a CPU flag). Models are bit-identical
# whichever kernel, CPU or build computes them.
export GOAMD64 ?= v3
BIN     := bin/mathcrm
PKGS    := ./...

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/mathcrm
	$(GO) build -o $(BIN) ./cmd/mathcrm

.PHONY: image
image: ## build the container image mathcrm:dev (FROM scratch, static binary)
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -o bin/mathcrm-linux-amd64 ./cmd/mathcrm
	docker build -f deploy/Dockerfile -t mathcrm:dev .

.PHONY: demo
demo: build ## run mathcrm dev on the bundled Telco data and print its customer segments
	@bash deploy/demo.sh $(BIN)

.PHONY: test
test: ## the whole test suite (race detector on), and the algorithms again on the portable kernels
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 12m $(PKGS)
	GOEXPERIMENT= GOAMD64=v1 $(GO) test -timeout 5m ./algo/...

.PHONY: chaos
chaos: ## randomised faults (kill, stop, cut off leader and workers, add workers) over many jobs on a secured cluster; prints a table (CHAOS_JOBS=40); then chaos-compose
	@log=$$(mktemp -t mathcrm-chaos.XXXXXX) || exit 1; \
	echo "MATHCRM_CHAOS_JOBS=$${CHAOS_JOBS:-40} $(GO) test ./internal/clustertest -run '^TestChaos\$$' (its output: $$log)"; \
	MATHCRM_CHAOS_JOBS=$${CHAOS_JOBS:-40} $(GO) test ./internal/clustertest -run '^TestChaos$$' -count=1 -v -timeout 60m >$$log 2>&1; \
	status=$$?; \
	grep -v 'level=' $$log | sed -n '/^chaos (seed/,/models identical/p;/^--- /p;/^ok/p;/^FAIL/p;/^panic:/p'; \
	if [ $$status -ne 0 ]; then \
		echo "make chaos: the in-process run failed (exit $$status); the test said:"; \
		grep -E '^ +[a-z_]+_test\.go:[0-9]+: ' $$log | grep -v '_test\.go:[0-9]*: --- ' | tail -n 20; \
		echo "its whole output, with every process's log: $$log"; \
		exit $$status; \
	fi; \
	rm -f $$log
	$(MAKE) --no-print-directory chaos-compose

.PHONY: chaos-compose
chaos-compose: ## deploy/compose.yaml in containers: kill the leader's, cut a worker's network, scale workers 2→5→2 mid-job; model byte-identical
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory image; else echo "chaos-compose: Docker is not available, the test will skip"; fi
	MATHCRM_COMPOSE_CHAOS=1 $(GO) test ./deploy/chaos -run '^TestComposeChaos$$' -count=1 -v -timeout 30m

.PHONY: fuzz
fuzz: ## run each fuzz target for a while (FUZZTIME=30s)
	$(GO) test ./internal/blob -run '^$$' -fuzz FuzzDecode -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./internal/proto -run '^$$' -fuzz FuzzPartial -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/builtin -run '^$$' -fuzz FuzzJobSpec -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./coordinator -run '^$$' -fuzz FuzzFSMApply -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./internal/devcluster -run '^$$' -fuzz '^FuzzAPI$$' -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./partition -run '^$$' -fuzz '^FuzzSplit$$' -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./partition -run '^$$' -fuzz '^FuzzSplitTransactions$$' -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./partition -run '^$$' -fuzz FuzzReadShard -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./partition -run '^$$' -fuzz FuzzReadInteractions -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./partition -run '^$$' -fuzz FuzzReadTransactions -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./partition -run '^$$' -fuzz FuzzSplitTransactions -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./coordinator -run '^$$' -fuzz FuzzScheduleApply -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./coordinator -run '^$$' -fuzz FuzzLifecycleApply -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./internal/cron -run '^$$' -fuzz FuzzParse -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/als -run '^$$' -fuzz FuzzRunTask -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/quantile -run '^$$' -fuzz FuzzJob -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/rfm -run '^$$' -fuzz FuzzRunTask -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/rfm -run '^$$' -fuzz FuzzParseSegments -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/rfm/rfmjob -run '^$$' -fuzz FuzzWritePass -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/basket -run '^$$' -fuzz FuzzRunTask -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/clv -run '^$$' -fuzz FuzzSummarize -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./algo/clv -run '^$$' -fuzz FuzzSumJSON -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./partition -run '^$$' -fuzz FuzzFilterRows -fuzztime $${FUZZTIME:-30s}
	$(GO) test ./coordinator -run '^$$' -fuzz FuzzEraseApply -fuzztime $${FUZZTIME:-30s}

.PHONY: bench
bench: build ## benchmarks, one JSON line per measurement (installs the scikit-learn reference from Debian)
	@bash deploy/bench.sh $(BIN)

.PHONY: clean
clean: ## remove build output
	rm -rf bin
