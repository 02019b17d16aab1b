// Compiles src/main/solidity/*.sol with the pinned solc (solcjs 0.8.30 from node_modules) and writes one JSON per
// contract: { abi, bytecode, compiler, contractName, settings }. The output is byte-for-byte reproducible, so the
// committed files in src/main/resources/contracts/ can be checked against their sources (a test does exactly that):
// the settings are fixed here, the CBOR metadata (which would embed a hash of source paths and comments) is left out,
// source keys are relative paths, and the JSON is written with sorted keys.
//
// Usage: node scripts/compile-contracts.mjs [outputDir]      (default: src/main/resources/contracts)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc');

const COMPILER_VERSION = '0.8.30';
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(projectRoot, 'src/main/solidity');
const nodeModules = join(projectRoot, 'node_modules');
const outputDir = resolve(process.argv[2] ?? join(projectRoot, 'src/main/resources/contracts'));

// Everything that changes the bytecode is pinned here. cancun: Base and every current L2 support it, and a newer
// default in a future solc must not change the output silently.
const settings = {
  evmVersion: 'cancun',
  metadata: { appendCBOR: false, bytecodeHash: 'none' },
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
};

if (!solc.version().startsWith(`${COMPILER_VERSION}+`)) {
  throw new Error(`expected solc ${COMPILER_VERSION}, node_modules has ${solc.version()}; run npm ci`);
}

const sources = {};
for (const file of readdirSync(sourceDir).filter((name) => name.endsWith('.sol')).sort()) {
  sources[relative(projectRoot, join(sourceDir, file))] = { content: readFileSync(join(sourceDir, file), 'utf8') };
}

// Only @openzeppelin/ imports come from outside src/main/solidity; nothing else may be read from disk.
function findImports(path) {
  if (!path.startsWith('@openzeppelin/')) return { error: `import outside @openzeppelin/: ${path}` };
  try {
    return { contents: readFileSync(join(nodeModules, path), 'utf8') };
  } catch (error) {
    return { error: `cannot read ${path}: ${error.message}` };
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: { ...settings, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));

// Errors anywhere stop the build; warnings are shown for our own sources only, because OpenZeppelin's (such as
// solc's blanket note on transient storage, which its reentrancy guard uses safely) are not ours to fix.
const problems = output.errors ?? [];
const shown = problems.filter(
  (problem) => problem.severity === 'error' || !problem.sourceLocation?.file?.startsWith('@openzeppelin/'),
);
for (const problem of shown) console.error(problem.formattedMessage);
if (problems.length > shown.length) {
  console.error(`(${problems.length - shown.length} warning(s) in @openzeppelin/ sources not shown)`);
}
if (problems.some((problem) => problem.severity === 'error')) process.exit(1);

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
  }
  return value;
}

mkdirSync(outputDir, { recursive: true });
for (const sourceKey of Object.keys(sources)) {
  for (const [contractName, contract] of Object.entries(output.contracts[sourceKey] ?? {})) {
    // Interfaces declared next to a contract have no bytecode and need no artifact.
    if (contract.evm.bytecode.object === '') continue;
    const artifact = sortKeys({
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
      compiler: `solc ${COMPILER_VERSION}`,
      contractName,
      settings,
    });
    const file = join(outputDir, `${contractName}.json`);
    writeFileSync(file, `${JSON.stringify(artifact, null, 2)}\n`);
    console.log(`wrote ${relative(process.cwd(), file) || file}`);
  }
}
