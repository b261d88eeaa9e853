import type { ChatCore } from '../chat-core.js';

/**
 * Security events for the audit log (`logs/audit.log`): what happened to an account or from
 * an address, as opposed to what an admin did. Never a password or a token.
 */
export type SecurityAction =
  'login_failed' | 'locked_out' | 'takeover' | 'register' | 'deregister' | 'passwd';

export function recordSecurityEvent(
  core: ChatCore,
  action: SecurityAction,
  event: { target: string | null; details?: string; address?: string },
): void {
  core.auditLog.record({
    ts: core.clock.now(),
    kind: 'security',
    action,
    actor: null,
    target: event.target,
    details: event.details ?? null,
    ...(event.address !== undefined && { address: event.address }),
  });
}
