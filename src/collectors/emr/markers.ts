/**
 * A page token given twice would page forever (an emulator or proxy that ignores Marker; a review:
 * ListSteps grew to 204 MB in 15 s, and CloudWatch's GetMetricData with a repeated NextToken made
 * 5,636 billed calls in 10 s): the listing stops with an error naming it, as Databricks' and
 * Dataproc's listings stop on a repeated page token.
 */
export class MarkerGuard {
  private readonly seen = new Set<string>();

  /** `name`: what the API calls its page token (EMR's Marker, CloudWatch's NextToken), for the message. */
  constructor(private readonly name = 'Marker') {}

  /** The token of the next page, undefined when there is none; throws when it came before. */
  next(marker: string | undefined): string | undefined {
    if (marker === undefined || marker === '') return undefined;
    if (this.seen.has(marker)) throw new Error(`the server returned ${this.name} ${JSON.stringify(marker.slice(0, 40))} twice; listing stopped to avoid a loop`);
    this.seen.add(marker);
    return marker;
  }
}
