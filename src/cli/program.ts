// The command line's grammar, on commander: every command, its flags with descriptions and
// defaults (`targetprop <command> --help`), -h, --version; a flag missing its value, an unknown
// flag or a missing argument fails here with one line. The commands themselves (main.ts) receive
// the parsed flags under their long names ('train-subset'), as strings or true.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { TRAIN_DEFAULTS } from '../experiments/config';
import { MODELS } from '../models';
import { METHODS } from '../methods/method';
import { DATASETS } from '../data/datasets';
import { PROFILES, TABLES } from '../experiments/grids';

export interface Args {
  _: string[];
  [k: string]: string | boolean | string[];
}
export type Handler = (cmd: string, a: Args) => Promise<void>;

const d = TRAIN_DEFAULTS;
const DEVICE_HELP = 'cpu, cuda, cuda:N or auto (CUDA when available) (default $TARGETPROP_DEVICE, else cpu)';
const grid = (fallback: unknown) => `the paper grid's for the model and method, else ${fallback}`;

/** Flags of a single training run (train, and sweep's base config). */
function trainFlags(c: Command, o: { sweep?: boolean } = {}): Command {
  c.option('--model <name>', `model: ${Object.keys(MODELS).join(', ')} (default ${d.model})`)
    .option('--data <name>', `dataset: ${DATASETS.join(', ')} (default ${d.data})`)
    .option('--method <name>', `method: ${METHODS.join(', ')}${o.sweep ? ', or a grid variant (fwdtp-bn) with --from' : ''} (default ${d.method})`)
    .option('--epochs <n>', `epochs (default ${d.epochs})`)
    .option('--batch <n>', `batch size (default ${grid(d.batchSize)})`);
  if (o.sweep)
    c.option('--lr <list>', 'learning rates to try, comma separated (required)')
      .option('--beta <list>', 'betas to try, comma separated (required)')
      .option('--from <table>', `take the other settings from this grid's cell for --method and --data: ${TABLES.join(', ')}`)
      .option('--seeds <n>', 'seeds per point (default 1)');
  else c.option('--lr <x>', `forward learning rate (default ${grid(d.lr)})`).option('--beta <x>', `first target's step size (default ${grid(d.beta)})`);
  c.option('--optimizer <kind>', `sgd, adam or adamw (default ${grid('sgd with momentum 0.9')})`)
    .option('--seed <n>', `seed (default ${d.seed})`)
    .option('--train-subset <n>', `first N training images (default ${d.trainSubset}; --full-data for all)`)
    .option('--test-subset <n>', `first N test images (default ${d.testSubset})`)
    .option('--full-data', 'all training and test images')
    .option('--val <n>', 'hold out N training images as validation (reported instead of test)')
    .option('--early-stop <p>', 'stop once validation accuracy has not improved for P epochs (needs --val; test reported)')
    .option('--augment [bool]', `random crops, and flips on CIFAR-10: alone or true|false (default ${d.augment})`)
    .option('--model-config <json>', `model fields as JSON, e.g. '{"norm":"batch"}'`)
    .option('--config <file>', 'JSON or YAML file with any config field (checked strictly)')
    .option('--diagnostics-every <n>', `BP angles and Jacobian matching every N epochs, 0 for none (default ${d.diagnosticsEvery})`)
    .option('--device <name>', DEVICE_HELP);
  return c;
}

const results = (c: Command) => c.option('--results <dir>', 'runs database folder', 'results');
const exportDir = (c: Command) => c.option('--export-dir <dir>', 'write each run there as JSON when it ends (or TARGETPROP_EXPORT_DIR)');
const dataDir = (c: Command) => c.option('--data-dir <dir>', 'dataset folder (default $TARGETPROP_DATA, else ~/.cache/targetprop/data)');
const quiet = (c: Command) => c.option('--quiet', 'no progress bars');

/** commander's parsed options under their long names, plus the positional arguments in `_`. */
function toArgs(cmd: Command, positional: string[]): Args {
  const a: Args = { _: positional };
  const o = cmd.opts() as Record<string, string | boolean | undefined>;
  for (const opt of cmd.options as Option[]) {
    const v = o[opt.attributeName()];
    if (v !== undefined) a[opt.long!.slice(2)] = v;
  }
  return a;
}

export function buildProgram(run: Handler): Command {
  const version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version as string;
  const program = new Command('targetprop')
    .description('target propagation (TJML-DTP, LDRL, FWDTP, DTP, DRL) and backprop on libtorch')
    .version(version, '-v, --version')
    .helpOption('-h, --help', 'this help; `targetprop <command> -h` for a command\'s flags and defaults')
    .configureOutput({ outputError: (s, write) => write(`targetprop: ${s.trim().replace(/^error: /, '')} (see -h)\n`) })
    .addHelpText(
      'after',
      `
Methods: ${METHODS.join(', ')}
         (tables 1 and 2 also run fwdtp-bn: FWDTP with batch-standardized hidden blocks, as FW-DTP-BN;
         table 4 runs tjml-exact, the coupling blocks' J^T, beside tjml, their inverse)
Models:  ${Object.keys(MODELS).join(', ')} (sizes; norm for lenet/simple-vgg/mlp, preNorm for
         reversible-mixer: --model-config)
Runs are stored in DIR/runs.sqlite (default ./results); rerunning the same config resumes it.`,
    );
  const act = (name: string) => async (...xs: unknown[]) => {
    const cmd = xs.at(-1) as Command;
    await run(name, toArgs(cmd, [name, ...cmd.args]));
  };
  const train = trainFlags(program.command('train').description('train one model; rerunning the same config resumes it'))
    .option('--name <text>', "the run's name in runs and report")
    .option('--tags <list>', 'labels shown by `targetprop runs`, comma separated')
    .option('--save <file>', 'save the trained model (safetensors); also kept as <results>/models/run-<id>.safetensors')
    .option('--print-config', 'print the fully resolved config (grid defaults included) and exit');
  quiet(dataDir(exportDir(results(train)))).action(act('train'));
  for (const name of ['eval', 'predict']) {
    const c = program
      .command(name)
      .description(name === 'eval' ? "a saved model's accuracy and loss on a split" : 'the classes a saved model gives chosen images')
      .requiredOption('--model-file <file>', 'a model saved by train --save, or <results>/models/run-<id>.safetensors')
      .option('--data <name>', 'dataset (default: the one the model was trained on)')
      .option('--split <name>', 'test or train', 'test');
    c.option('--device <name>', DEVICE_HELP);
    if (name === 'eval') c.option('--test-subset <n>', 'first N images of the split');
    else c.option('--indices <list>', 'image indices, comma separated', '0');
    dataDir(c).action(act(name));
  }
  dataDir(program.command('data').description('datasets: fetch (official mirrors, checksummed), check (exit 1 if any is missing or bad), dir').argument('<action>', 'fetch, check or dir').argument('[names...]', `datasets: ${DATASETS.join(', ')}`)).action(act('data'));
  const repro = program
    .command('reproduce')
    .description("run a paper grid (resumes where it stopped)")
    .argument('<grid>', `${TABLES.join(', ')} or figure2`)
    .option('--profile <name>', `budget: ${PROFILES.join(', ')}`, 'quick')
    .option('--seeds <n>', 'seeds per cell (default 5 for full, else 1)')
    .option('--epochs <n>', "a reduced budget: this many epochs instead of the profile's (a cosine schedule is scaled to it; reported under other budgets)")
    .option('--methods <list>', 'only these methods (or grid variants), comma separated')
    .option('--data <list>', 'only these datasets, comma separated')
    .option('--device <name>', DEVICE_HELP)
    .option('--out <dir>', 'report folder (default <results>/report)');
  quiet(dataDir(exportDir(results(repro)))).action(act('reproduce'));
  quiet(dataDir(exportDir(results(trainFlags(program.command('sweep').description('lr x beta around a grid cell (--from) or train\'s settings, ranked on --val'), { sweep: true }))))).action(act('sweep'));
  exportDir(results(program.command('figure2').description('inverse vs pseudo-inverse vs transpose timings (Figure 2)').option('--out <dir>', 'report folder (default <results>/report)'))).action(act('figure2'));
  results(
    program
      .command('report')
      .description('markdown tables and SVG figures from the runs database, or from committed runs (--from-dir)')
      .option('--out <dir>', 'report folder (default <results>/report; with --from-dir, that folder)')
      .option('--from-dir <dir>', 'regenerate from DIR/runs/*.json and DIR/figure2.json (docs/results)'),
  ).action(act('report'));
  results(
    program
      .command('runs')
      .description('stored runs: status, epochs, accuracy, settings that differ (unfinished ones resume)')
      .option('--name <text>', 'only runs whose name contains TEXT')
      .option('--export <format>', 'every run with its config to stdout: csv or jsonl')
      .option('--stop <id>', 'mark an unfinished run as ended by hand (needs --why)')
      .option('--retire <id>', 'set a run aside, out of the tables; its config trains afresh (needs --why)')
      .option('--why <text>', 'the reason, shown in runs and report')
      .option('--export-dir <dir>', 'write every ended run there as one JSON file per run')
      .option('--import-dir <dir>', 'load exported runs into the database'),
  ).action(act('runs'));
  return program;
}
