// Imported first by the CLI: an error thrown while modules load (a bad TARGETPROP_THREADS, a
// missing native addon) prints as one line, like every other CLI error, instead of a stack trace.
// Only when the CLI is the program: a test or library importing the CLI module keeps its own handling.
if (require.main && /cli[\\/]main\.js$/.test(require.main.filename))
  process.on('uncaughtException', (e: Error) => {
    console.error(`targetprop: ${e.message}`);
    process.exit(1);
  });
