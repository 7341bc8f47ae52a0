import { Option, type Command } from 'commander';
import { constants } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { openAudio } from '../../audio/index.js';
import { ASRError, InvalidArgumentError, InvalidAudioError } from '../../errors/index.js';
import { formatTranscription, OUTPUT_FORMATS, type OutputFormat } from '../../format/index.js';
import type { ASRBackend, AudioInput, TranscriptionConfig, TranscriptionWarning } from '../../spec/index.js';
import { createCliBackend, type CliBackendOptions } from '../backend-factory.js';
import { action, parsePositiveInt } from '../io.js';
import { createProgress, formatClock, parseProgressMode, type ProgressMode } from '../progress.js';

/** Parsed options of `hybrid-asr transcribe`. */
interface TranscribeFlags extends Pick<CliBackendOptions, 'backend' | 'model' | 'threads' | 'remoteUrl' | 'apiKey' | 'tier' | 'fallback'> {
  readonly format: OutputFormat;
  readonly diarize?: boolean | undefined;
  readonly language?: string | undefined;
  readonly output?: string | undefined;
  readonly progress: ProgressMode;
  readonly rawRate?: number | undefined;
  readonly rawChannels: number;
}

const EXTENSIONS: Record<OutputFormat, string> = { text: 'txt', json: 'json', srt: 'srt', vtt: 'vtt' };

/** Registers `hybrid-asr transcribe <file...>`. */
export function register(program: Command): void {
  program
    .command('transcribe')
    .description('Transcribe audio files (WAV) and print or save the result.')
    .argument('<file...>', 'audio files to transcribe; - reads standard input (WAV, or raw s16le with --raw-rate)')
    .addOption(new Option('-b, --backend <backend>', 'which backend runs the model').choices(['native', 'remote', 'auto']).default('auto'))
    .option('-m, --model <id|dir>', 'model folder, or a model name/id (see `hybrid-asr models list`)')
    .addOption(new Option('--format <format>', 'output format').choices([...OUTPUT_FORMATS]).default('text'))
    .option('--diarize', 'label speakers (S1, S2, …)')
    .option('--language <code>', 'language of the audio (ISO 639-1, e.g. en)', parseLanguage)
    .option('-o, --output <path>', 'write to this file, or into this folder as <name>.<ext> (required with several files in json/srt/vtt)')
    .option('--threads <n>', 'CPU threads for the native backend', parsePositiveInt('--threads'))
    .option('--remote-url <url>', 'server URL for the remote backend', parseUrl)
    .addOption(new Option('--api-key <key>', 'API key for the remote backend').env('HYBRID_ASR_API_KEY'))
    .option('--tier <tier>', 'subscription tier for --backend auto (free, pro, pro-cloud, team)')
    .addOption(new Option('--fallback <backend>', 'with --backend auto: fail over to native, or not').choices(['native', 'none']))
    .option('--raw-rate <hz>', 'standard input (-) is raw 16-bit little-endian PCM at this rate', parsePositiveInt('--raw-rate'))
    .option('--raw-channels <n>', 'channels of raw standard input', parsePositiveInt('--raw-channels'), 1)
    .option('--progress <mode>', 'progress on stderr: auto (a bar when stderr is a terminal) | bar | lines | none', parseProgressMode, 'auto')
    .addHelpText(
      'after',
      `
Examples:
  hybrid-asr transcribe talk.wav
  hybrid-asr transcribe talk.wav --format srt --output talk.srt
  hybrid-asr transcribe a.wav b.wav --format vtt --output captions/
  hybrid-asr transcribe meeting.wav --diarize --backend remote --remote-url http://127.0.0.1:8080
  ffmpeg -i talk.m4a -f wav - | hybrid-asr transcribe -
  arecord -f S16_LE -r 16000 -c 1 -t raw -d 10 | hybrid-asr transcribe - --raw-rate 16000`,
    )
    .action(action(run));
}

function parseLanguage(value: string): string {
  if (!/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(value)) {
    throw new InvalidArgumentError(`--language must be a language code such as "en" or "pt-BR", got "${value}"`);
  }
  return value;
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`--remote-url must be an http(s) or ws(s) URL, got "${value}"`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new InvalidArgumentError(`--remote-url must be an http(s) or ws(s) URL, got "${value}"`);
  }
  return value;
}

/** Checks that `file` is a readable file of audio we can decode; throws a one-line, user-facing error. */
async function checkInput(file: string): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    // The message says it all; no `cause`, so the CLI prints one line.
    throw new InvalidArgumentError(`cannot read "${file}": ${why}`);
  }
  if (!info.isFile()) throw new InvalidArgumentError(`cannot read "${file}": not a file`);
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new InvalidArgumentError(`cannot read "${file}": permission denied`);
  }
  try {
    // Reads and checks the headers only: cheap even for hours of audio.
    const reader = await openAudio(file);
    await reader.close();
  } catch (e) {
    // One line for the user: the audio error's message is folded in, not chained as a cause.
    if (ASRError.isInstance(e)) throw new InvalidAudioError(`"${file}" is not audio we can read: ${e.message}`);
    throw e;
  }
}

/** Where each input's output goes: `undefined` for stdout. */
async function outputPaths(files: readonly string[], flags: TranscribeFlags): Promise<(string | undefined)[]> {
  const out = flags.output;
  if (out === undefined) {
    if (files.length > 1 && flags.format !== 'text') {
      throw new InvalidArgumentError(
        `--format ${flags.format} with several files needs --output <folder> (one ${EXTENSIONS[flags.format]} file per input)`,
      );
    }
    return files.map(() => undefined);
  }
  const isDir = await stat(out).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (files.length === 1 && !isDir && !/[\\/]$/.test(out)) return [out];
  const seen = new Map<string, string>();
  return files.map((f) => {
    const name = `${f === '-' ? 'stdin' : basename(f, extname(f))}.${EXTENSIONS[flags.format]}`;
    const other = seen.get(name);
    if (other !== undefined) {
      throw new InvalidArgumentError(`"${other}" and "${f}" would both be written to ${join(out, name)}; transcribe them separately`);
    }
    seen.set(name, f);
    return join(out, name);
  });
}

function describeWarning(w: TranscriptionWarning): string {
  switch (w.type) {
    case 'unsupported':
      return `${w.feature} is not supported${w.details === undefined ? '' : ` (${w.details})`}; ignored`;
    case 'fallback':
      return `used the ${w.to} backend instead of ${w.from}: ${w.reason}`;
    case 'other':
      return w.message;
  }
}

/** Standard input as audio: WAV bytes as they arrive, or raw s16le (read whole) with `--raw-rate`. */
async function stdinAudio(flags: TranscribeFlags): Promise<AudioInput> {
  if (flags.rawRate === undefined) return process.stdin;
  const parts: Buffer[] = [];
  for await (const b of process.stdin) parts.push(b as Buffer);
  return { format: 'pcm16', data: Buffer.concat(parts), sampleRate: flags.rawRate, channels: flags.rawChannels };
}

async function run(signal: AbortSignal, files: string[], flags: TranscribeFlags): Promise<void> {
  const stdin = files.filter((f) => f === '-').length;
  if (stdin > 1) throw new InvalidArgumentError('"-" (standard input) can be given once');
  if (stdin === 0 && flags.rawRate !== undefined) throw new InvalidArgumentError('--raw-rate applies to standard input (-) only');
  // Everything the user can get wrong is checked before a model is loaded or a socket opened.
  for (const f of files) if (f !== '-') await checkInput(f);
  const targets = await outputPaths(files, flags);
  const backendOptions: CliBackendOptions = {
    backend: flags.backend,
    ...(flags.model === undefined ? {} : { model: flags.model }),
    ...(flags.remoteUrl === undefined ? {} : { remoteUrl: flags.remoteUrl }),
    ...(flags.apiKey === undefined ? {} : { apiKey: flags.apiKey }),
    ...(flags.tier === undefined ? {} : { tier: flags.tier }),
    ...(flags.fallback === undefined ? {} : { fallback: flags.fallback }),
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(flags.diarize === true ? { diarize: true } : {}),
  };
  const config: TranscriptionConfig = {
    abortSignal: signal,
    ...(flags.diarize === true ? { diarization: true } : {}),
    ...(flags.language === undefined ? {} : { language: flags.language }),
  };
  let backend: ASRBackend | undefined;
  try {
    backend = await createCliBackend(backendOptions);
    for (const [i, file] of files.entries()) {
      const name = file === '-' ? 'standard input' : file;
      const progress = await createProgress(flags.progress, { label: `transcribing ${basename(name)}`, format: formatClock });
      let result;
      try {
        const input = file === '-' ? await stdinAudio(flags) : resolve(file);
        result = await backend.transcribe(input, { ...config, onProgress: (p) => progress.update(p.processedSec, p.totalSec) });
      } finally {
        progress.stop();
      }
      for (const w of result.warnings) process.stderr.write(`hybrid-asr: warning: ${file}: ${describeWarning(w)}\n`);
      const body = formatTranscription(result, flags.format);
      const target = targets[i];
      if (target === undefined) {
        if (files.length > 1) process.stdout.write(`${i > 0 ? '\n' : ''}==> ${file} <==\n`);
        process.stdout.write(body);
      } else {
        await mkdir(resolve(target, '..'), { recursive: true });
        await writeFile(target, body);
        process.stderr.write(`hybrid-asr: wrote ${target}\n`);
      }
    }
  } finally {
    await backend?.dispose();
  }
}
