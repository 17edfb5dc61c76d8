import type { Trx } from '../db/knex';
import { queryRows } from '../db/statements';

/**
 * A query written out once per shape (which filters it has), rather than built with knex on every
 * request: the pages' statements are a few shapes each, and compiling a builder each time was
 * about 5% of a page's CPU, 20% of an agent page's with the garbage it left. `make` is called
 * once per shape; the text is the same string every time after, so it is also prepared once per
 * connection under the same name.
 */
export function textsByShape<Shape extends Record<string, boolean | string>>(
  make: (shape: Shape) => string,
): (shape: Shape) => string {
  const texts = new Map<string, string>();
  return (shape) => {
    const key = Object.values(shape).join('/');
    let text = texts.get(key);
    if (text === undefined) {
      text = make(shape);
      texts.set(key, text);
    }
    return text;
  };
}

/**
 * A workspace's row by one of its keys (`id`, a ticket's `number`), as a fixed text sent
 * prepared: the agent, the ticket and a requester, read on every page that shows them.
 */
export function rowByKey<Row>(table: string, columns: readonly string[], key: string) {
  const text = `select ${columns.join(', ')} from ${table}
                 where workspace_id = $1 and ${key} = $2 limit 1`;
  return async (trx: Trx, workspaceId: string, value: unknown): Promise<Row | undefined> => {
    const [row] = await queryRows<Row>(trx, text, [workspaceId, value], { prepared: true });
    return row;
  };
}
