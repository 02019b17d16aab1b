// The operator's console in headless Chromium (Debian's, driven by playwright-core), against the real jar. Driven
// by ConsoleIT, which plays the agent over MCP: this script and the test take turns, one line at a time on
// stdout/stdin ("AGENT …" → "RESERVED …" → "APPROVED" → "JOB …" → "DONE"). Every step waits for what an operator
// would see; a step that does not happen in time fails the script with what the page showed.
//
// Usage: node console-e2e.mjs <broker base URL> <screenshot dir>; the admin token comes as GPUBROKER_E2E_ADMIN_TOKEN.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';

const [base, shots] = process.argv.slice(2);
const token = process.env.GPUBROKER_E2E_ADMIN_TOKEN;
if (!base || !shots || !token) {
  console.error('usage: GPUBROKER_E2E_ADMIN_TOKEN=… node console-e2e.mjs <base URL> <screenshot dir>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function expectLine(word) {
  const { value, done } = await input.next();
  if (done || !value.startsWith(word)) {
    throw new Error(`expected "${word}" from the test, got ${done ? 'the end of input' : JSON.stringify(value)}`);
  }
  return value.slice(word.length).trim();
}
const say = (line) => process.stdout.write(`${line}\n`);
const log = (line) => process.stderr.write(`console-e2e: ${line}\n`);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('dialog', (dialog) => dialog.accept());
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !(response.status() === 401 && response.url().endsWith('/admin/v1/kill-switch'))) {
      problems.push(`${response.status()} for ${response.request().method()} ${response.url()}`);
    }
  });
  const requests = [];
  page.on('request', (request) => requests.push(request));
  const nav = (section) => page.locator('header nav').getByRole('link', { name: section, exact: true }).click();
  const shot = (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

  // Log in: a wrong token is refused in words, the right one opens the agents page.
  await page.goto(`${base}/console`);
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('That is not the admin token.').waitFor();
  await shot('login');
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Agents' }).waitFor();
  log('logged in');

  // Create an agent; its key is shown once, then gone.
  await page.getByLabel('Name').fill('console-e2e');
  await page.getByRole('button', { name: 'Create agent' }).click();
  const apiKey = (await page.getByTestId('new-api-key').textContent()).trim();
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await page.getByTestId('new-api-key').waitFor({ state: 'detached' });
  const row = page.locator('tr', { hasText: 'console-e2e' });
  const agentId = await row.getAttribute('data-agent');
  const wallet = (await row.locator('code.address').textContent()).trim();
  if (await page.getByText(apiKey).count() !== 0) {
    throw new Error('the API key is still on the page after it was dismissed');
  }
  await shot('agents');
  log(`created ${agentId}`);

  // Its policy: anything above 0.05 USDC waits for a person.
  await row.getByRole('link', { name: 'console-e2e' }).click();
  await page.getByRole('heading', { name: 'Spend policy' }).waitFor();
  await page.getByRole('textbox', { name: 'Most per reservation' }).fill('5.00');
  await page.getByRole('textbox', { name: 'Daily limit (rolling 24 h)' }).fill('20.00');
  await page.getByRole('textbox', { name: 'Total limit' }).fill('50.00');
  await page.getByRole('textbox', { name: 'Ask me above' }).fill('0.05');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await page.getByText("Saved; it applies to the agent's next call.").waitFor();

  // Someone else freezes the agent meanwhile: saving the page's older copy is refused, not a silent unfreeze.
  const asOperator = { headers: { Authorization: `Bearer ${token}` } };
  const froze = await context.request.post(`${base}/admin/v1/agents/${agentId}/freeze`, asOperator);
  if (!froze.ok()) {
    throw new Error(`freezing through the API answered ${froze.status()}`);
  }
  await page.getByRole('textbox', { name: 'Daily limit (rolling 24 h)' }).fill('21.00');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await page.getByText('The policy changed since this page read it').waitFor();
  await page.getByRole('checkbox', { name: 'Frozen (no new spending)' }).and(page.locator(':checked')).waitFor();
  const unfroze = await context.request.post(`${base}/admin/v1/agents/${agentId}/unfreeze`, asOperator);
  const stored = await (await context.request.get(`${base}/admin/v1/agents/${agentId}/policy`, asOperator)).json();
  if (!unfroze.ok() || stored.dailyLimit !== '20.00' || stored.frozen) {
    throw new Error(`the refused save changed the policy: ${JSON.stringify(stored)}`);
  }
  say(`AGENT ${agentId} ${wallet} ${apiKey}`);

  // The agent reserves above the threshold: the approval appears; approve it in the page.
  const reservationId = await expectLine('RESERVED');
  await nav('Approvals');
  const approval = page.locator(`tr[data-reservation="${reservationId}"]`);
  await approval.waitFor();
  await shot('approvals');
  await approval.getByRole('button', { name: 'Approve' }).click();
  await approval.waitFor({ state: 'detached' });
  say('APPROVED');
  log(`approved ${reservationId}`);

  // The agent pays and runs: the job completes, with its output, and the ledger line of the settlement appears.
  const jobId = await expectLine('JOB');
  await page.goto(`${base}/console/#/jobs/${jobId}`);
  await page.getByTestId('job-status').getByText('completed').waitFor({ timeout: 90_000 });
  await page.getByTestId('job-logs').getByText('hello from the console test').waitFor();
  await page.getByText('End of output.').waitFor();
  await page.locator('code.tx').first().waitFor({ timeout: 60_000 });
  await shot('job');
  log(`job ${jobId} completed`);

  await page.goto(`${base}/console/#/agents/${agentId}`);
  await page.locator(`table.ledger tr[data-reservation="${reservationId}"]`, { hasText: 'seller:' }).first()
    .waitFor({ timeout: 60_000 });
  await page.getByTestId('spend-chart').waitFor();
  await page.locator('[data-usage="Total limit"]', { hasText: 'of 50.00 USDC used' }).waitFor();
  await shot('agent');
  log('ledger line and spend chart shown');

  await nav('Reservations');
  await page.locator(`tr[data-reservation="${reservationId}"]`, { hasText: 'settled' }).waitFor({ timeout: 60_000 });
  await shot('reservations');
  await page.locator(`tr[data-reservation="${reservationId}"]`).getByRole('link', { name: reservationId }).click();
  await page.getByRole('link', { name: jobId }).waitFor();
  await nav('Audit log');
  await page.locator('tr[data-action]').first().waitFor();
  await shot('audit');
  await nav('Reconciliation');
  await page.locator('[data-testid="reconciliation"][data-clean="true"]').waitFor({ timeout: 30_000 });
  await shot('reconciliation');

  // The kill switch: on (every agent's spending stops), then off again.
  await nav('Kill switch');
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.locator('[data-testid="kill-switch"][data-on="true"]').waitFor();
  await shot('kill-switch');
  await page.getByRole('button', { name: 'Turn off' }).click();
  await page.locator('[data-testid="kill-switch"][data-on="false"]').waitFor();

  // What the page sent: the token only as a header, never in a URL; nothing to another origin; no cookies.
  for (const request of requests) {
    if (!request.url().startsWith(base)) {
      throw new Error(`the console sent a request to another origin: ${request.url()}`);
    }
    if (request.url().includes(token)) {
      throw new Error(`the admin token appeared in a URL: ${request.url()}`);
    }
  }
  const adminCalls = requests.filter((request) => request.url().startsWith(`${base}/admin/v1/`));
  const withToken = await Promise.all(adminCalls.map((request) => request.allHeaders()));
  if (adminCalls.length === 0 || withToken.some((headers) => headers.cookie)) {
    throw new Error('the console sent cookies, or never called the admin API');
  }
  if ((await context.cookies()).length !== 0) {
    throw new Error('the console set cookies');
  }
  if (problems.length) {
    throw new Error(`the page reported problems:\n${problems.join('\n')}`);
  }
  say(`DONE ${adminCalls.length} admin calls`);
} catch (error) {
  log(`FAILED: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  // stdin (the test's turns) would keep Node running after the last step.
  process.exit();
}
