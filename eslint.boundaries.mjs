// The import boundaries between Quantscope's runtimes and layers, as ESLint flat-config objects.
// Shared by eslint.config.mjs and by the unit test that proves each violation fails the lint run.
import { dirname, join, relative, sep } from 'node:path';

const ortOnlyInWorker = {
  name: 'onnxruntime-node',
  message: 'Only src/worker/ort.ts may import onnxruntime-node: ONNX Runtime blocks the calling thread and must stay in the worker.',
};

/**
 * The engine's layers, lowest first: a folder of src/core may import its own folder and the
 * folders of a lower or equal rank, never one above it (tensor never reads formats' types).
 */
const CORE_RANK = { 'FormatError.ts': 0, random: 0, linalg: 0, io: 0, tensor: 1, formats: 2, stats: 3, quant: 3, prune: 4, onnx: 5, calibration: 6, transform: 7, findings: 8, serving: 3 };

/** The src/core folder (or top-level file) `file` lies in, or undefined outside src/core. */
function coreFolder(root, file) {
  const parts = relative(root, file).split(sep);
  return parts[0] === 'src' && parts[1] === 'core' ? parts[2] : undefined;
}

/** A rule that resolves each relative import and refuses one that reaches a higher layer of src/core. */
const coreLayers = {
  meta: { type: 'problem', schema: [], messages: { upward: 'src/core/{{from}} sits below src/core/{{to}} and must not import it: move what both need down, or the importer up.' } },
  create(context) {
    const file = context.filename;
    const root = context.cwd;
    const from = coreFolder(root, file);
    if (from === undefined || !(from in CORE_RANK)) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = coreFolder(root, join(dirname(file), spec));
      if (to === undefined || to === from || !(to in CORE_RANK)) return;
      if (CORE_RANK[to] > CORE_RANK[from]) context.report({ node, messageId: 'upward', data: { from, to } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
    };
  },
};

/** ESLint's rule for these boundaries, with the ONNX Runtime restriction every file shares. */
function restrict(patterns, extraPaths = []) {
  return ['error', { paths: [ortOnlyInWorker, ...extraPaths], patterns }];
}

export const boundaries = [
  {
    files: ['**/*.ts'],
    plugins: { quantscope: { rules: { 'core-layers': coreLayers } } },
    rules: { 'no-restricted-imports': ['error', { paths: [ortOnlyInWorker] }], 'quantscope/core-layers': 'error' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [{ group: ['**/worker/**', '**/extension/**', '**/webview/**', '**/cli/**', 'vscode-jsonrpc/*'], message: 'src/core imports nothing from the worker, the extension, the CLI or the webviews.' }],
        [
          { name: 'vscode', message: 'src/core is the pure engine: no vscode.' },
          { name: 'vscode-jsonrpc', message: 'src/core is the pure engine: no transport.' },
        ],
      ),
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [{ group: ['**/core/**', '**/worker/**', '**/extension/**', '**/webview/**', '**/cli/**'], message: 'The protocol owns the wire vocabulary and depends on nothing but itself.' }],
        [{ name: 'vscode', message: 'The protocol is type-only and shared with the webview.' }],
      ),
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [{ group: ['**/src/core/**', '**/src/worker/**', '**/src/extension/**', '**/src/cli/**', 'node:*'], message: 'webview imports only src/protocol.' }],
        [{ name: 'vscode', message: 'Webviews run in the browser; talk to the host with messages.' }],
      ),
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([{ group: ['**/worker/**', '**/cli/**'], message: 'The extension talks to the worker over JSON-RPC, never by importing it (nor the CLI).' }]) },
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([{ group: ['**/extension/**', '**/cli/**', '**/webview/**'], message: 'The worker runs without VS Code: it imports neither the extension, the CLI nor the webviews.' }]) },
  },
  {
    files: ['src/worker/jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['**/extension/**', '**/cli/**', '**/webview/**'], message: 'The worker runs without VS Code: it imports neither the extension, the CLI nor the webviews.' },
        { group: ['**/host/**', 'vscode-jsonrpc', 'vscode-jsonrpc/*'], message: 'Jobs are plain async functions that the CLI runs too: the JSON-RPC host imports them, never the reverse.' },
      ]),
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [{ group: ['**/extension/**', '**/webview/**', '**/worker/host/**', '**/host/**'], message: 'The CLI runs the jobs in its own process: no VS Code layer, no worker host.' }],
        [{ name: 'vscode', message: 'The CLI runs without VS Code.' }],
      ),
    },
  },
  {
    files: ['src/worker/ort.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
];
