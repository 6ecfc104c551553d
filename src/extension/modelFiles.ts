import * as vscode from 'vscode';

import { MODEL_EXTENSIONS } from '../core/formats/modelFiles';

export { MODEL_EXTENSIONS };

/** Finds model files in the workspace, ONNX first, skipping dependency and VCS folders and our own caches. */
export async function findWorkspaceModels(token?: vscode.CancellationToken, extensions: readonly string[] = MODEL_EXTENSIONS): Promise<vscode.Uri[]> {
  const glob = `**/*.{${extensions.join(',')}}`;
  const found = await vscode.workspace.findFiles(glob, '**/{node_modules,.git,.tools,dist,.quantscope}/**', 2000, token);
  const rank = (u: vscode.Uri): number => (u.path.endsWith('.onnx') ? 0 : 1);
  return found.sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
}

/** Asks the user for one model: a QuickPick of workspace models, with a file dialog as fallback. */
export async function pickModel(title: string, extensions: readonly string[] = MODEL_EXTENSIONS): Promise<vscode.Uri | undefined> {
  const browse = '$(folder-opened) Browse…';
  const models = await findWorkspaceModels(undefined, extensions);
  const items: (vscode.QuickPickItem & { uri?: vscode.Uri })[] = models.map((uri) => ({
    label: `$(file-binary) ${vscode.workspace.asRelativePath(uri)}`,
    uri,
  }));
  items.push({ label: browse });
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: models.length ? 'Pick a model from the workspace' : 'No models in the workspace: browse for one', matchOnDescription: true });
  if (!picked) return undefined;
  if (picked.uri) return picked.uri;
  const chosen = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { Models: [...extensions] } });
  return chosen?.[0];
}
