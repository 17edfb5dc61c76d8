import assert from 'node:assert/strict';
import { makeTestApp, type TestApp } from '../helpers/app';
import { aWorkspace } from '../helpers/fixtures';
import { languageCookie } from '../../src/i18n/negotiation';
import request from 'supertest';

describe('the portal page language', () => {
  let t: TestApp;

  beforeEach(() => {
    t = makeTestApp();
  });

  async function languageFor(headers: Record<string, string>): Promise<string> {
    const res = await request(t.app)
      .get('/tickets/login')
      .set({ Host: 'acme.localhost', ...headers });
    assert.equal(res.status, 200);
    return String(res.headers['content-language']);
  }

  it('follows Accept-Language with its quality values, a regional variant taking its language', async () => {
    await aWorkspace('acme');
    assert.equal(await languageFor({ 'Accept-Language': 'es-MX' }), 'es');
    assert.equal(await languageFor({ 'Accept-Language': 'fr;q=1, de;q=0.8, es;q=0.5' }), 'de');
    assert.equal(await languageFor({ 'Accept-Language': 'en;q=0.2, ar-EG;q=0.9' }), 'ar');
    assert.equal(await languageFor({ 'Accept-Language': 'fr, ja' }), 'en');
  });

  it("falls back to the workspace's default language, also for a browser that takes anything", async () => {
    await aWorkspace('acme', { defaultLanguage: 'de' });
    assert.equal(await languageFor({}), 'de');
    assert.equal(await languageFor({ 'Accept-Language': '*' }), 'de');
    assert.equal(await languageFor({ 'Accept-Language': 'fr' }), 'de');
    assert.equal(await languageFor({ 'Accept-Language': 'es' }), 'es');
  });

  it("takes the switcher's cookie over the browser, and ignores a cookie naming no language of ours", async () => {
    await aWorkspace('acme');
    const cookie = (code: string) => `${languageCookie}=${code}`;
    assert.equal(await languageFor({ 'Accept-Language': 'es', Cookie: cookie('ar') }), 'ar');
    assert.equal(await languageFor({ 'Accept-Language': 'es', Cookie: cookie('xx') }), 'es');
  });
});
