/** Every URL of the app, built in one place for routers, redirects, mail and templates. */
const portalRoot = '/tickets';
const adminRoot = '/admin';

export const paths = {
  portal: {
    root: portalRoot,
    home: portalRoot,
    login: `${portalRoot}/login`,
    signInLink: (token: string) => `${portalRoot}/login/${token}`,
    // Never a token: those are 43 characters long.
    signInCode: `${portalRoot}/login/code`,
    logout: `${portalRoot}/logout`,
    newTicket: `${portalRoot}/new`,
    ticket: (ref: string) => `${portalRoot}/${ref}`,
    reply: (ref: string) => `${portalRoot}/${ref}/replies`,
    attachment: (ref: string, id: string) => `${portalRoot}/${ref}/attachments/${id}`,
    rating: (ref: string) => `${portalRoot}/${ref}/rating`,
    yourData: `${portalRoot}/your-data`,
    yourDataPage: `${portalRoot}/your-data/all`,
    yourDataJson: `${portalRoot}/your-data/all.json`,
    erasure: `${portalRoot}/your-data/erasure`,
    confirmationLink: (ref: string) => `${portalRoot}/${ref}/confirmation-link`,
    confirmAddress: (token: string) => `${portalRoot}/confirm/${token}`,
    addressConfirmed: `${portalRoot}/confirm/done`,
    solve: (ref: string) => `${portalRoot}/${ref}/solve`,
    reopen: (ref: string) => `${portalRoot}/${ref}/reopen`,
    /** The new-ticket form, naming the ticket it follows up. */
    followUp: (ref: string) => `${portalRoot}/new?followUp=${encodeURIComponent(ref)}`,
    brandCss: (version: string) => `${portalRoot}/brand/${version}.css`,
    logo: (version: number | string) => `${portalRoot}/brand/logo-${version}`,
    accessibility: `${portalRoot}/accessibility`,
    preferences: `${portalRoot}/preferences`,
    /**
     * The language switcher: sets the language and goes back to the page `back` names. Slashes
     * may stay as they are in a query: the link is on every page, every byte counts.
     */
    language: (code: string, back?: string) =>
      `${portalRoot}/language/${code}${back ? `?back=${encodeURIComponent(back).replace(/%2F/g, '/')}` : ''}`,
  },
  admin: {
    root: adminRoot,
    login: `${adminRoot}/login`,
    logout: `${adminRoot}/logout`,
    inbox: `${adminRoot}/tickets`,
    export: `${adminRoot}/tickets/export.csv`,
    newTicket: `${adminRoot}/tickets/new`,
    ticket: (ref: string) => `${adminRoot}/tickets/${ref}`,
    reply: (ref: string) => `${adminRoot}/tickets/${ref}/replies`,
    attachment: (ref: string, id: string) => `${adminRoot}/tickets/${ref}/attachments/${id}`,
    status: (ref: string) => `${adminRoot}/tickets/${ref}/status`,
    modules: `${adminRoot}/settings/modules`,
    branding: `${adminRoot}/settings/branding`,
    logo: `${adminRoot}/settings/branding/logo`,
    logoRemove: `${adminRoot}/settings/branding/logo/remove`,
    contact: `${adminRoot}/settings/branding/contact`,
    brandPreview: (version: string) => `${adminRoot}/settings/branding/preview-${version}.css`,
    regional: `${adminRoot}/settings/regional`,
    audit: `${adminRoot}/settings/audit`,
    erasureRequests: `${adminRoot}/settings/erasure-requests`,
    erase: (requesterId: string) => `${adminRoot}/settings/erasure-requests/${requesterId}`,
    users: `${adminRoot}/users`,
  },
  assets: '/assets',
} as const;
