import { useEffect, useState } from 'preact/hooks';
import type { WebSession } from './session.js';

/** Re-renders whenever the session's state changes (one version counter for all). */
export function useSessionVersion(session: WebSession): number {
  const [version, setVersion] = useState(session.state.getVersion());
  useEffect(() => session.state.subscribe(() => setVersion(session.state.getVersion())), [session]);
  return version;
}
