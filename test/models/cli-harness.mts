/**
 * Runs only the `models` subcommand the way src/cli/index.ts runs the program (commander with
 * exitOverride, errors through io.ts), so the models CLI tests don't depend on other commands'
 * modules loading.
 */
import { Command, CommanderError } from 'commander';
import { register } from '../../src/cli/commands/models.js';
import { EXIT, reportError } from '../../src/cli/io.js';

const program = new Command('hybrid-asr').exitOverride();
register(program);
program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = e instanceof CommanderError ? (e.exitCode === 0 ? EXIT.ok : EXIT.usage) : reportError(e);
}
