import { withScope } from '../../src/db/scopes';
import * as messages from '../../src/models/messages';
import { saveBufferedAttachments } from '../../src/services/attachments';
import * as requesters from '../../src/models/requesters';
import type { Requester } from '../../src/models/requesters';
import * as tickets from '../../src/models/tickets';
import type { Ticket, TicketStatus } from '../../src/models/tickets';
import * as users from '../../src/models/users';
import type { User, UserRole } from '../../src/models/users';
import * as workspaces from '../../src/models/workspaces';
import type { Workspace } from '../../src/models/workspaces';
import { hashPassword } from '../../src/services/passwords';
import { formatReference } from '../../src/services/references';
import { openTicket, openTicketForAddress } from '../../src/services/tickets';
import { createWorkspace } from '../../src/services/workspaces';
import { makeTestApp, testConfig, type TestApp } from './app';
import { Browser } from './client';
import { testDatabase } from './database';

/** Test data goes in through the same models the app uses, in the system scope. */
function system<T>(work: Parameters<typeof withScope<T>>[2]): Promise<T> {
  return withScope(testDatabase().db, { kind: 'system' }, work);
}

export function aWorkspace(
  slug = 'acme',
  options: {
    portal?: boolean;
    name?: string;
    color?: string;
    defaultLanguage?: string;
    timeZone?: string;
  } = {},
): Promise<Workspace> {
  return system(async (trx) => {
    const workspace = await createWorkspace(trx, {
      slug,
      name: options.name ?? `${slug[0]!.toUpperCase()}${slug.slice(1)} Inc`,
      portalEnabled: options.portal ?? true,
    });
    const { color, defaultLanguage, timeZone } = options;
    if (!color && !defaultLanguage && !timeZone) return workspace;
    return (await workspaces.update(trx, workspace.id, {
      primaryColor: color,
      defaultLanguage,
      timeZone,
    }))!;
  });
}

export function aRequester(workspace: Workspace, email: string, name = ''): Promise<Requester> {
  return system((trx) => requesters.findOrCreate(trx, { workspaceId: workspace.id, email, name }));
}

export function anAgent(
  workspace: Workspace,
  input: { email?: string; name?: string; role?: UserRole; passwordHash?: string } = {},
): Promise<User> {
  return system(async (trx) => {
    const user = await users.insert(trx, {
      workspaceId: workspace.id,
      email: input.email ?? 'agent@acme.test',
      name: input.name ?? 'Alex Agent',
      role: input.role ?? 'agent',
      passwordHash: input.passwordHash ?? 'scrypt$unusable',
    });
    if (!user) throw new Error('duplicate agent');
    return user;
  });
}

export interface TicketFixture extends Ticket {
  reference: string;
}

export function aTicket(
  workspace: Workspace,
  requester: Requester,
  input: { subject?: string; body?: string; status?: TicketStatus; at?: Date } = {},
): Promise<TicketFixture> {
  return system(async (trx) => {
    const at = input.at ?? new Date('2026-11-25T09:00:00Z');
    const ticket = await openTicket(trx, {
      workspace,
      requester,
      subject: input.subject ?? 'Printer on fire',
      body: input.body ?? 'It started this morning.',
      at,
    });
    if (input.status && input.status !== 'open') {
      await tickets.setStatus(trx, {
        workspaceId: workspace.id,
        id: ticket.id,
        status: input.status,
        at,
      });
    }
    const fresh = (await tickets.findByNumber(trx, workspace.id, ticket.number))!;
    return { ...fresh, reference: formatReference(workspace.slug, ticket.number) };
  });
}

/**
 * A ticket opened without signing in and held until its address is confirmed, made as the portal
 * makes it (the sign-in scope, narrowed to a visitor holding the new ticket), without the link.
 */
export function aHeldTicket(
  workspace: Workspace,
  input: { email?: string; subject?: string; at?: Date } = {},
): Promise<TicketFixture> {
  return withScope(
    testDatabase().db,
    { kind: 'signin', workspaceId: workspace.id },
    async (trx) => {
      const ticket = await openTicketForAddress(trx, {
        workspace,
        email: input.email ?? 'sam@example.com',
        name: 'Sam Visitor',
        subject: input.subject ?? 'Held back',
        body: 'Please confirm me.',
        at: input.at ?? new Date('2026-11-25T09:00:00Z'),
        held: true,
      });
      return { ...ticket, reference: formatReference(workspace.slug, ticket.number) };
    },
  );
}

export function anAgentMessage(
  ticket: Ticket,
  agent: User,
  body: string,
  options: { internal?: boolean; at?: Date } = {},
): Promise<void> {
  return system(async (trx) => {
    const at = options.at ?? new Date('2026-11-25T09:30:00Z');
    await messages.insert(trx, {
      workspaceId: ticket.workspaceId,
      ticketId: ticket.id,
      author: { kind: 'agent', userId: agent.id, name: agent.name },
      body,
      internal: options.internal ?? false,
      at,
    });
    await tickets.recordReply(trx, {
      workspaceId: ticket.workspaceId,
      id: ticket.id,
      at,
      isPublic: !options.internal,
    });
  });
}

/** A file on a ticket's first message (the requester's), stored as the app stores it; its id. */
export function anAttachment(
  ticket: Ticket,
  file: { name: string; content: Buffer },
): Promise<string> {
  return system(async (trx) => {
    const first = await messages.firstOfTicket(trx, ticket.workspaceId, ticket.id);
    const { saved } = await saveBufferedAttachments(trx, {
      workspaceId: ticket.workspaceId,
      ticketId: ticket.id,
      messageId: first!.id,
      files: [file],
      limits: testConfig().attachments,
    });
    if (saved.length !== 1) throw new Error(`the file ${file.name} was refused`);
    return saved[0]!.id;
  });
}

export function setStatus(ticket: Ticket, status: TicketStatus): Promise<void> {
  return system((trx) =>
    tickets.setStatus(trx, {
      workspaceId: ticket.workspaceId,
      id: ticket.id,
      status,
      at: new Date(),
    }),
  );
}

export function reloadTicket(ticket: Ticket): Promise<Ticket> {
  return system(
    async (trx) => (await tickets.findByNumber(trx, ticket.workspaceId, ticket.number))!,
  );
}

/** Raw rows for assertions about what was (not) stored. */
export async function rows<T = Record<string, unknown>>(
  sql: string,
  bindings: unknown[] = [],
): Promise<T[]> {
  return system(async (trx) => (await trx.raw<{ rows: T[] }>(sql, bindings as never)).rows);
}

/**
 * Every tenant row a request could create or change (tickets, messages, status changes,
 * requesters, sign-in tokens, confirmations, queued mail, files), in a stable order: compare two
 * snapshots to prove nothing changed.
 */
export async function tenantRows(): Promise<Record<string, unknown[]>> {
  const tables = [
    'requesters',
    'tickets',
    'messages',
    'ticket_events',
    'login_tokens',
    'ticket_confirmations',
    'mail_outbox',
  ];
  const snapshot: Record<string, unknown[]> = {};
  for (const table of tables) snapshot[table] = await rows(`select * from ${table} order by id`);
  snapshot.attachments = await rows('select * from attachments order by id');
  snapshot.attachment_chunks = await rows(
    'select storage_key, seq, length(data) as length from attachment_chunks order by storage_key, seq',
  );
  return snapshot;
}

/** An agent who can really sign in (scrypt hash of the password; slower than anAgent). */
export async function anAgentWithPassword(
  workspace: Workspace,
  input: { email: string; password: string; name?: string; role?: UserRole },
): Promise<User> {
  return anAgent(workspace, { ...input, passwordHash: await hashPassword(input.password) });
}

/** The most common starting point: an app, a browser on acme, and acme's requester Jo. */
export async function acmeWithJo(): Promise<{
  t: TestApp;
  browser: Browser;
  acme: Workspace;
  jo: Requester;
}> {
  const t = makeTestApp();
  const acme = await aWorkspace('acme');
  return {
    t,
    browser: new Browser(t),
    acme,
    jo: await aRequester(acme, 'jo@example.com', 'Jo Bloggs'),
  };
}

/**
 * Acme with two customers, Jo and Sam, and a ticket each ("Jo’s printer", "Sam’s router"): what a
 * scope must keep apart.
 */
export async function joAndSamWithATicketEach(): Promise<{
  acme: Workspace;
  jo: Requester;
  sam: Requester;
}> {
  const acme = await aWorkspace('acme');
  const jo = await aRequester(acme, 'jo@example.com');
  const sam = await aRequester(acme, 'sam@example.com');
  await aTicket(acme, jo, { subject: 'Jo’s printer' });
  await aTicket(acme, sam, { subject: 'Sam’s router' });
  return { acme, jo, sam };
}
