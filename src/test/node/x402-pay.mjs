// An agent that buys GPU time from GPU Broker the way any x402 client pays an MCP tool: quote, reserve, call `pay`
// without a payment, let the stock x402 client sign what the PaymentRequired accepts, call `pay` again with the payload
// in _meta["x402/payment"], run a command, and follow the job until its escrow is closed. The payment part is library
// calls only: @x402/core + @x402/evm (x402 v2, naming its payment with the payment-identifier extension) or the `x402`
// package (v1), with a viem account as the wallet.
//
// Environment (secrets never go on a command line):
//   GPUBROKER_MCP_URL      the server's streamable HTTP endpoint, e.g. http://127.0.0.1:8080/mcp
//   GPUBROKER_API_KEY      the agent's API key
//   X402_PRIVATE_KEY       the agent's own wallet key, 0x-hex
//   X402_CLIENT            v2 (default) or v1
//
// Prints one JSON line per step ({"step": ..., ...}) on stdout; exits non-zero on the first step that fails.

import { randomUUID } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { x402Client } from '@x402/core/client';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { appendPaymentIdentifierToExtensions } from '@x402/extensions/payment-identifier';
import { createPaymentHeader, selectPaymentRequirements } from 'x402/client';
import { decodePayment } from 'x402/schemes';
import { SupportedEVMNetworks } from 'x402/types';
import { privateKeyToAccount } from 'viem/accounts';

const SETTLE_TIMEOUT_MS = 120_000;
const POLL_INTERVAL_MS = 250;

const mcpUrl = required('GPUBROKER_MCP_URL');
const apiKey = required('GPUBROKER_API_KEY');
const wallet = privateKeyToAccount(required('X402_PRIVATE_KEY'));
const clientVersion = process.env.X402_CLIENT ?? 'v2';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function print(step, fields) {
  process.stdout.write(JSON.stringify({ step, ...fields }) + '\n');
}

/** A tool's structured answer; a tool error stops the run. */
async function structured(mcp, name, args) {
  const result = await mcp.callTool({ name, arguments: args });
  if (result.isError) {
    throw new Error(`${name} failed: ${JSON.stringify(result)}`);
  }
  return result.structuredContent;
}

/**
 * The PaymentRequired of a tool result, as the x402 MCP transport puts it: structuredContent, or the JSON text of
 * content[0], plain or wrapped in {"x402/error": {"data": ...}}.
 */
function paymentRequiredOf(result) {
  const candidates = [result.structuredContent, result.structuredContent?.['x402/error']?.data];
  try {
    const text = JSON.parse(result.content?.[0]?.text ?? 'null');
    candidates.push(text, text?.['x402/error']?.data);
  } catch {
    // Not JSON: only structuredContent can carry it.
  }
  const found = candidates.find((candidate) => candidate?.x402Version && Array.isArray(candidate.accepts));
  if (!found) {
    throw new Error(`pay without a payment answered no PaymentRequired: ${JSON.stringify(result)}`);
  }
  return found;
}

/** x402 v2: the stock client picks an accepted requirement it can pay and signs it; payment-identifier when declared. */
async function v2Payment(paymentRequired) {
  const client = x402Client.fromConfig({
    schemes: [{ network: 'eip155:*', client: new ExactEvmScheme(wallet) }],
    // The test USDC is no asset the library knows by default: allow it explicitly.
    spendControls: { allowedAssets: true },
  });
  if (paymentRequired.extensions) {
    appendPaymentIdentifierToExtensions(paymentRequired.extensions);
  }
  return client.createPaymentPayload(paymentRequired);
}

/** x402 v1: the `x402` package selects an EVM requirement by its v1 network name, signs it and encodes X-PAYMENT. */
async function v1Payment(paymentRequired) {
  const requirements = selectPaymentRequirements(paymentRequired.accepts, SupportedEVMNetworks, 'exact');
  const header = await createPaymentHeader(wallet, 1, requirements);
  return decodePayment(header);
}

async function awaitSettled(mcp, jobId) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const status = await structured(mcp, 'job_status', { jobId });
    const ended = status.status !== 'launching' && status.status !== 'running';
    if (ended && status.escrowClosed) {
      return status;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} not settled within ${SETTLE_TIMEOUT_MS} ms: ${JSON.stringify(status)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

async function main() {
  const mcp = new Client({ name: 'x402-pay', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${apiKey}` } },
  }));
  try {
    const quote = await structured(mcp, 'quote', { gpu: 'H100', durationMinutes: 1 });
    print('quote', { result: quote });
    const reservation = await structured(mcp, 'reserve', {
      quoteId: quote.quotes[0].quoteId, idempotencyKey: `reserve-${randomUUID()}`,
    });
    print('reserve', { result: reservation });

    // An x402 client retries the very call it was refused, with the payment added: the same arguments both times.
    const payArguments = { reservationId: reservation.reservationId, idempotencyKey: `pay-${randomUUID()}` };
    const unpaid = await mcp.callTool({ name: 'pay', arguments: payArguments });
    print('payment-required', { result: unpaid });
    if (!unpaid.isError) {
      throw new Error('pay without a payment was not refused');
    }
    const paymentRequired = paymentRequiredOf(unpaid);
    const payment = clientVersion === 'v1' ? await v1Payment(paymentRequired) : await v2Payment(paymentRequired);
    print('payment', { payload: payment });

    const paid = await mcp.callTool({ name: 'pay', arguments: payArguments, _meta: { 'x402/payment': payment } });
    print('paid', { result: paid });
    if (paid.isError) {
      throw new Error('the paid call was refused');
    }

    const job = await structured(mcp, 'run', {
      reservationId: reservation.reservationId, command: ['sh', '-c', 'echo hello from an x402 payer; sleep 1'],
      idempotencyKey: `run-${randomUUID()}`,
    });
    print('run', { result: job });
    print('settled', { result: await awaitSettled(mcp, job.jobId) });
  } finally {
    await mcp.close();
  }
}

main().catch((error) => {
  print('error', { message: error?.stack ?? String(error) });
  process.exitCode = 1;
});
