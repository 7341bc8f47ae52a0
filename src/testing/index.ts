/**
 * Test helpers: a scriptable in-memory backend and the contract suite every `ASRBackend` must pass.
 *
 * @packageDocumentation
 */
export {};
