import { mkdtemp, readFile, rm, stat, writeFile, appendFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asIfOwnerDied } from './owner-death.js';
import { PcmSpool, SPOOL_AUDIO_FILE, SPOOL_COMMITS_FILE, SPOOL_JOURNAL_FILE, WAV_HEADER_BYTES } from '../../src/chunking/index.js';
import { InvalidArgumentError, InvalidAudioError } from '../../src/errors/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ramp(frames: number, channels = 1, from = 0): Uint8Array {
  const a = new Int16Array(frames * channels);
  for (let i = 0; i < a.length; i++) a[i] = ((from + i) % 30000) - 15000;
  return new Uint8Array(a.buffer);
}

describe('PcmSpool', () => {
  it('appends PCM to a WAV file on disk and reads back any frame-aligned range', async () => {
    const spool = await PcmSpool.create({ dir, sampleRate: 16000, channels: 2 });
    const a = ramp(1000, 2, 0);
    const b = ramp(500, 2, 2000);
    await spool.append(a);
    await spool.append(b);
    expect(spool.bytesWritten).toBe(6000);
    expect(spool.durationSec).toBeCloseTo(1500 / 16000);
    const back = await spool.read(0, 6000);
    expect(Buffer.compare(back, Buffer.concat([a, b]))).toBe(0);
    // Unaligned offsets are rounded down to whole frames (4 bytes at stereo 16-bit).
    const mid = await spool.read(4001, 4010);
    expect(mid.length).toBe(8);
    expect(Buffer.compare(mid, Buffer.from(b).subarray(0, 8))).toBe(0);
    await spool.close();
    const file = await readFile(join(dir, SPOOL_AUDIO_FILE));
    expect(file.length).toBe(WAV_HEADER_BYTES + 6000);
    expect(file.toString('ascii', 0, 4)).toBe('RIFF');
    expect(file.readUInt32LE(40)).toBe(6000);
    expect(file.readUInt16LE(22)).toBe(2);
    expect(file.readUInt32LE(24)).toBe(16000);
  });

  it('holds back a partial frame until its rest arrives', async () => {
    const spool = await PcmSpool.create({ dir, sampleRate: 8000 });
    const all = ramp(10);
    await spool.append(all.subarray(0, 5));
    expect(spool.bytesWritten).toBe(4);
    await spool.append(all.subarray(5));
    expect(spool.bytesWritten).toBe(20);
    expect(Buffer.compare(await spool.read(0, 20), Buffer.from(all))).toBe(0);
    await spool.close();
  });

  it('writes the journal atomically and makes audio durable at each journal write', async () => {
    const spool = await PcmSpool.create({ dir, sampleRate: 16000, fsyncEverySec: 100 });
    await spool.append(ramp(16000));
    expect(spool.bytesDurable).toBe(0);
    const j = await spool.writeJournal({ lastProcessedByte: 32000, committedUntilSec: 0.5, emittedWords: 3, ticks: 1 });
    expect(j.bytesDurable).toBe(32000);
    const onDisk = JSON.parse(await readFile(join(dir, SPOOL_JOURNAL_FILE), 'utf8'));
    expect(onDisk).toMatchObject({ version: 1, format: 'pcm16', sampleRate: 16000, channels: 1, bytesDurable: 32000, emittedWords: 3 });
    await expect(stat(join(dir, `${SPOOL_JOURNAL_FILE}.tmp`))).rejects.toThrow();
    await spool.close();
  });

  it('refuses to create over an existing spool and validates its options', async () => {
    const spool = await PcmSpool.create({ dir, sampleRate: 16000 });
    await spool.close();
    await expect(PcmSpool.create({ dir, sampleRate: 16000 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(PcmSpool.create({ dir: join(dir, 'x'), sampleRate: 12.5 })).rejects.toThrow(/sampleRate/);
    await expect(PcmSpool.create({ dir: join(dir, 'y'), sampleRate: 16000, channels: 0 })).rejects.toThrow(/channels/);
    await expect(PcmSpool.create({ dir: join(dir, 'z'), sampleRate: 16000, fsyncEverySec: -1 })).rejects.toThrow(/fsyncEverySec/);
  });

  it('recovers from a torn last audio frame, a torn commit line and a stale temp journal', async () => {
    const spool = await PcmSpool.create({ dir, sampleRate: 16000, channels: 2 });
    await spool.append(ramp(4000, 2));
    await spool.appendCommit({ frontier: 1, processedByte: 8000, words: [['hello', 0.2, 0.5], ['world', 0.6, 0.9, 'S1']] });
    await spool.writeJournal({ lastProcessedByte: 8000, committedUntilSec: 1, emittedWords: 2, ticks: 1 });
    await spool.append(ramp(1000, 2, 9));
    // Simulate a crash: no close(); a torn frame and a torn line on disk; a half-written temp journal.
    await appendFile(join(dir, SPOOL_AUDIO_FILE), Buffer.from([1, 2, 3]));
    await appendFile(join(dir, SPOOL_COMMITS_FILE), '{"frontier":2,"processedB');
    await writeFile(join(dir, `${SPOOL_JOURNAL_FILE}.tmp`), '{"vers');
    await asIfOwnerDied(dir);

    const { spool: again, recovery } = await PcmSpool.open(dir);
    expect(recovery.warnings).toEqual([]);
    expect(recovery.audioBytes).toBe(20000); // bytes written after the last journal are kept
    expect(recovery.tornAudioBytes).toBe(3);
    expect(recovery.commits).toHaveLength(1);
    expect(recovery.commits[0]!.words[1]).toEqual(['world', 0.6, 0.9, 'S1']);
    expect(recovery.tornCommitBytes).toBeGreaterThan(0);
    expect(again.lastJournal.lastProcessedByte).toBe(8000);
    await expect(stat(join(dir, `${SPOOL_JOURNAL_FILE}.tmp`))).rejects.toThrow();
    // The recovered spool keeps appending where the audio left off.
    await again.append(ramp(10, 2));
    expect(again.bytesWritten).toBe(20040);
    await again.appendCommit({ frontier: 3, processedByte: 20000, words: [['again', 2, 2.5]] });
    await again.close();
    const lines = (await readFile(join(dir, SPOOL_COMMITS_FILE), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).frontier)).toEqual([1, 3]);
  });

  it('rejects a missing or corrupt journal; recovers audio shorter than the journal says is durable, with a warning', async () => {
    await expect(PcmSpool.open(join(dir, 'nothing'))).rejects.toBeInstanceOf(InvalidArgumentError);
    const spool = await PcmSpool.create({ dir, sampleRate: 16000 });
    await spool.append(ramp(1600));
    await spool.writeJournal({});
    await spool.close();
    await truncate(join(dir, SPOOL_AUDIO_FILE), WAV_HEADER_BYTES + 100);
    const { spool: again, recovery } = await PcmSpool.open(dir);
    expect(recovery.audioBytes).toBe(100);
    expect(recovery.warnings).toMatchObject([{ type: 'recovery', kind: 'audio-truncated' }]);
    expect(again.lastJournal.bytesDurable).toBe(100);
    await again.close();
    await writeFile(join(dir, SPOOL_JOURNAL_FILE), 'not json');
    await expect(PcmSpool.open(dir)).rejects.toThrow(/not valid JSON/);
    expect(InvalidAudioError).toBeDefined();
  });
});
