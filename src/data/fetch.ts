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
}

async function download(url: string, dest: string, expectedMd5: string, quiet: boolean): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const bar = quiet ? null : new Progress({ label: path.basename(dest), total: total || 1, unit: 'B' });
  const hash = createHash('md5');
  const tmp = `${dest}.part`;
  const out = fs.createWriteStream(tmp);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      bar?.tick(chunk.length, chunk.length);
    }
  } finally {
    await new Promise<void>((r) => out.end(() => r()));
  }
  bar?.finish();
  const got = hash.digest('hex');
  if (got !== expectedMd5) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`${url}: checksum mismatch: md5 ${got}, expected ${expectedMd5}`);
  }
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
        await download(m + j.file, dest, expected, !!o.quiet);
        errors.length = 0;
        break;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new Error(`could not fetch ${j.file}: ${errors.join('; ')}`);
  }
  return dir;
}
