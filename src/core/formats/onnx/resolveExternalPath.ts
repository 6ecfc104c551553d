import { dirname, join } from 'node:path';
import { FormatError } from '../../FormatError';

/**
 * Resolves a TensorProto `external_data` location against the model's folder. Locations come from
 * the file, so anything that could reach outside that folder (absolute paths, drive letters, `..`)
 * is refused rather than followed.
 */
export function resolveExternalPath(modelPath: string, location: string): string {
  const shown = JSON.stringify(location);
  if (location.length === 0) throw new FormatError('an external tensor has an empty location', { format: 'onnx' });
  if (location.includes('\0')) throw new FormatError(`external data location ${shown} contains a NUL character`, { format: 'onnx' });
  const parts = location.replace(/\\/g, '/').split('/');
  if (location.startsWith('/') || location.startsWith('\\') || /^[A-Za-z]:/.test(location)) {
    throw new FormatError(`refusing external data at absolute path ${shown}: it must be relative to the model's folder`, { format: 'onnx' });
  }
  if (parts.includes('..')) {
    throw new FormatError(`refusing external data location ${shown}: it leaves the model's folder`, { format: 'onnx' });
  }
  return join(dirname(modelPath), ...parts.filter((p) => p !== '' && p !== '.'));
}
