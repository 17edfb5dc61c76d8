import { CHROMIUM, chromiumAvailable } from './harness';

/**
 * A describe block that needs Chromium. Without it, `npm test` says so with a pending test
 * (mocha lists it as skipped) instead of failing; on CI (CI=true) a missing browser is a failure,
 * so the browser suite can never silently stop running there.
 */
export function describeInChromium(title: string, body: (this: Mocha.Suite) => void): Mocha.Suite {
  if (chromiumAvailable()) return describe(title, body);
  return describe(title, () => {
    if (process.env.CI === 'true') {
      it(`needs Chromium at ${CHROMIUM} on CI`, () => {
        throw new Error(
          `Chromium not found at ${CHROMIUM}; .ci/run installs it (apt-get install chromium)`,
        );
      });
    } else {
      it(`SKIPPED: Chromium not found at ${CHROMIUM}`);
    }
  });
}
