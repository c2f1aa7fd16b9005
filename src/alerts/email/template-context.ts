/** One alert e-mail as sent: the subject and both bodies. */
export interface RenderedEmail {
  subject: string;
  html: string;
  plainText: string;
}

/** What a message needs beyond the owed alerts. */
export interface TemplateContext {
  /** The Azure portal of the cloud, e.g. `https://portal.azure.com` (a bare host is accepted). */
  portalUrl: string;
  /** When the message is composed: "how long it has been so" is measured to this instant. */
  now: Date;
  /**
   * The report page (the app's `GET /api/report`), linked from every message so a digest that
   * lists only some subscriptions leads to all of them. Only an http(s) URL without a user name
   * or password is used. Every recipient sees it and mail is forwarded: never a URL with a key.
   */
  reportUrl?: string;
}

/** The report page's URL when it is an http(s) URL without credentials, else undefined (no link). */
export function reportPageUrl(ctx: TemplateContext): string | undefined {
  if (!ctx.reportUrl) return undefined;
  try {
    const url = new URL(ctx.reportUrl);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}
