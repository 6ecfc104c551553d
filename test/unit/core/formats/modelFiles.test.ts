import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MODEL_FILES } from '../../../../src/core/formats/modelFiles';
import { repoRoot } from '../../support/paths';

interface Manifest {
  readonly activationEvents: readonly string[];
  readonly contributes: {
    readonly customEditors: readonly { readonly viewType: string; readonly selector: readonly { readonly filenamePattern: string }[] }[];
    readonly menus: Readonly<Record<string, readonly { readonly when?: string }[]>>;
  };
}

const manifest = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as Manifest;
const names = (editor: 'default' | 'option'): string[] => MODEL_FILES.filter((f) => f.editor === editor).map((f) => f.extension.slice(1));

test('package.json opens, offers and activates on exactly the extensions of the one list', () => {
  const byView = new Map(manifest.contributes.customEditors.map((e) => [e.viewType, e.selector.map((s) => s.filenamePattern)]));
  assert.deepEqual(byView.get('quantscope.checkpoint'), names('default').map((e) => `*.${e}`));
  assert.deepEqual(byView.get('quantscope.checkpointOption')?.filter((p) => p.startsWith('*.') && !p.includes('.index.')), names('option').map((e) => `*.${e}`));
  // Activation waits for the files that open by default: a workspace of arbitrary .bin files is no reason to start.
  assert.ok(manifest.activationEvents.includes(`workspaceContains:**/*.{${names('default').join(',')}}`), manifest.activationEvents.join('\n'));
  const whens = Object.values(manifest.contributes.menus).flat().map((m) => m.when ?? '').filter((w) => w.includes('resourceFilename =~'));
  assert.ok(whens.length > 0);
  for (const w of whens) assert.ok(w.includes(`\\.(${MODEL_FILES.map((f) => f.extension.slice(1)).join('|')})$`), w);
});
