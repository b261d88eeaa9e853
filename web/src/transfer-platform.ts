import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { TransferPlatform } from '../../src/client/transfer-flow.js';

/** Characters per `String.fromCharCode` call: well under any engine's argument limit. */
const SPREAD = 0x8000;

/**
 * The shared transfer flow's hashing and base64 in a page: @noble/hashes for an
 * incremental SHA-256 (SubtleCrypto has none) and the browser's `btoa`/`atob`.
 */
export const webTransferPlatform: TransferPlatform = {
  sha256: () => {
    const hash = sha256.create();
    return { update: (bytes) => hash.update(bytes), hex: () => bytesToHex(hash.digest()) };
  },
  toBase64: (bytes) => {
    let binary = '';
    for (let at = 0; at < bytes.length; at += SPREAD)
      binary += String.fromCharCode(...bytes.subarray(at, at + SPREAD));
    return btoa(binary);
  },
  fromBase64: (text) => {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  },
};
