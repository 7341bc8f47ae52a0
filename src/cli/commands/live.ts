import type { Command } from 'commander';

/** Registers the `live` subcommand (not built yet). */
export function register(_program: Command): void {}
