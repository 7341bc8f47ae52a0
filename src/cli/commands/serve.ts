import { basename } from 'node:path';
import type { Command } from 'commander';
import { NativeBackend } from '../../backends/native/index.js';
import { BackendUnavailableError, InvalidArgumentError } from '../../errors/index.js';
import { createServer } from '../../server/index.js';
import type { ASRBackend } from '../../spec/index.js';
import { action, parsePositiveInt, parsePositiveNumber } from '../io.js';

interface ServeFlags {
  readonly model: string[];
  readonly host: string;
  readonly port: number;
  readonly apiKey?: string[] | undefined;
  readonly defaultModel?: string | undefined;
  readonly strictModels?: boolean | undefined;
  readonly maxConcurrency?: number | undefined;
  readonly maxAudioDuration?: number | undefined;
  readonly threads?: number | undefined;
  readonly allowOrigin?: string[] | undefined;
  readonly startTimeout?: number | undefined;
  readonly idleTimeout?: number | undefined;
  readonly requestTimeout?: number | undefined;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535, got "${value}"`);
  return n;
}

/** Registers `hybrid-asr serve`: an OpenAI-compatible + streaming server over native models. */
export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Serve models over HTTP: OpenAI-compatible POST /v1/audio/transcriptions, GET /v1/models, GET /health, ' +
        'and resumable WebSocket streaming at /v1/audio/stream (docs/streaming-protocol.md).',
    )
    .requiredOption('-m, --model <name|dir>', 'model to load (a folder, or a name under HYBRID_ASR_MODELS); repeat for several', collect)
    .option('--host <address>', 'address to bind (without an API key only loopback is allowed)', '127.0.0.1')
    .option('-p, --port <n>', 'port to bind (0 picks a free one)', parsePort, 8080)
    .option('--api-key <key>', 'accepted bearer key; repeat for several (prefer HYBRID_ASR_API_KEYS, comma-separated: flags show in `ps`)', collect)
    .option('--default-model <name>', 'model used for whisper-1, unknown names and requests without a model (default: the first)')
    .option('--strict-models', 'answer 404 for unknown model names instead of using the default model')
    .option('--max-concurrency <n>', 'requests + streams served at once; more get 429 with retry-after', parsePositiveInt('--max-concurrency'))
    .option('--max-audio-duration <sec>', 'longest audio of one batch request, in seconds', parsePositiveInt('--max-audio-duration'))
    .option('--threads <n>', 'CPU threads per model', parsePositiveInt('--threads'))
    .option('--allow-origin <origin>', 'browser origin allowed besides loopback ones, e.g. https://app.example; repeat for several', collect)
    .option('--start-timeout <sec>', 'a WebSocket must send `start` within this long (default 5)', parsePositiveNumber('--start-timeout'))
    .option('--idle-timeout <sec>', 'a stream that sends no message for this long is closed (default 30)', parsePositiveNumber('--idle-timeout'))
    .option('--request-timeout <sec>', 'deadline for receiving a whole HTTP request body (default 120)', parsePositiveNumber('--request-timeout'))
    .action(
      action(async (signal: AbortSignal, flags: ServeFlags) => {
        const envKeys = (process.env.HYBRID_ASR_API_KEYS ?? '')
          .split(',')
          .map((k) => k.trim())
          .filter((k) => k !== '');
        const apiKeys = [...(flags.apiKey ?? []), ...envKeys];
        const models: Record<string, ASRBackend> = {};
        for (const m of flags.model) {
          const name = basename(m.replace(/[\\/]+$/, ''));
          if (Object.hasOwn(models, name)) throw new InvalidArgumentError(`--model "${name}" is given twice`);
          models[name] = new NativeBackend({ model: m, ...(flags.threads !== undefined ? { threads: flags.threads } : {}) });
        }
        // Load every model before listening, so a bad model fails now rather than on the first request.
        for (const [name, b] of Object.entries(models)) {
          if (!(await b.isAvailable({ abortSignal: signal }))) {
            throw new BackendUnavailableError(`The model "${name}" could not be loaded (check --model and HYBRID_ASR_MODELS)`);
          }
        }
        const server = createServer({
          models,
          host: flags.host,
          port: flags.port,
          apiKeys,
          ...(flags.defaultModel !== undefined ? { defaultModel: flags.defaultModel } : {}),
          ...(flags.strictModels ? { strictModels: true } : {}),
          ...(flags.maxConcurrency !== undefined ? { maxConcurrency: flags.maxConcurrency } : {}),
          ...(flags.maxAudioDuration !== undefined ? { maxAudioDurationSec: flags.maxAudioDuration } : {}),
          ...(flags.allowOrigin !== undefined ? { allowedOrigins: flags.allowOrigin } : {}),
          ...(flags.startTimeout !== undefined ? { startTimeoutMs: flags.startTimeout * 1000 } : {}),
          ...(flags.idleTimeout !== undefined ? { idleTimeoutMs: flags.idleTimeout * 1000 } : {}),
          ...(flags.requestTimeout !== undefined ? { requestTimeoutMs: flags.requestTimeout * 1000 } : {}),
          log: (level, message) => process.stderr.write(`hybrid-asr serve [${level}] ${message}\n`),
        });
        const url = await server.listen();
        if (apiKeys.length === 0) process.stderr.write('hybrid-asr serve: no API key configured, so only loopback clients can connect\n');
        process.stdout.write(`${url}\n`);
        if (!signal.aborted) await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        process.stderr.write('hybrid-asr serve: shutting down (handing streams back)\n');
        await server.close();
        await Promise.all(Object.values(models).map((b) => b.dispose()));
      }),
    );
}
