// ESLint's recommended rules over the package, its tests and the Node parts of
// the repository (examples, the parity fixture server).
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { ecmaVersion: 2023, globals: { ...globals.node } },
  },
  { files: ['**/*.js'], languageOptions: { sourceType: 'commonjs' } },
  { ignores: ['node_modules/', 'build/'] },
];
