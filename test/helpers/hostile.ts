import fc from 'fast-check';

/*
 * Generators of hostile input for the property-based tests (test/security/hostile-input.test.ts):
 * strings, form bodies, cookies and hosts that browsers never send but anyone else can.
 */

/** Characters that break naive code: controls, lone surrogates, bidi overrides, separators. */
const NASTY_CHARS = [
  '\u0000',
  '\u0001',
  '\u0008',
  '\t',
  '\n',
  '\r',
  '\u000b',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u200b',
  '\u200e',
  '\u200f',
  '\u202e',
  '\u2066',
  '\u2069',
  '\u2028',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u0301',
  '\u{1f600}',
  '\u{10ffff}',
  '%',
  '&',
  '=',
  '+',
  '[',
  ']',
  ';',
  ',',
  '"',
  "'",
  '<',
  '>',
  '\\',
  '{{',
  '}}',
];

/** One unit of a hostile string: any code point, often one of the nasty ones above. */
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_CHARS) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
);

/** Random Unicode (lone surrogates, NUL, bidi controls included), empty, or huge. */
export function hostileString(huge = 70_000): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit, maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', ' ', '\u00a0', 'null', 'undefined', '[object Object]'),
    },
    {
      weight: 1,
      // Just past a field's limit, and well past the request's.
      arbitrary: fc
        .tuple(
          fc.constantFrom(101, 201, 255, 2_001, 10_001, huge),
          fc.constantFrom('a', 'é', '\u{1f600}'),
        )
        .map(([n, c]) => c.repeat(n)),
    },
  );
}

/**
 * UTF-8, except that a lone surrogate is written as the three bytes it would take (WTF-8), as a
 * careless client would: those bytes are not valid UTF-8, which is the point.
 */
export function looseUtf8(text: string): Buffer {
  const bytes: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) bytes.push(cp);
    else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000)
      bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else
      bytes.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
  }
  return Buffer.from(bytes);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** application/x-www-form-urlencoded escaping of any string, lone surrogates included. */
export function formEscape(text: string): string {
  // encodeURIComponent throws on a lone surrogate; only those strings take the slow way.
  if (!LONE_SURROGATE.test(text)) return encodeURIComponent(text);
  let out = '';
  for (const byte of looseUtf8(text)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(ch)
      ? ch
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A path segment: any string escaped, or raw broken escapes. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileString(5_000).map(formEscape) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '%',
      '%E0%A4%A',
      '%FF%FE',
      '%00',
      '%2F',
      '..',
      '%2E%2E',
      'ACME-1000%00',
      'ACME-99999999999999999999',
      'ACME-2147483648',
      'ACME-0',
      'acme-1001',
      'GLOBEX-1001',
      '-1',
      '1e3',
      'logo-NaN',
      '__proto__',
      'constructor',
    ),
  },
);

/** One field of a form body: a name and the value it carries (raw, escaped when encoded). */
export type Field = [name: string, value: string];

/**
 * Names that look like a field but are shaped as an array or object, or that aim at the
 * prototype chain of whatever object the parser builds.
 */
export function shapedNames(field: string): string[] {
  return [`${field}[]`, `${field}[x]`, `${field}[0]`, `${field}[__proto__]`, `${field}.x`];
}

export const POLLUTING_NAMES = [
  '__proto__',
  '__proto__[polluted]',
  '__proto__.polluted',
  'constructor[prototype][polluted]',
  'constructor.prototype.polluted',
  'prototype[polluted]',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

/**
 * A form body built from the form's own field names and hostile ones: each field missing, once
 * or repeated (which the parser turns into an array), in array or object shape, in any order.
 */
export function hostileFields(names: readonly string[]): fc.Arbitrary<Field[]> {
  const value = hostileString();
  const one = (name: string): fc.Arbitrary<Field[]> =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant<Field[]>([]) },
      { weight: 5, arbitrary: value.map((v): Field[] => [[name, v]]) },
      {
        weight: 1,
        arbitrary: fc
          .array(value, { minLength: 2, maxLength: 3 })
          .map((vs) => vs.map((v): Field => [name, v])),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(...shapedNames(name)), value)
          .map(([n, v]): Field[] => [[n, v]]),
      },
    );
  const extra = fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...POLLUTING_NAMES), hostileString(300)),
      fc.oneof(fc.constantFrom('1', 'polluted', ''), hostileString(300)),
    ),
    { maxLength: 3 },
  );
  return fc.tuple(fc.tuple(...names.map(one)), extra).chain(([fields, more]) =>
    fc.shuffledSubarray([...fields.flat(), ...more], {
      minLength: fields.flat().length + more.length,
    }),
  );
}

/** The urlencoded body of some fields, every name and value escaped. */
export function encodeForm(fields: readonly Field[]): string {
  return fields.map(([name, value]) => `${formEscape(name)}=${formEscape(value)}`).join('&');
}

/** A Content-Type a client may claim, most of them wrong for a form. */
export const FORM_TYPE = 'application/x-www-form-urlencoded';
export const hostileContentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  FORM_TYPE,
  `${FORM_TYPE}; charset=utf-8`,
  `${FORM_TYPE}; charset=UTF-8`,
  `${FORM_TYPE}; charset="utf-8"`,
  `${FORM_TYPE}; charset=utf8`,
  `${FORM_TYPE}; charset=utf-16`,
  `${FORM_TYPE}; charset=utf-16le`,
  `${FORM_TYPE}; charset=iso-8859-1`,
  `${FORM_TYPE}; charset=x-unknown`,
  `${FORM_TYPE}; charset`,
  `${FORM_TYPE};;`,
  `${FORM_TYPE}, text/plain`,
  'APPLICATION/X-WWW-FORM-URLENCODED',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/plain; charset=utf-16',
  'multipart/form-data',
  'multipart/form-data; boundary=b',
  'multipart/form-data; boundary=',
  'application/octet-stream',
  'application/xml',
  '*/*',
  'garbage',
  '',
);

/** The shapes a body may take, whatever its Content-Type claims. */
export const BODY_SHAPES = [
  'form',
  'unescaped',
  'broken-escapes',
  'json',
  'multipart',
  'bytes',
  'utf-16',
] as const;
export type BodyShape = (typeof BODY_SHAPES)[number];

/** Some fields as a body of the given shape; `bytes` is the body of the shape 'bytes'. */
export function shapeBody(shape: BodyShape, fields: readonly Field[], bytes: Uint8Array): Buffer {
  const form = encodeForm(fields);
  switch (shape) {
    case 'form':
      return Buffer.from(form);
    case 'unescaped':
      // Raw UTF-8 (or WTF-8) bytes where the parser expects %XX.
      return looseUtf8(fields.map(([n, v]) => `${n}=${v}`).join('&'));
    case 'broken-escapes':
      return Buffer.from(`${form}&%E0%A4%A=%&%ZZ=%F`);
    case 'json':
      return Buffer.from(JSON.stringify(Object.fromEntries(fields)));
    case 'multipart':
      return Buffer.from(
        fields
          .map(([n, v]) => `--b\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`)
          .join('') + '--b--\r\n',
      );
    case 'bytes':
      return Buffer.from(bytes);
    case 'utf-16':
      return Buffer.from(form, 'utf16le');
  }
}

/** Mostly a form, so that most bodies carry their CSRF token to the validation behind it. */
export const bodyShape: fc.Arbitrary<BodyShape> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('form' as const) },
  { weight: 4, arbitrary: fc.constantFrom(...BODY_SHAPES) },
);
export const randomBytes: fc.Arbitrary<Uint8Array> = fc.uint8Array({ maxLength: 200 });

/**
 * A Host header that only looks like a workspace's: a prefix or suffix, a trailing dot, an odd
 * port, or nothing at all. `host` is the workspace's real host, e.g. acme.localhost.
 */
export function lookalikeHost(host: string): fc.Arbitrary<string> {
  const [slug = ''] = host.split('.');
  const base = host.slice(slug.length + 1);
  return fc.constantFrom(
    `evil${host}`,
    `evil-${host}`,
    `${slug}x.${base}`,
    `x.${host}`,
    `${host}.evil.com`,
    `${host}.evil.com:3000`,
    `${host}.`,
    `${host.toUpperCase()}.`,
    `${host}..`,
    `.${host}`,
    `${slug}.${base}x`,
    `${slug}${base}`,
    `${slug}`,
    base,
    `.${base}`,
    `${slug}%2E${base}`,
    `${slug}.${base}%00`,
    `${host}@evil.com`,
    `evil.com#${host}`,
    `evil.com\\.${host}`,
    `[::1]`,
    `[${host}]`,
    '127.0.0.1',
    '',
    ' ',
    ':3000',
  );
}

/** The real workspace host in every spelling that should still reach it. */
export function sameHost(host: string): fc.Arbitrary<string> {
  return fc.constantFrom(
    host,
    host.toUpperCase(),
    `${host}:3000`,
    `${host.toUpperCase()}:80`,
    `${host}:`,
  );
}

/** One part of a multipart/form-data body; a filename makes it a file. */
export interface Part {
  name: string;
  filename?: string;
  type?: string;
  content: Buffer;
}

export function multipartBody(boundary: string, parts: readonly Part[], close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    const type = part.type === undefined ? '' : `\r\nContent-Type: ${part.type}`;
    chunks.push(
      looseUtf8(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}${type}\r\n\r\n`,
      ),
      part.content,
      Buffer.from('\r\n'),
    );
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The parts of an upload form gone wrong: the file missing, repeated, empty, huge, of another
 * type or under another name; fields with hostile names (quotes and line breaks included) and
 * values. `token` is the CSRF field, present in most bodies.
 */
export function hostileParts(fileField: string, token: string): fc.Arbitrary<Part[]> {
  const oddName = fc.oneof(
    fc.constantFrom(...POLLUTING_NAMES, ...shapedNames(fileField), '_csrf'),
    hostileString(200),
  );
  const content = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .uint8Array({ maxLength: 300 })
        .map((a) => Buffer.concat([PNG_SIGNATURE, Buffer.from(a)])),
    },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.constant(Buffer.from('<svg onload="alert(1)"/>')) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(600 * 1024, 3 * 1024 * 1024)
        .map((n) => Buffer.concat([PNG_SIGNATURE, Buffer.alloc(n)])),
    },
  );
  const file = (name: fc.Arbitrary<string>) =>
    fc.record(
      {
        name,
        filename: fc.oneof(
          { weight: 3, arbitrary: fc.constant('logo.png') },
          { weight: 1, arbitrary: fc.constantFrom('../../etc/passwd', 'a"b.png', '') },
          { weight: 1, arbitrary: hostileString(200) },
        ),
        type: fc.constantFrom('image/png', 'image/svg+xml', 'text/html', ''),
        content,
      },
      { requiredKeys: ['name', 'content'] },
    );
  const field = fc.record({ name: oddName, content: hostileString(2_000).map(looseUtf8) });
  const csrf = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Part[]>([{ name: '_csrf', content: Buffer.from(token) }]) },
    { weight: 1, arbitrary: fc.constant<Part[]>([]) },
  );
  return fc
    .tuple(
      csrf,
      fc.option(file(fc.constant(fileField)), { freq: 5 }),
      fc.array(fc.oneof(file(oddName), field, field), { maxLength: 2 }),
    )
    .chain(([token, logo, rest]) =>
      fc.shuffledSubarray([...token, ...(logo ? [logo] : []), ...rest], {
        minLength: token.length + (logo ? 1 : 0) + rest.length,
      }),
    );
}
