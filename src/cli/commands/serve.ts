import type { Command } from 'commander';

/** Registers the `serve` subcommand (not built yet). */
export function register(_program: Command): void {}
