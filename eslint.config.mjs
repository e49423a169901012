// Lint: strict TypeScript; the pure core (collectors, analysis, storage) may only `import type` from vscode.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'bench-data/**', '.stryker-tmp/**', 'reports/**', '**/*.mjs', '**/*.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/collectors/**', 'src/pipeline.ts', 'src/analysis/**', 'src/storage/**', 'src/worker/**', 'src/cli/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'The pure core runs without VS Code: only `import type` is allowed.', allowTypeImports: true }] },
      ],
    },
  },
);
