// Parsers for the official dataset formats. Every check names the file and what is wrong,
// so a truncated or corrupt download never becomes a silent partial dataset.
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

export class DatasetError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DatasetError';
  }
}

export const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Gunzips when the bytes start with the gzip magic; reports a corrupt stream by name. */
export function maybeGunzip(buf: Buffer, file: string): Buffer {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      return gunzipSync(buf);
    } catch (e) {
      throw new DatasetError(file, `corrupt gzip data (${(e as Error).message})`);
    }
  }
  return buf;
}

export interface Idx {
  dims: number[];
  data: Uint8Array;
}

/** IDX (LeCun's format), ubyte only: magic 0x0000 08 NN, NN big-endian uint32 dims, then data. */
export function parseIdx(raw: Buffer, file: string): Idx {
  const buf = maybeGunzip(raw, file);
  if (buf.length < 8) throw new DatasetError(file, `too short for an IDX header (${buf.length} bytes)`);
  const magic = buf.readUInt32BE(0);
  if (magic >>> 16 !== 0 || ((magic >>> 8) & 0xff) !== 0x08)
    throw new DatasetError(file, `not a ubyte IDX file (magic 0x${magic.toString(16).padStart(8, '0')})`);
  const ndim = magic & 0xff;
  if (ndim < 1 || ndim > 4) throw new DatasetError(file, `IDX header claims ${ndim} dimensions`);
  const head = 4 + 4 * ndim;
  if (buf.length < head) throw new DatasetError(file, 'truncated IDX header');
  const dims = Array.from({ length: ndim }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const n = dims.reduce((a, b) => a * b, 1);
  const have = buf.length - head;
  if (have < n) throw new DatasetError(file, `truncated: header says ${n} bytes of data (${dims.join('x')}), file has ${have}`);
  if (have > n) throw new DatasetError(file, `${have - n} unexpected trailing bytes after ${dims.join('x')} data`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + head, n) };
}

export const CIFAR_RECORD = 1 + 3 * 32 * 32;

/** One CIFAR-10 binary batch: records of 1 label byte + 1024 R + 1024 G + 1024 B bytes. */
export function parseCifarBatch(buf: Uint8Array, file: string): { images: Uint8Array; labels: Uint8Array } {
  if (buf.length === 0 || buf.length % CIFAR_RECORD !== 0)
    throw new DatasetError(file, `size ${buf.length} is not a multiple of the ${CIFAR_RECORD}-byte CIFAR-10 record`);
  const n = buf.length / CIFAR_RECORD;
  const images = new Uint8Array(n * (CIFAR_RECORD - 1));
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * CIFAR_RECORD;
    const label = buf[off];
    if (label > 9) throw new DatasetError(file, `record ${i} has label ${label} (expected 0..9)`);
    labels[i] = label;
    images.set(buf.subarray(off + 1, off + CIFAR_RECORD), i * (CIFAR_RECORD - 1));
  }
  return { images, labels };
}

/** Regular files of a (ustar) tar archive, by path. */
export function readTar(buf: Uint8Array, file: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const str = (a: number, b: number) => {
    const s = Buffer.from(buf.subarray(a, b)).toString('latin1');
    const z = s.indexOf('\0');
    return z < 0 ? s : s.slice(0, z);
  };
  let off = 0;
  while (off + 512 <= buf.length) {
    if (buf.subarray(off, off + 512).every((b) => b === 0)) break;
    const name = str(off, off + 100);
    const size = parseInt(str(off + 124, off + 136).trim() || '0', 8);
    const type = String.fromCharCode(buf[off + 156] || 48);
    const prefix = str(off + 345, off + 500);
    if (!Number.isFinite(size)) throw new DatasetError(file, `bad tar header at byte ${off}`);
    const start = off + 512;
    if (start + size > buf.length) throw new DatasetError(file, `truncated tar: ${name} needs ${size} bytes, archive ends early`);
    if (type === '0' || type === '\0') out.set(prefix ? `${prefix}/${name}` : name, buf.subarray(start, start + size));
    off = start + Math.ceil(size / 512) * 512;
  }
  return out;
}
