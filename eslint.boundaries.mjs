// The import boundaries between Quantscope's runtimes, as ESLint flat-config objects. Shared by
// eslint.config.mjs and by the unit test that proves a violation fails the lint run.

const ortOnlyInWorker = {
  name: 'onnxruntime-node',
  message: 'Only src/worker/ort.ts may import onnxruntime-node: ONNX Runtime blocks the calling thread and must stay in the worker.',
};

export const boundaries = [
  {
    files: ['**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [ortOnlyInWorker] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ortOnlyInWorker,
          { name: 'vscode', message: 'src/core is the pure engine: no vscode.' },
          { name: 'vscode-jsonrpc', message: 'src/core is the pure engine: no transport.' },
        ],
        patterns: [
          { group: ['**/worker/**', '**/extension/**', '**/webview/**', '**/cli/**', 'vscode-jsonrpc/*'], message: 'src/core imports nothing from the worker, the extension, the CLI or the webviews.' },
        ],
      }],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [ortOnlyInWorker, { name: 'vscode', message: 'The protocol is type-only and shared with the webview.' }],
        patterns: [{ group: ['**/worker/**', '**/extension/**', '**/webview/**', '**/cli/**'], message: 'The protocol depends on nothing but itself.' }],
      }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [ortOnlyInWorker, { name: 'vscode', message: 'Webviews run in the browser; talk to the host with messages.' }],
        patterns: [{ group: ['**/src/core/**', '**/src/worker/**', '**/src/extension/**', '**/src/cli/**', 'node:*'], message: 'webview imports only src/protocol.' }],
      }],
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [ortOnlyInWorker],
        patterns: [{ group: ['**/worker/**'], message: 'The extension talks to the worker over JSON-RPC, never by importing it.' }],
      }],
    },
  },
  {
    files: ['src/worker/ort.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
];
