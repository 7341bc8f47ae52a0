/**
 * The ASRBackend contract suite, run on RemoteBackend through a real hybrid-asr server on
 * 127.0.0.1 serving the real native backend with the test models; and the official `openai` npm
 * client against the same server, for every response_format.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeBackend } from '../../src/backends/native/index.js';
import { RemoteBackend } from '../../src/backends/remote/index.js';
import { wordErrorRate } from '../../src/metrics/wer.js';
import { createServer, type ASRServer } from '../../src/server/index.js';
import { runBackendContract } from '../../src/testing/vitest.js';
import { AUDIO_DIR, describeWithAssets, OFFLINE_MODEL, readReferences, STREAMING_MODEL } from '../helpers/shared.js';

const CLIP = 'espeak-001.wav';
const WAV = join(AUDIO_DIR, 'espeak', CLIP);
const KEY = 'contract-key';

describeWithAssets([OFFLINE_MODEL, STREAMING_MODEL, WAV])('remote backend through a real server with native models', () => {
  let server: ASRServer;
  let url = '';
  const offline = new NativeBackend({ model: OFFLINE_MODEL });
  const streaming = new NativeBackend({ model: STREAMING_MODEL });
  const reference = readReferences(join(AUDIO_DIR, 'espeak', 'references.tsv')).find((r) => r.file === CLIP)!.text;

  beforeAll(async () => {
    server = createServer({ models: { 'tiny-ctc-en-offline': offline, 'tiny-ctc-en-streaming': streaming }, port: 0, apiKeys: [KEY] });
    url = await server.listen();
  });
  afterAll(async () => {
    await server?.close();
    await offline.dispose();
    await streaming.dispose();
  });

  runBackendContract('RemoteBackend → hybrid-asr server (native)', {
    create: () => new RemoteBackend({ baseUrl: `${url}/v1`, apiKey: KEY, model: 'tiny-ctc-en-offline', streamModel: 'tiny-ctc-en-streaming' }),
    audio: { path: WAV, reference, maxWer: 0.6 },
    streamAudio: { path: WAV, reference, maxWer: 0.7 },
  });

  describe('official openai client against the server', () => {
    let client: OpenAI;
    beforeAll(() => {
      client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1`, maxRetries: 0 });
    });

    it('json', async () => {
      const r = await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'whisper-1' });
      expect(Object.keys(r)).toEqual(['text']);
      expect(wordErrorRate(reference, r.text).wer).toBeLessThanOrEqual(0.6);
    });

    it('text, srt, vtt', async () => {
      const text = await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'whisper-1', response_format: 'text' });
      expect(wordErrorRate(reference, text).wer).toBeLessThanOrEqual(0.6);
      const srt = await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'tiny-ctc-en-offline', response_format: 'srt' });
      expect(srt).toMatch(/^1\r?\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\r?\n\S/);
      const vtt = await client.audio.transcriptions.create({ file: createReadStream(WAV), model: 'whisper-1', response_format: 'vtt' });
      expect(vtt).toMatch(/^WEBVTT\r?\n\r?\n(\d+\r?\n)?\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}/);
    });

    it('verbose_json with word and segment timestamps', async () => {
      const r = await client.audio.transcriptions.create({
        file: createReadStream(WAV),
        model: 'whisper-1',
        response_format: 'verbose_json',
        timestamp_granularities: ['word', 'segment'],
      });
      expect(r.language).toBe('english');
      expect(r.duration).toBeGreaterThan(1);
      expect(r.segments?.length).toBeGreaterThan(0);
      expect(r.words?.length).toBeGreaterThan(3);
      for (const w of r.words ?? []) {
        expect(w.start).toBeLessThanOrEqual(w.end);
        expect(w.end).toBeLessThanOrEqual(r.duration + 0.05);
      }
      expect(r.words?.map((w) => w.word).join(' ')).toBe(r.text);
    });
  });
});
