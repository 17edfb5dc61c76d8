import { resetDatabase, startTestDatabase, stopTestDatabase } from './database';
import { closeTestApps } from './app';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await startTestDatabase();
  },
  async beforeEach() {
    await resetDatabase();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await closeTestApps();
    await stopTestDatabase();
  },
};
