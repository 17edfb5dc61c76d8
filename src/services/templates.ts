import path from 'node:path';
import nunjucks from 'nunjucks';
import { projectRoot } from '../project-root';
import { translate, translateHtml, type MessageValues } from '../i18n/translate';
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
  // `t('key', { name: value })` in any template: the language is the render's `lang` (a page's
  // from the request, a mail's from its recipient). Nunjucks calls a global with the template's
  // context as `this`; a macro imported without `with context` has none, so it falls back to
  // English: import components `with context`.
  env.addGlobal(
    't',
    function (this: { ctx: { lang?: string } }, key: string, values?: MessageValues) {
      return translate(this.ctx.lang ?? 'en', key, values);
    },
  );
  env.addGlobal(
    'tHtml',
    function (this: { ctx: { lang?: string } }, key: string, values?: MessageValues) {
      return new nunjucks.runtime.SafeString(translateHtml(this.ctx.lang ?? 'en', key, values));
    },
  );
  return env;
}
