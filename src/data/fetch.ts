// `targetprop data fetch`: downloads the official files into the data dir with md5 checks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Progress } from '../cli/progress';
import { dataDir, spec } from './datasets';

export interface FetchOptions {
  dataDir?: string;
  /** Overrides the official mirrors (tests serve files from localhost). */
  mirrors?: string[];
  /** Overrides the expected md5s, keyed by file name (tests). */
  md5?: Record<string, string>;
  quiet?: boolean;
  /** Milliseconds without a byte from the server before a mirror is given up (default 30 s). */
  stallMs?: number;
}

/** fetch's own errors say only 'fetch failed' / 'terminated': the cause (ECONNREFUSED, ENOTFOUND, a reset) is in `cause`. */
function why(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const c = err.cause;
  return c ? `${err.message} (${[c.code, c.message].filter(Boolean).join(': ')})` : err.message;
}

async function download(url: string, dest: string, expectedMd5: string, quiet: boolean, stallMs: number): Promise<void> {
  // one timer for the whole transfer, re-armed by every chunk: a server that stops answering
  // (before the headers or mid-body) aborts the request instead of hanging the command
  const ctl = new AbortController();
  let timer = setTimeout(() => ctl.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctl.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  };
  const tmp = `${dest}.part`;
  try {
    await transfer(url, dest, tmp, expectedMd5, quiet, ctl.signal, rearm);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    const reason = ctl.signal.aborted ? (ctl.signal.reason as Error).message : why(e);
    throw new Error(`${url}: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}

async function transfer(url: string, dest: string, tmp: string, expectedMd5: string, quiet: boolean, signal: AbortSignal, rearm: () => void): Promise<void> {
  const res = await fetch(url, { signal });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const bar = quiet ? null : new Progress({ label: path.basename(dest), total: total || 1, unit: 'B' });
  const hash = createHash('md5');
  const out = fs.createWriteStream(tmp);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rearm();
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      bar?.tick(chunk.length, chunk.length);
    }
  } finally {
    await new Promise<void>((r) => out.end(() => r()));
  }
  bar?.finish();
  const got = hash.digest('hex');
  if (got !== expectedMd5) throw new Error(`checksum mismatch: md5 ${got}, expected ${expectedMd5}`);
  fs.renameSync(tmp, dest);
}

/** Downloads a dataset's official files; already present and verified files are skipped. */
export async function fetchDataset(name: string, o: FetchOptions = {}): Promise<string> {
  const s = spec(name);
  const dir = path.join(dataDir(o.dataDir), s.name);
  fs.mkdirSync(dir, { recursive: true });
  const jobs: { file: string; md5: string }[] =
    s.source.kind === 'idx'
      ? Object.entries(s.source.gzMd5).map(([base, m]) => ({ file: `${base}.gz`, md5: m }))
      : [{ file: s.source.archive, md5: s.source.archiveMd5[0] }];
  const mirrors = o.mirrors ?? s.source.urls;
  for (const j of jobs) {
    const expected = o.md5?.[j.file] ?? j.md5;
    const dest = path.join(dir, j.file);
    if (fs.existsSync(dest) && createHash('md5').update(fs.readFileSync(dest)).digest('hex') === expected) continue;
    const errors: string[] = [];
    for (const m of mirrors) {
      try {
        await download(m + j.file, dest, expected, !!o.quiet, o.stallMs ?? 30_000);
        errors.length = 0;
        break;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new Error(`could not fetch ${j.file} from any mirror: ${errors.join('; ')}`);
  }
  return dir;
}
