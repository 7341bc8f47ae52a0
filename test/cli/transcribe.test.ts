import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.js';
import { AUDIO_DIR } from '../helpers/shared.js';

type Run = CliRun;
const cli = (...args: string[]): Promise<Run> => runCli(args);

function expectNoStackTrace(r: Run): void {
  expect(r.stderr).not.toMatch(/^\s+at .+[(:]\d+/m);
  expect(r.stdout).not.toMatch(/^\s+at .+[(:]\d+/m);
}

describe('hybrid-asr transcribe', () => {
  let dir: string;
  const wav = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hybrid-asr-cli-'));
    await writeFile(join(dir, 'notes.wav'), 'these are not the samples you are looking for\n');
    await writeFile(join(dir, 'empty.wav'), '');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints help with every option', async () => {
    const r = await cli('transcribe', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['<file...>', '--backend', '--model', '--format', '--diarize', '--language', '--output', '--threads', '--remote-url', '--api-key']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toMatch(/text, json, srt, vtt|"text", "json", "srt", "vtt"/);
  });

  it('rejects an unknown format with exit 2, naming the allowed ones', async () => {
    const r = await cli('transcribe', wav, '--format', 'xml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'xml' is invalid");
    expect(r.stderr).toMatch(/text, json, srt, vtt/);
    expect(r.stdout).toBe('');
    expectNoStackTrace(r);
  });

  it('rejects a missing file with exit 2, naming it, before loading any backend', async () => {
    const missing = join(dir, 'nope.wav');
    const r = await cli('transcribe', missing);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`hybrid-asr: cannot read "${missing}": no such file\n`);
    expectNoStackTrace(r);
  });

  it('checks every file first: a missing second file fails before the first is transcribed', async () => {
    const missing = join(dir, 'second.wav');
    const r = await cli('transcribe', wav, missing, '--backend', 'remote', '--remote-url', 'http://127.0.0.1:9');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read "${missing}": no such file`);
    expect(r.stdout).toBe('');
    expectNoStackTrace(r);
  });

  it('rejects a file that is not audio with exit 2 and the audio error', async () => {
    const notes = join(dir, 'notes.wav');
    const r = await cli('transcribe', notes);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^hybrid-asr: "${notes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" is not audio we can read: .+`));
    expect(r.stderr.trimEnd().split('\n'), 'one line').toHaveLength(1);
    expectNoStackTrace(r);
    const empty = await cli('transcribe', join(dir, 'empty.wav'));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('is not audio we can read');
    expectNoStackTrace(empty);
  });

  it('rejects a folder given as a file', async () => {
    const r = await cli('transcribe', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`hybrid-asr: cannot read "${dir}": not a file\n`);
  });

  it('asks for --output when several files go out as captions', async () => {
    const r = await cli('transcribe', wav, wav, '--format', 'srt');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format srt with several files needs --output <folder>');
    expectNoStackTrace(r);
  });

  it.each([
    [['--threads', '0'], '--threads must be a positive whole number, got "0"'],
    [['--remote-url', 'not a url'], '--remote-url must be an http(s) or ws(s) URL, got "not a url"'],
    [['--language', 'english!'], '--language must be a language code'],
    [['--backend', 'cloud'], "'cloud' is invalid"],
  ])('rejects %j with exit 2 and one line', async (flags, message) => {
    const r = await cli('transcribe', wav, ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expectNoStackTrace(r);
  });

  it('reports an unavailable backend as a failure (exit 1), not a usage error, without a stack trace', async () => {
    const r = await cli('transcribe', wav, '--backend', 'remote', '--remote-url', 'http://127.0.0.1:9');
    // Whatever the backend factory can do today, a valid file never gives exit 2 or a stack trace.
    expect(r.code).not.toBe(2);
    expectNoStackTrace(r);
    if (r.code !== 0) expect(r.stderr).toMatch(/^hybrid-asr: /);
  });
});
