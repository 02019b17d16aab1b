#!/usr/bin/env bash
# Manual smoke test of one real provider, for an operator with a real account there (docs/providers/<name>.md).
# The per-provider scripts (smoke-runpod.sh, smoke-kubernetes.sh, ...) call this one with the provider's name.
# It starts nothing itself. Given a running broker with the provider on, and an agent's API key, it drives
#   quote -> reserve -> pay -> run `nvidia-smi` -> logs -> settlement
# on the provider's cheapest offer for 1 GPU, 5 minutes, and refuses to reserve above MAX_USDC (default 1.00).
#
#   BROKER_URL=http://127.0.0.1:8080 AGENT_KEY="$(cat data/demo-agent.key)" scripts/smoke-provider.sh <provider>
#
# Needs curl and jq. The agent pays with its custodial wallet (pay with just the reservation): use an agent the broker
# holds a wallet for, such as the demo agent, or pay by hand for a non-custodial one.
set -euo pipefail

PROVIDER="${1:?usage: smoke-provider.sh <provider>  (runpod, vastai, shadeform, kubernetes)}"

BROKER_URL="${BROKER_URL:-http://127.0.0.1:8080}"
AGENT_KEY="${AGENT_KEY:?set AGENT_KEY to an agent API key (e.g. \$(cat data/demo-agent.key))}"
MAX_USDC="${MAX_USDC:-1.00}"
GPU="${GPU:-any}"
MINUTES="${MINUTES:-5}"
IMAGE="${IMAGE:-nvidia/cuda:12.4.1-base-ubuntu22.04}"
WAIT_SECONDS="${WAIT_SECONDS:-900}"

command -v curl >/dev/null || { echo "needs curl" >&2; exit 2; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 2; }

MCP="$BROKER_URL/mcp"
SESSION=""
REQUEST_ID=0

# One JSON-RPC request to /mcp; prints the JSON answer (a streamed answer's data line, or the plain JSON body).
rpc() {
  local body="$1" headers
  headers=$(mktemp)
  local answer
  local session=()
  if [ -n "$SESSION" ]; then
    session=(-H "Mcp-Session-Id: $SESSION")
  fi
  answer=$(curl -sS -X POST "$MCP" -D "$headers" \
    -H "Authorization: Bearer $AGENT_KEY" \
    -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    "${session[@]}" \
    --data "$body")
  local session_header
  session_header=$(grep -i '^mcp-session-id:' "$headers" | head -1 | cut -d: -f2- | tr -d ' \r' || true)
  rm -f "$headers"
  if [ -n "$session_header" ]; then
    SESSION="$session_header"
  fi
  if printf '%s' "$answer" | grep -q '^data:'; then
    printf '%s\n' "$answer" | sed -n 's/^data: *//p' | tail -1
  else
    printf '%s\n' "$answer"
  fi
}

# Calls a tool; prints its structuredContent; stops the script on a tool error.
tool() {
  local name="$1" arguments="$2"
  REQUEST_ID=$((REQUEST_ID + 1))
  local answer
  answer=$(rpc "$(jq -cn --arg name "$name" --argjson arguments "$arguments" --argjson id "$REQUEST_ID" \
    '{jsonrpc: "2.0", id: $id, method: "tools/call", params: {name: $name, arguments: $arguments}}')")
  if [ "$(printf '%s' "$answer" | jq -r '.result.isError // false')" = "true" ] || \
     [ "$(printf '%s' "$answer" | jq -r 'has("error")')" = "true" ]; then
    echo "$name failed:" >&2
    printf '%s\n' "$answer" | jq . >&2
    exit 1
  fi
  printf '%s' "$answer" | jq -c '.result.structuredContent'
}

# Whether decimal $1 <= decimal $2 (USDC amounts as strings).
at_most() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'
}

rpc "$(jq -cn --arg p "$PROVIDER" '{jsonrpc: "2.0", id: 0, method: "initialize", params: {protocolVersion: "2025-06-18",
  capabilities: {}, clientInfo: {name: ("smoke-" + $p), version: "1"}}}')" >/dev/null
rpc '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null || true

echo "1. quote: $GPU x1 for $MINUTES minutes at provider $PROVIDER"
QUOTES=$(tool quote "$(jq -cn --arg gpu "$GPU" --argjson minutes "$MINUTES" --arg p "$PROVIDER" \
  '{gpu: $gpu, durationMinutes: $minutes, gpuCount: 1, providers: [$p], limit: 20}')")
QUOTE=$(printf '%s' "$QUOTES" | jq -c --arg p "$PROVIDER" '[.quotes[] | select(.provider == $p)] | sort_by(.total | tonumber) | first // empty')
if [ -z "$QUOTE" ]; then
  echo "no $PROVIDER offer; unavailable providers: $(printf '%s' "$QUOTES" | jq -c '.unavailableProviders')" >&2
  exit 1
fi
QUOTE_ID=$(printf '%s' "$QUOTE" | jq -r '.quoteId')
TOTAL=$(printf '%s' "$QUOTE" | jq -r '.total')
echo "   cheapest: $(printf '%s' "$QUOTE" | jq -r '"\(.gpu) at \(.pricePerGpuHour) USDC/GPU-hour, total \(.total) USDC"')"
if ! at_most "$TOTAL" "$MAX_USDC"; then
  echo "refusing: the quote's total $TOTAL USDC is above MAX_USDC=$MAX_USDC" >&2
  exit 1
fi

echo "2. reserve $QUOTE_ID"
RESERVATION=$(tool reserve "$(jq -cn --arg quote "$QUOTE_ID" --arg key "smoke-$(date +%s)-reserve" \
  '{quoteId: $quote, idempotencyKey: $key}')")
RESERVATION_ID=$(printf '%s' "$RESERVATION" | jq -r '.reservationId')
AMOUNT=$(printf '%s' "$RESERVATION" | jq -r '.amount')
STATUS=$(printf '%s' "$RESERVATION" | jq -r '.status')
echo "   $RESERVATION_ID: $STATUS, $AMOUNT USDC"
if [ "$STATUS" != "held" ]; then
  echo "not held: $(printf '%s' "$RESERVATION" | jq -r '.statusReason // .nextStep')" >&2
  exit 1
fi
if ! at_most "$AMOUNT" "$MAX_USDC"; then
  echo "refusing to pay: $AMOUNT USDC is above MAX_USDC=$MAX_USDC (the hold expires by itself)" >&2
  exit 1
fi

echo "3. pay $AMOUNT USDC into escrow"
PAYMENT=$(tool pay "$(jq -cn --arg reservation "$RESERVATION_ID" --arg key "smoke-$(date +%s)-pay" \
  '{reservationId: $reservation, idempotencyKey: $key}')")
echo "   $(printf '%s' "$PAYMENT" | jq -r '"\(.status) \(.txHash // "")"')"

echo "4. run nvidia-smi on $IMAGE"
JOB=$(tool run "$(jq -cn --arg reservation "$RESERVATION_ID" --arg image "$IMAGE" --arg key "smoke-$(date +%s)-run" \
  --argjson minutes "$MINUTES" \
  '{reservationId: $reservation, command: ["nvidia-smi"], image: $image, maxDurationMinutes: $minutes, idempotencyKey: $key}')")
JOB_ID=$(printf '%s' "$JOB" | jq -r '.jobId')
echo "   $JOB_ID"

echo "5. wait for the job to end and its escrow to settle (up to $WAIT_SECONDS s)"
DEADLINE=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  STATE=$(tool job_status "$(jq -cn --arg job "$JOB_ID" '{jobId: $job}')")
  echo "   $(printf '%s' "$STATE" | jq -r '"\(.status) gpuSeconds=\(.gpuSeconds) cost=\(.cost) refund=\(.refund) escrowClosed=\(.escrowClosed)"')"
  case "$(printf '%s' "$STATE" | jq -r '.status')" in
    completed|failed|cancelled)
      if [ "$(printf '%s' "$STATE" | jq -r '.escrowClosed')" = "true" ]; then break; fi ;;
  esac
  if [ "$(date +%s)" -ge "$DEADLINE" ]; then
    echo "gave up waiting; cancel with the cancel tool (jobId $JOB_ID)" >&2
    exit 1
  fi
  sleep 10
done

echo "6. logs"
CURSOR=""
for _ in $(seq 1 20); do
  PAGE=$(tool job_logs "$(jq -cn --arg job "$JOB_ID" --arg cursor "$CURSOR" \
    '{jobId: $job, limit: 1000} + (if $cursor == "" then {} else {cursor: $cursor} end)')")
  printf '%s' "$PAGE" | jq -r '.lines[]' | sed 's/^/   | /'
  CURSOR=$(printf '%s' "$PAGE" | jq -r '.nextCursor // empty')
  [ -n "$CURSOR" ] || break
done

echo "7. settled: $(printf '%s' "$STATE" | jq -r '"cost \(.cost) USDC to the seller, refund \(.refund) USDC, tx \(.settlementTx // "none")"')"
