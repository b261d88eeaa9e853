import type { Bus, BusEnvelope } from '../bus/bus.js';
import type { Telemetry } from '../telemetry/telemetry.js';

/**
 * A bus that reports its traffic: each envelope this node publishes or sends, and each one
 * it receives from another node, by type. For events, which carry the time they were
 * stamped at their origin, the receiving side also reports how long the crossing took
 * (the nodes' clocks must agree, as NTP keeps them). Envelopes a node hears from itself
 * are not counted as received: they never crossed anything.
 */
export function instrumentBus(bus: Bus, telemetry: Telemetry, now: () => number): Bus {
  return {
    get nodeId() {
      return bus.nodeId;
    },
    publish(envelope: BusEnvelope) {
      telemetry.busPublished(envelope.type);
      bus.publish(envelope);
    },
    sendTo(node: string, envelope: BusEnvelope) {
      telemetry.busPublished(envelope.type);
      bus.sendTo(node, envelope);
    },
    subscribe(handler: (envelope: BusEnvelope) => void) {
      return bus.subscribe((envelope) => {
        if (envelope.origin !== bus.nodeId)
          telemetry.busReceived(
            envelope.type,
            envelope.type === 'event' ? (now() - envelope.event.ts) / 1000 : undefined,
          );
        handler(envelope);
      });
    },
    ping: () => bus.ping(),
    close: () => bus.close(),
  };
}
