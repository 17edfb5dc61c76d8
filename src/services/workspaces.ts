import type { Trx } from '../db/knex';
import * as sessions from '../models/sessions';
import * as workspaces from '../models/workspaces';
import type { Workspace } from '../models/workspaces';
import { recordEvent, systemActor, type AuditContext } from './audit-trail';

export const SLUG_PATTERN = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

export class WorkspaceError extends Error {}

/** Creates a workspace; the portal module is off unless asked for. */
export async function createWorkspace(
  trx: Trx,
  input: { slug: string; name: string; portalEnabled?: boolean },
): Promise<Workspace> {
  if (!SLUG_PATTERN.test(input.slug)) {
    throw new WorkspaceError(
      `Invalid slug "${input.slug}": use 1 to 40 lowercase letters, digits or hyphens, not starting or ending with a hyphen`,
    );
  }
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100)
    throw new WorkspaceError('Name must be 1 to 100 characters');
  if (await workspaces.findBySlug(trx, input.slug)) {
    throw new WorkspaceError(`A workspace with slug "${input.slug}" already exists`);
  }
  return workspaces.insert(trx, {
    slug: input.slug,
    name,
    portalEnabled: input.portalEnabled ?? false,
  });
}

export async function requireWorkspace(trx: Trx, slug: string): Promise<Workspace> {
  const workspace = await workspaces.findBySlug(trx, slug);
  if (!workspace) throw new WorkspaceError(`No workspace with slug "${slug}"`);
  return workspace;
}

/**
 * The Tickets Portal switch. Off means off: every portal session of the workspace ends with it
 * (rows deleted, and any session signed in before `ctx.at` counts as signed out), so switching
 * the portal on again later starts everyone from signed-out. A change of state is recorded in
 * the audit trail; saving the state it already has records nothing.
 */
export async function switchPortal(
  trx: Trx,
  ctx: AuditContext,
  workspace: Workspace,
  enabled: boolean,
): Promise<Workspace> {
  if (!enabled) await sessions.deletePortalSessionsOf(trx, workspace.id);
  const updated = await workspaces.update(
    trx,
    workspace.id,
    enabled ? { portalEnabled: true } : { portalEnabled: false, portalSessionsAfter: ctx.at },
  );
  if (!updated) throw new WorkspaceError(`No workspace with id ${workspace.id}`);
  if (workspace.portalEnabled !== enabled) {
    await recordEvent(trx, ctx, {
      action: 'module.changed',
      subject: { label: 'Tickets Portal' },
      details: { module: 'portal', enabled },
    });
  }
  return updated;
}

/**
 * Whether tickets opened without signing in wait for their address to be confirmed. It applies
 * to tickets opened from now on: turning it off releases nothing already held (those links
 * still work), and turning it on holds nothing already open. Recorded like a module switch.
 */
export async function setConfirmAnonymousEmail(
  trx: Trx,
  ctx: AuditContext,
  workspace: Workspace,
  enabled: boolean,
): Promise<Workspace> {
  const updated = await workspaces.update(trx, workspace.id, { confirmAnonymousEmail: enabled });
  if (!updated) throw new WorkspaceError(`No workspace with id ${workspace.id}`);
  if (workspace.confirmAnonymousEmail !== enabled) {
    await recordEvent(trx, ctx, {
      action: 'module.changed',
      subject: { label: 'Confirming the address of tickets opened without signing in' },
      details: { module: 'confirm_anonymous_email', enabled },
    });
  }
  return updated;
}

/** The operator's switch (the CLI), recorded in the audit trail as the system's doing. */
export async function setPortalEnabled(
  trx: Trx,
  slug: string,
  enabled: boolean,
  at: Date,
): Promise<Workspace> {
  const workspace = await requireWorkspace(trx, slug);
  const ctx = { workspaceId: workspace.id, actor: systemActor, ip: null, at };
  return switchPortal(trx, ctx, workspace, enabled);
}

/** Only a brand-new development database gets the demo workspace, so nothing real is touched. */
export async function seedDemoIfEmpty(trx: Trx): Promise<Workspace | undefined> {
  if (!(await workspaces.isEmpty(trx))) return undefined;
  return createWorkspace(trx, { slug: 'acme', name: 'Acme Inc', portalEnabled: true });
}
