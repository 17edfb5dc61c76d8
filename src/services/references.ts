/** Ticket references read like ACME-1042: the workspace slug in capitals and its own sequence. */
export function formatReference(slug: string, number: number): string {
  return `${slug.toUpperCase()}-${number}`;
}

/** The ticket number for a reference of this workspace, or undefined for anything else. */
export function parseReference(slug: string, reference: string): number | undefined {
  const prefix = `${slug.toUpperCase()}-`;
  if (reference.length > prefix.length + 9 || !reference.toUpperCase().startsWith(prefix))
    return undefined;
  const digits = reference.slice(prefix.length);
  if (!/^[1-9]\d{0,8}$/.test(digits)) return undefined;
  return Number(digits);
}
