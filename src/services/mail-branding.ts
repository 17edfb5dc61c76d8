import type { MailBrand } from '../models/workspaces';
import { linkColourOnWhite, textColourOn } from './branding';
import { pngSize } from './logos';
import type { InlineImage } from './mail-transport';

/** What the mail layout (views/layouts/email.njk) shows of the workspace. */
export interface MailBrandView {
  name: string;
  colour: string;
  /** Black or white, whichever reads better on the colour: the portal's rule. */
  textColour: string;
  /** The colour for links on the white body, darkened where it would read below 4.5:1. */
  linkColour: string;
  logo: { src: string; width: number; height: number } | null;
}

const LOGO_CID = 'workspace-logo@tickets-portal';

/**
 * The logo travels inside the mail (a `cid:` part), not as a link to the portal: mail clients
 * show attached images where they block remote ones, and fetching nothing means nobody learns
 * when, or whether, a mail was opened. Only the small resized copy is sent (a few KB).
 */
export function brandMail(brand: MailBrand): { view: MailBrandView; inlineImages: InlineImage[] } {
  const logo = brand.logo?.type === 'image/png' ? brand.logo.content : undefined;
  const size = logo && pngSize(logo);
  return {
    view: {
      name: brand.name,
      colour: brand.primaryColor,
      textColour: textColourOn(brand.primaryColor),
      linkColour: linkColourOnWhite(brand.primaryColor),
      // The copy is made for 2× screens: shown at half its pixel size.
      logo: size
        ? {
            src: `cid:${LOGO_CID}`,
            width: Math.max(1, Math.round(size.width / 2)),
            height: Math.max(1, Math.round(size.height / 2)),
          }
        : null,
    },
    inlineImages: logo
      ? [
          {
            cid: LOGO_CID,
            filename: 'logo.png',
            contentType: 'image/png',
            base64: logo.toString('base64'),
          },
        ]
      : [],
  };
}
