import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { EXIT, reportError } from './io.js';
import * as live from './commands/live.js';
import * as models from './commands/models.js';
import * as serve from './commands/serve.js';
import * as stream from './commands/stream.js';
import * as transcribe from './commands/transcribe.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

/** Builds the `hybrid-asr` command tree. */
function buildProgram(): Command {
  const program = new Command('hybrid-asr')
    .description('Speech recognition on-device (sherpa-onnx) or through a server, one interface.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const cmd of [transcribe, stream, live, models, serve]) cmd.register(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage mistakes exit 2, with commander's message already printed.
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.exitCode = reportError(e);
  }
}

void main(process.argv);
