/**
 * Files a job creates that must not outlive it: temporary files of the atomic writer, and a
 * transform's output until it has been validated. A process killed with SIGKILL cannot clean up
 * after itself, so whoever started it (the extension's worker client) is told about each such
 * file before it exists and removes the ones still owned when the process dies.
 */

/** Where ownership is reported; the worker host installs one that tells its parent. */
export interface OwnedFileObserver {
  /**
   * Called before `path` is created. The file is created only once the returned promise
   * resolves, so a kill right after creation cannot leave a file nobody knows about.
   */
  readonly own: (path: string) => Promise<void>;
  /** Called once `path` is renamed away, removed, or complete and wanted. */
  readonly release: (path: string) => void;
}

let observer: OwnedFileObserver | undefined;

/** Installs (or with undefined, removes) the process-wide observer. */
export function observeOwnedFiles(value: OwnedFileObserver | undefined): void {
  observer = value;
}

/** Declares that `path` is about to be created by this process and must be removed if it dies. */
export async function ownFile(path: string): Promise<void> {
  await observer?.own(path);
}

/** Declares that `path` no longer needs removing if this process dies. */
export function releaseFile(path: string): void {
  observer?.release(path);
}
