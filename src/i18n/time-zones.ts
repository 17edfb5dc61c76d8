import { catalogueOf, defaultLanguageCode, isSupportedLanguage } from './languages';
import { translate } from './translate';

/**
 * The time zones a workspace or a customer may choose: the runtime's IANA list (its ICU data,
 * so it moves with Node, not with us) plus UTC, which the list leaves out but which is every
 * workspace's default. Read once: the list cannot change while the process runs.
 */
export const defaultTimeZone = 'UTC';

const zones: readonly string[] = [
  defaultTimeZone,
  ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== defaultTimeZone),
];
const known = new Set(zones);

export function supportedTimeZones(): readonly string[] {
  return zones;
}

export function isSupportedTimeZone(zone: string): boolean {
  return known.has(zone);
}

/** One zone in a chooser: its IANA name and its place ("Buenos Aires (Argentina)"). */
export interface ZoneChoice {
  zone: string;
  place: string;
}

interface ZoneRegion {
  region: string;
  zones: readonly ZoneChoice[];
}

// "America/Argentina/Buenos_Aires" → "Buenos Aires (Argentina)". The region is the optgroup's
// label, so repeating it in every option would only lengthen the page.
function placeOf(rest: string[]): string {
  const words = rest.map((part) => part.replaceAll('_', ' '));
  const city = words.pop() ?? '';
  return words.length ? `${city} (${words.join(', ')})` : city;
}

// A chooser's option carries no value attribute: the browser sends its text, the place, which
// names exactly one zone. That halves the bytes of a list of ~420 zones, which a portal page
// must hold within its 30 KB budget. Should new ICU data ever give two zones one place, the
// second is told apart by its region.
const zoneOfPlace = new Map<string, string>();

const regions: readonly ZoneRegion[] = (() => {
  const byRegion = new Map<string, ZoneChoice[]>();
  for (const zone of zones) {
    const [region, ...rest] = zone.split('/');
    if (!region || rest.length === 0) continue;
    let place = placeOf(rest);
    if (zoneOfPlace.has(place) || isSupportedTimeZone(place)) place = `${place}, ${region}`;
    zoneOfPlace.set(place, zone);
    const list = byRegion.get(region) ?? [];
    list.push({ zone, place });
    byRegion.set(region, list);
  }
  return [...byRegion].map(([region, list]) => ({ region, zones: list }));
})();

/**
 * The zone a chooser's submitted value names: an IANA name (the choices with a value: UTC), or a
 * place as the options show it. Anything else is no zone.
 */
export function zoneFromChoice(value: string): string | undefined {
  return isSupportedTimeZone(value) ? value : zoneOfPlace.get(value);
}

/** A chooser's `<optgroup>`: the region's name in the reader's language, and its zones. */
export interface ZoneGroup {
  label: string;
  zones: readonly ZoneChoice[];
}

// Made once a language: the list is long and the same for every page in that language.
const groupsByLanguage = new Map<string, readonly ZoneGroup[]>();

/**
 * Every zone but UTC, grouped by region in the list's own (alphabetical) order, the regions named
 * in `language` (`time.regions.*`). A region the catalogues do not know yet (new ICU data) keeps
 * its IANA name rather than failing the page.
 */
export function zoneGroupsIn(language: string): readonly ZoneGroup[] {
  const lang = isSupportedLanguage(language) ? language : defaultLanguageCode;
  let groups = groupsByLanguage.get(lang);
  if (!groups) {
    const english = catalogueOf(defaultLanguageCode);
    groups = regions.map(({ region, zones: list }) => {
      const key = `time.regions.${region}`;
      return { label: english?.has(key) ? translate(lang, key) : region, zones: list };
    });
    groupsByLanguage.set(lang, groups);
  }
  return groups;
}

/**
 * The zone a reader sees times in: the one they chose, else their workspace's; UTC if neither is
 * (still) a zone the runtime knows.
 */
export function readerTimeZone(chosen: string | null | undefined, workspaceZone: string): string {
  if (chosen && isSupportedTimeZone(chosen)) return chosen;
  return isSupportedTimeZone(workspaceZone) ? workspaceZone : defaultTimeZone;
}
