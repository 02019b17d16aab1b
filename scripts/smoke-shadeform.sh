#!/usr/bin/env bash
# Manual smoke test of provider `shadeform` with a real Shadeform API key (docs/providers/shadeform.md).
# quote -> reserve -> pay -> run `nvidia-smi` -> logs -> settlement on the cheapest shadeform offer, refusing to reserve
# above MAX_USDC (default 1.00); see scripts/smoke-provider.sh for the settings.
# Shadeform shows neither the container's status nor its output: the job is billed from the VM's active_at, runs its
# whole MINUTES (it is deleted at its limit and reported timed out), and its logs are empty. A VM takes minutes to
# boot (not billed), hence the longer default wait.
#
#   BROKER_URL=http://127.0.0.1:8080 AGENT_KEY="$(cat data/demo-agent.key)" scripts/smoke-shadeform.sh
export WAIT_SECONDS="${WAIT_SECONDS:-1800}"
exec "$(dirname "$0")/smoke-provider.sh" shadeform "$@"
