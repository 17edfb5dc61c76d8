import path from 'node:path';
import nunjucks from 'nunjucks';
import { projectRoot } from '../project-root';
import { humanTime, isoTime } from '../i18n/time-format';
import {
  escapeHtml,
  translate,
  translateHtml,
  translatorFor,
  type MessageValues,
} from '../i18n/translate';
import { typeLabel } from './attachment-types';
import { humanSize } from './file-sizes';
import { applyTemplateFastPaths } from './template-fast-paths';
import { BoundedCache } from './bounded-cache';

export const viewsDirectory = path.join(projectRoot, 'views');

/** One template environment for pages and mail; autoescape is what keeps user text inert. */
export function createTemplates(reloadOnChange = false): nunjucks.Environment {
  applyTemplateFastPaths();
  const loader = new nunjucks.FileSystemLoader(viewsDirectory, { noCache: reloadOnChange });
  const env = new nunjucks.Environment(loader, {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('isoTime', isoTime);
  // In the render's language and zone (`lang`, `timeZone`: a portal page's from its reader, an
  // agent page's from the workspace, a mail's from its recipient); English and UTC without them.
  // Also an ISO string: the "Your data" page shows the export's own values, as the JSON has them.
  env.addFilter(
    'humanTime',
    function (this: { ctx: { lang?: string; timeZone?: string } }, value: Date | string) {
      return humanTime(value, this.ctx.lang ?? 'en', this.ctx.timeZone ?? 'UTC');
    },
  );
  // Like t(): in the render's language, so a size reads "1,5 MB" on a German page.
  env.addFilter('fileSize', function (this: { ctx: { lang?: string } }, bytes: number) {
    return humanSize(bytes, translatorFor(this.ctx.lang ?? 'en'));
  });
  env.addFilter('fileTypeLabel', function (this: { ctx: { lang?: string } }, type: string) {
    return typeLabel(type, translatorFor(this.ctx.lang ?? 'en'));
  });
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
  // A sentence around an element the page builds itself ("Closed by you on <time>…</time>"):
  // `tParts('key', values, 'time')` gives the text before and after the slot named, each still
  // to be escaped, so the sentence stays whole in every language's own order.
  env.addGlobal(
    'tParts',
    function (
      this: { ctx: { lang?: string } },
      key: string,
      values: MessageValues,
      slot: string,
    ): [string, string] {
      const text = translate(this.ctx.lang ?? 'en', key, { ...values, [slot]: SLOT });
      const at = text.indexOf(SLOT);
      return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + SLOT.length)];
    },
  );
  // A status as a tag, in the customer's words; agents read "pending" as waiting on the customer,
  // so statusTag(status, 'agent') says "Pending". A function rather than a macro: it is on every
  // row of a list, and a macro call builds a frame (and its import runs the component's template
  // on every render), which was a tenth of the ticket list's template.
  // Kept once made: a list shows the same few tags (statuses × audiences × languages) on every
  // row, and formatting the label's select message was a sixth of the ticket list's template.
  const statusTags = new BoundedCache(200, (key: string) => {
    const [language, audience, status] = key.split('\u0000') as [string, string, string];
    const label = translate(language, `statuses.${audience}`, { status });
    return new nunjucks.runtime.SafeString(
      `<strong class="tag tag-${escapeHtml(status)}">${escapeHtml(label)}</strong>`,
    );
  });
  env.addGlobal(
    'statusTag',
    function (this: { ctx: { lang?: string } }, status: string, audience?: 'agent') {
      const language = this.ctx.lang ?? 'en';
      return statusTags.get(
        `${language}\u0000${audience === 'agent' ? 'agent' : 'customer'}\u0000${status}`,
      );
    },
  );
  return env;
}

// Stands for the element while the sentence is formatted; never in a catalogue or user text.
const SLOT = '\u0000';
