// The lobby's name is the protocol's (clients and gateways know it too): one definition, there.
export { LOBBY } from '../../protocol/names.js';
