/** Runs the real CLI from source, as a user would (through tsx), and collects its output. */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from './shared.js';

/** What a CLI run printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `hybrid-asr <args…>` from source in the project root; `env` adds to the environment;
 * `stdin` is written to its standard input (otherwise it has none).
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}, stdin?: Uint8Array): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, HYBRID_ASR_DEBUG: '0', NO_COLOR: '1', ...env },
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (stdin !== undefined) {
      child.stdin!.on('error', () => {}); // the CLI may exit before reading it all
      child.stdin!.end(stdin);
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}
