import type { Command } from 'commander';

/** Registers the `transcribe` subcommand (not built yet). */
export function register(_program: Command): void {}
