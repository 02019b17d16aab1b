#!/usr/bin/env bash
# Manual smoke test of provider `shadeform` with a real Shadeform API key (docs/providers/shadeform.md).
# quote -> reserve -> pay -> run `nvidia-smi` -> logs -> settlement on the cheapest shadeform offer, refusing to reserve
# above MAX_USDC (default 1.00); see scripts/smoke-provider.sh for the settings.
# Shadeform's API shows only the VM: the broker reads the job's container over SSH with its own key
# (<data>/providers/shadeform-ssh.key), so this also checks that the broker reaches the VM's SSH port, that the VM's
# user may run docker, and that the job is billed from its readiness probe's line to its exit, with nvidia-smi's
# output in the logs. A VM takes minutes to boot and pull the image (not billed), hence the longer default wait.
#
#   BROKER_URL=http://127.0.0.1:8080 AGENT_KEY="$(cat data/demo-agent.key)" scripts/smoke-shadeform.sh
export WAIT_SECONDS="${WAIT_SECONDS:-1800}"
exec "$(dirname "$0")/smoke-provider.sh" shadeform "$@"
