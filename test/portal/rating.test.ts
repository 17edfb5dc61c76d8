import assert from 'node:assert/strict';
import { defaultLimits } from '../../src/config';
import type { Requester } from '../../src/models/requesters';
import type { TicketStatus } from '../../src/models/tickets';
import type { Workspace } from '../../src/models/workspaces';
import { MINUTE, type TestApp } from '../helpers/app';
import type { Browser } from '../helpers/client';
import { $, csrfTokenOf } from '../helpers/client';
import {
  aRequester,
  aTicket,
  reloadTicket,
  rows,
  type TicketFixture,
  acmeWithJo,
} from '../helpers/fixtures';

interface RatingRow {
  rating: number | null;
  rating_comment: string | null;
  rated_at: Date | null;
}

async function ratingOf(ticket: { id: string }): Promise<RatingRow> {
  const [row] = await rows<RatingRow>(
    'select rating, rating_comment, rated_at from tickets where id = ?',
    [ticket.id],
  );
  return row!;
}

const unrated: RatingRow = { rating: null, rating_comment: null, rated_at: null };

describe('portal CSAT rating', () => {
  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;
  let jo: Requester;

  beforeEach(async () => {
    ({ t, browser, acme, jo } = await acmeWithJo());
  });

  async function myTicket(status: TicketStatus): Promise<TicketFixture> {
    return aTicket(acme, jo, { subject: 'Printer on fire', status });
  }

  const ticketPath = (ticket: TicketFixture) => `/tickets/${ticket.reference}`;
  const ratingPath = (ticket: TicketFixture) => `/tickets/${ticket.reference}/rating`;

  for (const status of ['resolved', 'closed'] as const) {
    it(`asks "How did we do?" on a ${status} ticket with five star radios in a fieldset and a comment box`, async () => {
      const ticket = await myTicket(status);
      await browser.signIn('jo@example.com');
      const res = await browser.get(ticketPath(ticket));
      assert.equal(res.status, 200);
      const page = $(res.text);
      const heading = page('h2').filter((_, h) => page(h).text().trim() === 'How did we do?');
      assert.equal(heading.length, 1);
      const form = page(`form[action="${ratingPath(ticket)}"]`);
      assert.equal(form.length, 1);
      assert.equal(form.attr('method'), 'post');
      const fieldset = form.find('fieldset');
      assert.equal(fieldset.length, 1);
      assert.ok(fieldset.children('legend').text().trim().length > 0, 'the fieldset has a legend');
      const radios = fieldset.find('input[type=radio][name=rating]');
      assert.deepEqual(
        radios.toArray().map((r) => page(r).attr('value')),
        ['1', '2', '3', '4', '5'],
      );
      for (const radio of radios.toArray()) {
        const id = page(radio).attr('id')!;
        assert.ok(page(`label[for="${id}"]`).text().trim().length > 0, `radio ${id} has a label`);
      }
      assert.equal(page('#rating').attr('type'), 'radio', 'the error summary can link to #rating');
      const comment = form.find('textarea[name=comment]');
      assert.equal(comment.length, 1);
      assert.match(page(`label[for="${comment.attr('id')}"]`).text(), /optional/i);
    });
  }

  it('stores the rating, comment and time, redirects 303 and thanks the customer', async () => {
    const ticket = await myTicket('resolved');
    await browser.signIn('jo@example.com');
    const res = await browser.submit(ticketPath(ticket), ratingPath(ticket), {
      rating: '4',
      comment: '  Quick and kind.  ',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, ticketPath(ticket));
    assert.deepEqual(await ratingOf(ticket), {
      rating: 4,
      rating_comment: 'Quick and kind.',
      rated_at: t.clock.now(),
    });

    const page = $((await browser.get(ticketPath(ticket))).text);
    assert.match(page('[role=status]').text(), /Thank you for your feedback/);
    assert.equal(
      page('input[name=rating][value="4"]').attr('checked'),
      'checked',
      'the rating is shown',
    );
    assert.equal(page('textarea[name=comment]').text().trim(), 'Quick and kind.');
  });

  it('stores a rating without a comment as no comment', async () => {
    const ticket = await myTicket('closed');
    await browser.signIn('jo@example.com');
    const res = await browser.submit(ticketPath(ticket), ratingPath(ticket), {
      rating: '5',
      comment: '   ',
    });
    assert.equal(res.status, 303);
    assert.deepEqual(await ratingOf(ticket), {
      rating: 5,
      rating_comment: null,
      rated_at: t.clock.now(),
    });
  });

  it('replaces an earlier rating with a later one', async () => {
    const ticket = await myTicket('resolved');
    await browser.signIn('jo@example.com');
    await browser.submit(ticketPath(ticket), ratingPath(ticket), { rating: '2', comment: 'Slow.' });
    assert.equal((await ratingOf(ticket)).rating, 2);
    t.clock.advance(5 * MINUTE);
    const res = await browser.submit(ticketPath(ticket), ratingPath(ticket), {
      rating: '5',
      comment: 'Fixed after all.',
    });
    assert.equal(res.status, 303);
    assert.deepEqual(await ratingOf(ticket), {
      rating: 5,
      rating_comment: 'Fixed after all.',
      rated_at: t.clock.now(),
    });
    const stored = await rows('select id from tickets where id = ?', [ticket.id]);
    assert.equal(stored.length, 1);
  });

  it('refuses ratings outside 1–5 with 422, an error linked to #rating, and stores nothing', async () => {
    const ticket = await myTicket('resolved');
    await browser.signIn('jo@example.com');
    const cases: Record<string, string>[] = [
      { rating: '0' },
      { rating: '6' },
      { rating: '9' },
      { rating: 'abc' },
      { rating: '' },
      { rating: '-1' },
      { rating: '4.5' },
      { rating: ' 3' },
      { comment: 'No stars given' },
    ];
    for (const form of cases) {
      const res = await browser.submit(ticketPath(ticket), ratingPath(ticket), form);
      assert.equal(res.status, 422, `422 for ${JSON.stringify(form)}`);
      const page = $(res.text);
      assert.match(page('title').text(), /^Error: /);
      const link = page('.error-summary a');
      assert.equal(link.attr('href'), '#rating');
      assert.match(link.text(), /rating/i);
      assert.equal(page('#rating-error').text().replace('Error:', '').trim(), link.text().trim());
      assert.match(page('fieldset.star-rating').attr('aria-describedby') ?? '', /rating-error/);
    }
    assert.deepEqual(await ratingOf(ticket), unrated);
  });

  it('refuses two ratings in one submission and stores nothing', async () => {
    const ticket = await myTicket('resolved');
    await browser.signIn('jo@example.com');
    const token = csrfTokenOf((await browser.get(ticketPath(ticket))).text);
    const res = await browser.agent
      .post(ratingPath(ticket))
      .set('Host', browser.host)
      .type('form')
      .send(`_csrf=${encodeURIComponent(token)}&rating=1&rating=5`)
      .redirects(0);
    assert.equal(res.status, 422);
    assert.deepEqual(await ratingOf(ticket), unrated);
  });

  it('refuses a comment over 2,000 characters with 422 and stores nothing, but takes exactly 2,000', async () => {
    assert.equal(defaultLimits.comment, 2000);
    const ticket = await myTicket('resolved');
    await browser.signIn('jo@example.com');
    const res = await browser.submit(ticketPath(ticket), ratingPath(ticket), {
      rating: '3',
      comment: 'c'.repeat(defaultLimits.comment + 1),
    });
    assert.equal(res.status, 422);
    const page = $(res.text);
    assert.equal(page('.error-summary a').attr('href'), '#comment');
    assert.match(page('#comment').attr('aria-describedby') ?? '', /comment-error/);
    assert.equal(
      page('input[name=rating][value="3"]').attr('checked'),
      'checked',
      'the chosen rating is kept',
    );
    assert.deepEqual(await ratingOf(ticket), unrated);

    const ok = await browser.submit(ticketPath(ticket), ratingPath(ticket), {
      rating: '3',
      comment: 'c'.repeat(defaultLimits.comment),
    });
    assert.equal(ok.status, 303);
    assert.equal((await ratingOf(ticket)).rating_comment?.length, defaultLimits.comment);
  });

  for (const status of ['open', 'pending'] as const) {
    it(`shows no rating form on ${status === 'open' ? 'an' : 'a'} ${status} ticket and refuses a rating for it with 422`, async () => {
      const ticket = await myTicket(status);
      await browser.signIn('jo@example.com');
      const page = $((await browser.get(ticketPath(ticket))).text);
      assert.ok(!page('main').text().includes('How did we do?'));
      assert.equal(page('input[name=rating]').length, 0);
      assert.equal(page(`form[action="${ratingPath(ticket)}"]`).length, 0);

      const res = await browser.submit(ticketPath(ticket), ratingPath(ticket), {
        rating: '5',
        comment: 'Great',
      });
      assert.equal(res.status, 422);
      const refused = $(res.text);
      assert.ok(refused('.error-summary').text().trim().length > 0, 'says why');
      const target = refused('.error-summary a').attr('href') ?? '';
      assert.equal(refused(target).length, 1, 'the error summary links to something on the page');
      assert.deepEqual(await ratingOf(ticket), unrated);
      assert.equal((await reloadTicket(ticket)).status, status);
    });
  }

  it('answers 404 for someone else’s ticket and stores nothing', async () => {
    const sam = await aRequester(acme, 'sam@example.com', 'Sam');
    const samsTicket = await aTicket(acme, sam, { subject: 'Sam’s secret', status: 'resolved' });
    await browser.signIn('jo@example.com');
    const page = await browser.get(ticketPath(samsTicket));
    assert.equal(page.status, 404);
    const forms: Record<string, string>[] = [{ rating: '1', comment: 'Terrible' }, { rating: '9' }];
    for (const form of forms) {
      const res = await browser.submit('/tickets', ratingPath(samsTicket), form);
      assert.equal(res.status, 404, `404 for ${JSON.stringify(form)}`);
      assert.ok(!res.text.includes('Sam’s secret'));
    }
    assert.deepEqual(await ratingOf(samsTicket), unrated);
  });

  it('sends a signed-out rating to the sign-in page and stores nothing', async () => {
    const ticket = await myTicket('resolved');
    const res = await browser.submit('/tickets', ratingPath(ticket), { rating: '5' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/tickets/login');
    assert.deepEqual(await ratingOf(ticket), unrated);
  });
});
