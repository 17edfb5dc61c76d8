import { attachmentDownload } from '../../middleware/attachment-download';
import { withViewerTicket } from './ticket';

/**
 * A file of the viewer's ticket. Row-level security answers who may see it: another requester's
 * file, or an internal note's, is simply not found (404), like a ticket that is not theirs.
 */
export const get = attachmentDownload(withViewerTicket);
