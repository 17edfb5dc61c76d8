import type { z } from 'zod';
import type { LocalText, ValidationError } from '../errors';
import type { Translate } from '../i18n/translate';

/** The one shape every form page gets its errors in (GOV.UK error summary + field messages). */
export interface FormErrors {
  summary: { text: string; href: string }[];
  fields: Record<string, string>;
}

export function fieldError(field: string, message: string): FormErrors {
  return { summary: [{ text: message, href: `#${field}` }], fields: { [field]: message } };
}

/** First message per field, in the order the form shows them. */
export function fromZodError(error: z.ZodError, order: readonly string[]): FormErrors {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? order[0] ?? 'form');
    fields[field] ??= issue.message;
  }
  const ordered = [
    ...order.filter((f) => f in fields),
    ...Object.keys(fields).filter((f) => !order.includes(f)),
  ];
  return { summary: ordered.map((f) => ({ text: fields[f]!, href: `#${f}` })), fields };
}

export type FormResult<T> = { ok: true; data: T } | { ok: false; errors: FormErrors };

/** Validates a submitted form; the keys of the schema's shape give the order of the summary. */
export function parseForm<S extends z.ZodObject>(
  schema: S,
  body: unknown,
): FormResult<z.output<S>> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, errors: fromZodError(result.error, Object.keys(schema.shape)) };
}

/**
 * Refused files: one summary line each, all linking to the file input, which shows them all. With
 * a translator, in its language (a customer's page); without, in English (the agent app).
 */
export function fileErrors(
  refused: readonly { reason: string; text: LocalText }[],
  t?: Translate,
): FormErrors | undefined {
  if (refused.length === 0) return undefined;
  const reasons = refused.map((r) => (t ? t(r.text.key, r.text.values) : r.reason));
  // Every form that takes files has one file input, named attachments.
  return {
    summary: reasons.map((text) => ({ text, href: '#attachments' })),
    fields: { attachments: reasons.join('. ') },
  };
}

/** A broken rule of the domain, in `t`'s language where the rule has words in the catalogues. */
export function ruleError(error: ValidationError, t: Translate): FormErrors {
  const text = error.text ? t(error.text.key, error.text.values) : error.message;
  return fieldError(error.field, text);
}

/** Several sets of errors as one, in the order given (the form's order). */
export function mergeErrors(...sets: (FormErrors | undefined)[]): FormErrors | undefined {
  const present = sets.filter((set): set is FormErrors => set !== undefined);
  if (present.length === 0) return undefined;
  return {
    summary: present.flatMap((set) => set.summary),
    fields: Object.assign({}, ...present.map((set) => set.fields)) as Record<string, string>,
  };
}
