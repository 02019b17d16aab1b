#!/usr/bin/env bash
# Manual smoke test of provider vastai against the REAL Vast.ai, through a running broker's MCP endpoint.
# It starts nothing itself: run a broker with VAST_API_KEY set, then
#   BROKER_URL=http://127.0.0.1:8080/mcp AGENT_KEY="$(cat data/demo-agent.key)" scripts/smoke-vastai.sh
# It quotes the cheapest vastai offer for 1 GPU for 10 minutes, refuses to reserve above MAX_USDC (default 1.00),
# pays from the agent's custodial wallet, runs nvidia-smi, prints the logs, waits for the job to end (settled).
# Needs curl and jq. Spends real money on Vast.ai (the operator's account) and test USDC (the agent's).
set -euo pipefail

BROKER_URL="${BROKER_URL:?set BROKER_URL, e.g. http://127.0.0.1:8080/mcp}"
AGENT_KEY="${AGENT_KEY:?set AGENT_KEY to an agent API key}"
MAX_USDC="${MAX_USDC:-1.00}"
GPU="${GPU:-any}"
MINUTES="${MINUTES:-10}"
RUN_ID="smoke-vastai-$(date +%s)"
SESSION=""
CALL_ID=0

# One JSON-RPC request to the MCP endpoint; prints the JSON answer (SSE answers are unwrapped).
rpc() {
  local body="$1" headers answer
  headers=$(mktemp)
  answer=$(curl -sS -D "$headers" -X POST "$BROKER_URL" \
    -H "Authorization: Bearer $AGENT_KEY" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    ${SESSION:+-H "Mcp-Session-Id: $SESSION"} --data "$body")
  if [ -z "$SESSION" ]; then
    SESSION=$(grep -i '^mcp-session-id:' "$headers" | head -1 | cut -d' ' -f2 | tr -d '\r' || true)
  fi
  rm -f "$headers"
  if printf '%s' "$answer" | grep -q '^data:'; then
    printf '%s\n' "$answer" | sed -n 's/^data: //p' | tail -1
  else
    printf '%s\n' "$answer"
  fi
}

# Calls a tool; prints its structuredContent; stops on an error result.
tool() {
  local name="$1" arguments="$2" answer
  CALL_ID=$((CALL_ID + 1))
  answer=$(rpc "$(jq -nc --arg n "$name" --argjson a "$arguments" --argjson id "$CALL_ID" \
    '{jsonrpc:"2.0", id:$id, method:"tools/call", params:{name:$n, arguments:$a}}')")
  if [ "$(printf '%s' "$answer" | jq -r '.result.isError // false')" = "true" ] || printf '%s' "$answer" | jq -e '.error' >/dev/null; then
    echo "$name failed: $(printf '%s' "$answer" | jq -c '.error // .result.content')" >&2
    exit 1
  fi
  printf '%s' "$answer" | jq '.result.structuredContent'
}

rpc '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"smoke-vastai","version":"1"}}}' >/dev/null
rpc '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null || true

echo "== quote: $GPU x1 for $MINUTES minutes at vastai"
quotes=$(tool quote "$(jq -nc --arg g "$GPU" --argjson m "$MINUTES" '{gpu:$g, durationMinutes:$m, gpuCount:1, providers:["vastai"], limit:20}')")
cheapest=$(printf '%s' "$quotes" | jq -c '[.quotes[] | select(.provider == "vastai")] | sort_by(.total | tonumber) | .[0] // empty')
if [ -z "$cheapest" ]; then
  echo "no vastai quote; unavailable: $(printf '%s' "$quotes" | jq -c '.unavailableProviders')" >&2
  exit 1
fi
echo "$cheapest" | jq .
total=$(printf '%s' "$cheapest" | jq -r '.total')
if ! awk -v t="$total" -v m="$MAX_USDC" 'BEGIN { exit !(t + 0 <= m + 0) }'; then
  echo "the cheapest quote costs $total USDC, above MAX_USDC=$MAX_USDC: not reserving" >&2
  exit 1
fi

echo "== reserve"
reservation=$(tool reserve "$(jq -nc --arg q "$(printf '%s' "$cheapest" | jq -r .quoteId)" --arg k "$RUN_ID-reserve" '{quoteId:$q, idempotencyKey:$k}')")
reservation_id=$(printf '%s' "$reservation" | jq -r '.reservationId')
amount=$(printf '%s' "$reservation" | jq -r '.amount')
if ! awk -v t="$amount" -v m="$MAX_USDC" 'BEGIN { exit !(t + 0 <= m + 0) }'; then
  tool cancel "$(jq -nc --arg r "$reservation_id" --arg k "$RUN_ID-cancel" '{reservationId:$r, idempotencyKey:$k}')" >/dev/null
  echo "the reservation asks $amount USDC, above MAX_USDC=$MAX_USDC: cancelled" >&2
  exit 1
fi

echo "== pay $amount USDC"
tool pay "$(jq -nc --arg r "$reservation_id" --arg k "$RUN_ID-pay" '{reservationId:$r, idempotencyKey:$k}')" | jq -c .

echo "== run nvidia-smi"
job=$(tool run "$(jq -nc --arg r "$reservation_id" --arg k "$RUN_ID-run" --argjson m "$MINUTES" \
  '{reservationId:$r, idempotencyKey:$k, command:["nvidia-smi"], maxDurationMinutes:$m}')")
job_id=$(printf '%s' "$job" | jq -r '.jobId')
echo "job $job_id"

deadline=$(( $(date +%s) + MINUTES * 60 + 600 ))
while :; do
  status=$(tool job_status "$(jq -nc --arg j "$job_id" '{jobId:$j}')")
  state=$(printf '%s' "$status" | jq -r '.status')
  echo "$(date -u +%H:%M:%S) $state"
  case "$state" in
    completed|failed|cancelled) break ;;
  esac
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "the job did not end in time: cancelling" >&2
    tool cancel "$(jq -nc --arg j "$job_id" --arg k "$RUN_ID-cancel-job" '{jobId:$j, idempotencyKey:$k}')" >/dev/null
    break
  fi
  sleep 15
done

echo "== logs"
tool job_logs "$(jq -nc --arg j "$job_id" '{jobId:$j, limit:200}')" | jq -r '.lines[]?'
echo "== settled"
printf '%s' "$status" | jq '{status, startedAt, endedAt, gpuSeconds, cost, refund, settlementTx}'
