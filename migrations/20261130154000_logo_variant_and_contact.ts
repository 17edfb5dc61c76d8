import type { Knex } from 'knex';
import sharp from 'sharp';

/**
 * Two branding columns. `logo_resized` is the copy of the uploaded logo that the portal and the
 * mail show (the upload itself stays in `logo`, as given); `contact_email` is the address the
 * accessibility statement gives for help in another way.
 *
 * Logos uploaded before this migration get their resized copy here, so the page budget holds from
 * the first request after the upgrade and no read ever has to write one. The resize is written
 * out in this file rather than imported from the app, because a migration must keep doing what
 * it did when it landed; its parameters are those of src/services/logos.ts at the time. A stored
 * logo that the library cannot decode keeps no copy: the portal then serves it as before until an
 * admin uploads a new one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table workspaces
      add column logo_resized bytea,
      add column logo_resized_type text
        constraint workspaces_logo_resized_type check (logo_resized_type in ('image/png', 'image/webp')),
      add constraint workspaces_logo_resized_typed
        check ((logo_resized is null) = (logo_resized_type is null)),
      add column contact_email text
        constraint workspaces_contact_email_length check (length(contact_email) <= 254)
  `);
  const logos = await knex('workspaces')
    .whereNotNull('logo')
    .select<{ id: string; logo: Buffer }[]>('id', 'logo');
  for (const { id, logo } of logos) {
    let resized: Buffer;
    try {
      resized = await sharp(logo, { limitInputPixels: 25_000_000 })
        .autoOrient()
        .resize({ width: 80, height: 80, fit: 'inside', withoutEnlargement: true })
        .png({ palette: true, compressionLevel: 9, effort: 10 })
        .toBuffer();
    } catch {
      continue;
    }
    await knex('workspaces')
      .where({ id })
      .update({ logo_resized: resized, logo_resized_type: 'image/png' });
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table workspaces
      drop constraint workspaces_logo_resized_typed,
      drop column logo_resized,
      drop column logo_resized_type,
      drop column contact_email
  `);
}
