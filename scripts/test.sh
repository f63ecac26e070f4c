#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh), checks formatting, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# Formatting is not a review topic (STYLE §1): the tree must pass swift-format's strict lint.
swift format lint --strict -r Sources Tests
swift build --build-tests
swift test --skip-build --parallel 2>&1 | tee .build/test-output.txt
