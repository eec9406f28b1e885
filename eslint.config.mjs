// ESLint flat config: type-checked typescript-eslint rules for the TypeScript
// sources, plus the architecture's import boundaries (DESIGN.md "Layout",
// STYLE.md "Layout and boundaries") enforced with core `no-restricted-imports`.
//
// `no-restricted-imports` options do not merge across config objects (the last
// matching object wins), so every folder gets one complete list, built below.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Test code: relaxed rules, and (with bench/**) the only code that may use `@app/testing`. */
const TEST_FILES = ['**/*.spec.ts', '**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'];
const TS_FILES = ['apps/**/*.ts', 'libs/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'];

/**
 * Which libs each lib may import (through `@app/<lib>`), lowest first.
 * DESIGN.md's order, with server (HTTP plumbing) above db:
 * contracts <- config <- db <- server <- auth/usage/providers <- completions.
 * `providers` knows nothing of the database, the HTTP server or Nest.
 * `testing` (fakes and fixtures) sits above everything and is used by tests only.
 */
const LIB_DEPS = {
  contracts: [],
  config: ['contracts'],
  db: ['contracts', 'config'],
  server: ['contracts', 'config', 'db'],
  auth: ['contracts', 'config', 'db', 'server'],
  usage: ['contracts', 'config', 'db', 'server'],
  providers: ['contracts', 'config'],
  completions: ['contracts', 'config', 'db', 'server', 'auth', 'usage', 'providers'],
  testing: ['contracts', 'config', 'db', 'server', 'auth', 'usage', 'providers', 'completions'],
};
const LIBS = Object.keys(LIB_DEPS);
const APPS = ['gateway', 'admin', 'platform'];
/** Apps another app may import from; only the all-in-one launcher composes both apps. */
const APP_DEPS = { gateway: [], admin: [], platform: ['gateway', 'admin'] };

const alternation = (names) => names.join('|');

const PRISMA_CLIENT = [
  {
    regex: '(^|/)generated/prisma(/|$)',
    message: 'Only libs/db imports the generated Prisma client: use a repository from @app/db.',
  },
  {
    regex: '^@prisma/client(/|$)',
    message: 'Only libs/db imports the Prisma client: use a repository from @app/db.',
  },
];
const DEEP_LIB_IMPORT = {
  regex: '^@app/[\\w-]+/',
  message: 'Import a lib through its index only: `@app/<lib>`, not a path inside it.',
};
const TESTING_LIB = {
  regex: '^@app/testing$',
  message: '@app/testing (fakes, fixtures) is for test files (*.spec.ts, *.test.ts, test/**) only.',
};

/** The complete `no-restricted-imports` patterns for one lib. */
function libPatterns(lib, { test }) {
  const forbidden = LIBS.filter((other) => other !== lib && other !== 'testing' && !LIB_DEPS[lib].includes(other));
  const patterns = [
    {
      regex: '^\\.\\.?/(.*/)?apps(/|$)',
      message: 'A lib never imports an app.',
    },
    {
      regex: '^(\\.\\./)+(libs/)?[\\w-]+/src(/|$)',
      message: 'Import another lib through its alias (`@app/<lib>`), never by a relative path.',
    },
    {
      regex: `^@app/${lib}$`,
      message: 'Inside a lib use relative imports, not its own `@app/` alias.',
    },
    DEEP_LIB_IMPORT,
  ];
  if (!test && lib !== 'testing') patterns.push(TESTING_LIB);
  if (forbidden.length > 0) {
    patterns.push({
      regex: `^@app/(${alternation(forbidden)})$`,
      message: `libs/${lib} may import only ${LIB_DEPS[lib].map((l) => `@app/${l}`).join(', ') || 'no other lib'} (libs import each other only downward).`,
    });
  }
  if (lib === 'providers') {
    patterns.push({
      regex: '^@nestjs/',
      message: 'libs/providers knows nothing of Nest: keep adapters plain TypeScript; wire them in a module elsewhere.',
    });
  }
  if (lib !== 'db') patterns.push(...PRISMA_CLIENT);
  return patterns;
}

/** The complete `no-restricted-imports` patterns for one app. */
function appPatterns(app, { test }) {
  const otherApps = APPS.filter((other) => other !== app && !APP_DEPS[app].includes(other));
  const patterns = [
    {
      regex: `^(\\.\\./)+(apps/)?(${alternation(otherApps)})/src(/|$)`,
      message:
        app === 'platform'
          ? 'Nothing imports the platform launcher.'
          : `apps/${app} never imports another app; only apps/platform composes both (shared code belongs in a lib).`,
    },
    {
      regex: '^\\.\\.?/(.*/)?libs(/|$)',
      message: 'Import a lib through its alias (`@app/<lib>`), never by a relative path.',
    },
    DEEP_LIB_IMPORT,
    ...PRISMA_CLIENT,
  ];
  if (!test) patterns.push(TESTING_LIB);
  return patterns;
}

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

const boundaries = [
  ...LIBS.flatMap((lib) => [
    {
      name: `boundaries/libs/${lib}`,
      files: [`libs/${lib}/**/*.ts`],
      ignores: TEST_FILES,
      rules: restrict(libPatterns(lib, { test: false })),
    },
    {
      name: `boundaries/libs/${lib}/tests`,
      files: TEST_FILES.map((glob) => `libs/${lib}/${glob}`),
      rules: restrict(libPatterns(lib, { test: true })),
    },
  ]),
  ...APPS.flatMap((app) => [
    {
      name: `boundaries/apps/${app}`,
      files: [`apps/${app}/**/*.ts`],
      ignores: TEST_FILES,
      rules: restrict(appPatterns(app, { test: false })),
    },
    {
      name: `boundaries/apps/${app}/tests`,
      files: TEST_FILES.map((glob) => `apps/${app}/${glob}`),
      rules: restrict(appPatterns(app, { test: true })),
    },
  ]),
  {
    name: 'boundaries/test-bench-scripts',
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: restrict([DEEP_LIB_IMPORT, ...PRISMA_CLIENT]),
  },
];

/** Node's globals for the plain JavaScript files (no `globals` package needed). */
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Buffer',
    'URL',
    'URLSearchParams',
    'TextDecoder',
    'TextEncoder',
    'clearImmediate',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'performance',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  {
    name: 'ignores',
    ignores: [
      '**/dist/',
      '**/node_modules/',
      'coverage/',
      'data/',
      '.bench/',
      '.test-data/',
      'libs/db/src/generated/',
      'prisma/migrations/',
    ],
  },

  // Plain JavaScript (scripts/*.mjs, this file): recommended rules, no type information.
  {
    name: 'javascript',
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: nodeGlobals },
    rules: {
      'no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    name: 'javascript/commonjs',
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        ...nodeGlobals,
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        __filename: 'readonly',
      },
    },
  },

  // Root TypeScript config files (prisma.config.ts, vitest.config.mts) are outside
  // tsconfig.json: lint them without type information.
  {
    name: 'typescript/root-configs',
    files: ['*.ts', '*.mts', '*.cts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
  },

  // The TypeScript sources, with type information from tsconfig.json.
  {
    name: 'typescript/type-checked',
    files: TS_FILES,
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // scripts/*.ts (none yet) are outside tsconfig.json's include: give them its options.
        projectService: { allowDefaultProject: ['scripts/*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      // Parameters of decorated members need value imports for emitDecoratorMetadata;
      // TypeScript itself (TS1272, isolated modules) says when `import type` is required.
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-non-null-assertion': 'error',
      // An `async` implementation of a Promise-returning interface without `await` is fine
      // (throws become rejections); forgotten awaits are caught by no-floating-promises.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      eqeqeq: ['error', 'smart'],
    },
  },

  // Tests may poke at internals: non-null assertions, loosely typed fixtures and
  // `expect(service.method)` are fine there.
  {
    name: 'typescript/tests',
    files: TEST_FILES,
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },

  ...boundaries,
);
