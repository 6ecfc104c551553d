import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../Disposable';

/**
 * Serves quantization reports as read-only Markdown documents (`quantscope-report:` URIs), which
 * VS Code's Markdown preview shows as a readable page next to the diff.
 */
export class ReportProvider extends Disposable implements vscode.TextDocumentContentProvider {
  /** The URI scheme of report documents. */
  static readonly scheme = 'quantscope-report';
  private readonly reports = new Map<string, string>();
  private next = 1;

  /** Registers the provider. */
  static register(context: vscode.ExtensionContext): ReportProvider {
    const provider = new ReportProvider();
    context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(ReportProvider.scheme, provider), provider);
    return provider;
  }

  /** Keeps a report's Markdown and returns the URI of its document, named after `output`. */
  add(markdown: string, output: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: ReportProvider.scheme, path: `/${this.next++}/${path.basename(output)}.report.md` });
    this.reports.set(uri.toString(), markdown);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.reports.get(uri.toString()) ?? '# Report not available\n\nThis report belonged to an earlier window. Run the transform again to see it.\n';
  }
}
