import assert from 'node:assert/strict';
import {
  cachedFormatterCount,
  cachedMinuteCount,
  humanTime,
  humanTimeFields,
  isoTime,
} from '../../src/i18n/time-format';
import {
  isSupportedTimeZone,
  readerTimeZone,
  supportedTimeZones,
  zoneFromChoice,
  zoneGroupsIn,
} from '../../src/i18n/time-zones';
import { createTemplates } from '../../src/services/templates';

const at = (iso: string) => new Date(iso);

describe('times in the reader’s language and time zone', () => {
  it('keeps English in UTC exactly as it always read', () => {
    assert.equal(humanTime(at('2026-11-30T06:00:00Z'), 'en', 'UTC'), '30 Nov 2026, 06:00 UTC');
    assert.equal(humanTime('2026-11-25T10:01:00.000Z', 'en', 'UTC'), '25 Nov 2026, 10:01 UTC');
  });

  it('shows the zone, in the language’s own way of writing dates', () => {
    const instant = at('2026-11-30T06:00:00Z');
    assert.equal(humanTime(instant, 'es', 'Europe/Madrid'), '30 nov 2026, 7:00 CET');
    assert.equal(humanTime(instant, 'en', 'Europe/Madrid'), '30 Nov 2026, 07:00 CET');
    assert.equal(humanTime(instant, 'de', 'Europe/Berlin'), '30. Nov. 2026, 07:00 MEZ');
    assert.equal(humanTime(instant, 'ar', 'Africa/Cairo'), '30 نوفمبر 2026، 8:00 ص غرينتش+2');
  });

  it('crosses Madrid’s spring change: 00:30 UTC is 01:30 CET, an hour later is 03:30 CEST', () => {
    assert.equal(
      humanTime(at('2026-03-29T00:30:00Z'), 'en', 'Europe/Madrid'),
      '29 Mar 2026, 01:30 CET',
    );
    assert.equal(
      humanTime(at('2026-03-29T01:30:00Z'), 'en', 'Europe/Madrid'),
      '29 Mar 2026, 03:30 CEST',
    );
    assert.equal(
      humanTime(at('2026-03-29T00:30:00Z'), 'es', 'Europe/Madrid'),
      '29 mar 2026, 1:30 CET',
    );
    assert.equal(
      humanTime(at('2026-03-29T01:30:00Z'), 'es', 'Europe/Madrid'),
      '29 mar 2026, 3:30 CEST',
    );
    assert.equal(
      humanTime(at('2026-03-29T01:30:00Z'), 'de', 'Europe/Madrid'),
      '29. März 2026, 03:30 MESZ',
    );
  });

  it('tells New York’s repeated November hour apart by its offset', () => {
    // 1 November 2026, 2:00 EDT becomes 1:00 EST: 01:30 happens twice.
    assert.equal(
      humanTime(at('2026-11-01T05:30:00Z'), 'en', 'America/New_York'),
      '1 Nov 2026, 01:30 GMT-4',
    );
    assert.equal(
      humanTime(at('2026-11-01T06:30:00Z'), 'en', 'America/New_York'),
      '1 Nov 2026, 01:30 GMT-5',
    );
    assert.equal(
      humanTime(at('2026-11-01T05:30:00Z'), 'es', 'America/New_York'),
      '1 nov 2026, 1:30 GMT-4',
    );
    assert.equal(
      humanTime(at('2026-11-01T06:30:00Z'), 'es', 'America/New_York'),
      '1 nov 2026, 1:30 GMT-5',
    );
  });

  it('falls back to English and UTC for a language or zone it does not know, and caches neither', () => {
    humanTime(at('2026-11-30T06:00:00Z'), 'en', 'UTC');
    const before = cachedFormatterCount();
    assert.equal(
      humanTime(at('2026-11-30T06:00:00Z'), 'xx', 'Mars/Olympus_Mons'),
      '30 Nov 2026, 06:00 UTC',
    );
    assert.equal(cachedFormatterCount(), before, 'no formatter made for an unknown pair');
    humanTime(at('2026-11-30T06:00:00Z'), 'es', 'Asia/Tokyo');
    humanTime(at('2026-12-30T06:00:00Z'), 'es', 'Asia/Tokyo');
    assert.ok(cachedFormatterCount() <= before + 1, 'one formatter a language and zone');
  });

  it('gives the same text as a fresh formatter, kept or not: every minute of a DST change, past the minutes it keeps', () => {
    const fresh = new Intl.DateTimeFormat('en-GB', {
      ...humanTimeFields,
      timeZone: 'Europe/Madrid',
    });
    // 5,000 minutes either side of Madrid's spring change: more than the cache keeps, so it is
    // emptied along the way; each minute asked twice (its first second and its last millisecond).
    const start = Date.parse('2026-03-27T00:00:00Z');
    for (let i = 0; i < 5000; i += 1) {
      const first = new Date(start + i * 60_000);
      const last = new Date(first.getTime() + 59_999);
      assert.equal(humanTime(first, 'en', 'Europe/Madrid'), fresh.format(first));
      assert.equal(humanTime(last, 'en', 'Europe/Madrid'), fresh.format(first));
    }
    assert.equal(humanTime(at('1969-12-31T23:59:30Z'), 'en', 'UTC'), '31 Dec 1969, 23:59 UTC');
    assert.notEqual(
      humanTime(at('2026-11-30T06:00:59.999Z'), 'en', 'UTC'),
      humanTime(at('2026-11-30T06:01:00.000Z'), 'en', 'UTC'),
    );
    assert.ok(
      cachedMinuteCount() <= 4096,
      `at most 4,096 minutes kept a formatter (${cachedMinuteCount()})`,
    );
  });

  it('isoTime writes what toISOString does, kept or not, and throws as it does for an invalid date', () => {
    const start = Date.parse('2026-03-29T00:59:58.997Z');
    for (let i = 0; i < 5000; i += 1) {
      const d = new Date(start + i * 7);
      assert.equal(isoTime(d), d.toISOString());
      assert.equal(isoTime(new Date(d.getTime())), d.toISOString());
    }
    assert.equal(isoTime(at('1969-12-31T23:59:59.999Z')), '1969-12-31T23:59:59.999Z');
    assert.throws(() => isoTime(new Date(Number.NaN)), RangeError);
  });

  it('the humanTime filter reads the render’s lang and timeZone; isoTime keeps the instant', () => {
    const env = createTemplates();
    const page = '<time datetime="{{ d | isoTime }}">{{ d | humanTime }}</time>';
    const d = at('2026-03-29T01:30:00Z');
    assert.equal(
      env.renderString(page, { d }),
      '<time datetime="2026-03-29T01:30:00.000Z">29 Mar 2026, 01:30 UTC</time>',
    );
    assert.equal(
      env.renderString(page, { d, lang: 'es', timeZone: 'Europe/Madrid' }),
      '<time datetime="2026-03-29T01:30:00.000Z">29 mar 2026, 3:30 CEST</time>',
    );
  });
});

describe('the time zones one may choose', () => {
  it('are the runtime’s IANA zones and UTC', () => {
    const zones = supportedTimeZones();
    assert.equal(zones[0], 'UTC');
    assert.ok(zones.length > 400, `${zones.length} zones`);
    assert.ok(isSupportedTimeZone('Europe/Madrid'));
    assert.ok(!isSupportedTimeZone('Europe/Atlantis'));
    assert.ok(!isSupportedTimeZone('europe/madrid'), 'exactly as IANA spells it');
  });

  it('group by region under the region’s name in the reader’s language, each option naming one zone', () => {
    const english = zoneGroupsIn('en');
    const spanish = zoneGroupsIn('es');
    assert.deepEqual(english.map((g) => g.label).slice(0, 3), ['Africa', 'Americas', 'Antarctica']);
    assert.ok(spanish.some((g) => g.label === 'Océano Pacífico'));
    const places = english.flatMap((g) => g.zones.map((z) => z.place));
    assert.equal(new Set(places).size, places.length, 'no two zones share a place');
    assert.equal(places.length + 1, supportedTimeZones().length, 'every zone but UTC');
    const america = english.find((g) => g.label === 'Americas')!;
    const buenosAires = america.zones.find((z) => z.zone.endsWith('/Buenos_Aires'))!;
    assert.match(buenosAires.place, /^Buenos Aires( \(Argentina\))?$/);
    assert.equal(zoneFromChoice(buenosAires.place), buenosAires.zone);
  });

  it('read back from a chooser: a place or an IANA name, nothing else', () => {
    assert.equal(zoneFromChoice('Madrid'), 'Europe/Madrid');
    assert.equal(zoneFromChoice('Europe/Madrid'), 'Europe/Madrid');
    assert.equal(zoneFromChoice('UTC'), 'UTC');
    assert.equal(zoneFromChoice('Center (North Dakota)'), 'America/North_Dakota/Center');
    for (const bad of ['', 'Atlantis', 'Europe', 'madrid', 'Europe/Madrid ', '../etc/passwd']) {
      assert.equal(zoneFromChoice(bad), undefined, JSON.stringify(bad));
    }
  });

  it('a reader’s zone: their own, else the workspace’s, else UTC', () => {
    assert.equal(readerTimeZone('Asia/Tokyo', 'Europe/Madrid'), 'Asia/Tokyo');
    assert.equal(readerTimeZone(null, 'Europe/Madrid'), 'Europe/Madrid');
    assert.equal(readerTimeZone('Gone/Zone', 'Europe/Madrid'), 'Europe/Madrid');
    assert.equal(readerTimeZone(undefined, 'Gone/Zone'), 'UTC');
  });
});
