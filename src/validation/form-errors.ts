import type { z } from 'zod';

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
