import type { Trx } from '../db/knex';
import * as workspaces from '../models/workspaces';
import type { Workspace } from '../models/workspaces';
import { recordEvent, type AuditContext } from './audit-trail';

/**
 * Changes to a workspace's branding, each recorded in the audit trail in the same transaction.
 * Saving a form that changes nothing records nothing. (The portal switch, which also ends
 * sessions, is switchPortal in workspaces.ts.)
 */

export async function changeNameAndColour(
  trx: Trx,
  ctx: AuditContext,
  workspace: Workspace,
  changes: { name: string; primaryColor: string },
): Promise<void> {
  await workspaces.update(trx, workspace.id, changes);
  const details = {
    ...(workspace.name !== changes.name && { nameFrom: workspace.name, nameTo: changes.name }),
    ...(workspace.primaryColor !== changes.primaryColor && {
      colourFrom: workspace.primaryColor,
      colourTo: changes.primaryColor,
    }),
  };
  if (Object.keys(details).length) {
    await recordEvent(trx, ctx, { action: 'branding.changed', details });
  }
}

/** The contact address for help in another way (the accessibility statement gives it); null clears it. */
export async function changeContact(
  trx: Trx,
  ctx: AuditContext,
  workspace: Workspace,
  contactEmail: string | null,
): Promise<void> {
  if (workspace.contactEmail === contactEmail) return;
  await workspaces.update(trx, workspace.id, { contactEmail });
  await recordEvent(trx, ctx, {
    action: 'branding.changed',
    details: { contactFrom: workspace.contactEmail ?? 'none', contactTo: contactEmail ?? 'none' },
  });
}

/**
 * The portal's default language and the workspace's time zone. The trail files them under
 * branding.changed, the action for how the workspace presents itself to customers.
 */
export async function changeRegionalSettings(
  trx: Trx,
  ctx: AuditContext,
  workspace: Workspace,
  changes: { defaultLanguage: string; timeZone: string },
): Promise<void> {
  const details = {
    ...(workspace.defaultLanguage !== changes.defaultLanguage && {
      languageFrom: workspace.defaultLanguage,
      languageTo: changes.defaultLanguage,
    }),
    ...(workspace.timeZone !== changes.timeZone && {
      timeZoneFrom: workspace.timeZone,
      timeZoneTo: changes.timeZone,
    }),
  };
  if (Object.keys(details).length === 0) return;
  await workspaces.update(trx, workspace.id, changes);
  await recordEvent(trx, ctx, { action: 'branding.changed', details });
}

export async function setLogo(
  trx: Trx,
  ctx: AuditContext,
  workspace: Workspace,
  logo: { content: Buffer; type: string; resized: { content: Buffer; type: string } },
): Promise<void> {
  await workspaces.setLogo(trx, workspace.id, logo);
  await recordEvent(trx, ctx, {
    action: 'logo.changed',
    details: { type: logo.type, bytes: logo.content.length },
  });
}

export async function removeLogo(trx: Trx, ctx: AuditContext, workspace: Workspace): Promise<void> {
  await workspaces.setLogo(trx, workspace.id, null);
  await recordEvent(trx, ctx, { action: 'logo.removed' });
}
