import type { Request, Response } from 'express';
import { writeAttachment } from '../../middleware/attachment-download';
import { openAttachment } from '../../services/attachments';
import { withAgentTicket } from './ticket';

/** A file of one of the workspace's tickets, internal notes' included. */
export async function get(req: Request, res: Response): Promise<void> {
  const id = typeof req.params.id === 'string' ? req.params.id : '';
  await withAgentTicket(req, res, async (trx, ticket) => {
    const { file, content } = await openAttachment(trx, {
      workspaceId: ticket.workspaceId,
      ticketId: ticket.id,
      id,
    });
    await writeAttachment(res, file, content);
  });
  res.end();
}
