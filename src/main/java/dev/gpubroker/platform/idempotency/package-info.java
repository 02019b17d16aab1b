/**
 * What every mutating tool (reserve, pay, run) shares about its idempotency key, written once: the key is claimed by
 * a row with a unique index on (agent, key), and the first call that stores it is the only one that acts.
 */
package dev.gpubroker.platform.idempotency;
