#!/usr/bin/env bash
# Prints how many specs are tagged #gpu, the ones a default run (.busted excludes the
# tag) skips: "17 GPU specs skipped (run them with make test-gpu)". Run it where
# `busted` finds Ember (make's TEST_ENV, as .ci/run's make test sets it).
# EMBER_LIST_GPU_SPECS makes spec/gpu files define their tests even without a device.
set -u
cd "$(dirname "$0")/../.."
n=$(EMBER_LIST_GPU_SPECS=1 busted --lua=lua5.4 --list --exclude-tags= --tags=gpu 2>/dev/null |
    grep -c '^spec/.*:[0-9]*: ')
echo "$n GPU specs skipped (run them with make test-gpu)"
