/** Every URL of the app, built in one place for routers, redirects, mail and templates. */
const portalRoot = '/tickets';
const adminRoot = '/admin';

export const paths = {
  portal: {
    root: portalRoot,
    home: portalRoot,
    login: `${portalRoot}/login`,
    signInLink: (token: string) => `${portalRoot}/login/${token}`,
    logout: `${portalRoot}/logout`,
    newTicket: `${portalRoot}/new`,
    ticket: (ref: string) => `${portalRoot}/${ref}`,
    reply: (ref: string) => `${portalRoot}/${ref}/replies`,
    rating: (ref: string) => `${portalRoot}/${ref}/rating`,
    brandCss: (version: string) => `${portalRoot}/brand/${version}.css`,
    logo: (version: number | string) => `${portalRoot}/brand/logo-${version}`,
  },
  admin: {
    root: adminRoot,
  },
  assets: '/assets',
} as const;
