import type { Page } from 'playwright-core';

/** The page parts the journeys read, found the way assistive technology finds them: by role. */
export const h1 = (page: Page) => page.getByRole('heading', { level: 1 }).innerText();
export const main = (page: Page) => page.getByRole('main');
export const agentNav = (page: Page) => page.getByRole('navigation', { name: 'Agent app' });
export const errorSummary = (page: Page) => page.getByRole('alert').innerText();
export const flat = (text: string) => text.replace(/\s+/g, ' ').trim();
