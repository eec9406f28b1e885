#!/usr/bin/env node
// Runs `prisma generate` on any machine, with or without Prisma's native schema engine.
// `generate` never executes the engine, but Prisma checks for it first and tries to
// download it; where that is impossible (offline, locked-down CI) we point the check
// at a stand-in file. A real engine, when one is installed, is always preferred.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schema = join(root, 'prisma', 'schema.prisma');
if (!existsSync(schema)) process.exit(0);

function findEngine() {
  const fromEnv = process.env.PRISMA_SCHEMA_ENGINE_BINARY;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const dirs = [join(root, 'node_modules', '@prisma', 'engines'), join(homedir(), '.cache', 'prisma')];
  for (const dir of dirs) {
    const found = findFile(dir, (name) => name.startsWith('schema-engine'), 4);
    if (found) return found;
  }
  return undefined;
}

function findFile(dir, test, depth) {
  if (depth < 0 || !existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && test(entry.name)) return path;
    if (entry.isDirectory()) {
      const found = findFile(path, test, depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY = findEngine() ?? schema; // any existing file satisfies the check
const cli = join(root, 'node_modules', 'prisma', 'build', 'index.js');
const result = spawnSync(process.execPath, [cli, 'generate', '--schema', schema], { env, stdio: 'inherit' });
process.exit(result.status ?? 1);
