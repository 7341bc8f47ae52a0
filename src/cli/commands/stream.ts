import type { Command } from 'commander';

/** Registers the `stream` subcommand (not built yet). */
export function register(_program: Command): void {}
