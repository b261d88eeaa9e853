// File-name rules are the protocol's (clients apply them too): one definition, there.
export * from '../../protocol/file-names.js';
