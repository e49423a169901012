/**
 * A page token given twice would page forever (an emulator or proxy that ignores EMR's Marker; a
 * review: ListSteps grew to 204 MB in 15 s, and CloudWatch's GetMetricData with a repeated NextToken
 * made 5,636 billed calls in 10 s): the listing stops with an error naming it. EMR's listings use it
 * as it is; ListingGuard adds the check on the items of a page.
 */
export class PageTokenGuard {
  private readonly seen = new Set<string>();

  /** `name`: what the API calls its page token (EMR's Marker, CloudWatch's NextToken, `page_token`, `pageToken`), for the message. */
  constructor(readonly name: string) {}

  /** The token of the next page, undefined when there is none; throws when it came before. */
  next(token: string | undefined): string | undefined {
    if (token === undefined || token === '') return undefined;
    if (this.seen.has(token)) throw new Error(`the server returned ${this.name} ${JSON.stringify(token.slice(0, 40))} twice; listing stopped to avoid a loop`);
    this.seen.add(token);
    return token;
  }
}

/**
 * What keeps a paged listing from going round forever on a server that does not page as documented
 * (a review: Databricks' offset paging against a server that ignores `offset`, and fresh page
 * tokens over the same runs, listed and fetched the same two runs until cancelled). A listing
 * throws the guard's errors: the runner makes them its `list-failed` problem, and the run is not
 * complete. Each check comes before the page is yielded, so nothing of a page seen before is fetched.
 */
export class ListingGuard<K> {
  private readonly tokens: PageTokenGuard;
  private readonly ids = new Set<K>();

  /** `tokenName`: what the API calls its page token, for messages (`page_token`, `pageToken`). */
  constructor(tokenName: string) {
    this.tokens = new PageTokenGuard(tokenName);
  }

  /** The next page's token, undefined when there is none; throws when it came before. */
  token(next: string | undefined): string | undefined {
    return this.tokens.next(next);
  }

  /**
   * The items of a page not listed before (by `id`), in order. A page of items that were all listed
   * before while more are announced is a server that ignores the page token or the offset: it throws.
   */
  fresh<T>(items: readonly T[], id: (item: T) => K, more: boolean): T[] {
    const out = items.filter((item) => {
      const k = id(item);
      if (this.ids.has(k)) return false;
      this.ids.add(k);
      return true;
    });
    if (more && items.length > 0 && out.length === 0) throw new Error(`a page brought ${items.length} entr${items.length === 1 ? 'y' : 'ies'} all listed before and announced more; the server ignores the ${this.tokens.name} or offset, listing stopped to avoid a loop`);
    return out;
  }
}

