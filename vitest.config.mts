import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const lib = (name: string) => resolve(import.meta.dirname, `libs/${name}/src`);

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: {
      '@app/contracts': lib('contracts'),
      '@app/config': lib('config'),
      '@app/db': lib('db'),
      '@app/auth': lib('auth'),
      '@app/usage': lib('usage'),
      '@app/providers': lib('providers'),
      '@app/completions': lib('completions'),
      '@app/server': lib('server'),
      '@app/testing': lib('testing'),
    },
  },
  test: {
    include: ['apps/**/*.{spec,test}.ts', 'libs/**/*.{spec,test}.ts', 'test/**/*.{spec,test}.ts'],
    pool: 'forks',
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
