// The two pieces of Nunjucks' runtime that services/template-fast-paths.ts gives faster paths;
// @types/nunjucks describes only the public API.
declare module 'nunjucks/src/lib' {
  /** Escapes & " ' < > and backslash for HTML; looked up on this object by the runtime on each call. */
  export function escape(value: string): string;
}

declare module 'nunjucks/src/runtime' {
  export class Frame {
    variables: Record<string, unknown>;
    // A property, as the fast path keeps the original to call on a frame of its choosing.
    set: (this: Frame, name: string, value: unknown, resolveUp?: boolean) => void;
  }
}
