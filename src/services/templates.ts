import path from 'node:path';
import nunjucks from 'nunjucks';
import { projectRoot } from '../project-root';
import { typeLabel } from './attachment-types';
import { humanSize } from './file-sizes';

export const viewsDirectory = path.join(projectRoot, 'views');

// Made once: building an Intl.DateTimeFormat costs far more than formatting with it, and a
// list page formats dozens of times.
const humanTime = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
});

/** One template environment for pages and mail; autoescape is what keeps user text inert. */
export function createTemplates(reloadOnChange = false): nunjucks.Environment {
  const loader = new nunjucks.FileSystemLoader(viewsDirectory, { noCache: reloadOnChange });
  const env = new nunjucks.Environment(loader, {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('isoTime', (value: Date) => value.toISOString());
  // Also an ISO string: the "Your data" page shows the export's own values, as the JSON has them.
  env.addFilter('humanTime', (value: Date | string) => `${humanTime.format(new Date(value))} UTC`);
  env.addFilter('fileSize', (bytes: number) => humanSize(bytes));
  env.addFilter('fileTypeLabel', (type: string) => typeLabel(type));
  return env;
}
