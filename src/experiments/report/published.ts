// The published numbers a report row is compared with: the paper's TJML-DTP accuracies and
// Kao et al.'s MLP re-runs of the baselines.

/** TJML-DTP test accuracy reported in the paper (Tables 1-4; 5 seeds), for comparison only. */
export const PAPER_TJML: Record<string, number> = {
  'lenet-mnist': 99.3,
  'lenet-fashion-mnist': 91.4,
  'lenet-cifar10': 76.7,
  'simple-vgg-cifar10': 85.2,
  'mixer-cifar10': 56.9,
  'reversible-mixer-cifar10': 42.8,
};

/**
 * Kao et al. 2024 (Counter-Current Learning, NeurIPS), Table 1: their re-runs of the TP baselines on
 * tanh MLPs (SGD, 100 epochs, 5 seeds), test accuracy mean and std. Their FW-DTP row is compared
 * with both our fwdtp and fwdtp-bn (their FLOP table lists FW-DTP-BN; the row's name does not say).
 */
export const PUBLISHED_MLP: Record<string, Record<string, [number, number]>> = {
  'mlp-mnist': { bp: [98.19, 0.1], 'fwdtp-bn': [97.2, 0.16], fwdtp: [97.2, 0.16], ldrl: [93.29, 0.21], drl: [93.05, 0.24] },
  'mlp-fashion-mnist': { bp: [89.58, 0.25], 'fwdtp-bn': [87.78, 0.47], fwdtp: [87.78, 0.47], ldrl: [83.6, 0.2], drl: [83.4, 0.18] },
  'mlp-cifar10': { bp: [50.03, 0.31], 'fwdtp-bn': [45.91, 0.6], fwdtp: [45.91, 0.6], ldrl: [42.19, 0.3], drl: [42.09, 0.27] },
};

/** The published test accuracy a row compares with: the paper's TJML-DTP, or Kao et al.'s MLP re-runs. */
export function published(table: string, row: string, method: string): string {
  if (table === 'mlp') {
    const p = PUBLISHED_MLP[row]?.[method];
    return p ? `${p[0].toFixed(2)} ± ${p[1].toFixed(2)} (Kao)` : '';
  }
  return method === 'tjml' && PAPER_TJML[row] !== undefined ? `${PAPER_TJML[row].toFixed(1)} (paper)` : '';
}

/** The published number a row compares with, as a number (%), if any. */
export function publishedMean(table: string, row: string, method: string): number | undefined {
  if (table === 'mlp') return PUBLISHED_MLP[row]?.[method]?.[0];
  return method === 'tjml' ? PAPER_TJML[row] : undefined;
}
