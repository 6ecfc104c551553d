import * as vscode from 'vscode';
import { modelTextEntries, type ModelTextEntry, type ModelTextEntryKind } from '../../core/onnx/modelTextLines';
import { shortName } from '../../protocol/shortName';

const GROUPS: readonly { readonly title: string; readonly kinds: readonly ModelTextEntryKind[]; readonly symbol: vscode.SymbolKind; readonly item: vscode.SymbolKind }[] = [
  { title: 'inputs', kinds: ['input'], symbol: vscode.SymbolKind.Namespace, item: vscode.SymbolKind.Variable },
  { title: 'outputs', kinds: ['output'], symbol: vscode.SymbolKind.Namespace, item: vscode.SymbolKind.Variable },
  { title: 'layers', kinds: ['node'], symbol: vscode.SymbolKind.Namespace, item: vscode.SymbolKind.Function },
  { title: 'initializers', kinds: ['tensor'], symbol: vscode.SymbolKind.Namespace, item: vscode.SymbolKind.Constant },
];

/**
 * The outline of the model text view: inputs, outputs, layers (graph nodes) and initializers,
 * which also gives breadcrumbs and Go to Symbol (Ctrl+Shift+O). Long subgraph-path names are
 * shown short; the full name is the symbol's detail.
 */
export class ModelSymbolProvider implements vscode.DocumentSymbolProvider {
  /** Registers the provider for the `quantscope-model` language. */
  static register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(vscode.languages.registerDocumentSymbolProvider({ language: 'quantscope-model' }, new ModelSymbolProvider(), { label: 'Quantscope model' }));
  }

  provideDocumentSymbols(doc: vscode.TextDocument): vscode.DocumentSymbol[] {
    const entries = modelTextEntries(doc.getText());
    const out: vscode.DocumentSymbol[] = [];
    for (const g of GROUPS) {
      const members = entries.filter((e) => g.kinds.includes(e.kind));
      if (!members.length) continue;
      const children = members.map((e) => this.symbol(doc, e, g.item));
      const first = members[0], last = members[members.length - 1];
      const range = new vscode.Range(first.line, 0, last.line, doc.lineAt(last.line).text.length);
      const group = new vscode.DocumentSymbol(g.title, `${members.length}`, g.symbol, range, new vscode.Range(first.line, 0, first.line, 0));
      group.children = children;
      out.push(group);
    }
    return out;
  }

  private symbol(doc: vscode.TextDocument, e: ModelTextEntry, kind: vscode.SymbolKind): vscode.DocumentSymbol {
    const short = shortName(e.name);
    const detail = short === e.name ? e.detail : `${e.detail} · ${e.name}`;
    return new vscode.DocumentSymbol(short, detail, kind, doc.lineAt(e.line).range, new vscode.Range(e.line, e.column, e.line, e.column + e.length));
  }
}
