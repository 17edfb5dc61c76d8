/**
 * Real sessions through the real sign-in flows, as a browser gets them: the portal's magic link
 * (form, POST, the mail from the app's outbox worker, the confirm page, its POST) and the agent
 * app's email + password form.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Browser, csrfOf, expectStatus, type Target } from './browser';
import type { MailCatcher } from './mail-catcher';

export const PORTAL_LOGIN = '/tickets/login';
export const ADMIN_LOGIN = '/admin/login';

/** The app sends one sign-in mail a minute per address (not configurable); wait that out once. */
const MAIL_WAIT_MS = 75_000;
const REQUEST_AGAIN_MS = 20_000;

/** A signed-in requester's browser. */
export async function signInRequester(
  target: Target,
  mail: MailCatcher,
  email: string,
  say: (line: string) => void,
): Promise<Browser> {
  const browser = new Browser(target);
  const form = expectStatus(await browser.get(PORTAL_LOGIN), 200, `GET ${PORTAL_LOGIN}`);
  const requestLink = async (): Promise<void> => {
    const fields = { _csrf: csrfOf(form.body, PORTAL_LOGIN), email };
    expectStatus(await browser.post(PORTAL_LOGIN, fields), 200, `POST ${PORTAL_LOGIN}`);
  };
  mail.takeToken(email);
  await requestLink();
  const started = Date.now();
  let requested = started;
  let token = mail.takeToken(email);
  while (!token) {
    const now = Date.now();
    if (now - started > MAIL_WAIT_MS) throw new Error(`no sign-in mail for ${email}`);
    if (now - requested > REQUEST_AGAIN_MS) {
      say(`  no mail for ${email} yet (one a minute per address): asking again`);
      await requestLink();
      requested = now;
    }
    await sleep(100);
    token = mail.takeToken(email);
  }

  const link = `${PORTAL_LOGIN}/${token}`;
  const confirm = expectStatus(await browser.get(link), 200, 'GET the sign-in link');
  const signedIn = await browser.post(link, { _csrf: csrfOf(confirm.body, link) });
  expectStatus(signedIn, 303, 'POST the sign-in link');
  const home = expectStatus(await browser.get('/tickets'), 200, 'GET /tickets signed in');
  if (!home.body.includes(`Signed in as ${email}`)) {
    throw new Error(`signed in as ${email}, but /tickets does not say so`);
  }
  return browser;
}

/** A signed-in agent's browser. */
export async function signInAgent(
  target: Target,
  email: string,
  password: string,
): Promise<Browser> {
  const browser = new Browser(target);
  const form = expectStatus(await browser.get(ADMIN_LOGIN), 200, `GET ${ADMIN_LOGIN}`);
  const fields = { _csrf: csrfOf(form.body, ADMIN_LOGIN), email, password };
  const reply = await browser.post(ADMIN_LOGIN, fields);
  if (reply.status === 422) throw new Error(`agent sign-in refused for ${email}: wrong password?`);
  expectStatus(reply, 303, `POST ${ADMIN_LOGIN}`);
  const inbox = expectStatus(await browser.get('/admin/tickets'), 200, 'GET /admin/tickets');
  if (!inbox.body.includes(`${email}, `)) throw new Error(`the inbox does not show ${email}`);
  return browser;
}
