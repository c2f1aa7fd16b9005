import { runCli } from './program.js';

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stderrIsTty: process.stderr.isTTY,
});
// Let stdout drain (a large report piped to a file) before the exit code is set.
process.exitCode = exitCode;
