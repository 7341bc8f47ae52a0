import { homedir } from 'node:os';
import { join } from 'node:path';

/** Default settings path: `$HYBRID_ASR_SETTINGS`, else the OS config folder. */
export function defaultSettingsPath(): string {
  if (process.env.HYBRID_ASR_SETTINGS) return process.env.HYBRID_ASR_SETTINGS;
  const base =
    process.platform === 'win32'
      ? (process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'))
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Application Support')
        : (process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'));
  return join(base, 'hybrid-asr', 'settings.json');
}
