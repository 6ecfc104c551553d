import * as path from 'node:path';
import * as vscode from 'vscode';
import type { QuantizeReport } from '../../protocol/quantizeTypes';
import { renderReportMarkdown } from './renderReportMarkdown';
import { Disposable } from '../Disposable';

/**
 * Serves quantization reports as read-only Markdown documents (`quantscope-report:` URIs), which
 * VS Code's Markdown preview shows as a readable page next to the diff.
 */
export class ReportProvider extends Disposable implements vscode.TextDocumentContentProvider {
  /** The URI scheme of report documents. */
  static readonly scheme = 'quantscope-report';
  private readonly reports = new Map<string, QuantizeReport>();
  private next = 1;

  /** Registers the provider. */
  static register(context: vscode.ExtensionContext): ReportProvider {
    const provider = new ReportProvider();
    context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(ReportProvider.scheme, provider), provider);
    return provider;
  }

  /** Keeps `report` and returns the URI of its document. */
  add(report: QuantizeReport): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: ReportProvider.scheme, path: `/${this.next++}/${path.basename(report.output)}.report.md` });
    this.reports.set(uri.toString(), report);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const report = this.reports.get(uri.toString());
    return report ? renderReportMarkdown(report) : '# Report not available\n\nThis report belonged to an earlier window. Quantize again to see it.\n';
  }
}
