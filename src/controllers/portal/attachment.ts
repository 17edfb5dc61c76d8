import type { Request, Response } from 'express';
import { writeAttachment } from '../../middleware/attachment-download';
import { openAttachment } from '../../services/attachments';
import { withViewerTicket } from './ticket';

/**
 * A file of the viewer's ticket. Row-level security answers who may see it: another requester's
 * file, or an internal note's, is simply not found (404), like a ticket that is not theirs.
 */
export async function get(req: Request, res: Response): Promise<void> {
  const id = typeof req.params.id === 'string' ? req.params.id : '';
  await withViewerTicket(req, res, async (trx, ticket) => {
    const { file, content } = await openAttachment(trx, {
      workspaceId: ticket.workspaceId,
      ticketId: ticket.id,
      id,
    });
    await writeAttachment(res, file, content);
  });
  res.end();
}
