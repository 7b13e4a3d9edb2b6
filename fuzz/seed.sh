#!/usr/bin/env bash
# Fill the fuzz corpus with every YAML file the tests and examples use
# (and ../shared's corpus and PSA fixtures where present).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/pipeline
for dir in ../tests ../examples ../../shared/corpus ../../shared/psa-fixtures; do
  [ -d "$dir" ] || continue
  find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' \) -size -64k | while read -r f; do
    cp "$f" "corpus/pipeline/$(sha1sum "$f" | cut -c1-16).yaml"
  done
done
echo "seeded $(ls corpus/pipeline | wc -l) inputs"
