/** The room every session is in from login to logout: `broadcast` and plain `say` go here. */
export const LOBBY = 'lobby';
