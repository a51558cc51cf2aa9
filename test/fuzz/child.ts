// Fuzz child: runs cases [from, to) of the engine fuzz (test/fuzz.test.ts) against the native op
// table and prints "case N <op>" before each, so that a crash or hang names its case. Only runs
// when TP_FUZZ is set (the test runner also loads this file as a test file).
import { native } from '../../src/engine/native';
import { fuzzCase } from './cases';

if (process.env.TP_FUZZ) {
  const [from, to] = process.env.TP_FUZZ.split(':').map(Number);
  native.setNumThreads(1);
  for (let i = from; i < to; i++) fuzzCase(i, (line) => process.stdout.write(line + '\n'));
  process.stdout.write('done\n');
}
