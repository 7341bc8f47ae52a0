/**
 * A soft problem: the call went ahead, but not quite as asked. Impossible requests throw instead.
 */
export type TranscriptionWarning =
  | {
      /** An option the backend or its model can't honour was ignored. */
      readonly type: 'unsupported';
      /** Name of the option, e.g. `'diarization'`, `'hotwords'`, `'punctuation'`. */
      readonly feature: string;
      /** Why, in words. */
      readonly details?: string | undefined;
    }
  | {
      /** Another backend ran the request than the one first chosen. */
      readonly type: 'fallback';
      /** `id` of the backend that failed or was skipped. */
      readonly from: string;
      /** `id` of the backend that ran the request. */
      readonly to: string;
      /** Why, in words. */
      readonly reason: string;
    }
  | {
      /** Anything else. */
      readonly type: 'other';
      /** What happened, in words. */
      readonly message: string;
    };
