import type * as vscode from 'vscode';

/** Disposes every item, collecting errors so that one failure does not leak the rest. */
export function disposeAll(disposables: vscode.Disposable[]): void {
  const errors: unknown[] = [];
  while (disposables.length) {
    try {
      disposables.pop()?.dispose();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'errors while disposing');
}

/**
 * Base class for objects that own other disposables. Register each owned resource with
 * {@link Disposable._register}; disposing the owner disposes them in reverse order.
 */
export abstract class Disposable implements vscode.Disposable {
  private _isDisposed = false;
  private readonly _disposables: vscode.Disposable[] = [];

  /** True once {@link dispose} ran. */
  protected get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Disposes this object and everything it registered. Safe to call twice. */
  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    disposeAll(this._disposables);
  }

  /** Takes ownership of `value`; if this object is already disposed, `value` is disposed at once. */
  protected _register<T extends vscode.Disposable>(value: T): T {
    if (this._isDisposed) value.dispose();
    else this._disposables.push(value);
    return value;
  }
}
