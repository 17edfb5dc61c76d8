import path from 'node:path';
import nunjucks from 'nunjucks';
import { projectRoot } from '../project-root';

export const viewsDirectory = path.join(projectRoot, 'views');

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
  env.addFilter(
    'humanTime',
    (value: Date) =>
      new Intl.DateTimeFormat('en-GB', {
        dateStyle: 'medium',
        timeStyle: 'short',
        timeZone: 'UTC',
      }).format(value) + ' UTC',
  );
  return env;
}
