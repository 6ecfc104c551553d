/**
 * What the .vsix holds: the file list of `vsce ls` (the same selection `vsce package` makes from
 * .vscodeignore) is only what runs, the manifest's own references are all in it, and of
 * onnxruntime-node only the linux-x64 binaries ship.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fixture, repoRoot } from '../support/paths';

interface Manifest {
  main: string;
  icon: string;
  galleryBanner?: { color: string; theme: string };
  activationEvents: string[];
  contributes: {
    walkthroughs?: { steps: { id: string; media: { markdown?: string; image?: string }; completionEvents?: string[]; description: string }[] }[];
    grammars: { path: string }[];
    languages: { configuration?: string }[];
    viewsContainers: Record<string, { icon: string }[]>;
  };
}

const root = repoRoot();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const nls = JSON.parse(readFileSync(join(root, 'package.nls.json'), 'utf8')) as Record<string, string>;
let files: string[] = [];

/** A manifest path as vsce lists it (no leading "./"). */
const rel = (p: string): string => p.replace(/^\.\//, '');

describe('the .vsix contents', () => {
  before(() => {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    files = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !/^(WARNING|INFO|ERROR)\b/.test(l));
    assert.ok(files.length > 10, `vsce listed ${files.length} files`);
  });

  test('holds the bundles, the manifest, the docs and the sample, and nothing from the sources', () => {
    for (const f of ['package.json', 'package.nls.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'dist/extension.js', 'dist/worker.js', 'dist/cli.js', 'dist/webview/editor.js', 'samples/tiny_mlp.onnx']) {
      assert.ok(files.includes(f), `ships ${f}`);
    }
    const forbidden = /^(src|test|bench|scripts|webview|\.tools|\.ci|test-results)\/|\.(ts|map|py|mjs|vsix)$|^(tsconfig|esbuild|eslint)|fixtures/;
    const leaked = files.filter((f) => forbidden.test(f));
    assert.deepEqual(leaked, [], 'no sources, tests, fixtures, tools, source maps or type declarations');
  });

  test('of node_modules ships only onnxruntime-node, onnxruntime-common and linux-x64 binaries', () => {
    const modules = files.filter((f) => f.startsWith('node_modules/'));
    const packages = new Set(modules.map((f) => f.split('/')[1]));
    assert.deepEqual([...packages].sort(), ['onnxruntime-common', 'onnxruntime-node']);
    const binaries = modules.filter((f) => f.includes('/bin/'));
    assert.ok(binaries.length >= 2, 'the native binding and the runtime library ship');
    for (const b of binaries) assert.match(b, /^node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\//, `${b} is a linux-x64 binary`);
    assert.ok(binaries.some((b) => b.endsWith('onnxruntime_binding.node')));
  });

  test('ships every file the manifest names', () => {
    const named = [
      rel(manifest.main),
      manifest.icon,
      ...manifest.contributes.grammars.map((g) => rel(g.path)),
      ...manifest.contributes.languages.flatMap((l) => (l.configuration ? [rel(l.configuration)] : [])),
      ...Object.values(manifest.contributes.viewsContainers).flat().map((c) => rel(c.icon)),
      ...(manifest.contributes.walkthroughs ?? []).flatMap((w) => w.steps.flatMap((s) => [s.media.markdown, s.media.image].filter((m): m is string => Boolean(m)))),
    ];
    for (const f of named) assert.ok(files.includes(f), `the manifest names ${f}, and the package holds it`);
  });

  test('has a 128×128 PNG icon and a gallery banner', () => {
    const png = readFileSync(join(root, manifest.icon));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
    assert.match(manifest.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
    assert.ok(['dark', 'light'].includes(manifest.galleryBanner?.theme ?? ''));
  });

  test('the walkthrough opens the shipped sample and shows Profile, Calibrate and Quantize', () => {
    const steps = manifest.contributes.walkthroughs?.[0]?.steps ?? [];
    assert.deepEqual(steps.map((s) => s.id), ['openSample', 'profile', 'calibrate', 'quantize']);
    const text = (s: string): string => nls[s.replace(/^%|%$/g, '')] ?? s;
    for (const [i, step] of ['open', 'profile', 'calibrate', 'quantize'].entries()) {
      const link = `command:quantscope.openSampleModel?${encodeURIComponent(JSON.stringify([step]))}`;
      assert.ok(text(steps[i].description).includes(link), `step ${steps[i].id} has a button that runs its command on the sample`);
    }
    assert.ok(manifest.activationEvents.includes('onCommand:quantscope.openSampleModel'), 'the walkthrough\'s buttons activate the extension');
    // The sample is the tested fixture, byte for byte.
    assert.ok(existsSync(join(root, 'samples', 'tiny_mlp.onnx')));
    assert.deepEqual(readFileSync(join(root, 'samples', 'tiny_mlp.onnx')), readFileSync(fixture('workspace', 'tiny_mlp.onnx')));
  });
});
