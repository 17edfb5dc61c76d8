/** Sizes as people read them, for limits, hints and file lists. */

/** "10 MB", "25 MB": limits as the forms and refusals state them. */
export function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

/** "340 bytes", "12 KB", "1.5 MB": a file's size as the thread shows it. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

/**
 * A file's size as humanSize rounds it, as a number and a unit, for a message to put into words
 * in its own language (a mail: "1,5 MB" in German).
 */
export function sizeInUnits(bytes: number): { value: number; unit: 'bytes' | 'kb' | 'mb' } {
  if (bytes < 1024) return { value: bytes, unit: 'bytes' };
  if (bytes < 1024 * 1024) return { value: Math.round(bytes / 1024), unit: 'kb' };
  return { value: Math.round((bytes / (1024 * 1024)) * 10) / 10, unit: 'mb' };
}
