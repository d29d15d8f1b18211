# Shortcuts over CMake presets. The README's two commands are scripts/run and scripts/test.
.PHONY: build debug test asan run bench format check-format clean

build:
	cmake --preset release >/dev/null && cmake --build --preset release

debug:
	cmake --preset debug >/dev/null && cmake --build --preset debug

test:
	./scripts/test

asan:
	cmake --preset asan >/dev/null && cmake --build --preset asan && ctest --preset asan -j2

run:
	./scripts/run

bench: build
	./bench/ledger.sh

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

check-format:
	./scripts/check-format

clean:
	rm -rf build
