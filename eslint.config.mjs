// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The one-way dependency chain of DESIGN.md, enforced: a wrong import fails `npm run lint`. */
const layer = (files, patterns, paths = []) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns, paths }] },
});
const packages = (names, message) => names.map((name) => ({ name, message }));
const forbid = (group, message) => ({ group, message });

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'bench-results/**',
      '.data/**',
      'test-output/**',
      'public/js/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['eslint.config.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  layer(
    ['src/db/**'],
    [
      forbid(
        ['**/models/**', '**/services/**', '**/controllers/**', '**/routes/**', '**/middleware/**'],
        'db/ knows no models or anything above them',
      ),
    ],
  ),
  layer(
    ['src/models/**'],
    [
      forbid(
        [
          '**/services/**',
          '**/controllers/**',
          '**/routes/**',
          '**/middleware/**',
          '**/app',
          '**/config',
        ],
        'models know no services, controllers or config',
      ),
    ],
    packages(['knex', 'pg'], 'models receive a transaction; they never open a connection'),
  ),
  layer(
    ['src/services/**'],
    [
      forbid(
        ['**/controllers/**', '**/middleware/**', '**/app', 'express'],
        'services know no HTTP',
      ),
      forbid(['**/routes/portal', '**/routes/admin'], 'services may use routes/paths only'),
    ],
  ),
  layer(
    ['src/controllers/portal/**'],
    [
      forbid(
        ['**/controllers/admin/**', '../admin/**'],
        'portal and admin controllers never import each other',
      ),
    ],
    packages(
      ['knex', 'pg'],
      'controllers run SQL only through services and models inside withScope',
    ),
  ),
  layer(
    ['src/controllers/admin/**'],
    [
      forbid(
        ['**/controllers/portal/**', '../portal/**'],
        'portal and admin controllers never import each other',
      ),
    ],
    packages(
      ['knex', 'pg'],
      'controllers run SQL only through services and models inside withScope',
    ),
  ),
  layer(
    ['src/middleware/**'],
    [
      forbid(
        ['**/controllers/**', '**/routes/portal', '**/routes/admin'],
        'middleware knows no controllers',
      ),
    ],
  ),
  {
    files: ['src/**'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Config only in src/config.ts' },
      ],
    },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
);
