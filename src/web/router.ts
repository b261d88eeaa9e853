import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route handler is told about a request beyond the request itself. */
export interface RequestContext {
  /** The parsed path and query (the host part is the server's, not trusted). */
  readonly url: URL;
  /** The client's address: the peer's, or `X-Forwarded-For`'s from a trusted proxy. */
  readonly clientAddress: string;
  /** True when the request came over HTTPS. */
  readonly secure: boolean;
}

export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  context: RequestContext,
) => void | Promise<void>;

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/**
 * Exact-path routes and one fallback (the static files). Small on purpose: the web
 * listener carries the browser client, `/ws` and, from other modules, `/metrics` and the
 * health checks, each registered with `add`; nothing here knows what they are.
 */
export class Router {
  private readonly routes = new Map<string, Map<Method, RouteHandler>>();
  private fallback: RouteHandler | undefined;

  /** Registers `handler` for `path`; GET routes answer HEAD too unless HEAD has its own. */
  add(methods: Method | readonly Method[], path: string, handler: RouteHandler): this {
    if (!path.startsWith('/')) throw new Error(`a route path starts with "/": ${path}`);
    let byMethod = this.routes.get(path);
    if (!byMethod) this.routes.set(path, (byMethod = new Map()));
    for (const method of typeof methods === 'string' ? [methods] : methods) {
      if (byMethod.has(method)) throw new Error(`route ${method} ${path} is already taken`);
      byMethod.set(method, handler);
    }
    return this;
  }

  /** Handles every request no route matched (the static files). */
  setFallback(handler: RouteHandler): this {
    this.fallback = handler;
    return this;
  }

  /** The handler for a request, or why there is none (404 or 405 with `Allow`). */
  resolve(
    method: string,
    path: string,
  ):
    | { readonly handler: RouteHandler }
    | { readonly status: 404 }
    | { readonly status: 405; readonly allow: string } {
    const byMethod = this.routes.get(path);
    if (!byMethod) return this.fallback ? { handler: this.fallback } : { status: 404 };
    const handler =
      byMethod.get(method as Method) ?? (method === 'HEAD' ? byMethod.get('GET') : undefined);
    if (handler) return { handler };
    const allow = [...byMethod.keys()];
    if (byMethod.has('GET') && !byMethod.has('HEAD')) allow.push('HEAD');
    return { status: 405, allow: allow.join(', ') };
  }
}
