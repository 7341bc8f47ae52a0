import type { Command } from 'commander';

/** Registers the `models` subcommand (not built yet). */
export function register(_program: Command): void {}
