import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Response } from 'supertest';
import * as migration from '../../migrations/20261130154000_logo_variant_and_contact';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { anAgent, aWorkspace, rows } from '../helpers/fixtures';
import { hashPassword } from '../../src/services/passwords';

const PASSWORD = 'a long enough password';
const BRANDING = '/admin/settings/branding';
const LOGO = '/admin/settings/branding/logo';

interface LogoState {
  logo: Buffer | null;
  logo_type: string | null;
  logo_resized: Buffer | null;
  logo_resized_type: string | null;
  logo_version: number;
}

async function logoState(): Promise<LogoState> {
  const [row] = await rows<LogoState>(
    'select logo, logo_type, logo_resized, logo_resized_type, logo_version from workspaces where slug = ?',
    ['acme'],
  );
  return row!;
}

/** Random pixels: the worst case for compression, so the resized copy's size is its bound. */
function noise(width: number, height: number, channels: 3 | 4): sharp.Sharp {
  return sharp(randomBytes(width * height * channels), { raw: { width, height, channels } });
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A tiny file whose header claims width × height RGBA pixels: a decompression bomb's shape. */
function pngClaiming(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 6;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('uploaded logos are served resized', () => {
  let t: TestApp;
  let admin: Browser;

  beforeEach(async () => {
    t = makeTestApp();
    const workspace = await aWorkspace('acme', { name: 'Acme Inc' });
    await anAgent(workspace, {
      email: 'ada@acme.test',
      role: 'admin',
      passwordHash: await hashPassword(PASSWORD),
    });
    admin = new Browser(t);
    assert.equal((await admin.signInAgent('ada@acme.test', PASSWORD)).status, 303);
  });

  async function upload(content: Buffer, filename: string, contentType: string): Promise<Response> {
    const token = csrfTokenOf((await admin.get(BRANDING)).text);
    return admin.agent
      .post(LOGO)
      .set('Host', admin.host)
      .redirects(0)
      .field('_csrf', token)
      .attach('logo', content, { filename, contentType });
  }

  /** The logo the portal's header points at, as a customer's browser fetches it. */
  async function servedLogo(): Promise<Response> {
    const customer = new Browser(t);
    const src = $((await customer.get('/tickets')).text)('img.brand-logo').attr('src');
    assert.ok(src, 'the portal shows a logo');
    const res = await customer.get(src);
    assert.equal(res.status, 200);
    return res;
  }

  const big: [kind: 'PNG' | 'JPEG', type: string][] = [
    ['PNG', 'image/png'],
    ['JPEG', 'image/jpeg'],
  ];

  for (const [kind, type] of big) {
    it(`a 3000 × 1000 ${kind} is stored as given and served at most 80 pixels, in a few KB`, async () => {
      const content = await wideLogo(kind);
      assert.ok(content.length <= 512 * 1024, `${content.length} bytes`);
      const meta = await sharp(content).metadata();
      assert.deepEqual([meta.width, meta.height], [3000, 1000]);

      const res = await upload(content, `logo.${kind.toLowerCase()}`, type);
      assert.equal(res.status, 303);
      const state = await logoState();
      assert.deepEqual(state.logo, content, 'the upload is kept as given');
      assert.equal(state.logo_type, type);

      const served = await servedLogo();
      assert.equal(served.headers['content-type'], 'image/png');
      assert.match(served.headers['cache-control'] ?? '', /max-age=31536000, immutable/);
      const body = served.body as Buffer;
      const size = await sharp(body).metadata();
      assert.equal(size.format, 'png');
      assert.deepEqual([size.width, size.height], [80, 27], 'fits 80 × 80, proportions kept');
      assert.ok(body.length < 10_000, `${body.length} bytes`);
      assert.deepEqual(body, state.logo_resized);
    });
  }

  it('the resized copy of a noisy 350 × 350 logo with transparency stays under 10 KB and keeps its alpha', async () => {
    const content = await noise(350, 350, 4).png().toBuffer();
    assert.ok(content.length <= 512 * 1024);
    assert.equal((await upload(content, 'logo.png', 'image/png')).status, 303);
    const body = (await servedLogo()).body as Buffer;
    const size = await sharp(body).metadata();
    assert.deepEqual([size.width, size.height, size.hasAlpha], [80, 80, true]);
    assert.ok(body.length < 10_000, `${body.length} bytes`);
  });

  it('a logo smaller than the box is not enlarged', async () => {
    const content = await noise(30, 20, 3).png().toBuffer();
    assert.equal((await upload(content, 'logo.png', 'image/png')).status, 303);
    const size = await sharp((await servedLogo()).body as Buffer).metadata();
    assert.deepEqual([size.width, size.height], [30, 20]);
  });

  const refused: [string, () => Buffer, RegExp][] = [
    [
      'a file with a PNG signature and garbage after it',
      () => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(2000)]),
      /^The logo could not be read as an image\. Save it again as a PNG, JPEG or WebP file and upload it$/,
    ],
    [
      'a JPEG cut off after its signature',
      () => Buffer.from('ffd8ffe000104a464946', 'hex'),
      /could not be read as an image/,
    ],
    [
      'a PNG that claims 20,000 × 20,000 pixels (a decompression bomb)',
      () => pngClaiming(20_000, 20_000),
      /^The logo must be 5,000 by 5,000 pixels or smaller$/,
    ],
  ];

  for (const [what, make, message] of refused) {
    it(`refuses ${what} with the form again and stores nothing`, async () => {
      const before = await logoState();
      const res = await upload(make(), 'logo.png', 'image/png');
      assert.equal(res.status, 422);
      const page = $(res.text);
      assert.match(page('#logo-error').text().replace('Error:', '').trim(), message);
      assert.equal(page('.error-summary a[href="#logo"]').length, 1);
      assert.deepEqual(await logoState(), before);
    });
  }

  it('the migration gives logos uploaded before it their resized copy, and leaves an unreadable one without', async () => {
    const logo = await noise(400, 200, 3).jpeg().toBuffer();
    // DDL is transactional in PostgreSQL: the migration's down and up run and are rolled back.
    const trx = await testDatabase().db.transaction();
    try {
      await migration.down(trx);
      await trx.raw(
        `insert into workspaces (slug, name, logo, logo_type) values
           ('old', 'Old Inc', ?, 'image/jpeg'), ('broken', 'Broken Inc', ?, 'image/png')`,
        [logo, Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(100)])],
      );
      await migration.up(trx);
      const found = await trx('workspaces')
        .whereIn('slug', ['old', 'broken'])
        .orderBy('slug')
        .select<{ slug: string; logo_resized: Buffer | null; logo_resized_type: string | null }[]>(
          'slug',
          'logo_resized',
          'logo_resized_type',
        );
      assert.deepEqual(
        found.map((r) => [r.slug, r.logo_resized_type]),
        [
          ['broken', null],
          ['old', 'image/png'],
        ],
      );
      const size = await sharp(found[1]!.logo_resized!).metadata();
      assert.deepEqual([size.width, size.height], [80, 40]);
    } finally {
      await trx.rollback();
    }
  });
});

/**
 * A 3000 × 1000 image within the 512 KB upload limit: flat colour with a band of noise (all
 * noise would be megabytes).
 */
async function wideLogo(kind: 'PNG' | 'JPEG'): Promise<Buffer> {
  const band = await noise(3000, 40, 4).png().toBuffer();
  const image = sharp({
    create: { width: 3000, height: 1000, channels: 4, background: '#1d70b8' },
  }).composite([{ input: band, top: 480, left: 0 }]);
  return kind === 'PNG' ? image.png().toBuffer() : image.jpeg({ quality: 80 }).toBuffer();
}
