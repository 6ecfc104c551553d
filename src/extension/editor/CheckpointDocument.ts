import * as vscode from 'vscode';

/** A model file opened in the read-only checkpoint editor. Holds no bytes: the worker reads the file. */
export class CheckpointDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}

  dispose(): void {
    // Nothing to release: the document is only a handle on the file.
  }
}
