import type * as vscode from 'vscode';
import type { Parsed } from '../protocol/parseWebviewMessage';

/** Where dropped messages are reported; set once at activation, so every webview host shares it. */
let droppedLog: Pick<vscode.LogOutputChannel, 'warn'> | undefined;

/** Sets the log that names each webview message dropped by {@link receiveChecked}. */
export function setWebviewMessageLog(log: Pick<vscode.LogOutputChannel, 'warn'>): void {
  droppedLog = log;
}

/**
 * Subscribes `handle` to `webview`'s messages after `parse` checked them against the protocol:
 * a malformed or unknown message is dropped and logged with the reason, never acted on.
 */
export function receiveChecked<T>(webview: vscode.Webview, what: string, parse: (raw: unknown) => Parsed<T>, handle: (message: T) => void): vscode.Disposable {
  return webview.onDidReceiveMessage((raw: unknown) => {
    const parsed = parse(raw);
    if (parsed.ok) handle(parsed.message);
    else droppedLog?.warn(`dropped a message from the ${what}: ${parsed.reason}`);
  });
}
