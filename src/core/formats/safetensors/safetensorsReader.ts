import type { FormatReader } from '../FormatReader';
import { headerLength, openSafetensorsFile } from './safetensorsHeader';

/**
 * A single .safetensors file. Sniffed by content: a plausible header length followed by a JSON
 * object, since the format has no magic number.
 */
export const safetensorsReader: FormatReader = {
  name: 'safetensors',
  sniff(head, file) {
    const n = headerLength(head);
    if (n === undefined || n < 2) return false;
    // A length past the end still counts when it is below 2^48 (the top bytes are zero), so that
    // a truncated or lying file gets the safetensors reader's precise error.
    if (n > file.size - 8 && (head[6] !== 0 || head[7] !== 0)) return false;
    for (let i = 8; i < head.byteLength; i++) {
      const c = head[i];
      if (c === 0x7b) return true; // '{'
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
    }
    return false;
  },
  open: openSafetensorsFile,
};
