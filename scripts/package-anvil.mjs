// Packs the embedded chain's node, anvil, into the jar: the jar then runs from any directory on a machine with only a
// JDK. Copies the binary npm installed (package.json pins its version) under target/generated-resources/anvil, beside
// anvil.properties with its version, size and SHA-256; EmbeddedAnvil unpacks it into <data>/bin on first use and
// checks it against that digest. Run by the Maven build at generate-resources, after ensure-node-tools.mjs.
import { createHash } from 'node:crypto';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [outputDirectory] = process.argv.slice(2);
if (!outputDirectory) {
  throw new Error('usage: node scripts/package-anvil.mjs <output directory>');
}
const packageDirectory = 'node_modules/@foundry-rs/anvil-linux-amd64';
const binary = join(packageDirectory, 'bin/anvil');
if (!existsSync(binary)) {
  throw new Error(`${binary} is missing: the Node dev tools were not installed (scripts/ensure-node-tools.mjs)`);
}
const version = JSON.parse(readFileSync(join(packageDirectory, 'package.json'), 'utf8')).version;
const bytes = readFileSync(binary);
const sha256 = createHash('sha256').update(bytes).digest('hex');

const target = join(outputDirectory, 'gpubroker/anvil/linux-x86_64');
mkdirSync(target, { recursive: true });
const properties = join(target, 'anvil.properties');
const wanted = `version=${version}\nsize=${bytes.length}\nsha256=${sha256}\n`;
const packed = join(target, 'anvil');
if (!existsSync(properties) || readFileSync(properties, 'utf8') !== wanted || !existsSync(packed)
    || statSync(packed).size !== bytes.length) {
  copyFileSync(binary, packed);
  chmodSync(packed, 0o755);
  writeFileSync(properties, wanted);
  console.log(`anvil ${version} packed for the jar (${bytes.length} bytes, sha256 ${sha256})`);
}
