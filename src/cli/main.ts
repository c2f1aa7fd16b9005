import { runCli } from './program.js';

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stdoutStream: process.stdout,
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
// Exit once both streams are flushed: an idle keep-alive connection or an SDK timer must never keep
// a pipeline step waiting after the answer has been given.
process.stdout.write('', () => process.stderr.write('', () => process.exit(exitCode)));
