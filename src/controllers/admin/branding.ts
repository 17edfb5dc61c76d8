import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf } from '../../deps';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import { NotFoundError } from '../../errors';
import { changeNameAndColour } from '../../services/workspace-settings';
import { paths } from '../../routes/paths';
import {
  brandStylesheet,
  brandVersion,
  contrastRatio,
  linkColourOnWhite,
  textColourOn,
} from '../../services/branding';
import { MAX_LOGO_BYTES } from '../../services/logos';
import { textField } from '../../validation/fields';
import { fieldError, parseForm, type FormErrors } from '../../validation/form-errors';
import { setFlash, takeFlash } from '../../middleware/flash';

const HEX_COLOUR = /^#[0-9a-f]{6}$/i;
const COLOUR_FORMAT = 'Enter the colour as # and 6 characters from 0 to 9 and a to f, like #1d70b8';
const NO_COLOUR = 'Choose a colour with the colour picker or enter one, like #1d70b8';
const PREVIEW_SELECTOR = '.brand-preview';

/** An optional #rrggbb field: blank counts as not filled in. */
function colourField(message: string) {
  return z
    .string({ error: message })
    .trim()
    .refine((v) => v === '' || HEX_COLOUR.test(v), message)
    .optional();
}

function brandingForm(maxName: number) {
  return z.object({
    name: textField(maxName, { missing: 'Enter a workspace name', label: 'Workspace name' }),
    colourPicker: colourField(NO_COLOUR),
    colour: colourField(COLOUR_FORMAT),
  });
}

interface BrandingValues {
  name: string;
  colourPicker: string;
  colour: string;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

const ratio = (r: number): string => `${(Math.floor(r * 100) / 100).toFixed(2)}:1`;

/**
 * Any colour reaches at least 4.58:1 with black or with white text, so the portal's header and
 * buttons always read well. What a light colour cannot do is stand as text on the white page:
 * as a link colour it is darkened. The page says so whenever the colour is below 4.5:1 on white.
 */
function contrastAdvice(colour: string) {
  const onWhite = contrastRatio(colour, '#ffffff');
  if (onWhite >= 4.5) return undefined;
  const textColour = textColourOn(colour);
  return {
    onWhite: ratio(onWhite),
    text: textColour === '#000000' ? 'black' : 'white',
    textRatio: ratio(contrastRatio(colour, textColour)),
    link: linkColourOnWhite(colour),
  };
}

/** The branding page with both forms; `values` are the name/colour form's, as typed. */
export function renderBranding(
  req: Request,
  res: Response,
  status: number,
  page: { values?: BrandingValues; contactEmail?: string; errors?: FormErrors } = {},
): void {
  const workspace = res.locals.workspace;
  const version = brandVersion(workspace.primaryColor, workspace.logoVersion);
  res.status(status).render('admin/branding.njk', {
    section: 'settings',
    settingsPage: 'branding',
    values: page.values ?? {
      name: workspace.name,
      colourPicker: workspace.primaryColor,
      colour: '',
    },
    contactEmail: page.contactEmail ?? workspace.contactEmail ?? '',
    current: {
      name: workspace.name,
      colour: workspace.primaryColor,
      logo: workspace.logoType ? paths.admin.logo : null,
      portalEnabled: workspace.portalEnabled,
    },
    previewStylesheet: paths.admin.brandPreview(version),
    contrast: contrastAdvice(workspace.primaryColor),
    maxLogoKb: MAX_LOGO_BYTES / 1024,
    flash: page.errors ? undefined : takeFlash(req, res),
    errors: page.errors,
  });
}

export function get(req: Request, res: Response): void {
  renderBranding(req, res, 200);
}

/** Name and colour. Without JavaScript the two colour fields combine so: the text field wins when filled. */
export async function post(req: Request, res: Response): Promise<void> {
  const { config } = depsOf(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const values = {
    name: text(body.name),
    colourPicker: text(body.colourPicker),
    colour: text(body.colour),
  };
  const form = parseForm(brandingForm(config.limits.name), body);
  if (!form.ok) return renderBranding(req, res, 422, { values, errors: form.errors });
  const colour = form.data.colour || form.data.colourPicker;
  if (!colour)
    return renderBranding(req, res, 422, { values, errors: fieldError('colourPicker', NO_COLOUR) });
  await withPage(req, res, agentScope(res), (trx) =>
    changeNameAndColour(trx, agentAudit(req, res), res.locals.workspace, {
      name: form.data.name,
      primaryColor: colour.toLowerCase(),
    }),
  );
  setFlash(req, res, 'branding-saved');
  res.redirect(303, paths.admin.branding);
}

/**
 * The brand's custom properties scoped to the preview block, so the agent app itself stays
 * unbranded; served here rather than from the portal, which answers 404 while it is off.
 */
export function previewStylesheet(req: Request, res: Response): void {
  const workspace = res.locals.workspace;
  if (req.params.version !== brandVersion(workspace.primaryColor, workspace.logoVersion)) {
    throw new NotFoundError();
  }
  res
    .set('Cache-Control', 'private, max-age=31536000, immutable')
    .type('text/css')
    .send(brandStylesheet(workspace.primaryColor, PREVIEW_SELECTOR));
}
