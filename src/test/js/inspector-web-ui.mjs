// Drives the MCP Inspector's web UI in a headless Chromium (Debian's /usr/bin/chromium; playwright-core downloads no
// browser). Usage: node inspector-web-ui.mjs <inspector url with its API token> <connects|refused> <screenshot.png>
// connects: the switch connects, the Tools tab lists GPU Broker's eight tools. refused: the switch does not connect.
// Prints one line per step and exits 1 with the reason when the UI does not show what was expected.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const TOOL_NAMES = ['account', 'cancel', 'job_logs', 'job_status', 'pay', 'quote', 'reserve', 'run'];
const STEP_TIMEOUT_MILLIS = 15_000;
// Chromium's cold start on a loaded 2-core CI machine once took longer than a step's 15 s (CI of a94446e), so the
// launch gets its own, longer limit and one more try on a fresh profile before the check fails.
const LAUNCH_TIMEOUT_MILLIS = 45_000;
const LAUNCH_TRIES = 2;

const [inspectorUrl, expectation, screenshotPath] = process.argv.slice(2);
if (!inspectorUrl || !['connects', 'refused'].includes(expectation) || !screenshotPath) {
  console.error('usage: inspector-web-ui.mjs <inspector url> <connects|refused> <screenshot.png>');
  process.exit(2);
}

const userDataDirs = [];
async function launch() {
  for (let attempt = 1; ; attempt++) {
    const userDataDir = mkdtempSync(join(tmpdir(), 'gpubroker-chromium-'));
    userDataDirs.push(userDataDir);
    try {
      return await chromium.launchPersistentContext(userDataDir, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        timeout: LAUNCH_TIMEOUT_MILLIS,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    } catch (error) {
      if (attempt >= LAUNCH_TRIES) {
        throw error;
      }
      console.error(`inspector: chromium did not start (try ${attempt} of ${LAUNCH_TRIES}): `
        + error.message.split('\n')[0]);
    }
  }
}

let context;
let page;
try {
  context = await launch();
  console.log('inspector: chromium started');
  context.setDefaultTimeout(STEP_TIMEOUT_MILLIS);
  page = context.pages()[0] ?? await context.newPage();
  await page.goto(inspectorUrl);

  // The server passed with --server-url is the only card; its switch connects it.
  const connection = page.getByRole('switch');
  await connection.waitFor();
  console.log('inspector: the server card is shown');
  await connection.check({ force: true });

  if (expectation === 'connects') {
    await page.getByText('Connected', { exact: true }).waitFor();
    console.log('inspector: connected');
    await page.getByText('Tools', { exact: true }).first().click();
    await page.getByText(`Tools (${TOOL_NAMES.length})`, { exact: true }).waitFor();
    for (const name of TOOL_NAMES) {
      await page.getByText(name, { exact: true }).first().waitFor();
    }
    console.log(`inspector: tools listed: ${TOOL_NAMES.join(', ')}`);
  } else {
    // The Inspector tries, gets the server's 401 (then looks for an OAuth login, which a static key setup has not)
    // and shows the server as Failed; its network log keeps the 401.
    await page.getByText('Failed', { exact: true }).waitFor();
    const body = await page.locator('body').innerText();
    if (/\bConnected\b/.test(body) || !/\b401\b/.test(body)) {
      throw new Error('expected a failed connection with the server\'s 401, not: ' + body.slice(0, 1000));
    }
    console.log('inspector: not connected: Failed, the server answered 401');
  }
  await page.screenshot({ path: screenshotPath, fullPage: true });
  console.log(`inspector: screenshot ${screenshotPath}`);
} catch (error) {
  console.error(`inspector web UI check (${expectation}) failed: ${error.message}`);
  if (page) {
    await page.screenshot({ path: screenshotPath, fullPage: true }).catch(() => {});
    const body = await page.locator('body').innerText().catch(() => '(no page text)');
    console.error(`page text: ${body.replace(/\s*\n+\s*/g, ' | ').slice(0, 2000)}`);
  }
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  for (const userDataDir of userDataDirs) {
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
