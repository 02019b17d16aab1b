// Installs the Node dev tools (MCP Inspector, anvil, solc, OpenZeppelin) with `npm ci` when node_modules is
// missing or was installed from another package-lock.json. Run by the Maven build at `initialize`, so the README's
// two commands stay two. Quick when nothing changed: it only hashes the lock file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';

const lock = readFileSync('package-lock.json');
const wanted = createHash('sha256').update(lock).digest('hex');
const stamp = 'node_modules/.gpubroker-lock-sha256';
const installed = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';

if (installed !== wanted) {
  console.log('Node dev tools: installing from package-lock.json (npm ci)');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
  writeFileSync(stamp, wanted + '\n');
}
