#!/usr/bin/env node
// `npm start` and friends: build when the sources are newer than dist/, then run
// one entry point: platform (both apps, one process), gateway, admin, or migrate.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = {
  platform: 'dist/apps/platform/src/main.js',
  gateway: 'dist/apps/gateway/src/main.js',
  admin: 'dist/apps/admin/src/main.js',
  migrate: 'dist/apps/platform/src/migrate.js',
};
const target = process.argv[2] ?? 'platform';
if (!entries[target]) {
  console.error(`Unknown entry "${target}"; one of ${Object.keys(entries).join(', ')}`);
  process.exit(2);
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'generated') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const stamp = join(root, 'dist', '.build-stamp');
const sourcesChanged = () =>
  Math.max(
    newestMtime(join(root, 'apps')),
    newestMtime(join(root, 'libs')),
    statSync(join(root, 'tsconfig.json')).mtimeMs,
  ) > statSync(stamp).mtimeMs;
if (!existsSync(stamp) || !existsSync(join(root, entries[target])) || sourcesChanged()) {
  console.log('Building (sources changed since the last build)...');
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Signals go to the app, which shuts down gracefully; this wrapper just mirrors its exit.
const child = spawn(process.execPath, ['--enable-source-maps', join(root, entries[target])], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
