import type { Trx } from '../db/knex';
import type { TicketStatus } from './tickets';

/** Who changed a ticket's status: its requester (also through a visitor's session) or an agent. */
export type EventActor =
  | { kind: 'requester'; requesterId: string; name: string }
  | { kind: 'agent'; userId: string; name: string };

/** A status change, shown as a line in the ticket's thread. */
export interface TicketEvent {
  id: string;
  ticketId: string;
  actorKind: EventActor['kind'];
  actorName: string;
  fromStatus: TicketStatus;
  toStatus: TicketStatus;
  createdAt: Date;
}

export interface TicketEventRow {
  id: string;
  ticket_id: string;
  actor_kind: EventActor['kind'];
  actor_name: string;
  from_status: TicketStatus;
  to_status: TicketStatus;
  created_at: Date;
}

export const eventColumns = [
  'id',
  'ticket_id',
  'actor_kind',
  'actor_name',
  'from_status',
  'to_status',
  'created_at',
];

export function toTicketEvent(row: TicketEventRow): TicketEvent {
  return {
    id: row.id,
    ticketId: row.ticket_id,
    actorKind: row.actor_kind,
    actorName: row.actor_name,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    createdAt: row.created_at,
  };
}

export async function insert(
  trx: Trx,
  input: {
    workspaceId: string;
    ticketId: string;
    actor: EventActor;
    from: TicketStatus;
    to: TicketStatus;
    at: Date;
  },
): Promise<TicketEvent> {
  const [row] = await trx('ticket_events')
    .insert({
      workspace_id: input.workspaceId,
      ticket_id: input.ticketId,
      actor_kind: input.actor.kind,
      requester_id: input.actor.kind === 'requester' ? input.actor.requesterId : null,
      user_id: input.actor.kind === 'agent' ? input.actor.userId : null,
      actor_name: input.actor.name,
      from_status: input.from,
      to_status: input.to,
      created_at: input.at,
    })
    .returning<TicketEventRow[]>(eventColumns);
  return toTicketEvent(row as TicketEventRow);
}

/** Erasure: the requester's name on their own status changes becomes the placeholder. */
export async function eraseActorNamesOfRequester(
  trx: Trx,
  input: { workspaceId: string; requesterId: string; placeholder: string },
): Promise<void> {
  await trx('ticket_events')
    .where({ workspace_id: input.workspaceId, requester_id: input.requesterId })
    .update({ actor_name: input.placeholder });
}
