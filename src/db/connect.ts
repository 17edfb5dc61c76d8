import type { Config } from '../config';
import { openEmbedded } from './embedded';

export interface DatabaseTarget {
  url: string;
  embedded: boolean;
  /** Stops the embedded server if this process started it; otherwise does nothing. */
  stop(): Promise<void>;
}

/** DATABASE_URL when given, else the embedded PostgreSQL under DATA_DIR (started or joined). */
export async function databaseTarget(config: Config): Promise<DatabaseTarget> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, embedded: false, stop: () => Promise.resolve() };
  }
  const embedded = await openEmbedded({ dataDir: config.dataDir });
  return { url: embedded.url, embedded: true, stop: () => embedded.stop() };
}
