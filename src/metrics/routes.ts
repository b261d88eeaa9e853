import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PrometheusTelemetry } from './prometheus.js';

/** One thing `/readyz` checks: resolves when it is fine, rejects (or times out) when not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/** A probe that has not answered by then counts as failed: a balancer must not wait on it. */
const CHECK_TIMEOUT_MS = 2000;

type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  context: { readonly clientAddress: string },
) => void | Promise<void>;

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  response.end(text);
}

/** `/metrics`: the exposition, to allowed addresses only (`metrics.allow`); 403 to others. */
export function metricsRoute(
  metrics: PrometheusTelemetry,
  allowed: (address: string) => boolean,
): Handler {
  return async (_request, response, { clientAddress }) => {
    if (!allowed(clientAddress)) {
      plain(response, 403, 'Forbidden: this address is not in metrics.allow\n');
      return;
    }
    const text = await metrics.render();
    response.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
    response.end(text);
  };
}

/** `/healthz`: the process answers. */
export function livenessRoute(): Handler {
  return (_request, response) => plain(response, 200, 'ok\n');
}

/**
 * `/readyz`: 200 when every check passes and the server is not shutting down; 503 with
 * one line per failed check otherwise, so a balancer stops sending new clients here.
 */
export function readinessRoute(
  checks: readonly ReadinessCheck[],
  shuttingDown: () => boolean,
): Handler {
  return async (_request, response) => {
    const problems: string[] = [];
    if (shuttingDown()) problems.push('shutting down');
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
            CHECK_TIMEOUT_MS,
          );
        });
        try {
          await Promise.race([check(), timeout]);
          return undefined;
        } catch (error) {
          return `${name}: ${error instanceof Error ? error.message : String(error)}`;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    for (const result of results) if (result) problems.push(result);
    if (problems.length === 0) plain(response, 200, 'ready\n');
    else plain(response, 503, `not ready\n${problems.join('\n')}\n`);
  };
}
