/** What a thread page's entries are, as far as its template's components go. */
type EntryView = { kind: 'event' } | { kind: 'message'; files: readonly unknown[] };

/**
 * Which components a page of a thread needs, so its template imports only those. An import
 * `with context` copies every variable of the page and runs the component's template, on every
 * render: the customer's ticket page spent a third of its template's time importing components
 * most of its pages never show (a status change, a file list).
 */
export function threadComponents(entries: readonly EntryView[]): {
  events: boolean;
  files: boolean;
} {
  return {
    events: entries.some((entry) => entry.kind === 'event'),
    files: entries.some((entry) => entry.kind === 'message' && entry.files.length > 0),
  };
}
