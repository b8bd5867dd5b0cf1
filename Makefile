# OneMap. The two commands a newcomer needs:
#   make run    install PostgreSQL+PostGIS+pgRouting if missing, build, start the
#               embedded PostGIS, load the demo city on first run, serve :8080
#   make test   every test, against a real PostGIS started by our own launcher

GO       ?= go
BIN      := bin/onemap
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# Scale of the demo city loaded into an empty database by `make run`.
DEMO     ?= city
GOTEST_TIMEOUT ?= 30m

.PHONY: run test build deps test-deps vet bench clean

run: deps build
	./$(BIN) serve --demo $(DEMO)

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/onemap

deps:
	@.ci/deps.sh run

test-deps:
	@.ci/deps.sh test

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt: unformatted files:"; gofmt -l .; exit 1; }

test: test-deps vet
	$(GO) test -count=1 -timeout $(GOTEST_TIMEOUT) ./...

# Benchmarks load bigger demo cities (in ./.onemap-bench) and write their
# figures into docs/BENCHMARKS.md.
bench: build
	@.ci/deps.sh bench
	$(GO) run ./cmd/tilebench -onemap $(BIN) -data-dir .onemap-bench -write docs/BENCHMARKS.md

clean:
	rm -rf bin
