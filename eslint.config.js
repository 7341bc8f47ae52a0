// @ts-check
/**
 * Lint configuration (typescript-eslint, type-aware). The base is `recommendedTypeChecked`; the
 * rules below are the few we choose on top of it, each with its reason.
 */
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'docs/api/**', 'node_modules/**', 'test/consumer/apps/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Type-only imports stay type-only in the emitted JS (no side effects at import).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // A promise nobody awaits loses its rejection: mark deliberate fire-and-forget with `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      // Unused names are dead code; `_`-prefixed parameters are deliberate.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Reject with Errors, but passing on a caught `unknown` as it is is fine.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Off: `async` on a method with no `await` is deliberate here: it turns a synchronous throw
      // (argument checks) into a rejection, which is what callers of a Promise-returning API expect.
      '@typescript-eslint/require-await': 'off',
      // Strict equality everywhere except `== null`.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // A folder is one idea: other folders reach it through its index.ts (internal/ and the
      // type-only spec/ excepted), so what a folder offers the rest of the package is listed in one place.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '../*/*.js',
                '../*/*/*.js',
                '../../*/*.js',
                '../../*/*/*.js',
                '!../*/index.js',
                '!../*/*/index.js',
                '!../../*/index.js',
                '!../../*/*/index.js',
                '!../internal/*',
                '!../../internal/*',
                '!../spec/*',
                '!../../spec/*',
              ],
              message: "Import another folder through its index.ts (add an `@internal` export there if it is not public).",
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and benches read JSON off the wire and drive the raw addon as a baseline: `any` there is
    // the point, so the no-unsafe-* family is off; everything else applies.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript (config files, scripts, consumer-test drivers): no type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS files are CommonJS: `require` is how they import.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
