// Summary statistics for reports, run lists and benchmarks.
export const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
/** Median: epoch and step times use it, since other work on a shared machine slows some of them. */
export const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Sample standard deviation (0 for one value). */
export const std = (a: number[]) => (a.length > 1 ? Math.sqrt(a.reduce((x, y) => x + (y - mean(a)) ** 2, 0) / (a.length - 1)) : 0);
