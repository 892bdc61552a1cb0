# Reanchor: `make run` builds and runs the demo on the embedded model; `make test` runs every test (swift test, then the
# end-to-end run of `reanchor serve` with the official openai client).
SWIFT ?= swift

.PHONY: run test test-e2e build deps bench clean

deps:
	@if ! [ -f /usr/include/x86_64-linux-gnu/cblas.h ] && ! [ -f /usr/include/cblas.h ] || ! ldconfig -p | grep -q libopenblas; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing libopenblas-dev"; apt-get update -qq && apt-get install -y -qq libopenblas-dev; \
		else \
			echo "OpenBLAS is missing: run  sudo apt-get install -y libopenblas-dev"; exit 1; \
		fi; \
	fi

build: deps
	$(SWIFT) build -c release --product reanchor

run: build
	.build/release/reanchor demo

test: deps
	$(SWIFT) test
	scripts/e2e/run.sh
	scripts/e2e/kill_during_ingest.sh

test-e2e: deps
	scripts/e2e/run.sh
	scripts/e2e/kill_during_ingest.sh

bench: build
	.build/release/reanchor bench decode --shape 0.5b
	.build/release/reanchor bench prefill --shape 0.5b
	.build/release/reanchor bench decode --shape 1b
	.build/release/reanchor bench prefill --shape 1b

clean:
	rm -rf .build
