#!/usr/bin/env bash
# Manual smoke test of provider `shadeform` with a real Shadeform API key (docs/providers/shadeform.md).
# It starts nothing itself. Given a running broker with the provider on, and an agent's API key, it drives
#   quote -> reserve -> pay -> run `nvidia-smi` -> logs -> settlement
# on the cheapest shadeform offer for 1 GPU, and refuses to reserve above MAX_USDC (default 1.00).
#
#   BROKER_URL=http://127.0.0.1:8080 AGENT_KEY="$(cat data/demo-agent.key)" scripts/smoke-shadeform.sh
#
# Shadeform's API shows neither a container's status nor its output: the job shows `running` (billed) from the VM's
# active_at, never ends by itself, and its logs are empty. So this script cancels the job RUN_SECONDS after it runs,
# and the logs step shows an empty page. Check nvidia-smi's output by SSH on the VM (docker logs) if you need it.
# Needs curl and jq. The agent pays with its custodial wallet (pay with just the reservation).
set -euo pipefail

BROKER_URL="${BROKER_URL:-http://127.0.0.1:8080}"
AGENT_KEY="${AGENT_KEY:?set AGENT_KEY to an agent API key (e.g. \$(cat data/demo-agent.key))}"
MAX_USDC="${MAX_USDC:-1.00}"
GPU="${GPU:-any}"
MINUTES="${MINUTES:-10}"
RUN_SECONDS="${RUN_SECONDS:-60}"
IMAGE="${IMAGE:-nvidia/cuda:12.4.1-base-ubuntu22.04}"
WAIT_SECONDS="${WAIT_SECONDS:-1800}"

command -v curl >/dev/null || { echo "needs curl" >&2; exit 2; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 2; }

MCP="$BROKER_URL/mcp"
SESSION=""
REQUEST_ID=0
STAMP="smoke-shadeform-$(date +%s)"

# One JSON-RPC request to /mcp; prints the JSON answer (the last data line of a stream, or the plain body).
rpc() {
  local body="$1" headers answer session_header
  local session=()
  headers=$(mktemp)
  if [ -n "$SESSION" ]; then session=(-H "Mcp-Session-Id: $SESSION"); fi
  answer=$(curl -sS -X POST "$MCP" -D "$headers" \
    -H "Authorization: Bearer $AGENT_KEY" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' "${session[@]}" --data "$body")
  session_header=$(grep -i '^mcp-session-id:' "$headers" | head -1 | cut -d: -f2- | tr -d ' \r' || true)
  rm -f "$headers"
  if [ -n "$session_header" ]; then SESSION="$session_header"; fi
  if printf '%s' "$answer" | grep -q '^data:'; then
    printf '%s\n' "$answer" | sed -n 's/^data: *//p' | tail -1
  else
    printf '%s\n' "$answer"
  fi
}

# Calls a tool and prints its structuredContent; a tool error stops the script.
tool() {
  local name="$1" arguments="$2" answer
  REQUEST_ID=$((REQUEST_ID + 1))
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

# Whether the decimal $1 is at most the decimal $2 (USDC amounts as strings).
at_most() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'
}

rpc "$(jq -cn '{jsonrpc: "2.0", id: 0, method: "initialize", params: {protocolVersion: "2025-06-18",
  capabilities: {}, clientInfo: {name: "smoke-shadeform", version: "1"}}}')" >/dev/null
rpc '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null || true

echo "1. quote: $GPU x1 for $MINUTES minutes at provider shadeform"
QUOTES=$(tool quote "$(jq -cn --arg gpu "$GPU" --argjson minutes "$MINUTES" \
  '{gpu: $gpu, durationMinutes: $minutes, gpuCount: 1, providers: ["shadeform"], limit: 20}')")
QUOTE=$(printf '%s' "$QUOTES" | jq -c '[.quotes[] | select(.provider == "shadeform")] | sort_by(.total | tonumber) | first // empty')
if [ -z "$QUOTE" ]; then
  echo "no shadeform offer; unavailable providers: $(printf '%s' "$QUOTES" | jq -c '.unavailableProviders')" >&2
  exit 1
fi
QUOTE_ID=$(printf '%s' "$QUOTE" | jq -r '.quoteId')
TOTAL=$(printf '%s' "$QUOTE" | jq -r '.total')
echo "   cheapest: $(printf '%s' "$QUOTE" | jq -r '"\(.gpu) in \(.region) at \(.pricePerGpuHour) USDC/GPU-hour, total \(.total) USDC"')"
if ! at_most "$TOTAL" "$MAX_USDC"; then
  echo "refusing: the quote's total $TOTAL USDC is above MAX_USDC=$MAX_USDC" >&2
  exit 1
fi

echo "2. reserve $QUOTE_ID"
RESERVATION=$(tool reserve "$(jq -cn --arg quote "$QUOTE_ID" --arg key "$STAMP-reserve" '{quoteId: $quote, idempotencyKey: $key}')")
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
PAYMENT=$(tool pay "$(jq -cn --arg reservation "$RESERVATION_ID" --arg key "$STAMP-pay" '{reservationId: $reservation, idempotencyKey: $key}')")
echo "   $(printf '%s' "$PAYMENT" | jq -r '"\(.status) \(.txHash // "")"')"

echo "4. run nvidia-smi on $IMAGE (at most $MINUTES minutes)"
JOB=$(tool run "$(jq -cn --arg reservation "$RESERVATION_ID" --arg image "$IMAGE" --arg key "$STAMP-run" \
  --argjson minutes "$MINUTES" \
  '{reservationId: $reservation, command: ["nvidia-smi"], image: $image, maxDurationMinutes: $minutes, idempotencyKey: $key}')")
JOB_ID=$(printf '%s' "$JOB" | jq -r '.jobId')
echo "   $JOB_ID"

echo "5. wait for it to run (VM active; boot takes minutes and is not billed), then cancel after $RUN_SECONDS s"
DEADLINE=$(( $(date +%s) + WAIT_SECONDS ))
CANCELLED=""
while :; do
  STATE=$(tool job_status "$(jq -cn --arg job "$JOB_ID" '{jobId: $job}')")
  NOW_STATUS=$(printf '%s' "$STATE" | jq -r '.status')
  echo "   $(printf '%s' "$STATE" | jq -r '"\(.status) billingStartedAt=\(.billingStartedAt // "-") gpuSeconds=\(.gpuSeconds) cost=\(.cost) escrowClosed=\(.escrowClosed)"')"
  case "$NOW_STATUS" in
    running)
      if [ -z "$CANCELLED" ]; then
        sleep "$RUN_SECONDS"
        tool cancel "$(jq -cn --arg job "$JOB_ID" --arg key "$STAMP-cancel" '{jobId: $job, idempotencyKey: $key}')" >/dev/null
        CANCELLED=yes
        echo "   cancelled (Shadeform would not end it by itself)"
      fi ;;
    completed|failed|cancelled)
      if [ "$(printf '%s' "$STATE" | jq -r '.escrowClosed')" = "true" ]; then break; fi ;;
  esac
  if [ "$(date +%s)" -ge "$DEADLINE" ]; then
    echo "gave up waiting; cancel with the cancel tool (jobId $JOB_ID) and check the Shadeform console" >&2
    exit 1
  fi
  sleep 10
done

echo "6. logs (Shadeform's API has none: an empty page is expected)"
PAGE=$(tool job_logs "$(jq -cn --arg job "$JOB_ID" '{jobId: $job, limit: 1000}')")
printf '%s' "$PAGE" | jq -r '.lines[]' | sed 's/^/   | /'
echo "   $(printf '%s' "$PAGE" | jq -r '.lines | length') lines"

echo "7. settled: $(printf '%s' "$STATE" | jq -r '"cost \(.cost) USDC to the seller, refund \(.refund) USDC, tx \(.settlementTx // "none")"')"
