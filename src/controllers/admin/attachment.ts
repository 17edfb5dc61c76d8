import { attachmentDownload } from '../../middleware/attachment-download';
import { withAgentTicket } from './ticket';

/** A file of one of the workspace's tickets, internal notes' included. */
export const get = attachmentDownload(withAgentTicket);
