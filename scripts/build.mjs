#!/usr/bin/env node
// Builds every app (and the libs they use) into dist/ with the Nest CLI (tsc builder),
// then stamps the build so `npm start` knows it is current.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args) => {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(join(root, 'libs', 'db', 'src', 'generated', 'prisma', 'client.ts'))) {
  run([join(root, 'scripts', 'prisma-generate.mjs')]);
}
// tsconfig.build.json includes every app and lib, so one compilation emits them all.
run([join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build', 'platform']);
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString());
