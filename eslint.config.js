// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries, and activities only
// as types (they are called through proxyActivities).
const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'pg',
  'slonik',
  'amqplib',
  'nodemailer',
  'smtp-server',
  'node-pg-migrate',
  'prom-client',
  'yargs',
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/testing',
];

// Who may import whom (CONTRIBUTING.md has the table): the layout is kept by the linter, not by memory. lib/ is the
// domain code beneath everything Temporal; db/ is data access; activities get what they need from the worker that
// creates them; nothing the product runs imports the test harness.
const rooms = [
  {
    target: './lib',
    from: ['./cli', './workers', './activities', './workflows', './test', './scripts'],
    message: 'lib/ sits beneath the Temporal rooms and the command line: pass what it needs in.',
  },
  {
    target: './db',
    from: ['./cli', './workers', './activities', './workflows', './test', './scripts'],
    message: 'db/ is data access: it knows nothing of Temporal or the command line.',
  },
  {
    target: './activities',
    from: ['./workers', './cli', './workflows', './test', './scripts'],
    message: 'Activities get their dependencies from the worker that creates them, never by importing it.',
  },
  {
    target: './workers',
    from: ['./cli', './test', './scripts'],
    message: 'Workers are processes the command line starts, not the other way round.',
  },
  {
    target: ['./workflows', './cli', './bin'],
    from: ['./test', './scripts'],
    message: 'The product never imports the test harness or repository scripts.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'var/**', 'node_modules/**', 'docs/**', 'build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.cjs', 'scripts/*.cjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'object-shorthand': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbiddenInWorkflows.map((name) => ({
            name,
            message: 'Workflow code must be deterministic: no Node built-ins or I/O libraries (use an activity).',
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: [
                '../activities/*',
                '../db/*',
                '../lib/amqp/*',
                '../lib/walker/*',
                '../lib/notify/mail*',
                '../lib/report/*',
                '../cli/*',
              ],
              message: 'Workflows import activities and I/O modules only as types.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: rooms }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // The walker is a library: it knows nothing of Temporal, RabbitMQ or the database.
    files: ['lib/walker/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@temporalio/*', 'amqplib', 'pg', 'slonik', '../../db/*'] }],
    },
  },
  {
    // The CommonJS launcher (bin/xfc.cjs) runs in Node's CommonJS scope.
    files: ['bin/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // scripts/build-native.cjs runs at `npm ci`, before (and without) the TypeScript toolchain.
    files: ['scripts/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { process: 'readonly', console: 'readonly', require: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
