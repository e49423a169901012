// Lint: strict TypeScript; the pure core (collectors, analysis, storage) may only `import type` from vscode.
import tseslint from 'typescript-eslint';

// `import { z } from 'zod'` binds zod's namespace object as a value, and esbuild then keeps all of zod
// (390 KB) in every bundle; `import * as z` is tree-shaken by member (170 KB; issue #12).
const zodByMember = {
  selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z'][importKind!='type']",
  message: "Write `import * as z from 'zod'`: the named `z` keeps all of zod in every bundle.",
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'bench-data/**', '.stryker-tmp/**', 'reports/**', '**/*.mjs', '**/*.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', zodByMember],
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
