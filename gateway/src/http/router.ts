import type http from 'node:http';
import { ApiError } from '../../../common/api-error';

/** `params` are the pattern's captured groups, decoded; `url` is the request's target, parsed once. */
export type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  params: string[],
  url: URL,
) => void | Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

/** A tiny method + regex router; captured groups become `params`. */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  /** Resolves 'handled', 'method-not-allowed' (path known, method not) or 'no-route'. */
  async dispatch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
  ): Promise<'handled' | 'method-not-allowed' | 'no-route'> {
    let pathKnown = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      pathKnown = true;
      if (route.method !== req.method) continue;
      await route.handler(req, res, match.slice(1).map(decodeSegment), url);
      return 'handled';
    }
    return pathKnown ? 'method-not-allowed' : 'no-route';
  }
}

/** A malformed escape (`%E0`, a lone `%`) is the caller's mistake, not a server error. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('BAD_USER_INPUT', 'the path holds a malformed %-escape');
  }
}
