import * as vscode from 'vscode';
import type { BenchReport } from '../../protocol/benchTypes';
import { parseBenchWebviewMessage } from '../../protocol/parseWebviewMessage';
import type { BenchHostMessage } from '../../protocol/webviewProtocol';
import { receiveChecked } from '../receiveChecked';
import { webviewHtml } from '../webviewHtml';

/** A webview panel that shows one benchmark report with its charts. */
export class BenchmarkPanel {
  /** The panel's view type. */
  static readonly viewType = 'quantscope.benchmark';

  /** Opens a panel on `report`; `savedAs` is where the JSON was stored, for the page to say. */
  static show(extensionUri: vscode.Uri, report: BenchReport, savedAs?: string): vscode.WebviewPanel {
    const names = report.models.map((m) => m.path.split(/[\\/]/).pop() ?? m.path).join(' vs ');
    const panel = vscode.window.createWebviewPanel(BenchmarkPanel.viewType, `Benchmark: ${names}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
    });
    panel.webview.html = webviewHtml(panel.webview, extensionUri, 'bench', `Benchmark: ${names}`);
    const message: BenchHostMessage = { type: 'report', report, ...(savedAs ? { savedAs } : {}) };
    const sub = receiveChecked(panel.webview, 'benchmark report', parseBenchWebviewMessage, (m) => {
      if (m.type === 'ready') void panel.webview.postMessage(message);
    });
    panel.onDidDispose(() => {
      sub.dispose();
    });
    return panel;
  }
}
