#!/usr/bin/env bash
# Manual smoke test of provider `kubernetes` on a real cluster, for an operator who has one (docs/providers/kubernetes.md).
# quote -> reserve -> pay -> run `nvidia-smi` -> logs -> settlement on the cheapest kubernetes offer, refusing to reserve
# above MAX_USDC (default 1.00); see scripts/smoke-provider.sh for the settings.
#
#   BROKER_URL=http://127.0.0.1:8080 AGENT_KEY="$(cat data/demo-agent.key)" scripts/smoke-kubernetes.sh
exec "$(dirname "$0")/smoke-provider.sh" kubernetes "$@"
