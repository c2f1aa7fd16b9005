// ESLint for src/, test/, bench/, scripts/ and bin/: typescript-eslint's type-checked rules (types
// from tsconfig.json through the project service) tuned to the bugs this code base can have; the
// few plain JavaScript files get ESLint's own rules without types. The layer rule and the ban on
// import cycles are dependency-cruiser's (.dependency-cruiser.js); the layout is Prettier's
// (.prettierrc.yaml). `npm run lint` runs all three.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** `_name` and rest siblings are how the code says "left out on purpose". */
const UNUSED_VARS = { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true };

export default defineConfig(
  // What .gitignore keeps out of the repository, and Azure's REST examples kept as published.
  { ignores: ['dist/', 'coverage/', '.test-output/', 'test/fixtures/'] },

  {
    files: ['**/*.{ts,js,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-unused-vars': ['error', UNUSED_VARS],
      // `${...}` in a plain string is a template literal written with the wrong quotes.
      'no-template-curly-in-string': 'error',
      // The code compares with === throughout; == would coerce.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Stripping and rejecting control characters is what those regular expressions are for.
      'no-control-regex': 'off',
    },
  },

  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', UNUSED_VARS],
      // A switch over a union that forgets a member, unless a default answers for the rest.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `return promise` inside try/catch/finally skips the catch and runs the finally too early.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // A use of an API marked @deprecated, caught while the replacement is one edit away.
      '@typescript-eslint/no-deprecated': 'error',
      // Numbers, booleans and possibly-undefined values print as meant in messages; objects ("[object Object]") and `any` may not.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: true, allowAny: false },
      ],
    },
  },

  {
    // The operator page's script runs in the browser.
    files: ['src/report/assets/*.js'],
    languageOptions: { globals: globals.browser },
  },

  {
    // In-memory adapters implement Promise-returning ports with nothing to await.
    files: ['src/adapters/in-memory/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },

  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // A committed .only silently skips every other test in the file.
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: 'A committed .only skips the other tests.' },
        { object: 'it', property: 'only', message: 'A committed .only skips the other tests.' },
        { object: 'test', property: 'only', message: 'A committed .only skips the other tests.' },
      ],
      // Tests read parsed JSON answers as `any` and build malformed inputs on purpose; the assertions check the shape.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: true, allowAny: true },
      ],
      // Fakes implement Promise-returning ports with async functions that have nothing to await.
      '@typescript-eslint/require-await': 'off',
      // Tests hold Bicep and shell text whose `${...}` is meant literally.
      'no-template-curly-in-string': 'off',
    },
  },

  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.commonjs } } },
);
