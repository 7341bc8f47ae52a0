/**
 * `hybrid-asr transcribe --diarize --format json` end to end on the shared synthetic meetings:
 * the real CLI, the offline model, Silero VAD and the speaker-embedding model found under
 * HYBRID_ASR_MODELS, scored against the exact RTTM (DER computed in test/helpers/der.ts).
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Segment, SpeakerInfo, SpeakerTurn, Transcription } from '../../src/spec/index.js';
import { runCli } from '../helpers/cli.js';
import { diarizationErrorRate, readRttm } from '../helpers/der.js';
import { AUDIO_DIR, MODELS_DIR, OFFLINE_MODEL, SPEAKER_MODEL, VAD_MODEL, describeWithAssets } from '../helpers/shared.js';

const MEETINGS = join(AUDIO_DIR, 'meetings');

/** Total overlap of [a0, a1) with a sorted list of spans. */
function overlap(a0: number, a1: number, spans: readonly SpeakerTurn[]): number {
  let sum = 0;
  for (const s of spans) sum += Math.max(0, Math.min(a1, s.end) - Math.max(a0, s.start));
  return sum;
}

describeWithAssets([OFFLINE_MODEL, VAD_MODEL, SPEAKER_MODEL, MEETINGS])('hybrid-asr transcribe --diarize --format json', () => {
  for (const name of ['meeting-short-01', 'meeting-short-02', 'meeting-short-03', 'meeting-10min-01']) {
    it(`${name}: speaker turns within the DER targets, right speaker count, segments labelled consistently`, async () => {
      const prefix = join(MEETINGS, name);
      const r = await runCli(['transcribe', `${prefix}.wav`, '--diarize', '--format', 'json', '--model', 'tiny-ctc-en-offline'], {
        HYBRID_ASR_MODELS: MODELS_DIR,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const t = JSON.parse(r.stdout) as Transcription;
      const ref = readRttm(`${prefix}.rttm`);
      const turns = t.speakerTurns!;
      expect(turns.length).toBeGreaterThan(0);
      const d0 = diarizationErrorRate(ref, turns);
      const d25 = diarizationErrorRate(ref, turns, { collar: 0.25 });
      // Turns taken from the labelled segments instead: the labels are right where there are
      // words (collar), but segment bounds come from word times and span short pauses.
      const segTurns = t.segments.filter((s) => s.speaker !== undefined).map((s) => ({ speaker: s.speaker!, start: s.start, end: s.end }));
      const s0 = diarizationErrorRate(ref, segTurns);
      const s25 = diarizationErrorRate(ref, segTurns, { collar: 0.25 });
      console.log(
        `[DER cli] ${name}: speakerTurns ${(d0.der * 100).toFixed(2)} % / ${(d25.der * 100).toFixed(2)} % collar, speakers ${d0.hypSpeakers}/${d0.refSpeakers}; ` +
          `segments ${(s0.der * 100).toFixed(2)} % / ${(s25.der * 100).toFixed(2)} % collar`,
      );
      expect(d0.hypSpeakers).toBe(d0.refSpeakers);
      expect(d0.der).toBeLessThanOrEqual(0.1);
      expect(d25.der).toBeLessThanOrEqual(0.02);
      expect(s25.der).toBeLessThanOrEqual(0.02);

      // Turns sorted; `speakers` lists exactly the turns' speakers with their total time.
      for (let i = 1; i < turns.length; i++) expect(turns[i]!.start).toBeGreaterThanOrEqual(turns[i - 1]!.start);
      const ids = [...new Set(turns.map((x) => x.speaker))].sort();
      expect((t.speakers as SpeakerInfo[]).map((s) => s.id).sort()).toEqual(ids);
      for (const sp of t.speakers!) {
        const total = turns.filter((x) => x.speaker === sp.id).reduce((a, x) => a + x.end - x.start, 0);
        expect(sp.totalSec).toBeCloseTo(total, 2);
      }
      // Every segment with words carries a speaker, and it is the speaker whose turns cover its
      // words most.
      const withWords = t.segments.filter((s: Segment) => s.words.length > 0);
      expect(withWords.length).toBeGreaterThan(10);
      for (const s of withWords) {
        expect(s.speaker).toBeDefined();
        const cover = new Map<string, number>();
        for (const id of ids) {
          const mine = turns.filter((x) => x.speaker === id);
          cover.set(id, s.words.reduce((a, w) => a + overlap(w.start, w.end, mine), 0));
        }
        const best = Math.max(...cover.values());
        if (best > 0) expect(cover.get(s.speaker!)).toBe(best);
      }
    }, 120_000);
  }
});
